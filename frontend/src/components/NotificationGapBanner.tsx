import { Link } from "react-router";
import { nothingNotified, useChannels, useRoutes } from "../api/alerts";
import { useSignedInSession } from "../auth/RequireSession";
import { can } from "../auth/permissions";

/** For MSP managers (the only ones who may fix it): shown when no incident would reach anyone. */
export function NotificationGapBanner() {
  const { memberships } = useSignedInSession();
  const manager = can(memberships, "msp_manage");
  const routes = useRoutes({ enabled: manager });
  const channels = useChannels({ enabled: manager });
  if (!manager || routes.data === undefined || channels.data === undefined) return null;
  if (!nothingNotified(routes.data, channels.data)) return null;
  return (
    <div className="problem section-gap" role="status">
      <p>
        <strong>Nobody is told about new incidents.</strong> No route sends them to a channel that is on, so they wait in the queue
        until someone looks. <Link to="/alert-policies#routes-h">Set up where incidents go</Link>.
      </p>
    </div>
  );
}
