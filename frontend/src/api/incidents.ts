// Incidents: the MSP queue, one incident, acknowledge, resolve and notes.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";

export type IncidentStatusFilter = "active" | "open" | "acknowledged" | "resolved";
export type SeverityFilter = "critical" | "high" | "medium" | "low";

export interface IncidentFilters {
  status: IncidentStatusFilter;
  severity: SeverityFilter | "";
}

const listIncidents = (filters: IncidentFilters) =>
  unwrap(
    api.GET("/api/v1/incidents", {
      params: { query: { status: filters.status, severity: filters.severity || undefined, limit: 200 } },
    }),
  );
const ids = (practiceId: string, incidentId: string) => ({
  params: { path: { practice_id: practiceId, incident_id: incidentId } },
});
const getIncident = (practiceId: string, incidentId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/incidents/{incident_id}", ids(practiceId, incidentId)));

export type Incident = Awaited<ReturnType<typeof listIncidents>>["items"][number];
export type IncidentDetail = Awaited<ReturnType<typeof getIncident>>;

export const incidentKeys = {
  queue: (filters: IncidentFilters) => ["incidents", filters] as const,
  one: (practiceId: string, incidentId: string) => ["practices", practiceId, "incidents", incidentId] as const,
};

export function useIncidentQueue(filters: IncidentFilters) {
  return useQuery({ queryKey: incidentKeys.queue(filters), queryFn: () => listIncidents(filters), placeholderData: keepPreviousData });
}

export function useIncident(practiceId: string, incidentId: string) {
  return useQuery({ queryKey: incidentKeys.one(practiceId, incidentId), queryFn: () => getIncident(practiceId, incidentId) });
}

function useIncidentMutation<T>(practiceId: string, call: (body: T) => Promise<unknown>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ["incidents"] }),
        queryClient.invalidateQueries({ queryKey: ["portfolio"] }),
        queryClient.invalidateQueries({ queryKey: ["practices", practiceId, "incidents"] }),
      ]);
    },
  });
}

export function useAcknowledgeIncident(practiceId: string, incidentId: string) {
  return useIncidentMutation(practiceId, () =>
    unwrap(api.POST("/api/v1/practices/{practice_id}/incidents/{incident_id}/acknowledge", ids(practiceId, incidentId))),
  );
}

export function useResolveIncident(practiceId: string, incidentId: string) {
  return useIncidentMutation(practiceId, (note: string) =>
    unwrap(
      api.POST("/api/v1/practices/{practice_id}/incidents/{incident_id}/resolve", { ...ids(practiceId, incidentId), body: { note } }),
    ),
  );
}

export function useAddIncidentNote(practiceId: string, incidentId: string) {
  return useIncidentMutation(practiceId, (text: string) =>
    unwrap(
      api.POST("/api/v1/practices/{practice_id}/incidents/{incident_id}/notes", { ...ids(practiceId, incidentId), body: { text } }),
    ),
  );
}
