import { Outlet } from "react-router";
import { SkipLink } from "./SkipLink";

/** The quiet layout around sign-in, password and invitation pages. */
export function AuthLayout() {
  return (
    <div className="auth-shell">
      <SkipLink />
      <header className="auth-banner">
        <span className="brand">Seawall</span>
      </header>
      <main id="main" tabIndex={-1} className="auth-main">
        <div className="auth-card">
          <Outlet />
        </div>
      </main>
    </div>
  );
}
