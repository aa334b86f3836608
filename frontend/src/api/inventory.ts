// A practice's inventory (systems, backup jobs, links, contacts, findings): TanStack Query hooks.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import type { components } from "./schema";

const path = (practiceId: string) => ({ params: { path: { practice_id: practiceId } } });

const listSystems = (practiceId: string) => unwrap(api.GET("/api/v1/practices/{practice_id}/systems", path(practiceId)));
const listBackupJobs = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/backup-jobs", path(practiceId)));
const listLinks = (practiceId: string) => unwrap(api.GET("/api/v1/practices/{practice_id}/links", path(practiceId)));
const getCallTree = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/call-tree", path(practiceId)));
const listInventoryFindings = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/inventory-findings", path(practiceId)));

export type System = Awaited<ReturnType<typeof listSystems>>[number];
export type BackupJob = Awaited<ReturnType<typeof listBackupJobs>>[number];
export type Link = Awaited<ReturnType<typeof listLinks>>[number];
export type CallTreeEntry = Awaited<ReturnType<typeof getCallTree>>[number];
export type Finding = Awaited<ReturnType<typeof listInventoryFindings>>[number];

export const inventoryKeys = {
  practice: (practiceId: string) => ["practices", practiceId, "inventory"] as const,
  systems: (practiceId: string) => ["practices", practiceId, "inventory", "systems"] as const,
  backupJobs: (practiceId: string) => ["practices", practiceId, "inventory", "backup-jobs"] as const,
  links: (practiceId: string) => ["practices", practiceId, "inventory", "links"] as const,
  callTree: (practiceId: string) => ["practices", practiceId, "inventory", "call-tree"] as const,
  findings: (practiceId: string) => ["practices", practiceId, "inventory", "findings"] as const,
};

export function useSystems(practiceId: string) {
  return useQuery({ queryKey: inventoryKeys.systems(practiceId), queryFn: () => listSystems(practiceId) });
}

export function useBackupJobs(practiceId: string) {
  return useQuery({ queryKey: inventoryKeys.backupJobs(practiceId), queryFn: () => listBackupJobs(practiceId) });
}

export function useLinks(practiceId: string) {
  return useQuery({ queryKey: inventoryKeys.links(practiceId), queryFn: () => listLinks(practiceId) });
}

export function useCallTree(practiceId: string) {
  return useQuery({ queryKey: inventoryKeys.callTree(practiceId), queryFn: () => getCallTree(practiceId) });
}

export function useInventoryFindings(practiceId: string) {
  return useQuery({ queryKey: inventoryKeys.findings(practiceId), queryFn: () => listInventoryFindings(practiceId) });
}

/** Choose the site whose agent reports a backup job (null: no agent reports it, only its ping URL). */
export function useSetBackupJobSite(practiceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ jobId, siteId }: { jobId: string; siteId: string | null }) =>
      unwrap(
        api.PATCH("/api/v1/practices/{practice_id}/backup-jobs/{backup_job_id}", {
          params: { path: { practice_id: practiceId, backup_job_id: jobId } },
          body: { site_id: siteId },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: inventoryKeys.backupJobs(practiceId) }),
  });
}

/** A request body whose fields with a server default may be left out. The generated types mark
 * them required (openapi-typescript reads a default as "always present", true of responses only). */
export type WithDefaults<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

type SystemIn = components["schemas"]["SystemIn"];
type BackupJobIn = components["schemas"]["BackupJobIn"];
type LinkIn = components["schemas"]["LinkIn"];
export type SystemBody = WithDefaults<SystemIn, "owner" | "recovery_procedure" | "category" | "tier" | "holds_ephi" | "requires_onsite_copy" | "requires_offsite_copy">;
export type BackupJobBody = WithDefaults<BackupJobIn, "tool" | "schedule" | "expected_interval_minutes" | "encrypted" | "immutable" | "verifies" | "provider" | "baa_on_file">;
export type LinkBody = WithDefaults<LinkIn, "isp" | "medium" | "role" | "metered" | "loss_threshold_pct" | "latency_threshold_ms" | "jitter_threshold_ms">;

// Adding to the inventory changes what readiness finds, so the findings are read again too.
function useInventoryCreate<Body, Out>(practiceId: string, key: readonly string[], create: (body: Body) => Promise<Out>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: create,
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: key }),
        queryClient.invalidateQueries({ queryKey: inventoryKeys.findings(practiceId) }),
      ]),
  });
}

export function useCreateSystem(practiceId: string) {
  return useInventoryCreate(practiceId, inventoryKeys.systems(practiceId), (body: SystemBody) =>
    unwrap(api.POST("/api/v1/practices/{practice_id}/systems", { ...path(practiceId), body: body as SystemIn })),
  );
}

export function useCreateBackupJob(practiceId: string) {
  // A job changes which backup jobs each system lists, so systems are read again as well.
  return useInventoryCreate(practiceId, inventoryKeys.practice(practiceId), (body: BackupJobBody) =>
    unwrap(api.POST("/api/v1/practices/{practice_id}/backup-jobs", { ...path(practiceId), body: body as BackupJobIn })),
  );
}

export function useCreateLink(practiceId: string) {
  return useInventoryCreate(practiceId, inventoryKeys.links(practiceId), (body: LinkBody) =>
    unwrap(api.POST("/api/v1/practices/{practice_id}/links", { ...path(practiceId), body: body as LinkIn })),
  );
}
