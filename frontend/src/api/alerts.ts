// Alert rules and the MSP's policy, notification channels, and maintenance windows.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";

const listRules = () => unwrap(api.GET("/api/v1/alert-rules"));
const getPolicy = () => unwrap(api.GET("/api/v1/alert-policy"));
const listChannels = () => unwrap(api.GET("/api/v1/notification-channels"));
const listWindows = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/maintenance-windows", { params: { path: { practice_id: practiceId } } }));

export type AlertRule = Awaited<ReturnType<typeof listRules>>[number];
export type AlertPolicy = Awaited<ReturnType<typeof getPolicy>>;
export type Channel = Awaited<ReturnType<typeof listChannels>>[number];
export type MaintenanceWindow = Awaited<ReturnType<typeof listWindows>>[number];
export type ChannelKind = "email" | "webhook" | "slack" | "teams" | "pagerduty";

export interface RuleSetting {
  enabled: boolean;
  params: Record<string, number>;
}

const keys = {
  rules: ["alerts", "rules"] as const,
  policy: ["alerts", "policy"] as const,
  channels: ["alerts", "channels"] as const,
  windows: (practiceId: string) => ["practices", practiceId, "maintenance-windows"] as const,
};

export function useAlertRules() {
  return useQuery({ queryKey: keys.rules, queryFn: listRules, staleTime: Infinity });
}

export function useAlertPolicy() {
  return useQuery({ queryKey: keys.policy, queryFn: getPolicy });
}

/** What applies for a rule: the MSP's setting where it has one, else the catalogue's defaults. */
export function effectiveSetting(rule: AlertRule, policy: AlertPolicy | undefined): RuleSetting {
  const own: unknown = policy?.rules[rule.id];
  const defaults: Record<string, number> = {};
  for (const [k, v] of Object.entries(rule.params)) if (typeof v === "number") defaults[k] = v;
  if (typeof own !== "object" || own === null) return { enabled: true, params: defaults };
  const enabled = "enabled" in own && typeof own.enabled === "boolean" ? own.enabled : true;
  const params = { ...defaults };
  if ("params" in own && typeof own.params === "object" && own.params !== null) {
    for (const [k, v] of Object.entries(own.params)) if (typeof v === "number") params[k] = v;
  }
  return { enabled, params };
}

export function useUpdateRule() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ ruleId, setting }: { ruleId: string; setting: RuleSetting }) =>
      unwrap(api.PUT("/api/v1/alert-policy", { body: { rules: { [ruleId]: setting } } })),
    onSuccess: (policy) => queryClient.setQueryData(keys.policy, policy),
  });
}

export function useChannels() {
  return useQuery({ queryKey: keys.channels, queryFn: listChannels });
}

export type NewChannel = { name: string; kind: ChannelKind; to?: string[]; url?: string; routing_key?: string };

export function useCreateChannel() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NewChannel) => unwrap(api.POST("/api/v1/notification-channels", { body: { ...body, enabled: true } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.channels }),
  });
}

export function useTestChannel() {
  return useMutation({
    mutationFn: (channelId: string) =>
      unwrap(api.POST("/api/v1/notification-channels/{channel_id}/test", { params: { path: { channel_id: channelId } } })),
  });
}

export function useDeleteChannel() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (channelId: string) =>
      unwrap(api.DELETE("/api/v1/notification-channels/{channel_id}", { params: { path: { channel_id: channelId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.channels }),
  });
}

export function useMaintenanceWindows(practiceId: string) {
  return useQuery({ queryKey: keys.windows(practiceId), queryFn: () => listWindows(practiceId), enabled: practiceId !== "" });
}

export function useCreateWindow(practiceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; kind: "once"; starts_at: string; ends_at: string }) =>
      unwrap(api.POST("/api/v1/practices/{practice_id}/maintenance-windows", { params: { path: { practice_id: practiceId } }, body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.windows(practiceId) }),
  });
}

export function useDeleteWindow(practiceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (windowId: string) =>
      unwrap(
        api.DELETE("/api/v1/practices/{practice_id}/maintenance-windows/{window_id}", {
          params: { path: { practice_id: practiceId, window_id: windowId } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.windows(practiceId) }),
  });
}
