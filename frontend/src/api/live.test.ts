import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { applyLiveEvent, keysToRefresh } from "./live";

describe("live events", () => {
  it("refresh the portfolio, the incident queue and the practice when an incident opens", () => {
    expect(keysToRefresh("incident.opened", "p1")).toEqual([["portfolio"], ["incidents"], ["practices", "p1"]]);
    expect(keysToRefresh("readiness.changed", "p1")).toEqual([["portfolio"], ["practices", "p1"]]);
    expect(keysToRefresh("agent.offline", null)).toEqual([["agents"]]);
  });

  it("mark only the matching cached queries stale", () => {
    const client = new QueryClient();
    client.setQueryData(["portfolio", { sort: "score" }], { items: [] });
    client.setQueryData(["practices", "p1", "readiness"], { score: 90 });
    client.setQueryData(["practices", "p2", "readiness"], { score: 40 });
    applyLiveEvent(client, "readiness.changed", JSON.stringify({ practice_id: "p1", score: 50 }));
    expect(client.getQueryState(["portfolio", { sort: "score" }])?.isInvalidated).toBe(true);
    expect(client.getQueryState(["practices", "p1", "readiness"])?.isInvalidated).toBe(true);
    expect(client.getQueryState(["practices", "p2", "readiness"])?.isInvalidated).toBe(false);
  });
});
