import { useId, useState, type FormEvent } from "react";
import { usePractices } from "../../api/practices";
import { ApiProblem } from "../../api/problem";
import {
  useChangeRole,
  useInvitations,
  useInvite,
  useRemoveMembership,
  useRevokeInvitation,
  useUsers,
  type MspRole,
  type PracticeRole,
  type User,
  type UserMembership,
  type CreatedInvitation,
} from "../../api/users";
import { isMspRole, roleLabel } from "../../auth/roles";
import { EmptyState } from "../../components/EmptyState";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { TextField } from "../../components/TextField";
import { formatDate, humanize } from "../../lib/format";

const MSP_ROLES: MspRole[] = ["msp_technician", "msp_admin", "msp_owner"];
const PRACTICE_ROLES: PracticeRole[] = ["practice_staff", "practice_owner"];

const FORBIDDEN = { 403: "Only MSP owners and administrators manage users. Ask one of them to invite or change people." };

/** Who can sign in, with which role, and the invitations still open. */
export default function UsersPage() {
  const users = useUsers();
  const invitations = useInvitations();
  return (
    <Page title="Users and roles" description="Everyone with access to your MSP or one of its practices.">
      <InviteForm />
      <h2>People</h2>
      {users.isPending ? (
        <Loading label="Loading people…" />
      ) : users.isError ? (
        <ProblemMessage error={users.error} messages={FORBIDDEN} />
      ) : users.data.length === 0 ? (
        <EmptyState title="Nobody yet" nextStep="Invite your technicians and each practice's owner above." />
      ) : (
        <ul className="cards">
          {users.data.map((u) => (
            <li key={u.id} className="card">
              <UserCard user={u} />
            </li>
          ))}
        </ul>
      )}
      <h2>Invitations</h2>
      {invitations.isPending ? (
        <Loading label="Loading invitations…" />
      ) : invitations.isError ? (
        <ProblemMessage error={invitations.error} messages={FORBIDDEN} />
      ) : invitations.data.length === 0 ? (
        <p>No invitations yet.</p>
      ) : (
        <InvitationTable invitations={invitations.data} />
      )}
    </Page>
  );
}

function UserCard({ user }: { user: User }) {
  return (
    <article aria-labelledby={`user-${user.id}`}>
      <h3 id={`user-${user.id}`} className="card__title">
        {user.name}
      </h3>
      <p className="card__meta">
        {user.email} · {user.mfa_enabled ? "two-step sign-in on" : "two-step sign-in off"}
        {!user.is_active && " · deactivated"}
      </p>
      <ul className="plain-list">
        {user.memberships.map((m) => (
          <MembershipRow key={m.id} membership={m} userName={user.name} />
        ))}
      </ul>
    </article>
  );
}

function MembershipRow({ membership: m, userName }: { membership: UserMembership; userName: string }) {
  const change = useChangeRole();
  const remove = useRemoveMembership();
  const id = useId();
  const roles: string[] = isMspRole(m.role) ? MSP_ROLES : PRACTICE_ROLES;
  return (
    <li>
      <div className="inline-input">
        <label htmlFor={id} className="visually-hidden">
          Role of {userName}
          {m.practice_name ? ` at ${m.practice_name}` : ""}
        </label>
        <select id={id} value={m.role} disabled={change.isPending} onChange={(e) => change.mutate({ membershipId: m.id, role: e.target.value as MspRole })}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {roleLabel(r)}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="button"
          disabled={remove.isPending}
          onClick={() => {
            if (window.confirm(`Remove ${userName}'s access${m.practice_name ? ` to ${m.practice_name}` : ""}?`)) remove.mutate(m.id);
          }}
        >
          Remove<span className="visually-hidden"> {userName}'s access</span>
        </button>
      </div>
      <span className="table__sub">
        {m.practice_name ?? (m.role === "msp_technician" && !m.all_practices ? `${m.assigned_practice_ids.length} assigned practices` : "all practices")}
      </span>
      <ProblemMessage error={change.error ?? remove.error} />
    </li>
  );
}

function InvitationTable({ invitations }: { invitations: readonly { id: string; email: string; role: string; status: string; expires_at: string }[] }) {
  const revoke = useRevokeInvitation();
  return (
    <>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Invitations">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {invitations.map((i) => (
              <tr key={i.id}>
                <th scope="row">{i.email}</th>
                <td>{roleLabel(i.role)}</td>
                <td>
                  {humanize(i.status)}
                  {i.status === "pending" && <span className="table__sub">until {formatDate(i.expires_at)}</span>}
                </td>
                <td>
                  {i.status === "pending" && (
                    <button type="button" className="button" disabled={revoke.isPending} onClick={() => revoke.mutate(i.id)}>
                      Revoke<span className="visually-hidden"> the invitation for {i.email}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ProblemMessage error={revoke.error} />
    </>
  );
}

/** The new invitation's one-time link, with a Copy button: the server keeps only its hash, so this
 * is the one chance to pass it on, by hand when the email did not go. */
function InvitationLink({ invitation }: { invitation: CreatedInvitation }) {
  const id = useId();
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const copy = () => {
    navigator.clipboard.writeText(invitation.link).then(
      () => setCopied("yes"),
      () => setCopied("failed"),
    );
  };
  return (
    <div className="invitation-link">
      <p role="status" className={invitation.email_sent ? undefined : "problem"}>
        {invitation.email_sent
          ? `Invitation emailed to ${invitation.email}. You can also send them this link yourself; it works once, for 7 days.`
          : `The invitation for ${invitation.email} was created, but the email could not be sent. Copy this link and send it to them yourself; it works once, for 7 days.`}
      </p>
      <div className="copy-link">
        <label htmlFor={id} className="visually-hidden">
          Invitation link for {invitation.email}
        </label>
        <input id={id} type="text" readOnly value={invitation.link} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="button" onClick={copy}>
          Copy link
        </button>
      </div>
      <p aria-live="polite" className="table__sub">
        {copied === "yes" ? "Link copied." : copied === "failed" ? "Copying was blocked by the browser: select the link and copy it." : ""}
      </p>
      <p className="table__sub">This link is shown only now: Seawall keeps no readable copy of it.</p>
    </div>
  );
}

function InviteForm() {
  const invite = useInvite();
  const practices = usePractices();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<MspRole | PracticeRole>("msp_technician");
  const [practiceId, setPracticeId] = useState("");
  const id = useId();
  const forPractice = !isMspRole(role);
  const fieldErrors = invite.error instanceof ApiProblem ? invite.error.fieldErrors : {};
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate(
      forPractice ? { kind: "practice", email, role: role as PracticeRole, practiceId } : { kind: "msp", email, role: role as MspRole },
      { onSuccess: () => setEmail("") },
    );
  };
  return (
    <section className="actions-panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Invite someone</h2>
      <form className="filters" onSubmit={submit}>
        <div className="filters__search">
          <TextField label="Email" name="email" type="email" required value={email} error={fieldErrors.email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as MspRole | PracticeRole)}>
            {[...MSP_ROLES, ...PRACTICE_ROLES].map((r) => (
              <option key={r} value={r}>
                {roleLabel(r)}
              </option>
            ))}
          </select>
        </div>
        {forPractice && (
          <div className="field">
            <label htmlFor={`${id}-practice`}>Practice</label>
            <select id={`${id}-practice`} required value={practiceId} onChange={(e) => setPracticeId(e.target.value)}>
              <option value="">Choose a practice</option>
              {(practices.data ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </div>
        )}
        <button type="submit" className="button button--primary" disabled={invite.isPending}>
          Send invitation
        </button>
      </form>
      <ProblemMessage error={invite.error} shownFields={["email"]} messages={FORBIDDEN} />
      {invite.data && <InvitationLink invitation={invite.data} />}
    </section>
  );
}
