import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi, json, problem, SESSION_OK } from "../test/fakeApi";
import { useLiveUpdates } from "./live";

// A stand-in for the browser's EventSource: records each stream and lets the test send it events.
class FakeEventSource {
  static readonly CLOSED = 2;
  static opened: FakeEventSource[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  private listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();
  constructor(readonly url: string) {
    FakeEventSource.opened.push(this);
  }
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  removeEventListener(type: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(type, (this.listeners.get(type) ?? []).filter((l) => l !== listener));
  }
  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
  send(type: string) {
    for (const listener of this.listeners.get(type) ?? []) listener(new MessageEvent(type, { data: "{}" }));
  }
}

function wrapper({ children }: { children: ReactNode }) {
  return <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>{children}</QueryClientProvider>;
}

afterEach(() => {
  FakeEventSource.opened = [];
  vi.unstubAllGlobals();
});

describe("live updates when the stream's cookie stops working", () => {
  it("open a new stream when the session goes on under a renewed cookie", async () => {
    vi.stubGlobal("EventSource", FakeEventSource);
    fakeApi({ "GET /api/v1/auth/session": json(SESSION_OK) });
    const { result } = renderHook(() => useLiveUpdates(), { wrapper });
    expect(FakeEventSource.opened).toHaveLength(1);
    act(() => FakeEventSource.opened[0]?.send("session.ended"));
    await waitFor(() => expect(FakeEventSource.opened).toHaveLength(2));
    expect(FakeEventSource.opened[0]?.readyState).toBe(FakeEventSource.CLOSED);
    expect(result.current).not.toBe("unavailable");
  });

  it("stay closed when the session has really ended", async () => {
    vi.stubGlobal("EventSource", FakeEventSource);
    fakeApi({ "GET /api/v1/auth/session": problem(401) });
    const { result } = renderHook(() => useLiveUpdates(), { wrapper });
    act(() => FakeEventSource.opened[0]?.send("session.ended"));
    await waitFor(() => expect(result.current).toBe("unavailable"));
    expect(FakeEventSource.opened).toHaveLength(1);
  });
});
