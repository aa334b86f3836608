import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useRequestPasswordReset } from "../../api/auth";
import { useIsDevelopment } from "../../api/devMail";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { TextField } from "../../components/TextField";
import { fieldError, formText } from "./forms";

export function ForgotPasswordPage() {
  const request = useRequestPasswordReset();
  const [sentTo, setSentTo] = useState<string | null>(null);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const email = formText(event, "email");
    request.mutate({ email }, { onSuccess: () => setSentTo(email) });
  };

  if (sentTo !== null) {
    return <CheckYourEmail sentTo={sentTo} />;
  }

  return (
    <Page title="Reset your password" description="Enter the email you sign in with and we'll send you a link to choose a new password.">
      <form onSubmit={submit} noValidate className="form">
        <ProblemMessage error={request.error} shownFields={["email"]} />
        <TextField label="Email" name="email" type="email" autoComplete="email" required error={fieldError(request.error, "email")} />
        <button type="submit" className="button button--primary" disabled={request.isPending}>
          {request.isPending ? "Sending…" : "Send reset link"}
        </button>
      </form>
      <p className="form-footer">
        <Link to="/sign-in">Back to sign in</Link>
      </p>
    </Page>
  );
}

function CheckYourEmail({ sentTo }: { sentTo: string }) {
  // Asked only here, after sending: in development the email went to the local sink, not an inbox.
  const development = useIsDevelopment();
  return (
    <Page title="Check your email">
      {/* The server answers the same whether or not the account exists, and so do we. */}
      <p>
        If there is a Seawall account for <strong>{sentTo}</strong>, we have sent it a link to choose a new
        password. The link works once and expires soon. If nothing arrives in a few minutes, check your spam
        folder or ask your administrator.
      </p>
      {development && (
        <p>
          This is a development server: the email is on the <Link to="/dev/mail">development mail page</Link>.
        </p>
      )}
      <p>
        <Link to="/sign-in">Back to sign in</Link>
      </p>
    </Page>
  );
}
