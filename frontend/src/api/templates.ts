// Plan templates: the built-in one and the MSP's own.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";

const listTemplates = () => unwrap(api.GET("/api/v1/plan-templates"));

export type Template = Awaited<ReturnType<typeof listTemplates>>[number];
export type TemplateSection = Template["sections"][number];

const key = ["plan-templates"] as const;

export function useTemplates() {
  return useQuery({ queryKey: key, queryFn: listTemplates });
}

function useTemplateMutation<T, R>(call: (arg: T) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: call, onSuccess: () => queryClient.invalidateQueries({ queryKey: key }) });
}

export function useCopyTemplate() {
  return useTemplateMutation((body: { name: string; description: string; source_template_id: string | null }) =>
    unwrap(api.POST("/api/v1/plan-templates", { body })),
  );
}

export function useUpdateTemplate(templateId: string) {
  return useTemplateMutation((body: { name?: string; sections?: Omit<TemplateSection, "complete">[] }) =>
    unwrap(api.PATCH("/api/v1/plan-templates/{template_id}", { params: { path: { template_id: templateId } }, body })),
  );
}

export function useDeleteTemplate() {
  return useTemplateMutation((templateId: string) =>
    unwrap(api.DELETE("/api/v1/plan-templates/{template_id}", { params: { path: { template_id: templateId } } })),
  );
}
