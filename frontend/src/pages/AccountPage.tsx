import { useSignedInSession } from "../auth/RequireSession";
import { membershipPlace, roleLabel } from "../auth/roles";
import { EmptyState } from "../components/EmptyState";
import { Page } from "../components/Page";

/** Who is signed in and where they belong: the one page every signed-in person has. */
export function AccountPage() {
  const { user, memberships } = useSignedInSession();
  return (
    <Page title="Your account">
      <dl className="details">
        <dt>Name</dt>
        <dd>{user.name}</dd>
        <dt>Email</dt>
        <dd>{user.email}</dd>
        <dt>Two-step sign-in</dt>
        <dd>{user.mfa_enabled ? "On: you sign in with a code from your authenticator app." : "Off"}</dd>
      </dl>
      <h2>Where you have access</h2>
      {memberships.length === 0 ? (
        <EmptyState
          title="You don't have access to any practice yet"
          nextStep="Ask your MSP or your practice owner to invite you to a practice, then sign in again."
        />
      ) : (
        <ul className="memberships">
          {memberships.map((m) => (
            <li key={`${m.msp_id}:${m.practice_id ?? ""}:${m.role}`}>
              {membershipPlace(m)}: {roleLabel(m.role)}
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
