import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json, SESSION_OK } from "../../test/fakeApi";
import { PRACTICE_ID, practiceUrl } from "../../test/fixtures";
import { renderApp } from "../../test/render";

const job = {
  id: "j1", practice_id: PRACTICE_ID, site_id: "s1", name: "Nightly NAS backup", location: "onsite", tool: "borgmatic",
  provider: "Synology", schedule: "0 2 * * *", expected_interval_minutes: 1440, verifies: false, encrypted: true, immutable: false,
  baa_on_file: false, system_ids: [], created_at: "2026-01-01T00:00:00Z",
};
const state = {
  backup_job_id: "j1", name: "Nightly NAS backup", location: "onsite", expected_interval_minutes: 1440, consecutive_failures: 0,
  last_status: "success", last_run_at: "2026-03-01T02:30:00Z", last_success_at: "2026-03-01T02:30:00Z",
  last_restore_point_at: "2026-03-01T02:00:00Z", running_since: null, last_exit_code: 0, last_bytes: 5_000_000_000,
  last_log_tail: "borgmatic starting\narchive nas-2026-03-01 created\nall done",
};

function api(jobState: Record<string, unknown>) {
  fakeApi({
    "GET /api/v1/auth/session": json(SESSION_OK),
    [`GET ${practiceUrl("/backup-jobs")}`]: json([job]),
    [`GET ${practiceUrl("/telemetry/state")}`]: json({ generated_at: "2026-03-01T12:00:00Z", backup_jobs: [jobState], links: [], agents: [] }),
    [`GET ${practiceUrl("/telemetry/backup-jobs/j1/runs")}`]: json({ items: [], next_cursor: null }),
  });
}

describe("backups", () => {
  it("shows what the last run reported, every line of it, behind a disclosure", async () => {
    api(state);
    renderApp("/backups", PAGES);
    const card = await screen.findByRole("article", { name: "Nightly NAS backup" });
    const summary = within(card).getByText("What the last run reported");
    await userEvent.click(summary);
    expect(within(card).getByText(/borgmatic starting\s+archive nas-2026-03-01 created\s+all done/)).toBeVisible();
  });

  it("offers no log when the last run reported none", async () => {
    api({ ...state, last_log_tail: null });
    renderApp("/backups", PAGES);
    const card = await screen.findByRole("article", { name: "Nightly NAS backup" });
    expect(within(card).queryByText("What the last run reported")).not.toBeInTheDocument();
  });
});
