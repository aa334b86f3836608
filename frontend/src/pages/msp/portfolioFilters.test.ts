import { describe, expect, it } from "vitest";
import { DEFAULT_FILTERS, filtersFromSearch, hasFilters, portfolioQuery, searchFromFilters, trendWords } from "./portfolioFilters";

describe("portfolio filters", () => {
  it("reads filters from the URL, ignoring values the API would refuse", () => {
    const f = filtersFromSearch(new URLSearchParams("q=bay&status=not_ready&status=bogus&status=ready&critical=yes&sort=-name"));
    expect(f).toEqual({ q: "bay", statuses: ["ready", "not_ready"], critical: "yes", sort: "-name" });
    expect(filtersFromSearch(new URLSearchParams("sort=drop+table&critical=maybe"))).toEqual(DEFAULT_FILTERS);
  });

  it("round-trips through the URL and leaves defaults out of it", () => {
    const f = { q: " bay ", statuses: ["at_risk" as const], critical: "no" as const, sort: "open_incidents" as const };
    const search = searchFromFilters(f);
    expect(search.toString()).toBe("q=bay&status=at_risk&critical=no&sort=open_incidents");
    expect(searchFromFilters(DEFAULT_FILTERS).toString()).toBe("");
    expect(filtersFromSearch(search)).toEqual({ ...f, q: "bay" });
  });

  it("maps onto the API's query, sending only what narrows the list", () => {
    expect(portfolioQuery(DEFAULT_FILTERS)).toEqual({ sort: "score", limit: 200 });
    expect(portfolioQuery({ q: "x", statuses: ["ready"], critical: "yes", sort: "name" })).toEqual({
      sort: "name", limit: 200, status: ["ready"], has_critical: true, q: "x",
    });
    expect(portfolioQuery({ ...DEFAULT_FILTERS, critical: "no" }).has_critical).toBe(false);
  });

  it("knows when a list is narrowed, so an empty result can say so", () => {
    expect(hasFilters(DEFAULT_FILTERS)).toBe(false);
    expect(hasFilters({ ...DEFAULT_FILTERS, sort: "name" })).toBe(false);
    expect(hasFilters({ ...DEFAULT_FILTERS, q: "a" })).toBe(true);
  });
});

describe("trendWords", () => {
  const days = (...scores: number[]) =>
    scores.map((score, i) => ({ day: `2026-03-0${i + 1}`, at: `2026-03-0${i + 1}T00:00:00Z`, period: "day" as const, score, status: "ready" }));
  const hours = (...scores: number[]) =>
    scores.map((score, i) => ({ day: "2026-03-03", at: `2026-03-03T0${i + 9}:00:00Z`, period: "hour" as const, score, status: "ready" }));
  const clock = (iso: string) => new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" }).format(new Date(iso));

  it("says the change over the window", () => {
    expect(trendWords(days(90, 80, 78))).toBe("down 12 points in 3 days");
    expect(trendWords(days(50, 51))).toBe("up 1 point in 2 days");
    expect(trendWords(days(70, 70))).toBe("steady over 2 days");
    expect(trendWords([])).toBe("no trend yet");
  });

  it("has a trend on a practice's first day, from today's hours in the viewer's clock", () => {
    expect(trendWords(hours(70, 65, 60))).toBe(`down 10 points since ${clock("2026-03-03T09:00:00Z")}`);
    expect(trendWords(hours(70, 70))).toBe(`steady since ${clock("2026-03-03T09:00:00Z")}`);
    const nine = new Date("2026-03-03T09:00:00Z");
    const range = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" }).formatRange(nine, new Date(nine.getTime() + 3_600_000));
    expect(trendWords(hours(70))).toBe(`first scored ${range}`);
    expect(range).toMatch(/\d:00.*\d:00/);
  });
});
