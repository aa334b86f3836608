// A practice's continuity plan: versions, sections, review, approval, roles, acknowledgements, exports.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import { ApiProblem } from "./problem";

const practicePath = (practiceId: string) => ({ params: { path: { practice_id: practiceId } } });
const versionPath = (practiceId: string, versionId: string) => ({
  params: { path: { practice_id: practiceId, version_id: versionId } },
});

const getPlan = (practiceId: string) => unwrap(api.GET("/api/v1/practices/{practice_id}/plan", practicePath(practiceId)));
const listVersions = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/plan/versions", practicePath(practiceId)));
const getVersion = (practiceId: string, versionId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/plan/versions/{version_id}", versionPath(practiceId, versionId)));
const diffVersions = (practiceId: string, fromId: string, toId: string) =>
  unwrap(
    api.GET("/api/v1/practices/{practice_id}/plan/versions/{version_id}/diff/{other_version_id}", {
      params: { path: { practice_id: practiceId, version_id: fromId, other_version_id: toId } },
    }),
  );
const listRoles = (practiceId: string) => unwrap(api.GET("/api/v1/practices/{practice_id}/plan/roles", practicePath(practiceId)));
const listPlanFindings = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/plan-findings", practicePath(practiceId)));

export type Plan = Awaited<ReturnType<typeof getPlan>>;
export type VersionSummary = Awaited<ReturnType<typeof listVersions>>[number];
export type PlanVersion = Awaited<ReturnType<typeof getVersion>>;
export type PlanSection = PlanVersion["sections"][number];
export type PlanDiff = Awaited<ReturnType<typeof diffVersions>>;
export type RoleAssignment = Awaited<ReturnType<typeof listRoles>>[number];

export const planKeys = {
  all: (practiceId: string) => ["practices", practiceId, "plan"] as const,
  plan: (practiceId: string) => ["practices", practiceId, "plan", "summary"] as const,
  versions: (practiceId: string) => ["practices", practiceId, "plan", "versions"] as const,
  version: (practiceId: string, versionId: string) => ["practices", practiceId, "plan", "versions", versionId] as const,
  diff: (practiceId: string, fromId: string, toId: string) => ["practices", practiceId, "plan", "diff", fromId, toId] as const,
  roles: (practiceId: string) => ["practices", practiceId, "plan", "roles"] as const,
  findings: (practiceId: string) => ["practices", practiceId, "plan", "findings"] as const,
};

/** The plan, or null when the practice has none yet (the API answers 404). */
export function usePlan(practiceId: string) {
  return useQuery({
    queryKey: planKeys.plan(practiceId),
    queryFn: async () => {
      try {
        return await getPlan(practiceId);
      } catch (error) {
        if (error instanceof ApiProblem && error.status === 404) return null;
        throw error;
      }
    },
  });
}

export function usePlanVersions(practiceId: string, enabled: boolean) {
  return useQuery({ queryKey: planKeys.versions(practiceId), queryFn: () => listVersions(practiceId), enabled });
}

export function usePlanVersion(practiceId: string, versionId: string | undefined) {
  return useQuery({
    queryKey: planKeys.version(practiceId, versionId ?? ""),
    queryFn: () => getVersion(practiceId, versionId ?? ""),
    enabled: versionId !== undefined,
  });
}

export function usePlanDiff(practiceId: string, fromId: string, toId: string) {
  return useQuery({
    queryKey: planKeys.diff(practiceId, fromId, toId),
    queryFn: () => diffVersions(practiceId, fromId, toId),
    enabled: fromId !== "" && toId !== "" && fromId !== toId,
  });
}

export function usePlanRoles(practiceId: string, enabled: boolean) {
  return useQuery({ queryKey: planKeys.roles(practiceId), queryFn: () => listRoles(practiceId), enabled });
}

export function usePlanFindings(practiceId: string) {
  return useQuery({ queryKey: planKeys.findings(practiceId), queryFn: () => listPlanFindings(practiceId) });
}

function usePlanMutation<T, R>(practiceId: string, call: (arg: T) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: planKeys.all(practiceId) });
      // Approval and acknowledgement change the practice's readiness.
      void queryClient.invalidateQueries({ queryKey: ["practices", practiceId, "readiness"] });
      void queryClient.invalidateQueries({ queryKey: ["portfolio"] });
    },
  });
}

export function useCreatePlan(practiceId: string) {
  return usePlanMutation(practiceId, () => unwrap(api.POST("/api/v1/practices/{practice_id}/plan", practicePath(practiceId))));
}

export function useCreateDraft(practiceId: string) {
  return usePlanMutation(practiceId, () =>
    unwrap(api.POST("/api/v1/practices/{practice_id}/plan/versions", practicePath(practiceId))),
  );
}

export function useUpdateSection(practiceId: string, versionId: string) {
  return usePlanMutation(practiceId, ({ key, body }: { key: string; body: string }) =>
    unwrap(
      api.PATCH("/api/v1/practices/{practice_id}/plan/versions/{version_id}/sections/{section_key}", {
        params: { path: { practice_id: practiceId, version_id: versionId, section_key: key } },
        body: { body },
      }),
    ),
  );
}

export type VersionAction = "submit" | "withdraw" | "approve" | "return";

export function useVersionAction(practiceId: string, versionId: string) {
  return usePlanMutation(practiceId, (action: VersionAction) => {
    const path = versionPath(practiceId, versionId);
    switch (action) {
      case "submit":
        return unwrap(api.POST("/api/v1/practices/{practice_id}/plan/versions/{version_id}/submit", path));
      case "withdraw":
        return unwrap(api.POST("/api/v1/practices/{practice_id}/plan/versions/{version_id}/withdraw", path));
      case "approve":
        return unwrap(api.POST("/api/v1/practices/{practice_id}/plan/versions/{version_id}/approve", path));
      case "return":
        return unwrap(api.POST("/api/v1/practices/{practice_id}/plan/versions/{version_id}/return", path));
    }
  });
}

export function useAcknowledgePlan(practiceId: string) {
  return usePlanMutation(practiceId, () =>
    unwrap(api.POST("/api/v1/practices/{practice_id}/plan/acknowledgements", practicePath(practiceId))),
  );
}

/** Same-origin download links: the session cookie authorises them, and each is recorded as an export. */
export function exportUrl(practiceId: string, versionId: string, format: "pdf" | "html"): string {
  return `/api/v1/practices/${practiceId}/plan/versions/${versionId}/export.${format}`;
}
