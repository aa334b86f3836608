import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { useEnableMfa, useMfaSetup, useRefreshSession, type MfaSetup } from "../../api/auth";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { TextField } from "../../components/TextField";
import { fieldError, formText } from "./forms";

/**
 * The server's QR code is markup we did not write: shown through <img>, an SVG cannot run
 * scripts or touch the page, whatever it contains.
 */
export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

/** "JBSWY3DPEHPK3PXP" → "JBSW Y3DP EHPK 3PXP", easier to type from a screen. */
export function groupSecret(secret: string): string {
  return secret.replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");
}

export function MfaSetupPage() {
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  // Once the codes are shown, setup must not be asked for again (that would mint a new secret).
  const setup = useMfaSetup(recoveryCodes === null);

  if (recoveryCodes !== null) return <RecoveryCodes codes={recoveryCodes} />;
  if (setup.isPending) return <Loading label="Preparing your authenticator set-up…" />;
  if (setup.isError) {
    return (
      <Page title="Set up two-step sign-in">
        <ProblemMessage error={setup.error} />
        <button type="button" className="button" onClick={() => void setup.refetch()}>
          Try again
        </button>
      </Page>
    );
  }
  return <EnrolForm setup={setup.data} onEnabled={setRecoveryCodes} />;
}

function EnrolForm({ setup, onEnabled }: { setup: MfaSetup; onEnabled: (codes: string[]) => void }) {
  const enable = useEnableMfa();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const code = formText(event, "code").replace(/\s+/g, "");
    enable.mutate({ code }, { onSuccess: (result) => onEnabled(result.recovery_codes) });
  };

  return (
    <Page
      title="Set up two-step sign-in"
      description="Seawall holds information about patient care, so signing in also needs a code from an authenticator app on your phone (such as Microsoft Authenticator, Google Authenticator or 1Password)."
    >
      <ol className="steps">
        <li>
          <p>Open your authenticator app, add an account, and scan this QR code.</p>
          <img className="qr" src={svgDataUri(setup.qr_svg)} alt="QR code to add Seawall to your authenticator app" width={200} height={200} />
          <details>
            <summary>Can't scan it? Enter this key instead</summary>
            <p>
              <code className="secret" aria-label={`Setup key: ${setup.secret.split("").join(" ")}`}>
                {groupSecret(setup.secret)}
              </code>
            </p>
          </details>
        </li>
        <li>
          <form onSubmit={submit} noValidate className="form">
            <ProblemMessage
              error={enable.error}
              shownFields={["code"]}
              messages={{ 401: "That code didn't work. Enter the newest code your app shows." }}
            />
            <TextField
              label="Enter the 6-digit code your app shows"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9 ]*"
              required
              error={fieldError(enable.error, "code")}
            />
            <button type="submit" className="button button--primary" disabled={enable.isPending}>
              {enable.isPending ? "Checking…" : "Turn on two-step sign-in"}
            </button>
          </form>
        </li>
      </ol>
    </Page>
  );
}

function RecoveryCodes({ codes }: { codes: string[] }) {
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState(false);
  const navigate = useNavigate();
  const refreshSession = useRefreshSession();

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(codes.join("\n"));
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };

  const finish = async () => {
    await refreshSession();
    navigate("/", { replace: true });
  };

  return (
    <Page
      title="Save your recovery codes"
      description="If you lose your phone, each of these codes lets you sign in once. This is the only time we show them: print them or keep them in a password manager."
    >
      <ul className="recovery-codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <p className="button-row">
        <button type="button" className="button" onClick={() => void copy()}>
          Copy codes
        </button>
        <button type="button" className="button" onClick={() => window.print()}>
          Print codes
        </button>
        <span role="status">{copied ? "Copied." : ""}</span>
      </p>
      <div className="checkbox">
        <input id="codes-saved" type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} />
        <label htmlFor="codes-saved">I have saved these recovery codes</label>
      </div>
      <button type="button" className="button button--primary" disabled={!saved} onClick={() => void finish()}>
        Continue to Seawall
      </button>
    </Page>
  );
}
