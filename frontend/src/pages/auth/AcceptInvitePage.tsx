import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useAcceptInvitation, useInvitation, useRefreshSession } from "../../api/auth";
import { ApiProblem } from "../../api/problem";
import { MFA_SETUP_PATH } from "../../auth/redirects";
import { isMspRole, roleLabel } from "../../auth/roles";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { TextField } from "../../components/TextField";
import { fieldError } from "./forms";
import { confirmationError } from "./passwords";

const GONE = "This invitation has expired or has already been used. Ask the person who invited you to send a new one.";

export function AcceptInvitePage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const invitation = useInvitation(token);
  const accept = useAcceptInvitation();
  const refreshSession = useRefreshSession();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [mismatch, setMismatch] = useState<string | undefined>();

  if (token === "") {
    return (
      <Page title="This invitation link is incomplete">
        <p>Open the link from your invitation email again. If it still doesn't work, ask for a new invitation.</p>
      </Page>
    );
  }
  if (invitation.isPending) return <Loading label="Opening your invitation…" />;
  if (invitation.isError) {
    const gone = invitation.error instanceof ApiProblem && [404, 410].includes(invitation.error.status);
    return (
      <Page title="We can't open this invitation">
        {gone ? <p>{GONE}</p> : <ProblemMessage error={invitation.error} />}
        <p>
          <Link to="/sign-in">Go to sign in</Link>
        </p>
      </Page>
    );
  }

  const invite = invitation.data;
  const place = invite.practice_name ? `${invite.practice_name}, supported by ${invite.msp_name}` : invite.msp_name;
  const needsMfa = isMspRole(invite.role);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const problem = confirmationError(password, confirmation) ?? (confirmation === "" ? "Enter the password again." : undefined);
    setMismatch(problem);
    if (problem) return;
    accept.mutate(
      { token, name: name.trim(), password },
      {
        onSuccess: async () => {
          const session = await refreshSession();
          const mustEnrol = session?.status === "mfa_enrollment_required" || (session === undefined && needsMfa);
          navigate(mustEnrol ? MFA_SETUP_PATH : "/", { replace: true });
        },
      },
    );
  };

  return (
    <Page
      title="Join Seawall"
      description={
        <>
          You've been invited to <strong>{place}</strong> as <strong>{roleLabel(invite.role)}</strong>. Choose your
          name and a password to finish setting up your account.
        </>
      }
    >
      <form onSubmit={submit} noValidate className="form">
        <ProblemMessage error={accept.error} shownFields={["name", "password"]} messages={{ 404: GONE, 410: GONE }} />
        <TextField label="Email" name="email" type="email" autoComplete="username" value={invite.email} readOnly />
        <TextField
          label="Your name"
          name="name"
          autoComplete="name"
          required
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={fieldError(accept.error, "name")}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fieldError(accept.error, "password")}
        />
        <TextField
          label="Password again"
          name="confirmation"
          type="password"
          autoComplete="new-password"
          required
          value={confirmation}
          onChange={(e) => setConfirmation(e.target.value)}
          error={mismatch}
        />
        {needsMfa && <p className="field__hint">Next, you'll set up an authenticator app: MSP accounts always sign in with a code as well.</p>}
        <button type="submit" className="button button--primary" disabled={accept.isPending}>
          {accept.isPending ? "Creating your account…" : "Create account"}
        </button>
      </form>
    </Page>
  );
}
