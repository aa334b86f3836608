// Telemetry that did not go through: reports the worker set aside (replay, discard), the batches an
// agent sent that were refused, and whether the MSP's telemetry is held up by a fault on our side.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";

export type SetAsideStatus = "open" | "replayed" | "discarded" | "all";
export type SetAsideType = "heartbeat" | "backup_run" | "restore_test" | "link_sample" | "failover" | "ping";

export interface SetAsideFilters {
  practiceId: string;
  status: SetAsideStatus;
  type: SetAsideType | "";
}

const listSetAside = (filters: SetAsideFilters) =>
  unwrap(
    api.GET("/api/v1/telemetry/dead-letters", {
      params: {
        query: {
          practice_id: filters.practiceId || undefined,
          status: filters.status,
          type: filters.type || undefined,
          limit: 200,
        },
      },
    }),
  );
const getStall = () => unwrap(api.GET("/api/v1/telemetry/stall"));
const listRefusalSummaries = () => unwrap(api.GET("/api/v1/telemetry/refusals"));
const listRefusals = (practiceId: string, agentId: string) =>
  unwrap(
    api.GET("/api/v1/practices/{practice_id}/agents/{agent_id}/refusals", {
      params: { path: { practice_id: practiceId, agent_id: agentId } },
    }),
  );

export type SetAsidePage = Awaited<ReturnType<typeof listSetAside>>;
export type SetAsideEvent = SetAsidePage["items"][number];
export type TelemetryStall = Awaited<ReturnType<typeof getStall>>;
export type Refusal = Awaited<ReturnType<typeof listRefusals>>[number];
export type RefusalSummary = Awaited<ReturnType<typeof listRefusalSummaries>>[number];

export const setAsideKeys = {
  all: ["telemetry", "set-aside"] as const,
  list: (filters: SetAsideFilters) => ["telemetry", "set-aside", filters] as const,
  stall: ["telemetry", "stall"] as const,
  refusals: (practiceId: string, agentId: string) => ["practices", practiceId, "agents", agentId, "refusals"] as const,
  refusalSummaries: ["telemetry", "refusals"] as const,
};

export function useSetAside(filters: SetAsideFilters) {
  return useQuery({ queryKey: setAsideKeys.list(filters), queryFn: () => listSetAside(filters), placeholderData: keepPreviousData });
}

/** Polled: a stall starts and ends on the worker's side, with nothing on the page to refresh it. */
export function useTelemetryStall() {
  return useQuery({ queryKey: setAsideKeys.stall, queryFn: getStall, refetchInterval: 60_000 });
}

export function useRefusalSummaries() {
  return useQuery({ queryKey: setAsideKeys.refusalSummaries, queryFn: listRefusalSummaries });
}

export function useAgentRefusals(practiceId: string, agentId: string, enabled: boolean) {
  return useQuery({ queryKey: setAsideKeys.refusals(practiceId, agentId), queryFn: () => listRefusals(practiceId, agentId), enabled });
}

type Action = "replay" | "discard";

/** How many open reports one "all of the practice" request takes (the server's dead_letters.ACTION_LIMIT). */
export const ACTION_LIMIT = 1000;

/** Replay or discard one set-aside report (with its id) or every open one of a practice (without). */
export function useSetAsideAction(action: Action) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ practiceId, id }: { practiceId: string; id?: string }) => {
      if (id) {
        const params = { params: { path: { practice_id: practiceId, dead_letter_id: id } } };
        return unwrap(
          action === "replay"
            ? api.POST("/api/v1/practices/{practice_id}/telemetry/dead-letters/{dead_letter_id}/replay", params)
            : api.POST("/api/v1/practices/{practice_id}/telemetry/dead-letters/{dead_letter_id}/discard", params),
        );
      }
      const params = { params: { path: { practice_id: practiceId } } };
      return unwrap(
        action === "replay"
          ? api.POST("/api/v1/practices/{practice_id}/telemetry/dead-letters/replay", params)
          : api.POST("/api/v1/practices/{practice_id}/telemetry/dead-letters/discard", params),
      );
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: setAsideKeys.all }),
  });
}
