import { describe, expect, it } from "vitest";
import { formatAgo, formatMinutes, humanize } from "./format";

describe("formatMinutes", () => {
  it.each([
    [0, "0 min"],
    [45, "45 min"],
    [60, "1 h"],
    [90, "1 h 30 min"],
    [1440, "1 day"],
    [2940, "2 days 1 h"],
    [527040, "366 days"],
  ])("says %s minutes as %s", (minutes, words) => {
    expect(formatMinutes(minutes)).toBe(words);
  });

  it("refuses to invent a duration for nonsense", () => {
    expect(formatMinutes(-5)).toBe("unknown");
    expect(formatMinutes(Number.NaN)).toBe("unknown");
  });
});

describe("formatAgo", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  it("says how long ago, in the largest sensible units", () => {
    expect(formatAgo("2026-03-01T11:59:40Z", now)).toBe("just now");
    expect(formatAgo("2026-03-01T09:00:00Z", now)).toBe("3 h ago");
    expect(formatAgo(null, now)).toBe("never");
  });
});

describe("humanize", () => {
  it("turns enum values into words", () => {
    expect(humanize("practice_management")).toBe("Practice management");
    expect(humanize("5g_lte")).toBe("5g lte");
  });
});
