// Backup runs → one cell per day (the worst outcome that day), for a 30-day timeline.

export type DayOutcome = "failed" | "warning" | "success" | "none";

export interface RunLike {
  status: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface TimelineDay {
  /** yyyy-mm-dd (UTC). */
  day: string;
  outcome: DayOutcome;
  runs: number;
}

const RANK: Record<DayOutcome, number> = { failed: 3, warning: 2, success: 1, none: 0 };

function outcomeOf(status: string): DayOutcome {
  if (status === "failed") return "failed";
  if (status === "warning") return "warning";
  if (status === "success") return "success";
  return "none"; // still running: says nothing yet about the day
}

/** `days` cells ending today (UTC), oldest first; a run counts on the day it finished (or started). */
export function backupTimeline(runs: readonly RunLike[], days: number, now = new Date()): TimelineDay[] {
  const cells: TimelineDay[] = [];
  const index = new Map<string, TimelineDay>();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date(today - i * 86_400_000).toISOString().slice(0, 10);
    const cell: TimelineDay = { day, outcome: "none", runs: 0 };
    cells.push(cell);
    index.set(day, cell);
  }
  for (const run of runs) {
    const when = run.finished_at ?? run.started_at;
    if (!when) continue;
    const cell = index.get(new Date(when).toISOString().slice(0, 10));
    if (!cell) continue;
    cell.runs += 1;
    const outcome = outcomeOf(run.status);
    if (RANK[outcome] > RANK[cell.outcome]) cell.outcome = outcome;
  }
  return cells;
}

/** "27 of 30 days had a good backup; failures on 2026-03-01, 2026-03-03." */
export function timelineSummary(cells: readonly TimelineDay[]): string {
  const good = cells.filter((c) => c.outcome === "success").length;
  const failed = cells.filter((c) => c.outcome === "failed").map((c) => c.day);
  const noRun = cells.filter((c) => c.outcome === "none").length;
  const parts = [`${good} of ${cells.length} days had a good backup`];
  if (failed.length > 0) parts.push(`failures on ${failed.join(", ")}`);
  if (noRun > 0) parts.push(`${noRun} day${noRun === 1 ? "" : "s"} without a finished run`);
  return `${parts.join("; ")}.`;
}
