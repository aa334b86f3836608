import { readGauge } from "./recoveryGauge";

interface RecoveryGaugeProps {
  /** "RPO" or "RTO", spelled out for people who don't know the acronyms. */
  label: string;
  targetMinutes: number;
  achievedMinutes: number | null | undefined;
  /** A copy the plan requires that no backup job makes. */
  noJob?: boolean;
  /** The server's "at risk" for an RPO copy (judged with the policy's at_risk_ratio). */
  atRisk?: boolean;
}

const ICONS = { met: "✓", near: "!", missed: "✕", unknown: "?" } as const;

/** A bar with the target marked and the achieved value filled, plus the same facts in words. */
export function RecoveryGauge({ label, targetMinutes, achievedMinutes, noJob = false, atRisk }: RecoveryGaugeProps) {
  const reading = readGauge(targetMinutes, achievedMinutes, noJob, atRisk);
  return (
    <div className={`gauge gauge--${reading.state}`} data-state={reading.state}>
      <div className="gauge__label">
        <span aria-hidden="true" className="gauge__icon">
          {ICONS[reading.state]}
        </span>
        <strong>{label}</strong>
      </div>
      <div className="gauge__bar" role="img" aria-label={`${label}: ${reading.summary}`}>
        <span className="gauge__fill" style={{ width: `${reading.fill}%` }} />
        <span className="gauge__target" style={{ left: `${reading.targetAt}%` }} />
      </div>
      <p className="gauge__text" aria-hidden="true">
        {reading.summary}
      </p>
    </div>
  );
}
