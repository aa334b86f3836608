import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, json, problem, SESSION_OK } from "../../test/fakeApi";
import { renderApp } from "../../test/render";

const MSP_SESSION = {
  ...SESSION_OK,
  memberships: [{ msp_id: SESSION_OK.memberships[0].msp_id, msp_name: "Harbor IT", practice_id: null, practice_name: null, role: "msp_technician" }],
};

function Incidents() {
  return <h1>Incidents queue</h1>;
}
function Readiness() {
  return <h1>Readiness view</h1>;
}

describe("app shell", () => {
  it("has a skip link, a banner, named navigation and main", async () => {
    fakeApi({ "GET /api/v1/auth/session": json(SESSION_OK) });
    renderApp("/account");
    await screen.findByRole("heading", { name: "Your account" });
    const skip = screen.getByRole("link", { name: "Skip to main content" });
    expect(skip).toHaveAttribute("href", "#main");
    expect(screen.getByRole("main")).toHaveAttribute("id", "main");
    expect(screen.getByRole("banner")).toBeInTheDocument();
    expect(screen.getByRole("navigation", { name: "Main" })).toBeInTheDocument();
  });

  it("shows MSP staff only MSP pages, and only those that exist", async () => {
    fakeApi({ "GET /api/v1/auth/session": json(MSP_SESSION) });
    const { router } = renderApp("/", { incidents: Incidents, readiness: Readiness });
    expect(await screen.findByRole("heading", { name: "Incidents queue" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/incidents");
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(within(nav).getByRole("link", { name: "Incidents" })).toHaveAttribute("aria-current", "page");
    expect(within(nav).queryByRole("link", { name: "Portfolio" })).toBeNull();
    expect(within(nav).queryByRole("link", { name: "Readiness" })).toBeNull();
  });

  it("shows practice users the practice pages and hides MSP pages from them", async () => {
    fakeApi({ "GET /api/v1/auth/session": json(SESSION_OK) });
    const { router } = renderApp("/", { incidents: Incidents, readiness: Readiness });
    expect(await screen.findByRole("heading", { name: "Readiness view" })).toBeInTheDocument();
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(within(nav).queryByRole("link", { name: "Incidents" })).toBeNull();
    await router.navigate("/incidents");
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
  });

  it("opens the account page when no domain page exists yet", async () => {
    fakeApi({ "GET /api/v1/auth/session": json(SESSION_OK) });
    const { router } = renderApp("/");
    expect(await screen.findByRole("heading", { name: "Your account" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/account");
    expect(screen.getByText("Bayside Dental (Harbor IT): Practice owner")).toBeInTheDocument();
  });

  it("collapses navigation behind a menu button that says whether it is open", async () => {
    fakeApi({ "GET /api/v1/auth/session": json(SESSION_OK) });
    renderApp("/account");
    const user = userEvent.setup();
    const button = await screen.findByRole("button", { name: "Menu" });
    expect(button).toHaveAttribute("aria-expanded", "false");
    expect(button).toHaveAttribute("aria-controls", "primary-nav");
    await user.click(button);
    expect(button).toHaveAttribute("aria-expanded", "true");
    await user.keyboard("{Escape}");
    expect(button).toHaveAttribute("aria-expanded", "false");
    expect(button).toHaveFocus();
  });

  it("sends signed-out visitors to sign in, remembering where they were going", async () => {
    fakeApi({ "GET /api/v1/auth/session": problem(401) });
    const { router } = renderApp("/account");
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(router.state.location.search).toBe("?next=%2Faccount");
    expect(screen.queryByText(/Your session expired/)).toBeNull();
  });
});
