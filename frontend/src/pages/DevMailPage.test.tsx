import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PAGES } from "../app/pages";
import { fakeApi, json, noContent, problem } from "../test/fakeApi";
import { MSP_SESSION } from "../test/fixtures";
import { renderApp } from "../test/render";

const INVITE_LINK = "http://127.0.0.1:8000/accept-invite?token=swi_abc";
const MAIL = {
  kept: 50,
  messages: [
    {
      id: "20260301T090000000000-aa",
      received_at: new Date(Date.now() - 5 * 60_000).toISOString(),
      to: "sam@harbor.example",
      subject: "You are invited to Harbor IT on Seawall",
      text: `Open ${INVITE_LINK} to join.`,
      links: [INVITE_LINK],
    },
  ],
};

describe("development mail", () => {
  it("lists the emails the local sink received with their links, signed out too", async () => {
    fakeApi({ "GET /api/v1/dev/mail": json(MAIL), "GET /api/v1/auth/session": problem(401) });
    renderApp("/dev/mail", PAGES);
    const card = (await screen.findByRole("heading", { name: "You are invited to Harbor IT on Seawall" })).closest("article")!;
    expect(within(card as HTMLElement).getByText(/To sam@harbor.example/)).toBeInTheDocument();
    expect(within(card as HTMLElement).getByText("5 min ago")).toBeInTheDocument();
    expect(within(card as HTMLElement).getByRole("link", { name: "Open the invitation link" })).toHaveAttribute("href", INVITE_LINK);
  });

  it("does not exist when the server has no dev mail route (production)", async () => {
    fakeApi({ "GET /api/v1/dev/mail": problem(404) });
    renderApp("/dev/mail", PAGES);
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
    expect(screen.queryByText(/Development mail/)).not.toBeInTheDocument();
  });

  it("is in the navigation only when the server says it is in development", async () => {
    fakeApi({ "GET /api/v1/auth/session": json(MSP_SESSION), "GET /api/v1/practices": json([]), "GET /api/v1/dev/mail": json(MAIL) });
    const { unmount } = renderApp("/portfolio", PAGES);
    const nav = await screen.findByRole("navigation", { name: /main/i });
    expect(await within(nav).findByRole("link", { name: "Development mail" })).toHaveAttribute("href", "/dev/mail");
    unmount();

    fakeApi({ "GET /api/v1/auth/session": json(MSP_SESSION), "GET /api/v1/practices": json([]), "GET /api/v1/dev/mail": problem(404) });
    renderApp("/portfolio", PAGES);
    const prodNav = await screen.findByRole("navigation", { name: /main/i });
    expect(await within(prodNav).findByRole("link", { name: "Portfolio" })).toBeInTheDocument();
    expect(within(prodNav).queryByRole("link", { name: "Development mail" })).not.toBeInTheDocument();
  });

  it("points a person who asked for a password reset at the development mail page, only in development", async () => {
    fakeApi({ "POST /api/v1/auth/password-reset/request": noContent(202), "GET /api/v1/dev/mail": json(MAIL) });
    renderApp("/forgot-password");
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Email"), "dana@harbor.example");
    await user.click(screen.getByRole("button", { name: "Send reset link" }));
    expect(await screen.findByRole("link", { name: "development mail page" })).toHaveAttribute("href", "/dev/mail");
  });
});
