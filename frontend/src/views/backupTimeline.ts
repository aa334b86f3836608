// Backup runs → one cell per day (the worst outcome that day), for a 30-day timeline. Days are the
// viewer's calendar days: a run at 23:30 in the viewer's evening belongs to that evening, not to the
// next UTC day.

export type DayOutcome = "failed" | "warning" | "success" | "none";

export interface RunLike {
  status: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface TimelineDay {
  /** yyyy-mm-dd, a calendar day in the viewer's time zone. */
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

const pad = (n: number) => String(n).padStart(2, "0");

/** The viewer's calendar day of an instant, as yyyy-mm-dd. */
export function localDay(when: Date): string {
  return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}`;
}

const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

/** "2026-03-03" (a viewer's day) → "Mar 3", in the viewer's language. */
export function dayWords(day: string): string {
  const [y, m, d] = day.split("-").map(Number);
  return dayFormat.format(new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1));
}

/** `days` cells ending today (the viewer's today), oldest first; a run counts on the day it finished (or started). */
export function backupTimeline(runs: readonly RunLike[], days: number, now = new Date()): TimelineDay[] {
  const cells: TimelineDay[] = [];
  const index = new Map<string, TimelineDay>();
  for (let i = days - 1; i >= 0; i--) {
    // Stepping the calendar, not 24-hour blocks: a daylight-saving day is 23 or 25 hours long.
    const day = localDay(new Date(now.getFullYear(), now.getMonth(), now.getDate() - i));
    const cell: TimelineDay = { day, outcome: "none", runs: 0 };
    cells.push(cell);
    index.set(day, cell);
  }
  for (const run of runs) {
    const when = run.finished_at ?? run.started_at;
    if (!when) continue;
    const cell = index.get(localDay(new Date(when)));
    if (!cell) continue;
    cell.runs += 1;
    const outcome = outcomeOf(run.status);
    if (RANK[outcome] > RANK[cell.outcome]) cell.outcome = outcome;
  }
  return cells;
}

/** "27 of 30 days had a good backup; failures on Mar 1, Mar 3." */
export function timelineSummary(cells: readonly TimelineDay[]): string {
  const good = cells.filter((c) => c.outcome === "success").length;
  const failed = cells.filter((c) => c.outcome === "failed").map((c) => dayWords(c.day));
  const noRun = cells.filter((c) => c.outcome === "none").length;
  const parts = [`${good} of ${cells.length} days had a good backup`];
  if (failed.length > 0) parts.push(`failures on ${failed.join(", ")}`);
  if (noRun > 0) parts.push(`${noRun} day${noRun === 1 ? "" : "s"} without a finished run`);
  return `${parts.join("; ")}.`;
}
