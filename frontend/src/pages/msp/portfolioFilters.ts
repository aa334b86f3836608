// Portfolio filters live in the URL (shareable, survive reload) and map onto the API's query.
import { whenWords, type TrendPointLike } from "../../components/charts/readinessTrend";

export type StatusFilter = "ready" | "at_risk" | "not_ready";
export type SortKey = "score" | "-score" | "name" | "-name" | "open_incidents" | "-open_incidents";

export interface PortfolioFilters {
  q: string;
  statuses: StatusFilter[];
  critical: "any" | "yes" | "no";
  sort: SortKey;
}

export const SORT_LABELS: Record<SortKey, string> = {
  score: "Readiness, worst first",
  "-score": "Readiness, best first",
  open_incidents: "Open incidents, most urgent first",
  "-open_incidents": "Open incidents, fewest first",
  name: "Name, A to Z",
  "-name": "Name, Z to A",
};

const STATUSES: readonly StatusFilter[] = ["ready", "at_risk", "not_ready"];
const isStatus = (v: string): v is StatusFilter => (STATUSES as readonly string[]).includes(v);
const isSort = (v: string): v is SortKey => v in SORT_LABELS;

export const DEFAULT_FILTERS: PortfolioFilters = { q: "", statuses: [], critical: "any", sort: "score" };

export function filtersFromSearch(search: URLSearchParams): PortfolioFilters {
  const sort = search.get("sort") ?? "";
  const critical = search.get("critical");
  return {
    q: (search.get("q") ?? "").slice(0, 200),
    // Order and duplicates don't change the answer; normalising keeps one cache entry per filter.
    statuses: STATUSES.filter((s) => search.getAll("status").filter(isStatus).includes(s)),
    critical: critical === "yes" || critical === "no" ? critical : "any",
    sort: isSort(sort) ? sort : "score",
  };
}

export function searchFromFilters(filters: PortfolioFilters): URLSearchParams {
  const search = new URLSearchParams();
  if (filters.q.trim()) search.set("q", filters.q.trim());
  for (const s of filters.statuses) search.append("status", s);
  if (filters.critical !== "any") search.set("critical", filters.critical);
  if (filters.sort !== "score") search.set("sort", filters.sort);
  return search;
}

export interface PortfolioApiQuery {
  sort: SortKey;
  limit: number;
  status?: StatusFilter[];
  has_critical?: boolean;
  q?: string;
}

export function portfolioQuery(filters: PortfolioFilters): PortfolioApiQuery {
  const query: PortfolioApiQuery = { sort: filters.sort, limit: 200 };
  if (filters.statuses.length > 0) query.status = filters.statuses;
  if (filters.critical !== "any") query.has_critical = filters.critical === "yes";
  if (filters.q.trim()) query.q = filters.q.trim();
  return query;
}

export function hasFilters(filters: PortfolioFilters): boolean {
  return filters.q.trim() !== "" || filters.statuses.length > 0 || filters.critical !== "any";
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });

/** An hourly point covers its whole hour: "7:00 – 8:00 PM", not "at 7:00 PM" for a score made at 7:30. */
function hourRange(at: string): string {
  const start = new Date(at);
  return clock.formatRange(start, new Date(start.getTime() + 3_600_000));
}

/**
 * Change over the trend window in words: "down 12 points in 30 days"; on a practice's first day
 * (hourly points) "up 5 points since 9:00 AM" in the viewer's clock.
 */
export function trendWords(trend: readonly TrendPointLike[]): string {
  const first = trend[0];
  const last = trend[trend.length - 1];
  if (!first || !last) return "no trend yet";
  if (trend.length < 2) return first.period === "hour" ? `first scored ${hourRange(first.at)}` : `first scored ${whenWords(first)}`;
  const delta = last.score - first.score;
  const points = `${Math.abs(delta)} point${Math.abs(delta) === 1 ? "" : "s"}`;
  if (last.period === "hour") {
    const since = whenWords(first).replace(/^at /, "since ");
    return delta === 0 ? `steady ${since}` : `${delta > 0 ? "up" : "down"} ${points} ${since}`;
  }
  const days = trend.length;
  if (delta === 0) return `steady over ${days} days`;
  return `${delta > 0 ? "up" : "down"} ${points} in ${days} days`;
}
