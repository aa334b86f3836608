import { Link } from "react-router";
import { useDevMail, type DevMailMessage } from "../api/devMail";
import { ApiProblem } from "../api/problem";
import { EmptyState } from "../components/EmptyState";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { ProblemMessage } from "../components/ProblemMessage";
import { formatAgo, formatDateTime } from "../lib/format";

/** Development only: the emails the app sent to the local mail sink, newest first, with their
 * links, so invitations and password resets work on a machine without a mail server. */
export function DevMailPage() {
  const mail = useDevMail({ poll: true });
  if (mail.isPending) return <Loading label="Loading development mail…" />;
  if (mail.isError) {
    const absent = mail.error instanceof ApiProblem && mail.error.status === 404;
    return (
      <Page title={absent ? "Page not found" : "Development mail"}>
        {absent ? <p>There is no page at this address.</p> : <ProblemMessage error={mail.error} />}
        <p>
          <Link to="/">Go to the start page</Link>
        </p>
      </Page>
    );
  }
  const { messages, kept } = mail.data;
  return (
    <Page
      title="Development mail"
      description={`Emails the app sent while running with make run. They went to a local mail sink, not to anyone's inbox; the newest ${kept} are kept.`}
    >
      {messages.length === 0 ? (
        <EmptyState title="No email yet" nextStep="Invite someone or ask for a password reset; the email appears here within seconds." />
      ) : (
        <ul className="cards">
          {messages.map((m) => (
            <li key={m.id} className="card">
              <MessageCard message={m} />
            </li>
          ))}
        </ul>
      )}
      <p className="form-footer">
        <Link to="/">Back to Seawall</Link>
      </p>
    </Page>
  );
}

function MessageCard({ message: m }: { message: DevMailMessage }) {
  const titleId = `mail-${m.id}`;
  return (
    <article aria-labelledby={titleId} className="dev-mail">
      <h2 id={titleId} className="card__title">
        {m.subject || "(no subject)"}
      </h2>
      <p className="card__meta">
        To {m.to} · <time dateTime={m.received_at} title={formatDateTime(m.received_at)}>{formatAgo(m.received_at)}</time>
      </p>
      {m.links.length > 0 && (
        <ul className="plain-list">
          {m.links.map((link) => (
            <li key={link} className="dev-mail__link">
              <a href={link}>{linkLabel(link)}</a>
            </li>
          ))}
        </ul>
      )}
      <details>
        <summary>Whole message</summary>
        <pre className="dev-mail__body">{m.text}</pre>
      </details>
    </article>
  );
}

/** "Open the accept-invite link" reads better than a long URL with a token in it. */
function linkLabel(link: string): string {
  try {
    const page = new URL(link).pathname.replace(/^\//, "");
    if (page === "accept-invite") return "Open the invitation link";
    if (page === "reset-password") return "Open the password reset link";
    return `Open ${link}`;
  } catch {
    return link;
  }
}
