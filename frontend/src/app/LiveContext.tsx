import { createContext, useContext, type ReactNode } from "react";
import { useLiveUpdates, type LiveState } from "../api/live";

const LiveStateContext = createContext<LiveState>("unavailable");

/** Holds the tab's one live-update stream for every page of the signed-in app. */
export function LiveUpdates({ children }: { children: ReactNode }) {
  const state = useLiveUpdates();
  return <LiveStateContext.Provider value={state}>{children}</LiveStateContext.Provider>;
}

export function useLiveState(): LiveState {
  return useContext(LiveStateContext);
}

const LIVE_WORDS: Record<LiveState, string> = {
  connecting: "Connecting to live updates…",
  live: "Live: this page updates by itself.",
  reconnecting: "Live updates paused; reconnecting…",
  unavailable: "Live updates are off; reload the page to see changes.",
};

/** A quiet line that says whether the page is live (not announced on every change). */
export function LiveIndicator() {
  const state = useLiveState();
  return (
    <p className={`live live--${state}`} data-live={state}>
      <span aria-hidden="true" className="live__dot" /> {LIVE_WORDS[state]}
    </p>
  );
}
