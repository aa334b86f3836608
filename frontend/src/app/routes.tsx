// Every route of the app. Domain pages are not listed here: register them in pages.tsx.
import { lazy, type ComponentType } from "react";
import { Navigate, type RouteObject } from "react-router";
import { RequireSession, useSignedInSession } from "../auth/RequireSession";
import { can, type Permission } from "../auth/permissions";
import { shellFor, type Shell } from "../auth/roles";
import { AppShell } from "../components/layout/AppShell";
import { AuthLayout } from "../components/layout/AuthLayout";
import { useIsDevelopment } from "../api/devMail";
import { AccountPage } from "../pages/AccountPage";
import { DevMailPage } from "../pages/DevMailPage";
import { NotFoundPage } from "../pages/NotFoundPage";
import { AcceptInvitePage } from "../pages/auth/AcceptInvitePage";
import { ForgotPasswordPage } from "../pages/auth/ForgotPasswordPage";
import { MfaSetupPage } from "../pages/auth/MfaSetupPage";
import { ResetPasswordPage } from "../pages/auth/ResetPasswordPage";
import { SignInPage } from "../pages/auth/SignInPage";
import { SignOutPage } from "../pages/auth/SignOutPage";
import { LiveUpdates } from "./LiveContext";
import { DEV_MAIL_ITEM, mayUse, NAVIGATION, navItemsFor, type NavItem, type PageKey } from "./navigation";
import { PAGES, type PageRegistry } from "./pages";

function availablePages(pages: PageRegistry): Set<PageKey> {
  return new Set(Object.keys(pages) as PageKey[]);
}

function SignedInShell({ pages }: { pages: PageRegistry }) {
  const session = useSignedInSession();
  const shell = shellFor(session.memberships);
  // Only when the server says it is in development (it answers the dev mail route).
  const development = useIsDevelopment();
  const items = shell ? navItemsFor(shell, availablePages(pages), session.memberships) : [];
  return (
    <LiveUpdates>
      <AppShell navItems={development ? [...items, DEV_MAIL_ITEM] : items} />
    </LiveUpdates>
  );
}

/** "/" opens the first page of the person's shell, or their account while none exists. */
function Home({ pages }: { pages: PageRegistry }) {
  const session = useSignedInSession();
  const shell = shellFor(session.memberships);
  const first = shell ? navItemsFor(shell, availablePages(pages), session.memberships)[0] : undefined;
  return <Navigate to={first?.path ?? "/account"} replace />;
}

/** A page of one shell: to someone in the other shell, or without the page's permission, it does not exist. */
function ShellPage({ shell, page: PageComponent, item, requires }: { shell: Shell; page: ComponentType; item?: NavItem; requires?: Permission }) {
  const session = useSignedInSession();
  const allowed =
    shellFor(session.memberships) === shell &&
    (item === undefined || mayUse(item, session.memberships)) &&
    (requires === undefined || can(session.memberships, requires));
  return allowed ? <PageComponent /> : <NotFoundPage />;
}

// Outside the nav catalogue: reached from the portfolio, the incident queue, or a link.
const PracticeDetailPage = lazy(() => import("../pages/msp/PracticeDetailPage"));
// Onboarding: adding a practice is an MSP manager's act (create_practice); its later steps are
// any MSP operator's, so a technician can finish what a manager started.
const NewPracticePage = lazy(() => import("../pages/msp/onboard/NewPracticePage"));
const OnboardPage = lazy(() => import("../pages/msp/onboard/OnboardPage"));

function domainRoutes(pages: PageRegistry): RouteObject[] {
  return (Object.keys(NAVIGATION) as Shell[]).flatMap((shell) =>
    NAVIGATION[shell].flatMap((item) => {
      const component = pages[item.key];
      return component ? [{ path: `${item.path}/*`, element: <ShellPage shell={shell} page={component} item={item} /> }] : [];
    }),
  );
}

export function createRoutes(pages: PageRegistry = PAGES): RouteObject[] {
  return [
    {
      element: <AuthLayout />,
      children: [
        { path: "/sign-in", element: <SignInPage /> },
        { path: "/sign-out", element: <SignOutPage /> },
        { path: "/forgot-password", element: <ForgotPasswordPage /> },
        { path: "/reset-password", element: <ResetPasswordPage /> },
        { path: "/accept-invite", element: <AcceptInvitePage /> },
        // Public: a password reset email is read signed out. The page itself asks the server,
        // which has no such route in production (the page then says it does not exist).
        { path: "/dev/mail", element: <DevMailPage /> },
        {
          path: "/mfa/setup",
          element: (
            <RequireSession allowEnrolment>
              <MfaSetupPage />
            </RequireSession>
          ),
        },
      ],
    },
    {
      element: (
        <RequireSession>
          <SignedInShell pages={pages} />
        </RequireSession>
      ),
      children: [
        { path: "/", element: <Home pages={pages} /> },
        { path: "/account", element: <AccountPage /> },
        ...domainRoutes(pages),
        { path: "/practices/new", element: <ShellPage shell="msp" page={NewPracticePage} requires="msp_manage" /> },
        {
          path: "/practices/:practiceId/onboard/:step?",
          element: <ShellPage shell="msp" page={OnboardPage} requires="practice_operate" />,
        },
        { path: "/practices/:practiceId/*", element: <ShellPage shell="msp" page={PracticeDetailPage} /> },
        { path: "*", element: <NotFoundPage /> },
      ],
    },
  ];
}
