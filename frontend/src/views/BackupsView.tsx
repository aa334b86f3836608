import { useId, useMemo } from "react";
import { since, useBackupRuns, useTelemetryState, type BackupJobState } from "../api/telemetry";
import { useBackupJobs, useSetBackupJobSite, type BackupJob } from "../api/inventory";
import { useSites } from "../api/practices";
import { useSignedInSession } from "../auth/RequireSession";
import { can } from "../auth/permissions";
import { EmptyState } from "../components/EmptyState";
import { Loading } from "../components/Loading";
import { ProblemMessage } from "../components/ProblemMessage";
import { exitCodeWords } from "../lib/exitCode";
import { formatAgo, formatDateTime, formatMinutes, humanize } from "../lib/format";
import { usePracticeId } from "../practice/PracticeContext";
import { backupTimeline, dayWords, timelineSummary, type DayOutcome } from "./backupTimeline";

const DAYS = 30;
const OUTCOME = {
  success: { icon: "✓", words: "good backup" },
  warning: { icon: "!", words: "finished with warnings" },
  failed: { icon: "✕", words: "failed" },
  stale: { icon: "!", words: "reported success, but saved nothing new" },
  none: { icon: "", words: "no finished run" },
} satisfies Record<DayOutcome, { icon: string; words: string }>;

function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  return `${v >= 10 || u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** Each backup job: how it is doing now and a 30-day timeline of its runs. */
export function BackupsView() {
  const practiceId = usePracticeId();
  const jobs = useBackupJobs(practiceId);
  const state = useTelemetryState(practiceId);
  const sites = useSites(practiceId);
  const { memberships } = useSignedInSession();
  const mayOperate = can(memberships, "practice_operate", practiceId);
  const from = useMemo(() => since(DAYS * 24), []);
  if (jobs.isPending || state.isPending) return <Loading label="Loading backups…" />;
  if (jobs.isError) return <ProblemMessage error={jobs.error} />;
  if (state.isError) return <ProblemMessage error={state.error} />;
  if (jobs.data.length === 0) {
    return <EmptyState title="No backup jobs recorded" nextStep="Ask your MSP to add the backup jobs that protect your systems; the agent then reports every run here." />;
  }
  const stateById = new Map(state.data.backup_jobs.map((j) => [j.backup_job_id, j]));
  const siteName = new Map((sites.data ?? []).map((s) => [s.id, s.name]));
  return (
    <ul className="cards cards--wide">
      {jobs.data.map((job) => (
        <li key={job.id} className="card">
          <JobCard practiceId={practiceId} jobId={job.id} name={job.name} meta={`${humanize(job.location)} · ${humanize(job.tool)} · expected every ${formatMinutes(job.expected_interval_minutes)}`} reporter={reporter(job, siteName)} state={stateById.get(job.id)} from={from} />
          {mayOperate && sites.data && <JobSite practiceId={practiceId} job={job} sites={sites.data} />}
        </li>
      ))}
    </ul>
  );
}

/** MSP staff choose which site's agent reports the job: agents report only their own site's jobs. */
function JobSite({ practiceId, job, sites }: { practiceId: string; job: BackupJob; sites: { id: string; name: string }[] }) {
  const setSite = useSetBackupJobSite(practiceId);
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={`${id}-site`}>Site whose agent reports this job</label>
      <select
        id={`${id}-site`}
        value={job.site_id ?? ""}
        disabled={setSite.isPending}
        onChange={(e) => setSite.mutate({ jobId: job.id, siteId: e.target.value || null })}
      >
        <option value="">No site (reported only through its ping URL)</option>
        {sites.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
      <ProblemMessage error={setSite.error} />
    </div>
  );
}

/** Who can report the job's runs: only the agent at the job's own site (or its ping URL). */
function reporter(job: BackupJob, siteName: Map<string, string>): string {
  if (job.site_id === null) return "No site chosen for this job, so no agent reports it; ask your MSP to choose the site whose agent runs it.";
  const site = siteName.get(job.site_id);
  return site ? `Reported by the agent at ${site}.` : "Reported by the agent at its site.";
}

function JobCard({ practiceId, jobId, name, meta, reporter, state, from }: { practiceId: string; jobId: string; name: string; meta: string; reporter: string; state: BackupJobState | undefined; from: string }) {
  const runs = useBackupRuns(practiceId, jobId, from);
  const status = state?.last_status ?? null;
  // Readiness's stored judgement (backup.stale_success), not a second look at the restore points:
  // `stale_success` says the newest success is the run it judged, `stale_success_at` names that run,
  // so a good run arriving before the next rescoring is not labelled stale in its place.
  const stale = status === "success" && state?.stale_success === true;
  const staleAt = state?.stale_success_at ?? null;
  const cells = useMemo(() => backupTimeline(runs.data?.items ?? [], DAYS, new Date(), staleAt), [runs.data, staleAt]);
  return (
    <article aria-labelledby={`job-${jobId}`}>
      <h3 id={`job-${jobId}`} className="card__title">
        {name}
      </h3>
      <p className="card__meta">{meta}</p>
      <p className="card__meta">{reporter}</p>
      {status === null ? (
        <p>
          <strong>No runs reported yet.</strong> Once the agent at the site runs this job, each run shows here.
        </p>
      ) : (
        <dl className="details details--compact">
          <dt>Last run</dt>
          {stale ? (
            <dd className="job-status job-status--stale">
              <span aria-hidden="true">! </span>
              Reported success {formatAgo(state?.last_run_at)}, but saved nothing new
              <span className="job-status__why">
                Its restore point is no newer than the one the backup before it made, so this run is not a new copy. Check where {name}{" "}
                saves its backups: the backup tool may be reporting an old snapshot.
              </span>
            </dd>
          ) : (
            <dd className={`job-status job-status--${status}`}>
              <span aria-hidden="true">{status === "success" ? "✓ " : status === "failed" ? "✕ " : "! "}</span>
              {humanize(status)} {formatAgo(state?.last_run_at)}
              {state?.last_exit_code !== null && state?.last_exit_code !== undefined && status !== "success" && ` (${exitCodeWords(state.last_exit_code)})`}
            </dd>
          )}
          <dt>{stale ? "Last reported success" : "Last good backup"}</dt>
          <dd>{formatAgo(state?.last_success_at)}</dd>
          <dt>Newest restore point</dt>
          <dd>{formatDateTime(state?.last_restore_point_at)}</dd>
          {(state?.consecutive_failures ?? 0) > 0 && (
            <>
              <dt>Failed in a row</dt>
              <dd>{state?.consecutive_failures} times</dd>
            </>
          )}
          {state?.running_since && (
            <>
              <dt>Running since</dt>
              <dd>{formatDateTime(state.running_since)}</dd>
            </>
          )}
          <dt>Size</dt>
          <dd>
            {bytes(state?.last_bytes)}
            {state?.baseline_bytes ? ` (usually ${bytes(state.baseline_bytes)})` : ""}
          </dd>
        </dl>
      )}
      {state?.last_log_tail && (
        <details className="run-log">
          <summary>What the last run reported</summary>
          <pre className="run-log__text">{state.last_log_tail}</pre>
        </details>
      )}
      <h4 className="chart__title">Last {DAYS} days</h4>
      {runs.isPending ? (
        <Loading label="Loading runs…" />
      ) : runs.isError ? (
        <ProblemMessage error={runs.error} />
      ) : (
        <figure className="timeline-strip">
          <ol className="timeline-strip__days" aria-label={`${name}: ${timelineSummary(cells)}`}>
            {cells.map((c) => (
              <li key={c.day} className={`timeline-strip__day timeline-strip__day--${c.outcome}`} title={`${dayWords(c.day)}: ${OUTCOME[c.outcome].words}`}>
                <span aria-hidden="true">{OUTCOME[c.outcome].icon}</span>
                <span className="visually-hidden">
                  {dayWords(c.day)}: {OUTCOME[c.outcome].words}
                </span>
              </li>
            ))}
          </ol>
          <figcaption className="chart__caption">{timelineSummary(cells)}</figcaption>
        </figure>
      )}
    </article>
  );
}
