import { describe, expect, it } from "vitest";
import { legendValue, linkSeries } from "./series";

describe("linkSeries", () => {
  it("orders oldest first in seconds and breaks the latency line while the link is down", () => {
    const { data } = linkSeries([
      { at: "2026-03-01T10:10:00Z", up: true, latency_ms: 22, loss_pct: 0 },
      { at: "2026-03-01T10:05:00Z", up: false, latency_ms: 999, loss_pct: null },
      { at: "2026-03-01T10:00:00Z", up: true, latency_ms: 20, loss_pct: 1.5 },
    ]);
    const t0 = Date.parse("2026-03-01T10:00:00Z") / 1000;
    expect(data[0]).toEqual([t0, t0 + 300, t0 + 600]);
    expect(data[1]).toEqual([20, null, 22]);
    expect(data[2]).toEqual([1.5, 100, 0]);
  });

  it("keeps one point per timestamp", () => {
    const { data } = linkSeries([
      { at: "2026-03-01T10:00:00Z", up: true, latency_ms: 20, loss_pct: 0 },
      { at: "2026-03-01T10:00:00Z", up: true, latency_ms: 30, loss_pct: 0 },
    ]);
    expect(data[1]).toEqual([30]);
  });

  it("sums the period up in words", () => {
    expect(linkSeries([]).summary).toBe("No samples in this period.");
    expect(
      linkSeries([
        { at: "2026-03-01T10:00:00Z", up: true, latency_ms: 20, loss_pct: 0 },
        { at: "2026-03-01T10:05:00Z", up: true, latency_ms: 40, loss_pct: 2 },
      ]).summary,
    ).toBe("2 readings: latency averaged 30 ms (highest 40 ms); packet loss averaged 1.0% (highest 2.0%).");
  });
});

describe("legendValue", () => {
  it("rounds the hovered reading like the caption, and shows a dash for a gap", () => {
    expect(legendValue(2.19178, 1, " %")).toBe("2.2 %");
    expect(legendValue(33.3333, 0, " ms")).toBe("33 ms");
    expect(legendValue(null, 1, " %")).toBe("—");
  });
});
