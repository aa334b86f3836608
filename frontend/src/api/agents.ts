// Agents: the list, single-use enrolment commands, and revocation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";

const listAgents = () => unwrap(api.GET("/api/v1/agents"));

export type Agent = Awaited<ReturnType<typeof listAgents>>[number];

export const agentKeys = { all: ["agents"] as const };

export function useAgents() {
  return useQuery({ queryKey: agentKeys.all, queryFn: listAgents });
}

export function useCreateEnrollmentToken() {
  return useMutation({
    mutationFn: ({ practiceId, siteId }: { practiceId: string; siteId: string }) =>
      unwrap(
        api.POST("/api/v1/practices/{practice_id}/sites/{site_id}/enrollment-tokens", {
          params: { path: { practice_id: practiceId, site_id: siteId } },
        }),
      ),
  });
}

export function useRevokeAgent() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ practiceId, agentId }: { practiceId: string; agentId: string }) =>
      unwrap(
        api.POST("/api/v1/practices/{practice_id}/agents/{agent_id}/revoke", {
          params: { path: { practice_id: practiceId, agent_id: agentId } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: agentKeys.all }),
  });
}
