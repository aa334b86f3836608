import type { ReactNode } from "react";
import { formatAgo, formatDateTime, humanize } from "../lib/format";

export type Severity = "critical" | "high" | "medium" | "low";

/** The fields every finding carries (plan checks, live rules, inventory and readiness). */
export interface FindingLike {
  rule_id: string;
  /** One of Severity; typed as the API sends it (a plain string in some schemas). */
  severity: string;
  component: string;
  subject_type: string;
  subject_id: string;
  title: string;
  remediation: string;
  hipaa: string;
  measured: string | null;
  target: string | null;
  /** Readiness only: the incident the finding is, and how it stands (docs/decisions/0013-one-judgement.md). */
  condition?: Condition | null;
}

export interface Condition {
  incident_id: string;
  since: string;
  clearing_since: string | null;
  suppressed_by: string | null;
  suppressed_until: string | null;
}

/** How a finding's condition stands, in words: since when, clearing, or silenced by a maintenance window. */
export function conditionWords(c: Condition, now: Date = new Date()): string[] {
  const words = [`Since ${formatDateTime(c.since)} (${formatAgo(c.since, now)}).`];
  if (c.clearing_since) {
    words.push(`Cleared ${formatAgo(c.clearing_since, now)}: it stops counting once it has stayed clear for a few minutes.`);
  }
  if (c.suppressed_by) {
    const until = c.suppressed_until ? ` until ${formatDateTime(c.suppressed_until)}` : "";
    words.push(`Notifications are paused by the maintenance window “${c.suppressed_by}”${until}; it still counts in the score.`);
  }
  return words;
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

export function asSeverity(value: string): Severity {
  return value in SEVERITY_ORDER ? (value as Severity) : "low";
}
const SEVERITY_ICONS: Record<Severity, string> = { critical: "✕", high: "!", medium: "•", low: "i" };

/** Worst first, then by title, so the list reads as a to-do list. */
export function sortFindings<T extends FindingLike>(findings: readonly T[]): T[] {
  return [...findings].sort(
    (a, b) => SEVERITY_ORDER[asSeverity(a.severity)] - SEVERITY_ORDER[asSeverity(b.severity)] || a.title.localeCompare(b.title),
  );
}

export function SeverityBadge({ severity: raw }: { severity: string }) {
  const severity = asSeverity(raw);
  return (
    <span className={`severity severity--${severity}`} data-severity={severity}>
      <span aria-hidden="true">{SEVERITY_ICONS[severity]} </span>
      {humanize(severity)}
    </span>
  );
}

interface FindingListProps {
  findings: readonly FindingLike[];
  /** Shown when there is nothing to fix. */
  empty: ReactNode;
  headingLevel?: 2 | 3;
}

/** Every finding with what was measured, what is expected, and what to do about it. */
export function FindingList({ findings, empty, headingLevel = 3 }: FindingListProps) {
  if (findings.length === 0) return <>{empty}</>;
  const Heading = headingLevel === 2 ? "h2" : "h3";
  return (
    <ul className="findings">
      {sortFindings(findings).map((f) => (
        <li key={`${f.rule_id}:${f.subject_type}:${f.subject_id}`} className="finding">
          <div className="finding__head">
            <SeverityBadge severity={f.severity} />
            <Heading className="finding__title">{f.title}</Heading>
          </div>
          {(f.measured || f.target) && (
            <p className="finding__measure">
              {/* A clearing condition's measure is the one it last held with, not the state now. */}
              {f.measured && <>{f.condition?.clearing_since ? "Last measured" : "Now"}: {f.measured}. </>}
              {f.target && <>Expected: {f.target}.</>}
            </p>
          )}
          <p className="finding__remediation">
            <strong>What to do: </strong>
            {f.remediation}
          </p>
          {f.condition && <p className="finding__condition muted">{conditionWords(f.condition).join(" ")}</p>}
          {f.hipaa && <p className="finding__hipaa">HIPAA: {f.hipaa}</p>}
        </li>
      ))}
    </ul>
  );
}
