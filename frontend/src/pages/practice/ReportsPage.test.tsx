import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json, SESSION_OK } from "../../test/fakeApi";
import { MSP_SESSION, PRACTICE_ID, practiceUrl } from "../../test/fixtures";
import { renderApp } from "../../test/render";
import { reportMonth } from "../../views/ReportsView";

const REPORT = { id: "r1", practice_id: PRACTICE_ID, kind: "monthly", period_start: "2026-02-01", period_end: "2026-02-28", generated_at: "2026-03-01T06:00:00Z", generated_by_label: "", score: 72, status: "at_risk", sha256: "0", size_bytes: 48_000 };
const PRACTICE = { id: PRACTICE_ID, name: "Bayside Dental", kind: "dental", timezone: "UTC", active: true, created_at: "2026-01-01T00:00:00Z" };

describe("reports", () => {
  it("names a report by its month", () => {
    expect(reportMonth("2026-02-01")).toMatch(/2026/);
    expect(reportMonth("garbage")).toBe("garbage");
  });

  it("lists reports as PDF downloads for the practice, without a generate button", async () => {
    fakeApi({ "GET /api/v1/auth/session": json(SESSION_OK), [`GET ${practiceUrl("/reports")}`]: json([REPORT]) });
    renderApp("/reports", PAGES);
    const link = await screen.findByRole("link", { name: /report \(PDF, 47 KB\)/ });
    expect(link).toHaveAttribute("href", `/api/v1/practices/${PRACTICE_ID}/reports/r1.pdf`);
    expect(screen.queryByRole("button", { name: "Generate a report now" })).toBeNull();
  });

  it("lets MSP staff generate one for a month", async () => {
    const api = fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      [`GET ${practiceUrl("")}`]: json(PRACTICE),
      [`GET ${practiceUrl("/reports")}`]: [json([]), json([REPORT])],
      [`POST ${practiceUrl("/reports")}`]: json(REPORT, 201),
    });
    renderApp(`/practices/${PRACTICE_ID}/reports`, PAGES);
    const user = userEvent.setup();
    expect(await screen.findByRole("heading", { name: "No reports yet" })).toBeInTheDocument();
    await user.type(screen.getByLabelText("Month"), "2026-02");
    await user.click(screen.getByRole("button", { name: "Generate a report now" }));
    expect(await screen.findByRole("link", { name: /report \(PDF/ })).toBeInTheDocument();
    expect(api.sent(`POST ${practiceUrl("/reports")}`)[0]?.body).toEqual({ month: "2026-02" });
  });
});
