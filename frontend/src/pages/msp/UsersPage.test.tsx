import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
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
      [`POST ${practiceUrl("/invitations")}`]: json({ id: "i", email: "dr@bayside.example", role: "practice_owner", practice_id: PRACTICE_ID, practice_ids: [], status: "pending", expires_at: "2026-03-08T00:00:00Z", created_at: "2026-03-01T00:00:00Z", accepted_at: null, revoked_at: null, email_sent: true, link: "http://127.0.0.1:8000/accept-invite?token=swi_abc" }, 201),
    });
    renderApp("/users", PAGES);
    const user = userEvent.setup();
    await user.type(await screen.findByRole("textbox", { name: "Email" }), "dr@bayside.example");
    await user.selectOptions(screen.getByRole("combobox", { name: "Role" }), "Practice owner");
    await user.selectOptions(screen.getByRole("combobox", { name: "Practice" }), "Bayside Dental");
    await user.click(screen.getByRole("button", { name: "Send invitation" }));
    expect(await screen.findByText(/Invitation emailed to dr@bayside.example/)).toBeInTheDocument();
    expect(api.sent(`POST ${practiceUrl("/invitations")}`)[0]?.body).toEqual({ email: "dr@bayside.example", role: "practice_owner" });
  });

  it("shows the one-time link with a Copy button, and says plainly when the email did not go", async () => {
    const link = "http://127.0.0.1:8000/accept-invite?token=swi_secret123";
    fakeApi({
      "GET /api/v1/auth/session": json(ADMIN_SESSION),
      "GET /api/v1/practices": practices,
      "GET /api/v1/users": json([]),
      "GET /api/v1/invitations": json([]),
      "POST /api/v1/invitations": json({ id: "i2", email: "sam@harbor.example", role: "msp_technician", practice_id: null, practice_ids: [], status: "pending", expires_at: "2026-03-08T00:00:00Z", created_at: "2026-03-01T00:00:00Z", accepted_at: null, revoked_at: null, email_sent: false, link }, 201),
    });
    renderApp("/users", PAGES);
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, "writeText");
    await user.type(await screen.findByRole("textbox", { name: "Email" }), "sam@harbor.example");
    await user.click(screen.getByRole("button", { name: "Send invitation" }));
    expect(await screen.findByText(/the email could not be sent\. Copy this link and send it to them yourself/)).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Invitation link for sam@harbor.example" })).toHaveValue(link);
    await user.click(screen.getByRole("button", { name: "Copy link" }));
    expect(writeText).toHaveBeenCalledWith(link);
    expect(await screen.findByText("Link copied.")).toBeInTheDocument();
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
