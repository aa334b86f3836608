import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json } from "../../test/fakeApi";
import { MSP_SESSION, PRACTICE_ID } from "../../test/fixtures";
import { renderApp } from "../../test/render";
import { incidentFilters } from "./IncidentsPage";

const INCIDENT = {
  id: "i-1", practice_id: PRACTICE_ID, site_id: null, rule_id: "backup.failed", subject_type: "backup_job", subject_id: "j", severity: "critical",
  component: "backups", urgency: "high", title: "Nightly backup failed", remediation: "Check the NAS is reachable.", hipaa: "", measured: "exit code 1",
  target: "exit code 0", status: "open", opened_at: "2026-03-01T10:00:00Z", last_fired_at: "2026-03-01T10:00:00Z", acknowledged_at: null, acknowledged_by: null,
  resolved_at: null, resolved_by: null, clear_since: null, reopen_count: 0, parent_id: null, maintenance_window_id: null, notified_at: null, escalated_at: null,
};
const DETAIL = { ...INCIDENT, timeline: [{ id: "e1", at: "2026-03-01T10:00:00Z", kind: "opened", actor: "", message: "", data: {} }], children: [] };
const practices = json([{ id: PRACTICE_ID, name: "Bayside Dental", kind: "dental", timezone: "UTC", active: true, created_at: "2026-01-01T00:00:00Z" }]);

describe("incidents", () => {
  it("reads only known filter values from the URL", () => {
    expect(incidentFilters(new URLSearchParams("status=resolved&severity=high"))).toEqual({ status: "resolved", severity: "high" });
    expect(incidentFilters(new URLSearchParams("status=nope&severity=urgent"))).toEqual({ status: "active", severity: "" });
  });

  it("lists the queue with the practice's name and opens an incident", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      "GET /api/v1/practices": practices,
      "GET /api/v1/incidents": json({ items: [INCIDENT], total: 1 }),
      [`GET /api/v1/practices/${PRACTICE_ID}/incidents/i-1`]: json(DETAIL),
    });
    renderApp("/incidents", PAGES);
    const user = userEvent.setup();
    expect(await screen.findByText(/Bayside Dental · Open/)).toBeInTheDocument();
    await user.click(screen.getByRole("link", { name: "Nightly backup failed" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Nightly backup failed" })).toBeInTheDocument();
    expect(screen.getByText("Check the NAS is reachable.")).toBeInTheDocument();
  });

  it("acknowledges an incident and shows who is on it", async () => {
    const api = fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      "GET /api/v1/practices": practices,
      [`GET /api/v1/practices/${PRACTICE_ID}/incidents/i-1`]: [
        json(DETAIL),
        json({ ...DETAIL, status: "acknowledged", acknowledged_by: "Dana Lee" }),
      ],
      [`POST /api/v1/practices/${PRACTICE_ID}/incidents/i-1/acknowledge`]: json({ ...INCIDENT, status: "acknowledged", acknowledged_by: "Dana Lee" }),
    });
    renderApp(`/incidents/${PRACTICE_ID}/i-1`, PAGES);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Acknowledge" }));
    await waitFor(() => expect(screen.getByTestId("incident-status")).toHaveTextContent("Acknowledged by Dana Lee"));
    expect(api.sent(`POST /api/v1/practices/${PRACTICE_ID}/incidents/i-1/acknowledge`)).toHaveLength(1);
    expect(screen.queryByRole("button", { name: "Acknowledge" })).toBeNull();
  });

  it("puts the API's field error next to the note", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      "GET /api/v1/practices": practices,
      [`GET /api/v1/practices/${PRACTICE_ID}/incidents/i-1`]: json(DETAIL),
      [`POST /api/v1/practices/${PRACTICE_ID}/incidents/i-1/notes`]: json(
        { type: "about:blank", title: "Invalid", status: 422, errors: [{ field: "body.text", message: "String should have at most 5000 characters" }] },
        422,
      ),
    });
    renderApp(`/incidents/${PRACTICE_ID}/i-1`, PAGES);
    const user = userEvent.setup();
    await user.type(await screen.findByRole("textbox", { name: "Add a note" }), "Called the office");
    await user.click(screen.getByRole("button", { name: "Add note" }));
    expect(await screen.findByText("String should have at most 5000 characters")).toBeInTheDocument();
  });
});
