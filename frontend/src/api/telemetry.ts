// Telemetry as the worker left it: current state, achieved RPO/RTO, and history.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";

const practicePath = (practiceId: string) => ({ params: { path: { practice_id: practiceId } } });

const getState = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/telemetry/state", practicePath(practiceId)));
const listRecovery = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/telemetry/systems/recovery", practicePath(practiceId)));
const listRuns = (practiceId: string, jobId: string, from: string) =>
  unwrap(
    api.GET("/api/v1/practices/{practice_id}/telemetry/backup-jobs/{backup_job_id}/runs", {
      params: { path: { practice_id: practiceId, backup_job_id: jobId }, query: { from, limit: 500 } },
    }),
  );
const listSamples = (practiceId: string, linkId: string, from: string) =>
  unwrap(
    api.GET("/api/v1/practices/{practice_id}/telemetry/links/{link_id}/samples", {
      params: { path: { practice_id: practiceId, link_id: linkId }, query: { from, resolution: "5m", limit: 1000 } },
    }),
  );
const listFailovers = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/telemetry/failovers", practicePath(practiceId)));

export type TelemetryState = Awaited<ReturnType<typeof getState>>;
export type BackupJobState = TelemetryState["backup_jobs"][number];
export type LinkState = TelemetryState["links"][number];
export type SystemRecovery = Awaited<ReturnType<typeof listRecovery>>[number];
export type BackupRun = Awaited<ReturnType<typeof listRuns>>["items"][number];
export type LinkSample = Awaited<ReturnType<typeof listSamples>>["items"][number];
export type Failover = Awaited<ReturnType<typeof listFailovers>>["items"][number];

const key = (practiceId: string, ...rest: string[]) => ["practices", practiceId, "telemetry", ...rest] as const;

/** The start of a window ending now, rounded to the minute so the query key is stable between renders. */
export function since(hours: number, now = Date.now()): string {
  const start = Math.floor((now - hours * 3_600_000) / 60_000) * 60_000;
  return new Date(start).toISOString();
}

export function useTelemetryState(practiceId: string) {
  return useQuery({ queryKey: key(practiceId, "state"), queryFn: () => getState(practiceId) });
}

export function useSystemRecovery(practiceId: string) {
  return useQuery({ queryKey: key(practiceId, "recovery"), queryFn: () => listRecovery(practiceId) });
}

export function useBackupRuns(practiceId: string, jobId: string, from: string) {
  return useQuery({ queryKey: key(practiceId, "runs", jobId, from), queryFn: () => listRuns(practiceId, jobId, from) });
}

export function useLinkSamples(practiceId: string, linkId: string, from: string) {
  return useQuery({ queryKey: key(practiceId, "samples", linkId, from), queryFn: () => listSamples(practiceId, linkId, from) });
}

export function useFailovers(practiceId: string) {
  return useQuery({ queryKey: key(practiceId, "failovers"), queryFn: () => listFailovers(practiceId) });
}
