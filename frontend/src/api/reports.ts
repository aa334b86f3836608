// Monthly practice reports (PDF).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";

const path = (practiceId: string) => ({ params: { path: { practice_id: practiceId } } });
const listReports = (practiceId: string) => unwrap(api.GET("/api/v1/practices/{practice_id}/reports", path(practiceId)));

export type Report = Awaited<ReturnType<typeof listReports>>[number];

const key = (practiceId: string) => ["practices", practiceId, "reports"] as const;

export function useReports(practiceId: string) {
  return useQuery({ queryKey: key(practiceId), queryFn: () => listReports(practiceId) });
}

export function useCreateReport(practiceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (month: string | undefined) =>
      unwrap(api.POST("/api/v1/practices/{practice_id}/reports", { ...path(practiceId), body: month ? { month } : {} })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: key(practiceId) }),
  });
}

export function reportUrl(practiceId: string, reportId: string): string {
  return `/api/v1/practices/${practiceId}/reports/${reportId}.pdf`;
}
