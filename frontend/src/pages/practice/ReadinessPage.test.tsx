import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json, SESSION_OK } from "../../test/fakeApi";
import { finding, MSP_SESSION, PRACTICE_ID, practiceUrl } from "../../test/fixtures";
import { renderApp } from "../../test/render";

const comp = (weight: number, lost: number, findings: number) => ({ weight, lost, score: weight - lost, findings });
const READINESS = {
  practice_id: PRACTICE_ID,
  score: 62,
  status: "at_risk",
  components: { plan: comp(30, 0, 0), backups: comp(30, 20, 2), connectivity: comp(15, 8, 1), testing: comp(15, 10, 1), people: comp(10, 0, 0) },
  findings: [
    { ...finding({ title: "Backup failed", severity: "critical" }), source: "telemetry", deduction: 20, points: 20, capped: false, counted_under: null },
    { ...finding({ title: "No offsite copy", severity: "medium" }), source: "inventory", deduction: 5, points: 0, capped: false, counted_under: "backup.failed:system:x" },
  ],
  sources: [{ name: "telemetry", available: true, detail: "" }, { name: "exercises", available: false, detail: "no exercises recorded" }],
  computed_at: new Date().toISOString(),
  changed_at: new Date().toISOString(),
};

const TREND = {
  points: [
    { day: "2026-03-01", at: "2026-03-01T00:00:00Z", period: "day", score: 82, min_score: 82, status: "ready" },
    { day: "2026-03-02", at: "2026-03-02T00:00:00Z", period: "day", score: 62, min_score: 60, status: "at_risk" },
  ],
};

describe("readiness", () => {
  it("shows the score in words, components worst first and every finding with its remediation", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(SESSION_OK),
      [`GET ${practiceUrl("/readiness")}`]: json(READINESS),
      [`GET ${practiceUrl("/readiness/trend")}`]: json(TREND),
    });
    renderApp("/", PAGES);
    expect(await screen.findByText("At risk")).toHaveTextContent("At risk, score 62 out of 100");
    const rows = within(screen.getByRole("table")).getAllByRole("rowheader").map((r) => r.textContent);
    expect(rows[0]).toMatch(/^Backups/);
    expect(rows[1]).toMatch(/^Testing/);
    expect(screen.getByRole("heading", { name: "Backup failed" })).toBeInTheDocument();
    expect(screen.getAllByText("Add a backup job that copies this system offsite.")).toHaveLength(2);
    expect(screen.getByText("1 more finding that restates one above (no extra points)")).toBeInTheDocument();
    expect(screen.getByText("Exercises: no exercises recorded")).toBeInTheDocument();
    expect(await screen.findByRole("img", { name: /^Over the last 2 days, the score went from 82 on Mar 1 to 62 on Mar 2/ })).toBeInTheDocument();
    expect(screen.getByText("Became at risk on Mar 2 (score 62)")).toBeInTheDocument();
  });

  it("opens first when an MSP technician opens a practice", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      [`GET ${practiceUrl("")}`]: json({ id: PRACTICE_ID, name: "Bayside Dental", kind: "dental", timezone: "UTC", active: true, created_at: "2026-01-01T00:00:00Z" }),
      [`GET ${practiceUrl("/readiness")}`]: json(READINESS),
    });
    const { router } = renderApp(`/practices/${PRACTICE_ID}`, PAGES);
    expect(await screen.findByRole("heading", { name: "Backup failed" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe(`/practices/${PRACTICE_ID}/readiness`);
  });
});
