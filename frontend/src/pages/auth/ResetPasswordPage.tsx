import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useConfirmPasswordReset } from "../../api/auth";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { TextField } from "../../components/TextField";
import { fieldError } from "./forms";
import { confirmationError } from "./passwords";

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const confirm = useConfirmPasswordReset();
  const [password, setPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [mismatch, setMismatch] = useState<string | undefined>();

  if (token === "") {
    return (
      <Page title="This link is incomplete">
        <p>The password reset link is missing part of its address. Open the link from the email again, or ask for a new one.</p>
        <p>
          <Link to="/forgot-password">Ask for a new link</Link>
        </p>
      </Page>
    );
  }

  if (confirm.isSuccess) {
    return (
      <Page title="Your password has been changed">
        <p>Use your new password the next time you sign in.</p>
        <p>
          <Link to="/sign-in" className="button button--primary">
            Sign in
          </Link>
        </p>
      </Page>
    );
  }

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const problem = confirmationError(password, confirmation) ?? (confirmation === "" ? "Enter the new password again." : undefined);
    setMismatch(problem);
    if (problem) return;
    confirm.mutate({ token, password });
  };

  return (
    <Page title="Choose a new password">
      <form onSubmit={submit} noValidate className="form">
        <ProblemMessage
          error={confirm.error}
          shownFields={["password"]}
          messages={{ 400: "This reset link has expired or has already been used. Ask for a new one.", 410: "This reset link has expired or has already been used. Ask for a new one." }}
        />
        <TextField
          label="New password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fieldError(confirm.error, "password")}
        />
        <TextField
          label="New password again"
          name="confirmation"
          type="password"
          autoComplete="new-password"
          required
          value={confirmation}
          onChange={(e) => setConfirmation(e.target.value)}
          error={mismatch}
        />
        <button type="submit" className="button button--primary" disabled={confirm.isPending}>
          {confirm.isPending ? "Saving…" : "Save new password"}
        </button>
      </form>
      <p className="form-footer">
        <Link to="/forgot-password">Ask for a new link</Link>
      </p>
    </Page>
  );
}
