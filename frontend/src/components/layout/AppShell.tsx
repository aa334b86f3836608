import { Suspense, useEffect, useRef, useState, type KeyboardEvent } from "react";
import { Link, NavLink, Outlet, useLocation } from "react-router";
import type { NavItem } from "../../app/navigation";
import { useSignedInSession } from "../../auth/RequireSession";
import { membershipPlace } from "../../auth/roles";
import { Loading } from "../Loading";
import { SkipLink } from "./SkipLink";

interface AppShellProps {
  navItems: readonly NavItem[];
}

/** The signed-in layout: banner with navigation (a menu button on narrow screens) and main. */
export function AppShell({ navItems }: AppShellProps) {
  const session = useSignedInSession();
  const [menuOpen, setMenuOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const location = useLocation();

  // A link was followed: the menu has done its job.
  useEffect(() => setMenuOpen(false), [location.pathname]);

  const closeOnEscape = (event: KeyboardEvent) => {
    if (event.key === "Escape" && menuOpen) {
      setMenuOpen(false);
      menuButton.current?.focus();
    }
  };

  const first = session.memberships[0];
  const place = first ? membershipPlace(first) : undefined;

  return (
    <div className="shell">
      <SkipLink />
      <header className="topbar" onKeyDown={closeOnEscape}>
        <div className="topbar__row">
          <Link to="/" className="brand">
            Seawall
          </Link>
          {place && <span className="topbar__place">{place}</span>}
          <button
            ref={menuButton}
            type="button"
            className="menu-button"
            aria-expanded={menuOpen}
            aria-controls="primary-nav"
            onClick={() => setMenuOpen((open) => !open)}
          >
            <span aria-hidden="true">☰</span> Menu
          </button>
        </div>
        <nav id="primary-nav" aria-label="Main" className={menuOpen ? "nav nav--open" : "nav"}>
          {navItems.length > 0 && (
            <ul className="nav__list">
              {navItems.map((item) => (
                <li key={item.key}>
                  <NavLink to={item.path} className="nav__link">
                    {item.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          )}
          <ul className="nav__list nav__list--secondary">
            <li>
              <NavLink to="/account" className="nav__link">
                Your account
              </NavLink>
            </li>
            <li>
              <Link to="/sign-out" className="nav__link">
                Sign out
              </Link>
            </li>
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1} className="main">
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
