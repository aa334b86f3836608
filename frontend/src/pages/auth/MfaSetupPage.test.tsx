import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, json, problem, SESSION_OK } from "../../test/fakeApi";
import { renderApp } from "../../test/render";
import { groupSecret, svgDataUri } from "./MfaSetupPage";

const HOSTILE_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><script>window.pwned = true</script><rect width="10" height="10"/></svg>';

describe("MFA enrolment", () => {
  it("shows the QR code as an image, the key for typing, and the recovery codes once", async () => {
    const server = fakeApi({
      "GET /api/v1/auth/session": [
        json({ ...SESSION_OK, status: "mfa_enrollment_required", user: { ...SESSION_OK.user, mfa_enabled: false } }),
        json(SESSION_OK),
      ],
      "POST /api/v1/auth/mfa/setup": json({ secret: "JBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://totp/Seawall:dana", qr_svg: HOSTILE_SVG }),
      "POST /api/v1/auth/mfa/enable": json({ recovery_codes: ["aaaa-bbbb", "cccc-dddd"] }),
    });
    const { router, container } = renderApp("/mfa/setup");
    const user = userEvent.setup();

    const qr = await screen.findByRole("img", { name: /QR code/ });
    expect(qr).toHaveAttribute("src", svgDataUri(HOSTILE_SVG));
    // The server's markup never becomes part of the page.
    expect(container.querySelector("script, svg")).toBeNull();
    expect(screen.getByText("JBSW Y3DP EHPK 3PXP")).toBeInTheDocument();

    await user.type(screen.getByLabelText("Enter the 6-digit code your app shows"), "654321");
    await user.click(screen.getByRole("button", { name: "Turn on two-step sign-in" }));

    const codes = await screen.findByRole("list", { name: "Recovery codes" });
    expect(codes).toHaveTextContent("aaaa-bbbb");
    expect(codes).toHaveTextContent("cccc-dddd");
    const proceed = screen.getByRole("button", { name: "Continue to Seawall" });
    expect(proceed).toBeDisabled();
    await user.click(screen.getByLabelText("I have saved these recovery codes"));
    await user.click(proceed);

    await waitFor(() => expect(router.state.location.pathname).toBe("/account"));
    expect(server.sent("POST /api/v1/auth/mfa/setup")).toHaveLength(1);
    expect(server.sent("POST /api/v1/auth/mfa/enable")[0]?.body).toEqual({ code: "654321" });
  });

  it("shows a wrong code next to the code field", async () => {
    fakeApi({
      "GET /api/v1/auth/session": json({ ...SESSION_OK, status: "mfa_enrollment_required" }),
      "POST /api/v1/auth/mfa/setup": json({ secret: "JBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://x", qr_svg: "<svg/>" }),
      "POST /api/v1/auth/mfa/enable": problem(422, { errors: [{ field: "code", message: "That code has expired. Enter the newest one." }] }),
    });
    renderApp("/mfa/setup");
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Enter the 6-digit code your app shows"), "000000");
    await user.click(screen.getByRole("button", { name: "Turn on two-step sign-in" }));
    const field = screen.getByLabelText("Enter the 6-digit code your app shows");
    await waitFor(() => expect(field).toHaveAccessibleDescription(/That code has expired/));
  });

  it("groups the key in fours for typing", () => {
    expect(groupSecret("JBSWY3DPEHPK3PXPAB")).toBe("JBSW Y3DP EHPK 3PXP AB");
  });
});
