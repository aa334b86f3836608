import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json, SESSION_OK } from "../../test/fakeApi";
import { backupJob, MSP_SESSION, PRACTICE_ID, practiceUrl } from "../../test/fixtures";
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
    expect(screen.queryByLabelText("Site whose agent reports this job")).not.toBeInTheDocument();  // practice people only read it
  });

  it("lets MSP staff choose the site whose agent reports a job", async () => {
    const user = userEvent.setup();
    const unplaced = backupJob({ id: "j-usb", name: "Friday USB drive", site_id: null });
    const api = fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      [`GET ${practiceUrl("")}`]: json({ id: PRACTICE_ID, name: "Bayside Dental", kind: "dental", timezone: "America/New_York", active: true, created_at: "2026-01-01T00:00:00Z" }),
      [`GET ${practiceUrl("/backup-jobs")}`]: [json([unplaced]), json([{ ...unplaced, site_id: "s1" }])],
      [`PATCH ${practiceUrl("/backup-jobs/j-usb")}`]: json({ ...unplaced, site_id: "s1" }),
      [`GET ${practiceUrl("/sites")}`]: json([{ id: "s1", practice_id: PRACTICE_ID, name: "Main office", address: null, created_at: "2026-01-01T00:00:00Z" }]),
      [`GET ${practiceUrl("/telemetry/state")}`]: json({ generated_at: "2026-03-01T12:00:00Z", backup_jobs: [], agents: [], links: [] }),
      [`GET ${practiceUrl("/telemetry/backup-jobs/j-usb/runs")}`]: json({ items: [], next_cursor: null }),
    });
    renderApp(`/practices/${PRACTICE_ID}/backups`, PAGES);
    const usb = await screen.findByRole("article", { name: "Friday USB drive" });
    expect(within(usb).getByText(/no agent reports it/)).toBeInTheDocument();
    await user.selectOptions(await screen.findByLabelText("Site whose agent reports this job"), "Main office");
    await waitFor(() => expect(api.sent(`PATCH ${practiceUrl("/backup-jobs/j-usb")}`)).toHaveLength(1));
    expect(api.sent(`PATCH ${practiceUrl("/backup-jobs/j-usb")}`)[0]?.body).toEqual({ site_id: "s1" });
    expect(await within(usb).findByText("Reported by the agent at Main office.")).toBeInTheDocument();
  });
});

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

function api(jobState: Record<string, unknown>, runs: Record<string, unknown>[] = []) {
  fakeApi({
    "GET /api/v1/auth/session": json(SESSION_OK),
    [`GET ${practiceUrl("/backup-jobs")}`]: json([job]),
    [`GET ${practiceUrl("/sites")}`]: json([{ id: "s1", practice_id: PRACTICE_ID, name: "Main office", address: null, created_at: "2026-01-01T00:00:00Z" }]),
    [`GET ${practiceUrl("/telemetry/state")}`]: json({ generated_at: "2026-03-01T12:00:00Z", backup_jobs: [jobState], links: [], agents: [] }),
    [`GET ${practiceUrl("/telemetry/backup-jobs/j1/runs")}`]: json({ items: runs, next_cursor: null }),
  });
}

describe("backups page, the last run", () => {
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

describe("backups page, a stale success", () => {
  it("shows a success whose restore point did not move as saving nothing new, not as a success", async () => {
    api({ ...state, stale_success: true });
    renderApp("/backups", PAGES);
    const card = await screen.findByRole("article", { name: "Nightly NAS backup" });
    expect(within(card).getByText(/Reported success .*, but saved nothing new/)).toBeInTheDocument();
    expect(within(card).getByText(/the backup tool may be reporting an old snapshot/)).toBeInTheDocument();
    expect(within(card).queryByText("✓")).not.toBeInTheDocument();
    expect(within(card).queryByText("Last good backup")).not.toBeInTheDocument();
  });

  it("labels the run readiness judged stale, not a good run that arrived before the next rescoring", async () => {
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    const judged = hoursAgo(48);
    const fresh = hoursAgo(1);
    const runOf = (id: string, finished: string) => ({ id, backup_job_id: "j1", source: "agent", status: "success", started_at: finished, finished_at: finished });
    // The stored finding still names the stale run; the newest success is a good one.
    api({ ...state, last_run_at: fresh, last_success_at: fresh, stale_success: false, stale_success_at: judged }, [runOf("r-fresh", fresh), runOf("r-stale", judged)]);
    renderApp("/backups", PAGES);
    const card = await screen.findByRole("article", { name: "Nightly NAS backup" });
    expect(within(card).getByText(/^Success/)).toBeInTheDocument();
    expect(await within(card).findByText(/1 of 30 days had a good backup; nothing new saved on /)).toBeInTheDocument();
  });

  it("shows a success that moved the restore point as a success", async () => {
    api({ ...state, stale_success: false });
    renderApp("/backups", PAGES);
    const card = await screen.findByRole("article", { name: "Nightly NAS backup" });
    expect(within(card).getByText(/^Success/)).toBeInTheDocument();
    expect(within(card).queryByText(/saved nothing new/)).not.toBeInTheDocument();
  });
});
