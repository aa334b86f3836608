import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json, SESSION_OK } from "../../test/fakeApi";
import { PRACTICE_ID, practiceUrl } from "../../test/fixtures";
import { renderApp } from "../../test/render";
import { linkHealth } from "../../views/LinksView";

const limits = { loss_threshold_pct: 2, latency_threshold_ms: 150 };

describe("links", () => {
  it("calls a link degraded when it is up but over a threshold", () => {
    expect(linkHealth({ ...limits, up: true, loss_pct: 0.5, latency_ms: 40 })).toBe("up");
    expect(linkHealth({ ...limits, up: true, loss_pct: 5, latency_ms: 40 })).toBe("degraded");
    expect(linkHealth({ ...limits, up: true, loss_pct: null, latency_ms: 400 })).toBe("degraded");
    expect(linkHealth({ ...limits, up: false, loss_pct: null, latency_ms: null })).toBe("down");
    expect(linkHealth({ ...limits, up: null, loss_pct: null, latency_ms: null })).toBe("unknown");
  });

  it("reads a link with no recent samples as no data, never as its last state", () => {
    expect(linkHealth({ ...limits, state: "no_data", up: false, loss_pct: 100, latency_ms: null })).toBe("no_data");
    expect(linkHealth({ ...limits, state: "no_data", up: true, loss_pct: 0, latency_ms: 20 })).toBe("no_data");
    expect(linkHealth({ ...limits, state: "down", up: false, loss_pct: 100, latency_ms: null })).toBe("down");
  });

  it("says since when a link has had no data instead of how long it has been down", async () => {
    const link = { id: "l1", practice_id: PRACTICE_ID, site_id: "s1", name: "Fiber", isp: "Comcast", medium: "fiber", role: "primary", metered: false, ...limits, jitter_threshold_ms: 30, created_at: "2026-01-01T00:00:00Z" };
    const lastSample = new Date(Date.now() - 13 * 60_000).toISOString();
    fakeApi({
      "GET /api/v1/auth/session": json(SESSION_OK),
      [`GET ${practiceUrl("/links")}`]: json([link]),
      [`GET ${practiceUrl("/sites")}`]: json([{ id: "s1", practice_id: PRACTICE_ID, name: "Main office", address: null, created_at: "2026-01-01T00:00:00Z" }]),
      [`GET ${practiceUrl("/telemetry/state")}`]: json({
        generated_at: "2026-03-01T12:00:00Z", backup_jobs: [], agents: [],
        links: [{ link_id: "l1", site_id: "s1", name: "Fiber", role: "primary", medium: "fiber", up: false, state: "no_data", no_data_since: lastSample, state_since: "2026-03-01T11:00:00Z", last_sample_at: lastSample, loss_pct: 100, latency_ms: null, jitter_ms: null, ...limits, jitter_threshold_ms: 30, flaps_last_hour: 0, on_backup_since: null }],
      }),
      [`GET ${practiceUrl("/telemetry/links/l1/samples")}`]: json({ items: [], next_cursor: null }),
      [`GET ${practiceUrl("/telemetry/failovers")}`]: json({ items: [], next_cursor: null }),
    });
    renderApp("/links", PAGES);
    const fiber = await screen.findByRole("article", { name: "Fiber" });
    expect(within(fiber).getByText("No data")).toBeInTheDocument();
    expect(within(fiber).getByText(/\(13 min ago\)/)).toBeInTheDocument();
    expect(within(fiber).queryByText("Down")).not.toBeInTheDocument();
    expect(within(fiber).queryByText("Packet loss")).not.toBeInTheDocument();
  });

  it("shows each link's state in words, its last day in a chart caption, and failovers", async () => {
    const link = { id: "l1", practice_id: PRACTICE_ID, site_id: "s1", name: "Fiber", isp: "Comcast", medium: "fiber", role: "primary", metered: false, ...limits, jitter_threshold_ms: 30, created_at: "2026-01-01T00:00:00Z" };
    fakeApi({
      "GET /api/v1/auth/session": json(SESSION_OK),
      [`GET ${practiceUrl("/links")}`]: json([link, { ...link, id: "l2", name: "LTE", role: "backup", medium: "5g_lte" }]),
      [`GET ${practiceUrl("/sites")}`]: json([{ id: "s1", practice_id: PRACTICE_ID, name: "Main office", address: null, created_at: "2026-01-01T00:00:00Z" }]),
      [`GET ${practiceUrl("/telemetry/state")}`]: json({
        generated_at: "2026-03-01T12:00:00Z", backup_jobs: [], agents: [],
        links: [{ link_id: "l1", site_id: "s1", name: "Fiber", role: "primary", medium: "fiber", up: false, state: "down", no_data_since: null, state_since: "2026-03-01T11:00:00Z", last_sample_at: "2026-03-01T11:59:00Z", loss_pct: 100, latency_ms: null, jitter_ms: null, ...limits, jitter_threshold_ms: 30, flaps_last_hour: 2, on_backup_since: "2026-03-01T11:00:00Z" }],
      }),
      [`GET ${practiceUrl("/telemetry/links/l1/samples")}`]: json({ items: [{ at: "2026-03-01T10:00:00Z", samples: 5, up_samples: 5, up: true, latency_ms: 20, latency_max_ms: 30, loss_pct: 0, jitter_ms: 2 }], next_cursor: null }),
      [`GET ${practiceUrl("/telemetry/links/l2/samples")}`]: json({ items: [], next_cursor: null }),
      [`GET ${practiceUrl("/telemetry/failovers")}`]: json({ items: [{ id: "f1", site_id: "s1", from_link_id: "l1", to_link_id: "l2", started_at: "2026-03-01T11:00:00Z", ended_at: null }], next_cursor: null }),
    });
    renderApp("/links", PAGES);
    const fiber = await screen.findByRole("article", { name: "Fiber" });
    expect(within(fiber).getByText("Down")).toBeInTheDocument();
    expect(within(fiber).getByText("2 times")).toBeInTheDocument();
    expect(await within(fiber).findByRole("img", { name: /Fiber, last 24 hours: 1 readings: latency averaged 20 ms/ })).toBeInTheDocument();
    const lte = screen.getByRole("article", { name: "LTE" });
    expect(within(lte).getByText("No reports yet")).toBeInTheDocument();
    expect(await within(lte).findByText("No samples in this period.")).toBeInTheDocument();
    expect(screen.getByText(/from Fiber to LTE, still on the backup link/)).toBeInTheDocument();
  });
});
