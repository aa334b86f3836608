import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json, SESSION_OK } from "../../test/fakeApi";
import { backupJob, PRACTICE_ID, practiceUrl } from "../../test/fixtures";
import { renderApp } from "../../test/render";

describe("backups page", () => {
  it("says which site's agent reports each job, and that a job without a site is reported by none", async () => {
    const placed = backupJob({ id: "j-placed", name: "Nightly to NAS", site_id: "s1" });
    const unplaced = backupJob({ id: "j-unplaced", name: "Friday USB drive", site_id: null });
    fakeApi({
      "GET /api/v1/auth/session": json(SESSION_OK),
      [`GET ${practiceUrl("/backup-jobs")}`]: json([placed, unplaced]),
      [`GET ${practiceUrl("/sites")}`]: json([{ id: "s1", practice_id: PRACTICE_ID, name: "Main office", address: null, created_at: "2026-01-01T00:00:00Z" }]),
      [`GET ${practiceUrl("/telemetry/state")}`]: json({ generated_at: "2026-03-01T12:00:00Z", backup_jobs: [], agents: [], links: [] }),
      [`GET ${practiceUrl("/telemetry/backup-jobs/j-placed/runs")}`]: json({ items: [], next_cursor: null }),
      [`GET ${practiceUrl("/telemetry/backup-jobs/j-unplaced/runs")}`]: json({ items: [], next_cursor: null }),
    });
    renderApp("/backups", PAGES);
    const nas = await screen.findByRole("article", { name: "Nightly to NAS" });
    expect(await within(nas).findByText("Reported by the agent at Main office.")).toBeInTheDocument();
    const usb = screen.getByRole("article", { name: "Friday USB drive" });
    expect(within(usb).getByText(/No site chosen for this job, so no agent reports it/)).toBeInTheDocument();
  });
});
