// Live updates: one EventSource on /api/v1/live per signed-in tab; events refresh cached data.
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { authKeys, fetchSession } from "./auth";

export const LIVE_URL = "/api/v1/live";

export const LIVE_EVENTS = [
  "incident.opened",
  "incident.acknowledged",
  "incident.resolved",
  "readiness.changed",
  "agent.online",
  "agent.offline",
] as const;

export type LiveEventType = (typeof LIVE_EVENTS)[number];

/** The query keys an event makes stale; everything else stays cached. */
export function keysToRefresh(type: LiveEventType, practiceId: string | null): (readonly unknown[])[] {
  const practice = practiceId ? [["practices", practiceId]] : [];
  if (type.startsWith("incident.")) return [["portfolio"], ["incidents"], ...practice];
  if (type === "readiness.changed") return [["portfolio"], ...practice];
  return [["agents"], ...practice];
}

export function applyLiveEvent(queryClient: QueryClient, type: LiveEventType, data: string): void {
  let practiceId: string | null = null;
  try {
    const parsed: unknown = JSON.parse(data);
    if (typeof parsed === "object" && parsed !== null && "practice_id" in parsed && typeof parsed.practice_id === "string") {
      practiceId = parsed.practice_id;
    }
  } catch {
    // A frame we can't read still means something changed: refresh broadly.
  }
  for (const key of keysToRefresh(type, practiceId)) void queryClient.invalidateQueries({ queryKey: key });
}

export type LiveState = "connecting" | "live" | "reconnecting" | "unavailable";

/**
 * Subscribe while mounted. The browser reconnects by itself (the server sends `retry:`); events
 * missed meanwhile are not replayed, so a reconnect refreshes what the events would have.
 */
export function useLiveUpdates(enabled = true): LiveState {
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>(typeof EventSource === "undefined" ? "unavailable" : "connecting");
  // Bumped to open a new stream after the session was renewed under this tab.
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return undefined;
    const source = new EventSource(LIVE_URL, { withCredentials: true });
    let everOpened = false;
    source.onopen = () => {
      if (everOpened) {
        for (const key of [["portfolio"], ["incidents"], ["practices"], ["agents"]]) {
          void queryClient.invalidateQueries({ queryKey: key });
        }
      }
      everOpened = true;
      setState("live");
    };
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? "unavailable" : "reconnecting");
    const listeners = LIVE_EVENTS.map((type) => {
      const listener = (event: MessageEvent<string>) => applyLiveEvent(queryClient, type, event.data);
      source.addEventListener(type, listener);
      return [type, listener] as const;
    });
    // The stream's cookie is no longer valid. Either the session ended (the session read answers
    // 401 and the app signs out) or it was renewed under a new cookie — the person changed their
    // own role, say (docs/decisions/0004-session-renewal.md) — and then a new stream carries on.
    const ended = () => {
      source.close();
      setState("reconnecting");
      void queryClient
        .fetchQuery({ queryKey: authKeys.session, queryFn: fetchSession, staleTime: 0 })
        .then((session) => (session?.status === "ok" ? setGeneration((g) => g + 1) : setState("unavailable")))
        .catch(() => setState("unavailable"));
    };
    source.addEventListener("session.ended", ended);
    return () => {
      for (const [type, listener] of listeners) source.removeEventListener(type, listener);
      source.removeEventListener("session.ended", ended);
      source.close();
    };
  }, [enabled, queryClient, generation]);
  return state;
}
