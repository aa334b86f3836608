import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json, problem, SESSION_OK } from "../../test/fakeApi";
import { backupJob, MSP_SESSION, PRACTICE_ID, practiceUrl } from "../../test/fixtures";
import { renderApp } from "../../test/render";

const PRACTICE = { id: PRACTICE_ID, name: "Bayside Dental", kind: "dental", timezone: "America/New_York", active: true, created_at: "2026-01-01T00:00:00Z" };

describe("practice detail", () => {
  it("shows sites, backup jobs, links and the call tree", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      [`GET ${practiceUrl("")}`]: json(PRACTICE),
      [`GET ${practiceUrl("/sites")}`]: json([{ id: "site-1", practice_id: PRACTICE_ID, name: "Main office", address: "1 Harbor Rd", created_at: "2026-01-01T00:00:00Z" }]),
      [`GET ${practiceUrl("/backup-jobs")}`]: json([backupJob({ site_id: "site-1" })]),
      [`GET ${practiceUrl("/links")}`]: json([]),
      [`GET ${practiceUrl("/call-tree")}`]: json([
        { id: "c1", practice_id: PRACTICE_ID, name: "Dr. Rivera", kind: "staff", organization: "", role_title: "Owner", phone: "+15551234", email: "", call_order: 1, alternate_for_id: null, user_id: null, notes: "", external_id: null, created_at: "2026-01-01T00:00:00Z",
          alternates: [{ id: "c2", practice_id: PRACTICE_ID, name: "Sam Office", kind: "staff", organization: "", role_title: "", phone: "", email: "", call_order: 2, alternate_for_id: "c1", user_id: null, notes: "", external_id: null, created_at: "2026-01-01T00:00:00Z", alternates: [] }] },
      ]),
    });
    renderApp(`/practices/${PRACTICE_ID}/overview`, PAGES);
    expect(await screen.findByRole("heading", { level: 1, name: "Bayside Dental" })).toBeInTheDocument();
    const sections = screen.getByRole("navigation", { name: "Practice sections" });
    await waitFor(() => expect(within(sections).getByRole("link", { name: "Sites and inventory" })).toHaveAttribute("aria-current", "page"));
    expect(await screen.findByText("Main office")).toBeInTheDocument();
    expect(screen.getByRole("rowheader", { name: "Nightly to NAS" })).toBeInTheDocument();
    expect(screen.getByText("Onsite (Main office)")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "No internet links yet" })).toBeInTheDocument();
    expect(screen.getByText("Sam Office")).toBeInTheDocument();
  });

  it("says plainly when the practice is not the technician's to see", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      [`GET ${practiceUrl("")}`]: problem(404, { detail: "Not found" }),
    });
    renderApp(`/practices/${PRACTICE_ID}/systems`, PAGES);
    expect(await screen.findByRole("alert")).toHaveTextContent("This practice doesn't exist, or you don't have access to it.");
  });

  it("does not exist for practice users", async () => {
    fakeApi({ "GET /api/v1/auth/session": json(SESSION_OK) });
    renderApp(`/practices/${PRACTICE_ID}`, PAGES);
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
  });
});
