// Backup runs → one cell per day (the worst outcome that day), for a 30-day timeline. Days are the
// viewer's calendar days: a run at 23:30 in the viewer's evening belongs to that evening, not to the
// next UTC day.

// "stale": the run reported success but readiness judged that it saved nothing new (backup.stale_success).
export type DayOutcome = "failed" | "warning" | "stale" | "success" | "none";

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

const RANK: Record<DayOutcome, number> = { failed: 4, warning: 3, stale: 2, success: 1, none: 0 };

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

/**
 * `days` cells ending today (the viewer's today), oldest first; a run counts on the day it finished (or started).
 * `staleSuccessAt`: when the success readiness judged stale finished (the job state's `stale_success_at`,
 * which names that run even after a newer one arrived); that run counts as stale, not as a good backup.
 * The judgement is the server's, only placed here.
 */
export function backupTimeline(runs: readonly RunLike[], days: number, now = new Date(), staleSuccessAt: string | null = null): TimelineDay[] {
  const staleAt = staleSuccessAt === null ? null : new Date(staleSuccessAt).getTime();
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
    const outcome = run.status === "success" && run.finished_at !== null && new Date(run.finished_at).getTime() === staleAt ? "stale" : outcomeOf(run.status);
    if (RANK[outcome] > RANK[cell.outcome]) cell.outcome = outcome;
  }
  return cells;
}

/** "27 of 30 days had a good backup; failures on Mar 1, Mar 3." */
export function timelineSummary(cells: readonly TimelineDay[]): string {
  const good = cells.filter((c) => c.outcome === "success").length;
  const failed = cells.filter((c) => c.outcome === "failed").map((c) => dayWords(c.day));
  const stale = cells.filter((c) => c.outcome === "stale").map((c) => dayWords(c.day));
  const noRun = cells.filter((c) => c.outcome === "none").length;
  const parts = [`${good} of ${cells.length} days had a good backup`];
  if (failed.length > 0) parts.push(`failures on ${failed.join(", ")}`);
  if (stale.length > 0) parts.push(`nothing new saved on ${stale.join(", ")}`);
  if (noRun > 0) parts.push(`${noRun} day${noRun === 1 ? "" : "s"} without a finished run`);
  return `${parts.join("; ")}.`;
}
