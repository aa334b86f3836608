// A practice's readiness over time → the chart's geometry and the same facts in words. Daily points
// are UTC days (readiness_snapshot) and read as that date; hourly points (a practice's first day,
// docs/decisions/0011-portfolio-ties-and-early-trend.md) read as the hour in the viewer's zone.

export interface TrendPointLike {
  day: string;
  at: string;
  period: "day" | "hour";
  score: number;
  status: string;
}

export interface StatusChange {
  index: number;
  status: string;
  when: string;
}

const STATUS_WORDS: Record<string, string> = { ready: "ready", at_risk: "at risk", not_ready: "not ready" };
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
const hourFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });

export const statusWords = (status: string) => STATUS_WORDS[status] ?? status.replace(/_/g, " ");

/** "on Mar 3" for a day, "at 9:00 AM" for an hour (the viewer's clock). */
export function whenWords(point: TrendPointLike): string {
  if (point.period === "hour") return `at ${hourFormat.format(new Date(point.at))}`;
  const [y, m, d] = point.day.split("-").map(Number);
  return `on ${dayFormat.format(new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1)))}`;
}

/** The points whose status differs from the point before: the days (or hours) the status changed. */
export function statusChanges(points: readonly TrendPointLike[]): StatusChange[] {
  const changes: StatusChange[] = [];
  points.forEach((p, i) => {
    const before = points[i - 1];
    if (before && before.status !== p.status) changes.push({ index: i, status: p.status, when: whenWords(p) });
  });
  return changes;
}

/** The whole chart in a sentence or two, for screen readers and for the caption. */
export function trendSummary(points: readonly TrendPointLike[]): string {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return "No scores recorded yet.";
  const span = last.period === "hour" ? "Today, hour by hour" : `Over the last ${points.length} day${points.length === 1 ? "" : "s"}`;
  const lowest = Math.min(...points.map((p) => p.score));
  const moved =
    points.length === 1
      ? `the score was ${last.score} ${whenWords(last)}`
      : `the score went from ${first.score} ${whenWords(first)} to ${last.score} ${whenWords(last)}` +
        (lowest < Math.min(first.score, last.score) ? `, lowest ${lowest}` : "");
  const changes = statusChanges(points);
  const changed =
    changes.length === 0
      ? ` The status stayed ${statusWords(last.status)}.`
      : ` The status changed ${changes.length === 1 ? "once" : `${changes.length} times`}: ` +
        changes.map((c) => `${statusWords(c.status)} ${c.when}`).join("; ") + ".";
  return `${span}, ${moved}.${changed}`;
}

export interface ChartGeometry {
  x: number[];
  y: number[];
}

/** Points laid out in a width × height box: oldest left, score 0 at the bottom and 100 at the top. */
export function chartGeometry(points: readonly { score: number }[], width: number, height: number, pad: number): ChartGeometry {
  const n = points.length;
  const x = points.map((_, i) => (n === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (n - 1)));
  const y = points.map((p) => pad + ((100 - Math.max(0, Math.min(100, p.score))) * (height - 2 * pad)) / 100);
  return { x, y };
}
