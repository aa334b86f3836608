import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json } from "../../test/fakeApi";
import { MSP_SESSION, PRACTICE_ID, practiceUrl } from "../../test/fixtures";
import { renderApp } from "../../test/render";
import { agentState } from "./AgentsPage";

describe("agents", () => {
  it("shows the server's judgement of silence", () => {
    const base = { revoked_at: null, last_seen_at: "2026-03-01T11:58:00Z" };
    expect(agentState({ ...base, silent: false })).toBe("online");
    expect(agentState({ ...base, silent: true })).toBe("silent");
    expect(agentState({ ...base, last_seen_at: null, silent: false })).toBe("never seen");
    expect(agentState({ ...base, last_seen_at: null, silent: true })).toBe("never reported");
    expect(agentState({ ...base, silent: true, revoked_at: "2026-03-01T11:59:30Z" })).toBe("revoked");
  });

  it("shows the one-time install and enrol command for a chosen site", async () => {
    const api = fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      "GET /api/v1/agents": json([]),
      "GET /api/v1/practices": json([{ id: PRACTICE_ID, name: "Bayside Dental", kind: "dental", timezone: "UTC", active: true, created_at: "2026-01-01T00:00:00Z" }]),
      [`GET ${practiceUrl("/sites")}`]: json([{ id: "site-1", practice_id: PRACTICE_ID, name: "Main office", address: null, created_at: "2026-01-01T00:00:00Z" }]),
      [`POST ${practiceUrl("/sites/site-1/enrollment-tokens")}`]: json(
        { token: "swe_abc", expires_at: "2026-03-02T00:00:00Z", site_id: "site-1", install_command: "curl -fsSL https://seawall.example/install | sh -s swe_abc", install_command_windows: "py -3 -m venv swe_abc" },
        201,
      ),
    });
    renderApp("/agents", PAGES);
    const user = userEvent.setup();
    expect(await screen.findByRole("heading", { name: "No agents yet" })).toBeInTheDocument();
    await user.selectOptions(screen.getByRole("combobox", { name: "Practice" }), "Bayside Dental");
    await user.selectOptions(await screen.findByRole("combobox", { name: "Site" }), "Main office");
    await user.click(screen.getByRole("button", { name: "Get the install command" }));
    expect(await screen.findByLabelText("Install and enrol command")).toHaveTextContent("curl -fsSL https://seawall.example/install | sh -s swe_abc");
    expect(screen.getByLabelText("Install and enrol command for Windows")).toHaveTextContent("py -3 -m venv swe_abc");
    expect(api.sent(`POST ${practiceUrl("/sites/site-1/enrollment-tokens")}`)).toHaveLength(1);
  });

  it("shows an agent that enrolled and never reported as a problem, with when it enrolled", async () => {
    const enrolled = new Date(Date.now() - 15 * 60_000).toISOString();
    fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      "GET /api/v1/practices": json([{ id: PRACTICE_ID, name: "Willow Creek", kind: "clinic", timezone: "UTC", active: true, created_at: "2026-01-01T00:00:00Z" }]),
      "GET /api/v1/agents": json([
        { id: "agent-1", practice_id: PRACTICE_ID, site_id: "site-1", hostname: "frontdesk-pc", agent_version: "1.0.0", last_seen_at: null, revoked_at: null, created_at: enrolled, silent: true, heartbeat_interval_seconds: 60 },
      ]),
      "GET /api/v1/telemetry/refusals": json([]),
    });
    renderApp("/agents", PAGES);
    expect(await screen.findByText("never reported")).toBeInTheDocument();
    expect(screen.getByText("enrolled 15 min ago, nothing heard since")).toBeInTheDocument();
  });

  it("lists an agent's refused reports in plain words: when, which report, what was wrong", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      "GET /api/v1/practices": json([{ id: PRACTICE_ID, name: "Bayside Dental", kind: "dental", timezone: "UTC", active: true, created_at: "2026-01-01T00:00:00Z" }]),
      "GET /api/v1/agents": json([
        { id: "agent-1", practice_id: PRACTICE_ID, site_id: "site-1", hostname: "frontdesk-pc", agent_version: "1.0.0", last_seen_at: "2026-03-01T11:58:00Z", revoked_at: null, created_at: "2026-01-01T00:00:00Z", silent: false, heartbeat_interval_seconds: 60 },
      ]),
      "GET /api/v1/telemetry/refusals": json([{ agent_id: "agent-1", practice_id: PRACTICE_ID, batches: 1, attempts: 3, last_at: "2026-03-01T11:00:00Z" }]),
      [`GET ${practiceUrl("/agents/agent-1/refusals")}`]: json([
        {
          id: "r-1", agent_id: "agent-1", status: 422, code: "validation-failed", detail: "Nothing was stored", body_bytes: 300, repeats: 3,
          first_at: "2026-03-01T10:00:00Z", last_at: "2026-03-01T11:00:00Z",
          errors: [{ field: "job", message: "names no job of this agent's practice", event_index: 1, event_id: "e-2", event_type: "backup_run" }],
        },
      ]),
    });
    renderApp("/agents", PAGES);
    const user = userEvent.setup();
    expect(await screen.findByText(/1 batch refused, the last/)).toBeInTheDocument();
    const button = (await screen.findByText("Refused reports")).closest("button")!;
    expect(button).toHaveTextContent("Refused reports from frontdesk-pc");
    await user.click(button);
    expect(await screen.findByText("Reports refused from frontdesk-pc")).toHaveFocus();
    const item = (await screen.findByText(/Some reports in the batch were not valid/)).closest("li")!;
    expect(item).toHaveTextContent("Backup run (report 2 of the batch): the report names no job of this agent's practice");
    expect(item).toHaveTextContent("sent 3 times");
    expect(item).not.toHaveTextContent("2026-03-01T");
  }, 20_000);
});
