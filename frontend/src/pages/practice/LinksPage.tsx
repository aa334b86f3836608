import { Page } from "../../components/Page";
import { LinksView } from "../../views/LinksView";

export default function LinksPage() {
  return (
    <Page title="Internet links" description="Whether each internet connection is up, how well it performs, and when traffic failed over.">
      <LinksView />
    </Page>
  );
}
