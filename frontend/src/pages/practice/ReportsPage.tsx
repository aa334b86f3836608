import { Page } from "../../components/Page";
import { ReportsView } from "../../views/ReportsView";

export default function ReportsPage() {
  return (
    <Page title="Monthly reports" description="A PDF each month with the practice's readiness, backups, outages and what changed: evidence for audits and insurers.">
      <ReportsView />
    </Page>
  );
}
