import { describe, expect, it } from "vitest";
import { initialSignInStep, signInReducer, type SignInEvent, type SignInStep } from "./signInMachine";

function run(start: SignInStep, ...events: SignInEvent[]): SignInStep {
  return events.reduce(signInReducer, start);
}

describe("sign-in steps", () => {
  it("finishes at once when the password is enough", () => {
    expect(run({ step: "credentials" }, { type: "credentialsAccepted", status: "ok" })).toEqual({ step: "done" });
  });

  it("asks for the authenticator code when MFA is required, then finishes", () => {
    const afterPassword = run({ step: "credentials" }, { type: "credentialsAccepted", status: "mfa_required" });
    expect(afterPassword).toEqual({ step: "totp" });
    expect(signInReducer(afterPassword, { type: "mfaAccepted" })).toEqual({ step: "done" });
  });

  it("switches between authenticator and recovery codes", () => {
    const s = run(
      { step: "credentials" },
      { type: "credentialsAccepted", status: "mfa_required" },
      { type: "useRecoveryCode" },
    );
    expect(s).toEqual({ step: "recovery" });
    expect(signInReducer(s, { type: "useAuthenticatorCode" })).toEqual({ step: "totp" });
    expect(signInReducer(s, { type: "mfaAccepted" })).toEqual({ step: "done" });
  });

  it("sends people who must enrol to enrolment", () => {
    expect(run({ step: "credentials" }, { type: "credentialsAccepted", status: "mfa_enrollment_required" })).toEqual({
      step: "enrol",
    });
  });

  it("ignores events that don't belong to the current step", () => {
    expect(signInReducer({ step: "credentials" }, { type: "mfaAccepted" })).toEqual({ step: "credentials" });
    expect(signInReducer({ step: "credentials" }, { type: "useRecoveryCode" })).toEqual({ step: "credentials" });
    expect(signInReducer({ step: "totp" }, { type: "credentialsAccepted", status: "ok" })).toEqual({ step: "totp" });
  });

  it("can start over from any step", () => {
    expect(signInReducer({ step: "recovery" }, { type: "startOver" })).toEqual({ step: "credentials" });
  });

  it("resumes a half-finished sign-in from the session status", () => {
    expect(initialSignInStep(null)).toEqual({ step: "credentials" });
    expect(initialSignInStep(undefined)).toEqual({ step: "credentials" });
    expect(initialSignInStep("mfa_required")).toEqual({ step: "totp" });
    expect(initialSignInStep("ok")).toEqual({ step: "done" });
  });
});
