// A practice's measured readiness: score, components and every finding.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";

const getReadiness = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/readiness", { params: { path: { practice_id: practiceId } } }));

const getReadinessTrend = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/readiness/trend", { params: { path: { practice_id: practiceId } } }));

export type Readiness = Awaited<ReturnType<typeof getReadiness>>;
export type ReadinessTrend = Awaited<ReturnType<typeof getReadinessTrend>>;

export const readinessKeys = {
  one: (practiceId: string) => ["practices", practiceId, "readiness"] as const,
  // Under the readiness key, so whatever refreshes the score (live events, plan changes) refreshes the trend.
  trend: (practiceId: string) => ["practices", practiceId, "readiness", "trend"] as const,
};

export function useReadiness(practiceId: string) {
  return useQuery({ queryKey: readinessKeys.one(practiceId), queryFn: () => getReadiness(practiceId) });
}

export function useReadinessTrend(practiceId: string) {
  return useQuery({ queryKey: readinessKeys.trend(practiceId), queryFn: () => getReadinessTrend(practiceId) });
}
