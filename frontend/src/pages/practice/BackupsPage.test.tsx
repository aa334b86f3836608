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
