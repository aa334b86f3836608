import { LiveIndicator } from "../../app/LiveContext";
import { Page } from "../../components/Page";
import { ReadinessView } from "../../views/ReadinessView";

export default function ReadinessPage() {
  return (
    <Page title="Readiness" description="How ready the practice is to keep working through an outage, and what to fix first." actions={<LiveIndicator />}>
      <ReadinessView />
    </Page>
  );
}
