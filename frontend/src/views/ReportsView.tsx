import { useId, useState } from "react";
import { reportUrl, useCreateReport, useReports } from "../api/reports";
import { useSignedInSession } from "../auth/RequireSession";
import { can } from "../auth/permissions";
import { EmptyState } from "../components/EmptyState";
import { Loading } from "../components/Loading";
import { ProblemMessage } from "../components/ProblemMessage";
import { StatusBadge } from "../components/StatusBadge";
import { formatDate, formatDateTime, humanize } from "../lib/format";
import { usePracticeId } from "../practice/PracticeContext";

const monthName = new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" });

/** This month as the month input writes it (YYYY-MM): the latest one a report can cover. */
function thisMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

/** The month a report covers, in words ("March 2026"). */
export function reportMonth(periodStart: string): string {
  const d = new Date(`${periodStart}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? periodStart : monthName.format(d);
}

/** Monthly readiness reports: download past ones; MSP staff can generate one now. */
export function ReportsView() {
  const practiceId = usePracticeId();
  const { memberships } = useSignedInSession();
  const reports = useReports(practiceId);
  const create = useCreateReport(practiceId);
  const [month, setMonth] = useState("");
  const id = useId();
  const mayGenerate = can(memberships, "practice_operate", practiceId);
  return (
    <>
      {mayGenerate && (
        <form
          className="filters"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate(month || undefined);
          }}
        >
          <div className="field">
            <label htmlFor={`${id}-month`}>Month</label>
            <p className="field__hint" id={`${id}-hint`}>
              Leave empty for this month so far.
            </p>
            <input id={`${id}-month`} type="month" max={thisMonth()} value={month} aria-describedby={`${id}-hint`} onChange={(e) => setMonth(e.target.value)} />
          </div>
          <button type="submit" className="button button--primary" disabled={create.isPending}>
            {create.isPending ? "Generating…" : "Generate a report now"}
          </button>
        </form>
      )}
      <ProblemMessage error={create.error} />
      {reports.isPending ? (
        <Loading label="Loading reports…" />
      ) : reports.isError ? (
        <ProblemMessage error={reports.error} />
      ) : reports.data.length === 0 ? (
        <EmptyState
          title="No reports yet"
          nextStep={mayGenerate ? "Generate the first one above; after that one arrives at the start of every month." : "The first monthly report arrives at the start of next month."}
        />
      ) : (
        <ul className="plain-list report-list">
          {reports.data.map((r) => (
            <li key={r.id}>
              <a href={reportUrl(practiceId, r.id)} download>
                {reportMonth(r.period_start)} report (PDF, {Math.max(1, Math.round(r.size_bytes / 1024))} KB)
              </a>{" "}
              {r.score !== null && r.score !== undefined && <StatusBadge score={r.score} />}
              <span className="table__sub">
                {formatDate(r.period_start)} to {formatDate(r.period_end)} · {humanize(r.kind)} · made {formatDateTime(r.generated_at)}
                {r.generated_by_label && ` by ${r.generated_by_label}`}
              </span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
