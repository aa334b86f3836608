import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, json, noContent, problem, SESSION_OK } from "../../test/fakeApi";
import { renderApp } from "../../test/render";

describe("password reset", () => {
  it("asks for a link and answers the same whether or not the account exists", async () => {
    const server = fakeApi({ "POST /api/v1/auth/password-reset/request": new Response(null, { status: 202 }) });
    renderApp("/forgot-password");
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Email"), "dana@harbor.example");
    await user.click(screen.getByRole("button", { name: "Send reset link" }));
    expect(await screen.findByRole("heading", { name: "Check your email" })).toBeInTheDocument();
    expect(server.requests[0]?.body).toEqual({ email: "dana@harbor.example" });
  });

  it("sets a new password with the token from the link", async () => {
    const server = fakeApi({ "POST /api/v1/auth/password-reset/confirm": noContent() });
    renderApp("/reset-password?token=tok-123");
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("New password"), "a long new password");
    await user.type(screen.getByLabelText("New password again"), "a long new password");
    await user.click(screen.getByRole("button", { name: "Save new password" }));
    expect(await screen.findByRole("heading", { name: "Your password has been changed" })).toBeInTheDocument();
    expect(server.requests[0]?.body).toEqual({ token: "tok-123", password: "a long new password" });
  });

  it("catches mistyped confirmation before asking the server", async () => {
    const server = fakeApi({});
    renderApp("/reset-password?token=tok-123");
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("New password"), "one password");
    await user.type(screen.getByLabelText("New password again"), "another");
    await user.click(screen.getByRole("button", { name: "Save new password" }));
    expect(screen.getByLabelText("New password again")).toHaveAccessibleDescription(/don't match/);
    expect(server.requests).toHaveLength(0);
  });

  it("explains a used or expired link", async () => {
    fakeApi({ "POST /api/v1/auth/password-reset/confirm": problem(400, { detail: "invalid token" }) });
    renderApp("/reset-password?token=old");
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("New password"), "a long new password");
    await user.type(screen.getByLabelText("New password again"), "a long new password");
    await user.click(screen.getByRole("button", { name: "Save new password" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("This reset link has expired or has already been used.");
  });
});

describe("accepting an invitation", () => {
  it("creates the account and sends MSP staff to MFA enrolment", async () => {
    const server = fakeApi({
      "GET /api/v1/invitations/lookup": json({ email: "sam@harbor.example", msp_name: "Harbor IT", practice_name: null, role: "msp_technician" }),
      "POST /api/v1/invitations/accept": json({ status: "mfa_enrollment_required", csrf_token: "c" }),
      "GET /api/v1/auth/session": json({ ...SESSION_OK, status: "mfa_enrollment_required" }),
      "POST /api/v1/auth/mfa/setup": json({ secret: "JBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://x", qr_svg: "<svg/>" }),
    });
    const { router } = renderApp("/accept-invite?token=inv-1");
    const user = userEvent.setup();
    expect(await screen.findByText("Harbor IT")).toBeInTheDocument();
    expect(screen.getByText("MSP technician")).toBeInTheDocument();
    expect(server.sent("GET /api/v1/invitations/lookup")[0]?.search).toBe("?token=inv-1");
    await user.type(screen.getByLabelText("Your name"), "Sam Ortiz");
    await user.type(screen.getByLabelText("Password"), "a long password");
    await user.type(screen.getByLabelText("Password again"), "a long password");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/mfa/setup"));
    expect(server.sent("POST /api/v1/invitations/accept")[0]?.body).toEqual({ token: "inv-1", name: "Sam Ortiz", password: "a long password" });
  });

  it("explains an invitation that is no longer valid", async () => {
    fakeApi({ "GET /api/v1/invitations/lookup": problem(410) });
    renderApp("/accept-invite?token=used");
    expect(await screen.findByText(/expired or has already been used/)).toBeInTheDocument();
  });
});

describe("signing out", () => {
  it("ends the session once and offers to sign in again", async () => {
    const server = fakeApi({ "POST /api/v1/auth/logout": noContent() });
    renderApp("/sign-out");
    expect(await screen.findByRole("heading", { name: "You have signed out" })).toBeInTheDocument();
    expect(server.sent("POST /api/v1/auth/logout")).toHaveLength(1);
    expect(screen.getByRole("link", { name: "Sign in again" })).toHaveAttribute("href", "/sign-in");
  });
});

describe("signing out after the session already ended", () => {
  it("still confirms the sign-out", async () => {
    fakeApi({ "POST /api/v1/auth/logout": problem(401) });
    renderApp("/sign-out");
    expect(await screen.findByText(/Your session has ended/)).toBeInTheDocument();
  });
});
