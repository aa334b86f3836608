import { createContext, useContext, type ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { useSession, type Session } from "../api/auth";
import { Loading } from "../components/Loading";
import { ProblemMessage } from "../components/ProblemMessage";
import { MFA_SETUP_PATH, signInPath } from "./redirects";

const SessionContext = createContext<Session | null>(null);

/** The signed-in session, for components rendered inside <RequireSession>. */
export function useSignedInSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSignedInSession is used outside <RequireSession>");
  return session;
}

interface RequireSessionProps {
  /** The MFA enrolment page itself accepts a session that still has to enrol. */
  allowEnrolment?: boolean;
  children: ReactNode;
}

/** Renders its children only for a signed-in person; everyone else is sent to sign in. */
export function RequireSession({ allowEnrolment = false, children }: RequireSessionProps) {
  const location = useLocation();
  const session = useSession();
  const here = `${location.pathname}${location.search}`;

  if (session.isPending) return <Loading label="Checking your sign-in…" />;
  if (session.isError && session.data === undefined) {
    return (
      <main id="main" className="auth-main">
        <ProblemMessage error={session.error} />
      </main>
    );
  }
  const current = session.data ?? null;
  if (current === null || current.status === "mfa_required") {
    return <Navigate to={signInPath({ next: here })} replace />;
  }
  if (current.status === "mfa_enrollment_required" && !allowEnrolment) {
    return <Navigate to={MFA_SETUP_PATH} replace />;
  }
  return <SessionContext.Provider value={current}>{children}</SessionContext.Provider>;
}
