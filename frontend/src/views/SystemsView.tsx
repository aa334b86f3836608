import { useBackupJobs, useInventoryFindings, useSystems, type BackupJob, type System } from "../api/inventory";
import { useSystemRecovery, type SystemRecovery } from "../api/telemetry";
import { EmptyState } from "../components/EmptyState";
import { FindingList } from "../components/FindingList";
import { Loading } from "../components/Loading";
import { ProblemMessage } from "../components/ProblemMessage";
import { RecoveryGauge } from "../components/RecoveryGauge";
import { formatDateTime, formatMinutes, humanize } from "../lib/format";
import { usePracticeId } from "../practice/PracticeContext";

const TIER_WORDS: Record<number, string> = {
  1: "Tier 1: the practice cannot operate without it",
  2: "Tier 2: needed the same day",
  3: "Tier 3: needed within days",
  4: "Tier 4: can wait",
};

/** Most critical first, then by name. */
export function sortSystems(systems: readonly System[]): System[] {
  return [...systems].sort((a, b) => a.tier - b.tier || a.name.localeCompare(b.name));
}

export interface RecoveryGaugeInput {
  label: string;
  target: number;
  achieved: number | null;
  /** A required copy that no backup job makes (the recovery endpoint counts the jobs per copy). */
  noJob?: boolean;
  /** RPO copies: at risk as the server judged it with the policy's at_risk_ratio (never a fixed share here). */
  atRisk?: boolean;
}

/**
 * The gauges a system shows: one RPO gauge per copy its plan requires (on-site, off-site), then
 * RTO. Without telemetry for it yet, the achieved values are unknown, never zero.
 */
export function recoveryGauges(system: System, recovery: SystemRecovery | undefined): RecoveryGaugeInput[] {
  const gauges: RecoveryGaugeInput[] = [];
  const copies: [boolean, string, number | null | undefined, number | undefined, boolean][] = [
    [system.requires_onsite_copy, "on-site copy", recovery?.achieved_onsite_rpo_minutes, recovery?.onsite_jobs, recovery?.onsite_rpo_at_risk ?? false],
    [system.requires_offsite_copy, "off-site copy", recovery?.achieved_offsite_rpo_minutes, recovery?.offsite_jobs, recovery?.offsite_rpo_at_risk ?? false],
  ];
  for (const [required, where, achieved, jobs, atRisk] of copies) {
    if (required) gauges.push({ label: `Data loss (RPO), ${where}`, target: system.rpo_minutes, achieved: achieved ?? null, noJob: jobs === 0, atRisk });
  }
  if (gauges.length === 0) {
    gauges.push({ label: "Data loss (RPO)", target: system.rpo_minutes, achieved: null });
  }
  gauges.push({ label: "Time to recover (RTO)", target: system.rto_minutes, achieved: recovery?.achieved_rto_minutes ?? null });
  return gauges;
}

/** A practice's systems: their recovery targets against what the backups achieve, and what to fix. */
export function SystemsView() {
  const practiceId = usePracticeId();
  const systems = useSystems(practiceId);
  const jobs = useBackupJobs(practiceId);
  const findings = useInventoryFindings(practiceId);
  const recovery = useSystemRecovery(practiceId);

  if (systems.isPending) return <Loading label="Loading systems…" />;
  if (systems.isError) return <ProblemMessage error={systems.error} />;
  if (systems.data.length === 0) {
    return (
      <EmptyState
        title="No systems recorded yet"
        nextStep="Ask your MSP to add the practice's systems (EHR, imaging, phones…) with how long each may be down and how much data it may lose, or import them from a CSV file."
      />
    );
  }
  const jobsById = new Map((jobs.data ?? []).map((j) => [j.id, j]));
  const allFindings = findings.data ?? [];
  const recoveryById = new Map((recovery.data ?? []).map((r) => [r.system_id, r]));
  return (
    <>
      <ul className="cards">
        {sortSystems(systems.data).map((system) => (
          <li key={system.id} className="card">
            <SystemCard
              system={system}
              recovery={recoveryById.get(system.id)}
              jobs={system.backup_job_ids.map((id) => jobsById.get(id)).filter((j): j is BackupJob => j !== undefined)}
            />
            <FindingList
              findings={allFindings.filter((f) => f.subject_type === "system" && f.subject_id === system.id)}
              empty={null}
            />
          </li>
        ))}
      </ul>
      <h2>Other inventory problems</h2>
      {findings.isError ? (
        <ProblemMessage error={findings.error} />
      ) : findings.isPending ? (
        <Loading label="Checking the inventory…" />
      ) : (
        <FindingList
          findings={allFindings.filter((f) => f.subject_type !== "system")}
          headingLevel={3}
          empty={<p>Nothing else to fix in the inventory.</p>}
        />
      )}
    </>
  );
}

function SystemCard({ system, jobs, recovery }: { system: System; jobs: BackupJob[]; recovery: SystemRecovery | undefined }) {
  return (
    <article aria-labelledby={`system-${system.id}`}>
      <h2 id={`system-${system.id}`} className="card__title">
        {system.name}
      </h2>
      <p className="card__meta">
        {humanize(system.category)} · {TIER_WORDS[system.tier] ?? `Tier ${system.tier}`}
        {system.holds_ephi && <> · holds patient data (ePHI)</>}
      </p>
      <div className="gauges">
        {recoveryGauges(system, recovery).map((g) => (
          <RecoveryGauge key={g.label} label={g.label} targetMinutes={g.target} achievedMinutes={g.achieved} noJob={g.noJob} atRisk={g.atRisk} />
        ))}
      </div>
      <dl className="details details--compact">
        <dt>Longest it may be down (MTD)</dt>
        <dd>{formatMinutes(system.mtd_minutes)}</dd>
        {recovery?.last_restore_test_at && (
          <>
            <dt>Last restore test</dt>
            <dd>
              {formatDateTime(recovery.last_restore_test_at)}: {recovery.last_restore_test_success ? "succeeded" : "failed"}
            </dd>
          </>
        )}
        <dt>Backed up by</dt>
        <dd>{jobs.length > 0 ? jobs.map((j) => `${j.name} (${humanize(j.location)})`).join(", ") : "no backup job"}</dd>
        {system.dependencies.length > 0 && (
          <>
            <dt>Depends on</dt>
            <dd>{system.dependencies.map((d) => d.name).join(", ")}</dd>
          </>
        )}
        {system.owner && (
          <>
            <dt>Owner</dt>
            <dd>{system.owner}</dd>
          </>
        )}
      </dl>
    </article>
  );
}
