// A practice's measured readiness: score, components and every finding.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";

const getReadiness = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/readiness", { params: { path: { practice_id: practiceId } } }));

export type Readiness = Awaited<ReturnType<typeof getReadiness>>;

export const readinessKeys = {
  one: (practiceId: string) => ["practices", practiceId, "readiness"] as const,
};

export function useReadiness(practiceId: string) {
  return useQuery({ queryKey: readinessKeys.one(practiceId), queryFn: () => getReadiness(practiceId) });
}
