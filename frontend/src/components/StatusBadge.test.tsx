import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { readinessStatus } from "./readiness";
import { StatusBadge } from "./StatusBadge";

describe("readinessStatus", () => {
  it.each([
    [100, "ready"],
    [80, "ready"],
    [79.99, "at_risk"],
    [50, "at_risk"],
    [49.99, "not_ready"],
    [0, "not_ready"],
  ] as const)("scores %s as %s", (score, status) => {
    expect(readinessStatus(score)).toBe(status);
  });

  it("refuses a score outside 0–100 instead of guessing", () => {
    expect(() => readinessStatus(101)).toThrow(RangeError);
    expect(() => readinessStatus(-1)).toThrow(RangeError);
    expect(() => readinessStatus(Number.NaN)).toThrow(RangeError);
  });
});

describe("StatusBadge", () => {
  it("says the status in words, not only in colour", () => {
    render(<StatusBadge score={64} />);
    const badge = screen.getByText("At risk");
    expect(badge).toHaveAttribute("data-status", "at_risk");
    expect(badge).toHaveTextContent("At risk, score 64 out of 100");
  });

  it("shows a status computed by the server without a score", () => {
    render(<StatusBadge status="not_ready" />);
    expect(screen.getByText("Not ready")).toHaveAttribute("data-status", "not_ready");
  });

  it("marks a score of exactly 80 as ready", () => {
    render(<StatusBadge score={80} />);
    expect(screen.getByText("Ready")).toHaveAttribute("data-status", "ready");
  });
});
