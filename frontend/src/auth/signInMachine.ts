// The steps of signing in, as a pure reducer so every path can be tested without a browser.
import type { SessionStatus } from "../api/auth";

export type SignInStep =
  | { step: "credentials" }
  | { step: "totp" }
  | { step: "recovery" }
  /** Signed in with a password, but MFA must be set up before anything else. */
  | { step: "enrol" }
  | { step: "done" };

export type SignInEvent =
  | { type: "credentialsAccepted"; status: SessionStatus }
  | { type: "mfaAccepted" }
  | { type: "useRecoveryCode" }
  | { type: "useAuthenticatorCode" }
  | { type: "startOver" };

/** Where a visitor starts: a half-finished sign-in (password accepted, MFA pending) resumes. */
export function initialSignInStep(status: SessionStatus | null | undefined): SignInStep {
  if (status === undefined || status === null) return { step: "credentials" };
  return stepForStatus(status);
}

function stepForStatus(status: SessionStatus): SignInStep {
  switch (status) {
    case "ok":
      return { step: "done" };
    case "mfa_required":
      return { step: "totp" };
    case "mfa_enrollment_required":
      return { step: "enrol" };
  }
}

export function signInReducer(state: SignInStep, event: SignInEvent): SignInStep {
  switch (event.type) {
    case "credentialsAccepted":
      return state.step === "credentials" ? stepForStatus(event.status) : state;
    case "mfaAccepted":
      return state.step === "totp" || state.step === "recovery" ? { step: "done" } : state;
    case "useRecoveryCode":
      return state.step === "totp" ? { step: "recovery" } : state;
    case "useAuthenticatorCode":
      return state.step === "recovery" ? { step: "totp" } : state;
    case "startOver":
      return { step: "credentials" };
  }
}
