import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { nothingNotified, routeGaps, type Channel, type Route } from "../../api/alerts";
import { PAGES } from "../../app/pages";
import { fakeApi, json, noContent, problem } from "../../test/fakeApi";
import { renderApp } from "../../test/render";

const ADMIN_SESSION = {
  user: { id: "u", email: "a@harbor.example", name: "Alex", mfa_enabled: true },
  status: "ok",
  csrf_token: "c",
  memberships: [{ id: "m", msp_id: "x", msp_name: "Harbor IT", practice_id: null, practice_name: null, role: "msp_admin" }],
};
const POLICY = { rules: {}, resolve_after_minutes: 5, resolve_after_evaluations: 2, reopen_cooldown_minutes: 60, max_notifications_per_hour: 3 };
const ON_CALL: Channel = { id: "c1", name: "On call", kind: "email", enabled: true, to: ["oncall@harbor.example"], secret_hint: "", has_signing_secret: false, created_at: "2026-03-01T00:00:00Z" };
const PAGER: Channel = { ...ON_CALL, id: "c2", name: "Pager", kind: "pagerduty", to: null, enabled: false };
const DEFAULT: Route = { id: "r1", channel_id: "c1", practice_id: null, min_severity: "low", include_low_urgency: false, escalate_after_minutes: null, escalation_channel_id: null, enabled: true };
const PRACTICE = { id: "p1", name: "Bayside Dental" };

function page(extra: Parameters<typeof fakeApi>[0]) {
  return fakeApi({
    "GET /api/v1/auth/session": json(ADMIN_SESSION),
    "GET /api/v1/practices": json([PRACTICE]),
    "GET /api/v1/alert-rules": json([]),
    "GET /api/v1/alert-policy": json(POLICY),
    ...extra,
  });
}

describe("notification routes", () => {
  it("knows when a route reaches nobody, as the server's router judges it", () => {
    expect(routeGaps(DEFAULT, [ON_CALL])).toEqual([]);
    expect(routeGaps({ ...DEFAULT, channel_id: "c2" }, [ON_CALL, PAGER])).toEqual(["channel_off"]);
    expect(routeGaps({ ...DEFAULT, enabled: false, channel_id: "gone" }, [ON_CALL])).toEqual(["route_off", "channel_missing"]);
    expect(routeGaps({ ...DEFAULT, escalate_after_minutes: 5, escalation_channel_id: "c2" }, [ON_CALL, PAGER])).toEqual(["escalation_channel_off"]);
    expect(nothingNotified([], [ON_CALL])).toBe(true);
    expect(nothingNotified([{ ...DEFAULT, channel_id: "c2" }], [ON_CALL, PAGER])).toBe(true);
    expect(nothingNotified([{ ...DEFAULT, escalate_after_minutes: 5, escalation_channel_id: "c2" }], [ON_CALL, PAGER])).toBe(false);
  });

  it("says the first channel came with a default route, then edits it to high and above", async () => {
    const api = page({
      "GET /api/v1/notification-channels": [json([]), json([ON_CALL])],
      "POST /api/v1/notification-channels": json({ ...ON_CALL, default_route_id: "r1" }, 201),
      "GET /api/v1/notification-routes": [json([]), json([DEFAULT]), json([{ ...DEFAULT, min_severity: "high" }])],
      "PATCH /api/v1/notification-routes/r1": json({ ...DEFAULT, min_severity: "high" }),
    });
    renderApp("/alert-policies", PAGES);
    const user = userEvent.setup();
    expect(await screen.findByRole("alert")).toHaveTextContent("Incidents go nowhere.");
    const add = screen.getByRole("form", { name: "Add a channel" });
    await user.type(within(add).getByRole("textbox", { name: "Channel name" }), "On call");
    await user.type(within(add).getByRole("textbox", { name: "Email addresses (comma-separated)" }), "oncall@harbor.example");
    await user.click(within(add).getByRole("button", { name: "Add channel" }));
    expect(await screen.findByText(/As your first channel, it gets every incident/)).toBeInTheDocument();
    const route = await screen.findByRole("article", { name: "Every practice → On call" });
    expect(route).toHaveTextContent("Every severity");
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();

    await user.click(within(route).getByRole("button", { name: /Edit/ }));
    const form = screen.getByRole("form", { name: "Edit the route Every practice → On call" });
    await user.selectOptions(within(form).getByRole("combobox", { name: "Severity" }), "High and critical");
    await user.click(within(form).getByRole("button", { name: "Save route" }));
    expect(await screen.findByText("High and critical")).toBeInTheDocument();
    expect(api.sent("PATCH /api/v1/notification-routes/r1")[0]?.body).toEqual({
      channel_id: "c1", practice_id: null, min_severity: "high", include_low_urgency: false,
      escalate_after_minutes: null, escalation_channel_id: null, enabled: true,
    });
  });

  it("shows the API's errors at the fields they concern", async () => {
    page({
      "GET /api/v1/notification-channels": json([ON_CALL, PAGER]),
      "GET /api/v1/notification-routes": json([{ ...DEFAULT, channel_id: "c2" }]),
      "POST /api/v1/notification-routes": problem(422, {
        detail: "The route is not valid.",
        errors: [{ field: "escalation_channel_id", message: "Choose the channel to escalate to, or leave the delay empty." }],
      }),
    });
    renderApp("/alert-policies", PAGES);
    const user = userEvent.setup();
    const route = await screen.findByRole("article", { name: "Every practice → Pager" });
    expect(route).toHaveTextContent("Its channel is off");
    expect(screen.getByRole("alert")).toHaveTextContent("No route that is on sends to a channel that is on.");
    await user.click(screen.getByRole("button", { name: "Add a route" }));
    const form = screen.getByRole("form", { name: "Add a route" });
    await user.selectOptions(within(form).getByRole("combobox", { name: "Practice" }), "Bayside Dental");
    await user.type(within(form).getByRole("spinbutton", { name: "Escalate after (minutes unacknowledged)" }), "30");
    await user.click(within(form).getByRole("button", { name: "Add route" }));
    const escalateTo = within(form).getByRole("combobox", { name: "Escalate to" });
    expect(await within(form).findByText("Choose the channel to escalate to, or leave the delay empty.")).toBeInTheDocument();
    expect(escalateTo).toHaveAttribute("aria-invalid", "true");
    expect(escalateTo).toHaveAccessibleDescription(/Choose the channel to escalate to/);
  });

  it("removes a route after asking", async () => {
    vi.spyOn(window, "confirm").mockReturnValue(true);
    const api = page({
      "GET /api/v1/notification-channels": json([ON_CALL]),
      "GET /api/v1/notification-routes": [json([DEFAULT]), json([])],
      "DELETE /api/v1/notification-routes/r1": noContent(),
    });
    renderApp("/alert-policies", PAGES);
    const user = userEvent.setup();
    const route = await screen.findByRole("article", { name: "Every practice → On call" });
    await user.click(within(route).getByRole("button", { name: /Remove/ }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Incidents go nowhere.");
    expect(api.sent("DELETE /api/v1/notification-routes/r1")).toHaveLength(1);
  });
});
