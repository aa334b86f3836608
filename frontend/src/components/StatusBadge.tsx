import { READINESS_LABELS, readinessStatus, type ReadinessStatus } from "./readiness";
import styles from "./StatusBadge.module.css";

// A different shape per status, so the badge reads without colour (WCAG 1.4.1).
const ICONS: Record<ReadinessStatus, string> = { ready: "✓", at_risk: "!", not_ready: "✕" };

type StatusBadgeProps = { score: number; status?: never } | { status: ReadinessStatus; score?: never };

/** Ready / at risk / not ready, from a 0–100 readiness score or a status the server computed. */
export function StatusBadge(props: StatusBadgeProps) {
  const status = props.status ?? readinessStatus(props.score);
  const label = READINESS_LABELS[status];
  return (
    <span className={`${styles.badge} ${styles[status]}`} data-status={status}>
      <span className={styles.icon} aria-hidden="true">
        <span>{ICONS[status]}</span>
      </span>
      {label}
      {props.score !== undefined && (
        <span className={styles.score}>
          <span className="visually-hidden">, score</span> {Math.round(props.score)}
          <span className="visually-hidden"> out of 100</span>
        </span>
      )}
    </span>
  );
}
