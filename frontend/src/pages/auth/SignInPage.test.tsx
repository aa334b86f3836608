import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, json, problem, SESSION_OK } from "../../test/fakeApi";
import { renderApp } from "../../test/render";

async function enterCredentials(email = "dana@harbor.example", password = "correct horse") {
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("Email"), email);
  await user.type(screen.getByLabelText("Password"), password);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
  return user;
}

describe("sign-in page", () => {
  it("signs in with a password and a TOTP code, then opens the page asked for", async () => {
    const server = fakeApi({
      "GET /api/v1/auth/session": [problem(401), { ...SESSION_OK, status: "mfa_required" }, SESSION_OK].map((b) =>
        b instanceof Response ? b : json(b),
      ),
      "POST /api/v1/auth/login": json({ status: "mfa_required", csrf_token: "c" }),
      "POST /api/v1/auth/mfa/verify": json({ status: "ok" }),
    });
    const { router } = renderApp("/sign-in?next=%2Faccount");
    const user = await enterCredentials();

    expect(server.sent("POST /api/v1/auth/login")[0]?.body).toEqual({ email: "dana@harbor.example", password: "correct horse" });
    await user.type(await screen.findByLabelText("Authentication code"), "123 456");
    await user.click(screen.getByRole("button", { name: "Continue" }));

    await waitFor(() => expect(router.state.location.pathname).toBe("/account"));
    expect(server.sent("POST /api/v1/auth/mfa/verify")[0]?.body).toEqual({ code: "123456" });
    expect(await screen.findByRole("heading", { name: "Your account" })).toBeInTheDocument();
  });

  it("accepts a recovery code instead", async () => {
    const server = fakeApi({
      "GET /api/v1/auth/session": [json({ ...SESSION_OK, status: "mfa_required" }), json(SESSION_OK)],
      "POST /api/v1/auth/mfa/verify": json({ status: "ok" }),
    });
    const { router } = renderApp("/sign-in");
    const user = userEvent.setup();
    // A half-finished sign-in resumes at the code step.
    await user.click(await screen.findByRole("button", { name: "Use a recovery code instead" }));
    await user.type(screen.getByLabelText("Recovery code"), "abcd-efgh");
    await user.click(screen.getByRole("button", { name: "Continue" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/account"));
    expect(server.sent("POST /api/v1/auth/mfa/verify")[0]?.body).toEqual({ recovery_code: "abcd-efgh" });
  });

  it("says plainly when the email and password don't match", async () => {
    fakeApi({
      "GET /api/v1/auth/session": problem(401),
      "POST /api/v1/auth/login": problem(401, { title: "Unauthorized", detail: "invalid_credentials" }),
    });
    renderApp("/sign-in");
    await enterCredentials();
    expect(await screen.findByRole("alert")).toHaveTextContent("That email and password don't match an account.");
  });

  it("shows a validation error next to the field it names", async () => {
    fakeApi({
      "GET /api/v1/auth/session": problem(401),
      "POST /api/v1/auth/login": problem(422, { errors: [{ field: "email", message: "Enter an email address like name@practice.com" }] }),
    });
    renderApp("/sign-in");
    await enterCredentials("not-an-email");
    const email = screen.getByLabelText("Email");
    await waitFor(() => expect(email).toHaveAttribute("aria-invalid", "true"));
    expect(email).toHaveAccessibleDescription(/Enter an email address like name@practice.com/);
  });

  it("says how long to wait when sign-in is throttled", async () => {
    fakeApi({
      "GET /api/v1/auth/session": problem(401),
      "POST /api/v1/auth/login": problem(429, {}, { "Retry-After": "300" }),
    });
    renderApp("/sign-in");
    await enterCredentials();
    expect(await screen.findByRole("alert")).toHaveTextContent("Too many attempts. Please wait 5 minutes and try again.");
  });

  it("sends people who must set up MFA to enrolment", async () => {
    fakeApi({
      "GET /api/v1/auth/session": [problem(401), json({ ...SESSION_OK, status: "mfa_enrollment_required" })],
      "POST /api/v1/auth/login": json({ status: "mfa_enrollment_required", csrf_token: "c" }),
      "POST /api/v1/auth/mfa/setup": json({ secret: "JBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://totp/x", qr_svg: "<svg/>" }),
    });
    const { router } = renderApp("/sign-in");
    await enterCredentials();
    await waitFor(() => expect(router.state.location.pathname).toBe("/mfa/setup"));
  });

  it("tells someone whose session expired why they are here", async () => {
    fakeApi({ "GET /api/v1/auth/session": problem(401) });
    renderApp("/sign-in?expired=1&next=%2Fplan");
    expect(await screen.findByText(/Your session expired/)).toBeInTheDocument();
  });
});
