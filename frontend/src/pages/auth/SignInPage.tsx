import { useReducer, useState, type FormEvent } from "react";
import { Link, Navigate, useSearchParams } from "react-router";
import { useLogin, useRefreshSession, useSession, useVerifyMfa } from "../../api/auth";
import { MFA_SETUP_PATH, safeNextPath } from "../../auth/redirects";
import { initialSignInStep, signInReducer, type SignInStep } from "../../auth/signInMachine";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { TextField } from "../../components/TextField";
import { fieldError, formText } from "./forms";

export function SignInPage() {
  const session = useSession();
  const [params] = useSearchParams();
  if (session.isPending) return <Loading label="Checking your sign-in…" />;
  return (
    <SignInFlow
      initial={initialSignInStep(session.data?.status)}
      next={safeNextPath(params.get("next"))}
      expired={params.get("expired") === "1"}
    />
  );
}

interface SignInFlowProps {
  initial: SignInStep;
  next: string;
  expired: boolean;
}

export function SignInFlow({ initial, next, expired }: SignInFlowProps) {
  const [state, dispatch] = useReducer(signInReducer, initial);
  const refreshSession = useRefreshSession();

  switch (state.step) {
    case "done":
      return <Navigate to={next} replace />;
    case "enrol":
      return <Navigate to={MFA_SETUP_PATH} replace />;
    case "credentials":
      return (
        <CredentialsStep
          expired={expired}
          onAccepted={async (status) => {
            await refreshSession();
            dispatch({ type: "credentialsAccepted", status });
          }}
        />
      );
    case "totp":
    case "recovery":
      return (
        <MfaStep
          mode={state.step}
          onToggle={() => dispatch({ type: state.step === "totp" ? "useRecoveryCode" : "useAuthenticatorCode" })}
          onStartOver={() => dispatch({ type: "startOver" })}
          onAccepted={async () => {
            await refreshSession();
            dispatch({ type: "mfaAccepted" });
          }}
        />
      );
  }
}

function CredentialsStep({
  expired,
  onAccepted,
}: {
  expired: boolean;
  onAccepted: (status: "ok" | "mfa_required" | "mfa_enrollment_required") => Promise<void>;
}) {
  const login = useLogin();
  const [email, setEmail] = useState("");

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const password = new FormData(event.currentTarget).get("password");
    login.mutate(
      { email: email.trim(), password: typeof password === "string" ? password : "" },
      { onSuccess: (result) => onAccepted(result.status) },
    );
  };

  return (
    <Page title="Sign in">
      {expired && (
        <p className="notice" role="status">
          Your session expired, so we signed you out to keep patient information safe. Sign in again to carry
          on where you left off.
        </p>
      )}
      <form onSubmit={submit} noValidate className="form">
        <ProblemMessage
          error={login.error}
          shownFields={["email", "password"]}
          messages={{ 401: "That email and password don't match an account. Check them and try again." }}
        />
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fieldError(login.error, "email")}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={fieldError(login.error, "password")}
        />
        <button type="submit" className="button button--primary" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p className="form-footer">
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
    </Page>
  );
}

function MfaStep({
  mode,
  onToggle,
  onStartOver,
  onAccepted,
}: {
  mode: "totp" | "recovery";
  onToggle: () => void;
  onStartOver: () => void;
  onAccepted: () => Promise<void>;
}) {
  const verify = useVerifyMfa();
  const field = mode === "totp" ? "code" : "recovery_code";

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = formText(event, field).replace(/\s+/g, "");
    const body = mode === "totp" ? { code: value } : { recovery_code: value };
    verify.mutate(body, { onSuccess: () => onAccepted() });
  };

  const toggle = () => {
    verify.reset();
    onToggle();
  };

  return (
    <Page
      title="Check it's you"
      description={
        mode === "totp"
          ? "Enter the 6-digit code from your authenticator app."
          : "Enter one of the recovery codes you saved when you set up your authenticator app. Each code works once."
      }
    >
      <form onSubmit={submit} noValidate className="form" key={mode}>
        <ProblemMessage
          error={verify.error}
          shownFields={[field]}
          messages={{
            401:
              mode === "totp"
                ? "That code didn't work. Codes change every 30 seconds, so enter the newest one."
                : "That recovery code didn't work. Check it, or use another one: each works only once.",
          }}
        />
        {mode === "totp" ? (
          <TextField
            label="Authentication code"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9 ]*"
            required
            error={fieldError(verify.error, "code")}
          />
        ) : (
          <TextField
            label="Recovery code"
            name="recovery_code"
            autoComplete="off"
            spellCheck={false}
            required
            error={fieldError(verify.error, "recovery_code")}
          />
        )}
        <button type="submit" className="button button--primary" disabled={verify.isPending}>
          {verify.isPending ? "Checking…" : "Continue"}
        </button>
      </form>
      <p className="form-footer">
        <button type="button" className="link-button" onClick={toggle}>
          {mode === "totp" ? "Use a recovery code instead" : "Use your authenticator app instead"}
        </button>
      </p>
      <p className="form-footer">
        <button type="button" className="link-button" onClick={onStartOver}>
          Sign in with a different account
        </button>
      </p>
    </Page>
  );
}
