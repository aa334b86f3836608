import { Page } from "../../components/Page";
import { PlanView } from "../../views/plan/PlanView";

export default function PlanPage() {
  return (
    <Page title="Continuity plan" description="What everyone does when systems, internet or the building are lost.">
      <PlanView />
    </Page>
  );
}
