import { describe, expect, it } from "vitest";
import { backupTimeline, timelineSummary } from "./backupTimeline";

// Local times, so the cells are the same days in whatever zone the tests run.
const local = (month: number, day: number, hour: number) => new Date(2026, month - 1, day, hour).toISOString();
const now = new Date(2026, 2, 3, 15, 0);
const run = (status: string, finished: string | null, started: string | null = finished) => ({ status, started_at: started, finished_at: finished });

describe("backupTimeline", () => {
  it("puts a run on the viewer's calendar day, not the UTC one", () => {
    // 23:30 local time on Mar 2, whatever the zone the tests run in.
    const lateEvening = new Date(2026, 2, 2, 23, 30).toISOString();
    const cells = backupTimeline([run("failed", lateEvening)], 2, new Date(2026, 2, 3, 12, 0));
    expect(cells.map((c) => [c.day, c.outcome])).toEqual([["2026-03-02", "failed"], ["2026-03-03", "none"]]);
    expect(timelineSummary(cells)).toContain("failures on Mar 2");
  });

  it("keeps the worst outcome of each day, oldest first, ending today", () => {
    const cells = backupTimeline(
      [run("success", local(3, 3, 2)), run("failed", local(3, 3, 3)), run("warning", local(3, 2, 2)), run("success", local(3, 1, 2))],
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
    const cells = backupTimeline([run("success", local(2, 1, 2)), run("running", null, local(3, 3, 14))], 2, now);
    expect(cells.map((c) => c.outcome)).toEqual(["none", "none"]);
    expect(cells[1]?.runs).toBe(1);
  });

  it("sums the window up in words", () => {
    const cells = backupTimeline([run("success", local(3, 2, 2)), run("failed", local(3, 3, 2))], 3, now);
    expect(timelineSummary(cells)).toBe("1 of 3 days had a good backup; failures on Mar 3; 1 day without a finished run.");
  });

  it("counts the success readiness judged stale as saving nothing new, and only that run", () => {
    const stuck = local(3, 3, 2);
    // The server's timestamp format differs from the run's; the same instant is the same run.
    const staleAt = new Date(stuck).toISOString().replace("Z", "+00:00");
    const cells = backupTimeline([run("success", local(3, 2, 2)), run("success", stuck)], 2, now, staleAt);
    expect(cells.map((c) => c.outcome)).toEqual(["success", "stale"]);
    expect(timelineSummary(cells)).toBe("1 of 2 days had a good backup; nothing new saved on Mar 3.");
    expect(backupTimeline([run("success", stuck)], 1, now).map((c) => c.outcome)).toEqual(["success"]);
  });
});
