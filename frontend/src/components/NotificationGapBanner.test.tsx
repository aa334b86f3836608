import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { fakeApi, json } from "../test/fakeApi";
import { renderApp } from "../test/render";
import { NotificationGapBanner } from "./NotificationGapBanner";

const CHANNEL = { id: "c1", name: "On call", kind: "email", enabled: true, to: ["o@harbor.example"], secret_hint: "", has_signing_secret: false, created_at: "2026-03-01T00:00:00Z" };
const ROUTE = { id: "r1", channel_id: "c1", practice_id: null, min_severity: "low", include_low_urgency: false, escalate_after_minutes: null, escalation_channel_id: null, enabled: true };
const session = (role: string) => ({
  user: { id: "u", email: "a@harbor.example", name: "Alex", mfa_enabled: true },
  status: "ok",
  csrf_token: "c",
  memberships: [{ id: "m", msp_id: "x", msp_name: "Harbor IT", practice_id: null, practice_name: null, role }],
});
const PAGES = { portfolio: () => <NotificationGapBanner /> };

describe("the banner for incidents that reach nobody", () => {
  it("tells an MSP manager, with a link to fix it, when every route's channel is off", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(session("msp_owner")),
      "GET /api/v1/notification-channels": json([{ ...CHANNEL, enabled: false }]),
      "GET /api/v1/notification-routes": json([ROUTE]),
    });
    renderApp("/portfolio", PAGES);
    expect(await screen.findByText("Nobody is told about new incidents.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Set up where incidents go" })).toHaveAttribute("href", "/alert-policies#routes-h");
  });

  it("says nothing when a route reaches a channel, and asks nothing for a technician", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json(session("msp_owner")),
      "GET /api/v1/notification-channels": json([CHANNEL]),
      "GET /api/v1/notification-routes": json([ROUTE]),
    });
    const { unmount } = renderApp("/portfolio", PAGES);
    await new Promise((r) => setTimeout(r, 200));
    expect(screen.queryByText("Nobody is told about new incidents.")).not.toBeInTheDocument();
    unmount();
    const api = fakeApi({ "GET /api/v1/auth/session": json(session("msp_technician")) });
    renderApp("/portfolio", PAGES);
    await new Promise((r) => setTimeout(r, 200));
    expect(api.sent("GET /api/v1/notification-routes")).toHaveLength(0);
    expect(screen.queryByText("Nobody is told about new incidents.")).not.toBeInTheDocument();
  });
});
