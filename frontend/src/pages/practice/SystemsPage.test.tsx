import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json, problem, SESSION_OK } from "../../test/fakeApi";
import { backupJob, finding, practiceUrl, system } from "../../test/fixtures";
import { renderApp } from "../../test/render";

describe("systems page", () => {
  it("lists the most critical systems first with their targets, backups and findings", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(SESSION_OK),
      [`GET ${practiceUrl("/systems")}`]: json([
        system({ id: "s-phones", name: "Phones", tier: 3, holds_ephi: false }),
        system({ backup_job_ids: [backupJob().id] }),
      ]),
      [`GET ${practiceUrl("/backup-jobs")}`]: json([backupJob()]),
      [`GET ${practiceUrl("/telemetry/systems/recovery")}`]: json([
        { system_id: system().id, name: "Dentrix EHR", tier: 1, target_rpo_minutes: 60, target_rto_minutes: 240, requires_onsite_copy: true, requires_offsite_copy: true,
          onsite_jobs: 1, offsite_jobs: 0, onsite_restore_point_at: null, offsite_restore_point_at: null, achieved_onsite_rpo_minutes: 30,
          achieved_offsite_rpo_minutes: null, rpo_compliant: false, last_restore_test_at: null, last_restore_test_success: null, achieved_rto_minutes: null, rto_compliant: null },
      ]),
      [`GET ${practiceUrl("/inventory-findings")}`]: json([
        finding(),
        finding({ subject_type: "practice", subject_id: "p", title: "No contacts", severity: "medium" }),
      ]),
    });
    renderApp("/systems", PAGES);
    const headings = await screen.findAllByRole("heading", { level: 2 });
    expect(headings.map((h) => h.textContent)).toEqual(["Dentrix EHR", "Phones", "Other inventory problems"]);
    const ehr = screen.getByRole("article", { name: "Dentrix EHR" }).closest("li");
    expect(ehr).not.toBeNull();
    const card = within(ehr as HTMLElement);
    expect(card.getByText(/holds patient data/)).toBeInTheDocument();
    expect(card.getByText("Nightly to NAS (Onsite)")).toBeInTheDocument();
    expect(card.getByRole("img", { name: "Data loss (RPO), on-site copy: Achieved 30 min against a target of 1 h: within target." })).toBeInTheDocument();
    // The off-site copy has no job making it: missed (and charged in readiness), not "not measured yet".
    expect(card.getByRole("img", { name: "Data loss (RPO), off-site copy: Target 1 h; no backup job makes this copy." })).toBeInTheDocument();
    expect(card.getByRole("img", { name: "Time to recover (RTO): Target 4 h; achieved not measured yet." })).toBeInTheDocument();
    expect(card.getByRole("heading", { name: "No offsite copy" })).toBeInTheDocument();
    expect(card.getByText("Add a backup job that copies this system offsite.")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "No contacts" })).toBeInTheDocument();
  });

  it("says who adds systems when there are none", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(SESSION_OK),
      [`GET ${practiceUrl("/systems")}`]: json([]),
      [`GET ${practiceUrl("/backup-jobs")}`]: json([]),
      [`GET ${practiceUrl("/inventory-findings")}`]: json([]),
    });
    renderApp("/systems", PAGES);
    expect(await screen.findByRole("heading", { name: "No systems recorded yet" })).toBeInTheDocument();
    expect(screen.getByText(/import them from a CSV file/)).toBeInTheDocument();
  });

  it("shows the API's problem in plain words", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(SESSION_OK),
      [`GET ${practiceUrl("/systems")}`]: problem(403, { detail: "You may not see this practice's systems." }),
      [`GET ${practiceUrl("/backup-jobs")}`]: json([]),
      [`GET ${practiceUrl("/inventory-findings")}`]: json([]),
    });
    renderApp("/systems", PAGES);
    expect(await screen.findByRole("alert")).toHaveTextContent("You may not see this practice's systems.");
  });
});
