import { Page } from "../../components/Page";
import { BackupsView } from "../../views/BackupsView";

export default function BackupsPage() {
  return (
    <Page title="Backups" description="Whether each backup job ran, when the last good copy was made, and a month of runs at a glance.">
      <BackupsView />
    </Page>
  );
}
