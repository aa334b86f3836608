import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json, problem } from "../../test/fakeApi";
import { MSP_SESSION, PRACTICE_ID, practiceUrl } from "../../test/fixtures";
import { renderApp } from "../../test/render";

const ADMIN_SESSION = { ...MSP_SESSION, memberships: MSP_SESSION.memberships.map((m) => ({ ...m, role: "msp_admin" })) };
const practices = json([{ id: PRACTICE_ID, name: "Bayside Dental", kind: "dental", timezone: "UTC", active: true, created_at: "2026-01-01T00:00:00Z" }]);

describe("users", () => {
  it("invites a practice owner through the practice's own endpoint", async () => {
    const api = fakeApi({
      "GET /api/v1/auth/session": json(ADMIN_SESSION),
      "GET /api/v1/practices": practices,
      "GET /api/v1/users": json([]),
      "GET /api/v1/invitations": json([]),
      [`POST ${practiceUrl("/invitations")}`]: json({ id: "i", email: "dr@bayside.example", role: "practice_owner", practice_id: PRACTICE_ID, practice_ids: [], status: "pending", expires_at: "2026-03-08T00:00:00Z", created_at: "2026-03-01T00:00:00Z", accepted_at: null, revoked_at: null, email_sent: true }, 201),
    });
    renderApp("/users", PAGES);
    const user = userEvent.setup();
    await user.type(await screen.findByRole("textbox", { name: "Email" }), "dr@bayside.example");
    await user.selectOptions(screen.getByRole("combobox", { name: "Role" }), "Practice owner");
    await user.selectOptions(screen.getByRole("combobox", { name: "Practice" }), "Bayside Dental");
    await user.click(screen.getByRole("button", { name: "Send invitation" }));
    expect(await screen.findByText("Invitation sent to dr@bayside.example. The link works for 7 days.")).toBeInTheDocument();
    expect(api.sent(`POST ${practiceUrl("/invitations")}`)[0]?.body).toEqual({ email: "dr@bayside.example", role: "practice_owner" });
  });

  it("tells a manager whose rights were taken away in the meantime who manages users, not a bare 403", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(ADMIN_SESSION),
      "GET /api/v1/practices": practices,
      "GET /api/v1/users": problem(403),
      "GET /api/v1/invitations": problem(403),
    });
    renderApp("/users", PAGES);
    expect((await screen.findAllByText(/Only MSP owners and administrators manage users/)).length).toBeGreaterThan(0);
  });

  it("leaves the managers' pages out of a technician's navigation, and out of reach", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      "GET /api/v1/practices": practices,
    });
    renderApp("/users", PAGES);
    const nav = await screen.findByRole("navigation", { name: /main/i });
    expect(within(nav).getByRole("link", { name: "Portfolio" })).toBeInTheDocument();
    for (const page of ["Users", "Audit log", "Alert policies"]) {
      expect(within(nav).queryByRole("link", { name: page })).not.toBeInTheDocument();
    }
    expect(await screen.findByRole("heading", { name: /not found/i })).toBeInTheDocument();
  });

  it("shows an MSP administrator every MSP page", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(ADMIN_SESSION),
      "GET /api/v1/practices": practices,
      "GET /api/v1/users": json([]),
      "GET /api/v1/invitations": json([]),
    });
    renderApp("/users", PAGES);
    const nav = await screen.findByRole("navigation", { name: /main/i });
    for (const page of ["Portfolio", "Incidents", "Templates", "Alert policies", "Agents", "Set-aside reports", "Users", "Audit log"]) {
      expect(within(nav).getByRole("link", { name: page })).toBeInTheDocument();
    }
  });
});
