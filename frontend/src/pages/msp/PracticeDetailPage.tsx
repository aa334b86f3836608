import { Link, NavLink, Navigate, Route, Routes, useParams } from "react-router";
import { useSignedInSession } from "../../auth/RequireSession";
import { can } from "../../auth/permissions";
import { usePractice } from "../../api/practices";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { PracticeProvider } from "../../practice/PracticeContext";
import { PracticeOverviewView } from "../../views/PracticeOverviewView";
import { BackupsView } from "../../views/BackupsView";
import { LinksView } from "../../views/LinksView";
import { ReadinessView } from "../../views/ReadinessView";
import { ReportsView } from "../../views/ReportsView";
import { SystemsView } from "../../views/SystemsView";
import { PlanView } from "../../views/plan/PlanView";

// The practice views an MSP technician can open, in the order of the practice's own app.
const SECTIONS = [
  { path: "readiness", label: "Readiness", element: <ReadinessView /> },
  { path: "overview", label: "Sites and inventory", element: <PracticeOverviewView /> },
  { path: "systems", label: "Systems", element: <SystemsView /> },
  { path: "backups", label: "Backups", element: <BackupsView /> },
  { path: "links", label: "Links", element: <LinksView /> },
  { path: "plan", label: "Plan", element: <PlanView /> },
  { path: "reports", label: "Reports", element: <ReportsView /> },
] as const;

/** One practice, seen by its MSP: the same views the practice has, under a section menu. */
export default function PracticeDetailPage() {
  const { practiceId = "" } = useParams();
  const practice = usePractice(practiceId);
  const session = useSignedInSession();
  if (practice.isPending) return <Loading label="Loading the practice…" />;
  if (practice.isError) {
    return (
      <Page title="Practice">
        <ProblemMessage
          error={practice.error}
          messages={{ 404: "This practice doesn't exist, or you don't have access to it. Go back to the portfolio and pick a practice." }}
        />
      </Page>
    );
  }
  return (
    <PracticeProvider practiceId={practiceId}>
      <Page
        title={practice.data.name}
        description={practice.data.active ? undefined : "This practice is inactive."}
        actions={
          can(session.memberships, "practice_operate", practiceId) ? (
            <Link className="button" to={`/practices/${practiceId}/onboard/sites`}>
              Set up: sites, systems, backups, links, agent
            </Link>
          ) : undefined
        }
      >
        <nav aria-label="Practice sections" className="tabs">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.path}>
                <NavLink to={`/practices/${practiceId}/${s.path}`} className="tabs__link">
                  {s.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <Routes>
          <Route index element={<Navigate to={`/practices/${practiceId}/readiness`} replace />} />
          {SECTIONS.map((s) => (
            <Route key={s.path} path={s.path} element={s.element} />
          ))}
          <Route path="*" element={<p>This section doesn't exist. Pick one from the menu above.</p>} />
        </Routes>
      </Page>
    </PracticeProvider>
  );
}
