import { useTelemetryStall } from "../api/setAside";
import { formatAgo, formatDateTime } from "../lib/format";

/** Shown while the MSP's telemetry is held up by a fault on Seawall's side; nothing otherwise. */
export function TelemetryStallNotice() {
  const stall = useTelemetryStall();
  if (!stall.data?.stalled) return null;
  const { since, pending_events: waiting } = stall.data;
  return (
    <div className="problem" role="status">
      <p>
        <strong>New reports from your agents are waiting to be processed</strong> since {formatAgo(since)} (
        {formatDateTime(since)}), because of a fault on Seawall's side. Nothing is lost: {waiting} report
        {waiting === 1 ? "" : "s"} will be applied in order, by themselves, once it is fixed. Until then, backup and internet
        status may be out of date.
      </p>
    </div>
  );
}
