import { Page } from "../../components/Page";
import { SystemsView } from "../../views/SystemsView";

export default function SystemsPage() {
  return (
    <Page
      title="Systems"
      description="Each system's recovery targets: how much data it may lose (RPO) and how long it may take to bring back (RTO)."
    >
      <SystemsView />
    </Page>
  );
}
