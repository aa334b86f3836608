import { describe, expect, it } from "vitest";
import { backupTimeline, timelineSummary } from "./backupTimeline";

const now = new Date("2026-03-03T15:00:00Z");
const run = (status: string, finished: string | null, started: string | null = finished) => ({ status, started_at: started, finished_at: finished });

describe("backupTimeline", () => {
  it("keeps the worst outcome of each day, oldest first, ending today", () => {
    const cells = backupTimeline(
      [run("success", "2026-03-03T02:00:00Z"), run("failed", "2026-03-03T03:00:00Z"), run("warning", "2026-03-02T02:00:00Z"), run("success", "2026-03-01T02:00:00Z")],
      3,
      now,
    );
    expect(cells).toEqual([
      { day: "2026-03-01", outcome: "success", runs: 1 },
      { day: "2026-03-02", outcome: "warning", runs: 1 },
      { day: "2026-03-03", outcome: "failed", runs: 2 },
    ]);
  });

  it("ignores runs outside the window and counts a still-running run as nothing yet", () => {
    const cells = backupTimeline([run("success", "2026-02-01T02:00:00Z"), run("running", null, "2026-03-03T14:00:00Z")], 2, now);
    expect(cells.map((c) => c.outcome)).toEqual(["none", "none"]);
    expect(cells[1]?.runs).toBe(1);
  });

  it("sums the window up in words", () => {
    const cells = backupTimeline([run("success", "2026-03-02T02:00:00Z"), run("failed", "2026-03-03T02:00:00Z")], 3, now);
    expect(timelineSummary(cells)).toBe("1 of 3 days had a good backup; failures on 2026-03-03; 1 day without a finished run.");
  });
});
