// Alert rules and the MSP's policy, notification channels, and maintenance windows.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";

const listRules = () => unwrap(api.GET("/api/v1/alert-rules"));
const getPolicy = () => unwrap(api.GET("/api/v1/alert-policy"));
const listChannels = () => unwrap(api.GET("/api/v1/notification-channels"));
const listRoutes = () => unwrap(api.GET("/api/v1/notification-routes"));
const listWindows = (practiceId: string) =>
  unwrap(api.GET("/api/v1/practices/{practice_id}/maintenance-windows", { params: { path: { practice_id: practiceId } } }));

export type AlertRule = Awaited<ReturnType<typeof listRules>>[number];
export type AlertPolicy = Awaited<ReturnType<typeof getPolicy>>;
export type Channel = Awaited<ReturnType<typeof listChannels>>[number];
export type Route = Awaited<ReturnType<typeof listRoutes>>[number];
export type Severity = "critical" | "high" | "medium" | "low";
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
  routes: ["alerts", "routes"] as const,
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

/** `enabled: false` for people who may not read channels (MSP managers only), so nothing answers 403. */
export function useChannels({ enabled = true }: { enabled?: boolean } = {}) {
  return useQuery({ queryKey: keys.channels, queryFn: listChannels, enabled });
}

export function useRoutes({ enabled = true }: { enabled?: boolean } = {}) {
  return useQuery({ queryKey: keys.routes, queryFn: listRoutes, enabled });
}

export interface RouteBody {
  channel_id: string;
  practice_id: string | null;
  min_severity: Severity;
  include_low_urgency: boolean;
  escalate_after_minutes: number | null;
  escalation_channel_id: string | null;
  enabled: boolean;
}

export function useCreateRoute() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: RouteBody) => unwrap(api.POST("/api/v1/notification-routes", { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.routes }),
  });
}

export function useUpdateRoute(routeId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: RouteBody) =>
      unwrap(api.PATCH("/api/v1/notification-routes/{route_id}", { params: { path: { route_id: routeId } }, body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.routes }),
  });
}

export function useDeleteRoute() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (routeId: string) =>
      unwrap(api.DELETE("/api/v1/notification-routes/{route_id}", { params: { path: { route_id: routeId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.routes }),
  });
}

export type RouteGap = "route_off" | "channel_missing" | "channel_off" | "escalation_channel_off";

/** Why a route reaches nobody (or escalates to nobody): the test the server's router applies
 * (services/core/alerts/outbox.py: an enabled route to an existing, enabled channel). */
export function routeGaps(route: Route, channels: readonly Channel[]): RouteGap[] {
  const byId = new Map(channels.map((c) => [c.id, c]));
  const gaps: RouteGap[] = [];
  if (!route.enabled) gaps.push("route_off");
  const channel = byId.get(route.channel_id);
  if (channel === undefined) gaps.push("channel_missing");
  else if (!channel.enabled) gaps.push("channel_off");
  if (route.escalation_channel_id !== null && byId.get(route.escalation_channel_id)?.enabled !== true) gaps.push("escalation_channel_off");
  return gaps;
}

/** True when no incident would reach anyone: no enabled route leads to an enabled channel. */
export function nothingNotified(routes: readonly Route[], channels: readonly Channel[]): boolean {
  return !routes.some((r) => routeGaps(r, channels).every((g) => g === "escalation_channel_off"));
}

export type NewChannel = { name: string; kind: ChannelKind; to?: string[]; url?: string; routing_key?: string };

export function useCreateChannel() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NewChannel) => unwrap(api.POST("/api/v1/notification-channels", { body: { ...body, enabled: true } })),
    // The MSP's first channel comes with a default route.
    onSuccess: () => Promise.all([keys.channels, keys.routes].map((queryKey) => queryClient.invalidateQueries({ queryKey }))),
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
    // Its routes go with it.
    onSuccess: () => Promise.all([keys.channels, keys.routes].map((queryKey) => queryClient.invalidateQueries({ queryKey }))),
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
