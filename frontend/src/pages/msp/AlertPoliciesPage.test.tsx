import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { effectiveSetting } from "../../api/alerts";
import { PAGES } from "../../app/pages";
import { fakeApi, json } from "../../test/fakeApi";
import { renderApp } from "../../test/render";

const ADMIN_SESSION = {
  user: { id: "u", email: "a@harbor.example", name: "Alex", mfa_enabled: true },
  status: "ok",
  csrf_token: "c",
  memberships: [{ id: "m", msp_id: "x", msp_name: "Harbor IT", practice_id: null, practice_name: null, role: "msp_admin" }],
};
const RULE = {
  id: "backup.failed_in_a_row", title: "Backup failed repeatedly", meaning: "A backup job's last N runs all failed.", component: "backups",
  severity: "high", hipaa: "", params: { runs: 3 }, param_meanings: { runs: "consecutive failed runs" }, time_based: false, follows_outage: false,
};
const POLICY = { rules: {}, resolve_after_minutes: 5, resolve_after_evaluations: 2, reopen_cooldown_minutes: 60, max_notifications_per_hour: 3 };

describe("alert policies", () => {
  it("uses the catalogue's defaults until the MSP sets its own", () => {
    expect(effectiveSetting(RULE, POLICY)).toEqual({ enabled: true, params: { runs: 3 } });
    expect(effectiveSetting(RULE, { ...POLICY, rules: { [RULE.id]: { enabled: false, params: { runs: 5 } } } })).toEqual({ enabled: false, params: { runs: 5 } });
  });

  it("saves a rule's threshold and adds an email channel", async () => {
    const api = fakeApi({
      "GET /api/v1/auth/session": json(ADMIN_SESSION),
      "GET /api/v1/practices": json([]),
      "GET /api/v1/alert-rules": json([RULE]),
      "GET /api/v1/alert-policy": json(POLICY),
      "PUT /api/v1/alert-policy": json({ ...POLICY, rules: { [RULE.id]: { enabled: true, params: { runs: 2 } } } }),
      "GET /api/v1/notification-channels": [json([]), json([{ id: "c", name: "On call", kind: "email", enabled: true, to: ["oncall@harbor.example"], secret_hint: "", has_signing_secret: false, created_at: "2026-03-01T00:00:00Z" }])],
      "POST /api/v1/notification-channels": json({ id: "c" }, 201),
    });
    renderApp("/alert-policies", PAGES);
    const user = userEvent.setup();
    const rule = await screen.findByRole("form", { name: "Backup failed repeatedly" });
    const runs = within(rule).getByRole("spinbutton", { name: "Consecutive failed runs" });
    await user.clear(runs);
    await user.type(runs, "2");
    await user.click(within(rule).getByRole("button", { name: /Save/ }));
    expect(await within(rule).findByText("Saved.")).toBeInTheDocument();
    expect(api.sent("PUT /api/v1/alert-policy")[0]?.body).toEqual({ rules: { [RULE.id]: { enabled: true, params: { runs: 2 } } } });

    const add = screen.getByRole("form", { name: "Add a channel" });
    await user.type(within(add).getByRole("textbox", { name: "Channel name" }), "On call");
    await user.type(within(add).getByRole("textbox", { name: "Email addresses (comma-separated)" }), "oncall@harbor.example");
    await user.click(within(add).getByRole("button", { name: "Add channel" }));
    expect(await screen.findByText(/oncall@harbor\.example/)).toBeInTheDocument();
    expect(api.sent("POST /api/v1/notification-channels")[0]?.body).toEqual({ name: "On call", kind: "email", to: ["oncall@harbor.example"], enabled: true });
  });
});
