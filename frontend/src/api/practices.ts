// Practices and their sites: TanStack Query hooks over the API.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import type { WithDefaults } from "./inventory";
import type { components } from "./schema";

const listPractices = () => unwrap(api.GET("/api/v1/practices"));
const getPractice = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}", { params: { path: { practice_id: practiceId } } }));
const listSites = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/sites", { params: { path: { practice_id: practiceId } } }));

export type Practice = Awaited<ReturnType<typeof getPractice>>;
export type Site = Awaited<ReturnType<typeof listSites>>[number];

export const practiceKeys = {
  all: ["practices"] as const,
  list: ["practices", "list"] as const,
  one: (practiceId: string) => ["practices", practiceId] as const,
  sites: (practiceId: string) => ["practices", practiceId, "sites"] as const,
};

export function usePractices() {
  return useQuery({ queryKey: practiceKeys.list, queryFn: listPractices });
}

export function usePractice(practiceId: string) {
  return useQuery({ queryKey: practiceKeys.one(practiceId), queryFn: () => getPractice(practiceId) });
}

export function useSites(practiceId: string) {
  return useQuery({ queryKey: practiceKeys.sites(practiceId), queryFn: () => listSites(practiceId) });
}

type PracticeIn = components["schemas"]["PracticeIn"];
type PracticeBody = WithDefaults<PracticeIn, "kind">;
type SiteBody = components["schemas"]["SiteIn"];

/** Add a practice (MSP owners and admins); the portfolio lists it afterwards. */
export function useCreatePractice() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: PracticeBody) => unwrap(api.POST("/api/v1/practices", { body: body as PracticeIn })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: practiceKeys.all }),
  });
}

export function useCreateSite(practiceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: SiteBody) =>
      unwrap(api.POST("/api/v1/practices/{practice_id}/sites", { params: { path: { practice_id: practiceId } }, body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: practiceKeys.sites(practiceId) }),
  });
}
