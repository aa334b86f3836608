import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ReadinessTrendChart } from "./ReadinessTrendChart";
import { trendSummary, type TrendPointLike } from "./readinessTrend";

const day = (d: string, score: number, status: string): TrendPointLike => ({ day: d, at: `${d}T00:00:00Z`, period: "day", score, status });
const hour = (at: string, score: number, status: string): TrendPointLike => ({ day: at.slice(0, 10), at, period: "hour", score, status });
const clock = (iso: string) => new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" }).format(new Date(iso));

describe("readiness trend chart", () => {
  it("marks each day the status changed and says the same in words", () => {
    const points = [day("2026-03-01", 90, "ready"), day("2026-03-02", 88, "ready"), day("2026-03-03", 70, "at_risk"), day("2026-03-04", 85, "ready")];
    const { container } = render(<ReadinessTrendChart points={points} />);
    expect(screen.getAllByTestId("status-change")).toHaveLength(2);
    const chart = screen.getByRole("img");
    expect(chart).toHaveAccessibleName(
      "Over the last 4 days, the score went from 90 on Mar 1 to 85 on Mar 4, lowest 70. The status changed 2 times: at risk on Mar 3; ready on Mar 4.",
    );
    const changes = within(screen.getByRole("list", { name: "Days the status changed" })).getAllByRole("listitem");
    expect(changes.map((li) => li.textContent)).toEqual(["Became at risk on Mar 3 (score 70)", "Became ready on Mar 4 (score 85)"]);
    expect([...container.querySelectorAll(".trend-chart__axis-label")].map((t) => t.textContent)).toEqual(["Mar 1", "Mar 4"]);
    // Only the days whose status moved are marked, at their own place on the line.
    const line = container.querySelector("polyline")?.getAttribute("points")?.split(" ") ?? [];
    const marks = screen.getAllByTestId("status-change").map((c) => `${c.getAttribute("cx")},${c.getAttribute("cy")}`);
    expect(marks.map((m) => m.split(",").map((n) => Number(n).toFixed(1)).join(","))).toEqual([line[2], line[3]]);
  });

  it("reads a UTC day as that calendar day in every time zone", () => {
    expect(trendSummary([day("2026-03-03", 50, "at_risk")])).toBe("Over the last 1 day, the score was 50 on Mar 3. The status stayed at risk.");
  });

  it("shows today's hours in the viewer's clock on a practice's first day", () => {
    const points = [hour("2026-03-03T09:00:00Z", 60, "at_risk"), hour("2026-03-03T10:00:00Z", 40, "not_ready"), hour("2026-03-03T11:00:00Z", 60, "at_risk")];
    render(<ReadinessTrendChart points={points} />);
    expect(screen.getByRole("img")).toHaveAccessibleName(
      `Today, hour by hour, the score went from 60 at ${clock(points[0]!.at)} to 60 at ${clock(points[2]!.at)}, lowest 40. ` +
        `The status changed 2 times: not ready at ${clock(points[1]!.at)}; at risk at ${clock(points[2]!.at)}.`,
    );
  });

  it("says there is nothing to draw yet instead of an empty chart", () => {
    render(<ReadinessTrendChart points={[]} />);
    expect(screen.queryByRole("img")).toBeNull();
    expect(screen.getByText("No scores recorded yet.")).toBeInTheDocument();
  });
});
