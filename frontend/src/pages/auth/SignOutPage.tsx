import { useEffect, useRef } from "react";
import { Link } from "react-router";
import { useLogout } from "../../api/auth";
import { ApiProblem } from "../../api/problem";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";

export function SignOutPage() {
  const logout = useLogout();
  // React runs effects twice in development; one sign-out request is enough.
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    logout.mutate();
  }, [logout]);

  if (logout.isIdle || logout.isPending) return <Loading label="Signing you out…" />;
  // A 401 means the session had already ended: that is a successful sign-out too.
  const unconfirmed = logout.isError && !(logout.error instanceof ApiProblem && logout.error.status === 401);
  return (
    <Page title="You have signed out">
      {unconfirmed ? (
        <p>
          We couldn't reach Seawall to end your session, so it will end by itself after a period of inactivity.
          On a shared computer, close the browser to be sure.
        </p>
      ) : (
        <p>Your session has ended. Close the browser if others use this computer.</p>
      )}
      <p>
        <Link to="/sign-in" className="button button--primary">
          Sign in again
        </Link>
      </p>
    </Page>
  );
}
