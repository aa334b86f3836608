import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PAGES } from "../../app/pages";
import { fakeApi, json } from "../../test/fakeApi";
import { MSP_SESSION, PRACTICE_ID, STAFF_SESSION, practiceUrl } from "../../test/fixtures";
import { renderApp } from "../../test/render";
import { setAsideFilters } from "./SetAsidePage";

const LETTER = {
  id: "dl-1",
  practice_id: PRACTICE_ID,
  site_id: "site-1",
  site_name: "Main office",
  event_seq: 12,
  event_id: "run-1",
  type: "backup_run",
  source_kind: "agent",
  source_id: "agent-1",
  source_name: "frontdesk-pc",
  occurred_at: "2026-03-01T11:00:00Z",
  code: "invalid_payload",
  reason: "started_at is missing",
  field: "started_at",
  failures: 1,
  first_failed_at: "2026-03-01T11:01:00Z",
  last_failed_at: "2026-03-01T11:01:00Z",
  replay_count: 0,
  replayed_at: null,
  resolved_at: null,
  resolution: null,
};

const PRACTICES = json([{ id: PRACTICE_ID, name: "Bayside Dental", kind: "dental", timezone: "UTC", active: true, created_at: "2026-01-01T00:00:00Z" }]);

describe("set-aside reports", () => {
  it("reads its filters from the address, with safe defaults", () => {
    expect(setAsideFilters(new URLSearchParams("status=bogus&type=nope"))).toEqual({ practiceId: "", status: "open", type: "" });
    expect(setAsideFilters(new URLSearchParams(`practice=${PRACTICE_ID}&status=all&type=ping`))).toEqual({
      practiceId: PRACTICE_ID,
      status: "all",
      type: "ping",
    });
  });

  it("says in plain words what was wrong and sends one report again", async () => {
    const api = fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      "GET /api/v1/practices": PRACTICES,
      "GET /api/v1/telemetry/dead-letters": [json({ items: [LETTER], next_cursor: null, open_count: 1 }), json({ items: [], next_cursor: null, open_count: 0 })],
      [`POST ${practiceUrl("/telemetry/dead-letters/dl-1/replay")}`]: json({ replayed: 1, discarded: 0, remaining: 0 }),
    });
    renderApp("/set-aside", PAGES);
    const user = userEvent.setup();
    const item = (await screen.findByText("Backup run from the agent on frontdesk-pc")).closest("li")!;
    expect(within(item).getByText("The start time is missing.")).toBeInTheDocument();
    expect(item).not.toHaveTextContent("started_at");
    expect(item).not.toHaveTextContent("2026-03-01T");
    await user.click(within(item).getByRole("button", { name: /Send again/ }));
    expect(await screen.findByRole("heading", { name: "Nothing is set aside" })).toBeInTheDocument();
    expect(api.sent(`POST ${practiceUrl("/telemetry/dead-letters/dl-1/replay")}`)).toHaveLength(1);
  });

  it("sends the oldest thousand of a large backlog again and says how many are still set aside", async () => {
    const api = fakeApi({
      "GET /api/v1/auth/session": json(MSP_SESSION),
      "GET /api/v1/practices": PRACTICES,
      "GET /api/v1/telemetry/dead-letters": [
        json({ items: [LETTER], next_cursor: null, open_count: 1500 }),
        json({ items: [LETTER], next_cursor: null, open_count: 500 }),
      ],
      [`POST ${practiceUrl("/telemetry/dead-letters/replay")}`]: json({ replayed: 1000, discarded: 0, remaining: 500 }),
    });
    renderApp(`/set-aside?practice=${PRACTICE_ID}`, PAGES);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Send the oldest 1,000 again" }));
    expect(await screen.findByRole("status")).toHaveTextContent("1,000 sent again; 500 still set aside.");
    expect(api.sent(`POST ${practiceUrl("/telemetry/dead-letters/replay")}`)).toHaveLength(1);
  });

  it("is not in the navigation of practice people", async () => {
    fakeApi({ "GET /api/v1/auth/session": json(STAFF_SESSION) });
    renderApp("/set-aside", PAGES);
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Set-aside reports" })).not.toBeInTheDocument();
  });
});
