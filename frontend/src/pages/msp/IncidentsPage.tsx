import { useId, useState, type FormEvent } from "react";
import { Link, Route, Routes, useParams, useSearchParams } from "react-router";
import {
  useAcknowledgeIncident,
  useAddIncidentNote,
  useIncident,
  useIncidentQueue,
  useResolveIncident,
  type Incident,
  type IncidentFilters,
  type IncidentStatusFilter,
  type SeverityFilter,
} from "../../api/incidents";
import { usePractices } from "../../api/practices";
import { ApiProblem } from "../../api/problem";
import { LiveIndicator } from "../../app/LiveContext";
import { EmptyState } from "../../components/EmptyState";
import { SeverityBadge } from "../../components/FindingList";
import { Loading } from "../../components/Loading";
import { NotificationGapBanner } from "../../components/NotificationGapBanner";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { formatAgo, formatDateTime, humanize } from "../../lib/format";

const STATUS_LABELS: Record<IncidentStatusFilter, string> = {
  active: "Needs attention (open or acknowledged)",
  open: "Open, nobody on it yet",
  acknowledged: "Acknowledged",
  resolved: "Resolved",
};
const SEVERITIES: SeverityFilter[] = ["critical", "high", "medium", "low"];


export function incidentFilters(search: URLSearchParams): IncidentFilters {
  const status = search.get("status") ?? "";
  const severity = search.get("severity") ?? "";
  return {
    status: status in STATUS_LABELS ? (status as IncidentStatusFilter) : "active",
    severity: (SEVERITIES as string[]).includes(severity) ? (severity as SeverityFilter) : "",
  };
}

/** The MSP's incident queue, worst first; each incident opens in place. */
export default function IncidentsPage() {
  return (
    <Routes>
      <Route index element={<IncidentQueue />} />
      <Route path=":practiceId/:incidentId" element={<IncidentDetailPage />} />
    </Routes>
  );
}

function usePracticeNames(): Map<string, string> {
  const practices = usePractices();
  return new Map((practices.data ?? []).map((p) => [p.id, p.name]));
}

function IncidentQueue() {
  const [search, setSearch] = useSearchParams();
  const filters = incidentFilters(search);
  const queue = useIncidentQueue(filters);
  const names = usePracticeNames();
  const id = useId();
  const update = (next: Partial<IncidentFilters>) => {
    const merged = { ...filters, ...next };
    const params = new URLSearchParams();
    if (merged.status !== "active") params.set("status", merged.status);
    if (merged.severity) params.set("severity", merged.severity);
    setSearch(params, { replace: true });
  };
  return (
    <Page title="Incidents" description="What is broken across your practices, worst first." actions={<LiveIndicator />}>
      <NotificationGapBanner />
      <form className="filters" aria-label="Filter incidents" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={`${id}-status`}>Show</label>
          <select id={`${id}-status`} value={filters.status} onChange={(e) => update({ status: e.target.value as IncidentStatusFilter })}>
            {(Object.keys(STATUS_LABELS) as IncidentStatusFilter[]).map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-severity`}>Severity</label>
          <select id={`${id}-severity`} value={filters.severity} onChange={(e) => update({ severity: e.target.value as SeverityFilter | "" })}>
            <option value="">Any</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {humanize(s)}
              </option>
            ))}
          </select>
        </div>
      </form>
      {queue.isPending ? (
        <Loading label="Loading incidents…" />
      ) : queue.isError ? (
        <ProblemMessage error={queue.error} />
      ) : queue.data.items.length === 0 ? (
        <EmptyState
          title={filters.status === "resolved" ? "No resolved incidents" : "Nothing needs attention"}
          nextStep={
            filters.status === "active"
              ? "Every practice is quiet. New incidents appear here by themselves as agents report problems."
              : "Change the filters above to see other incidents."
          }
        />
      ) : (
        <>
          <p className="summary">
            {queue.data.total} incident{queue.data.total === 1 ? "" : "s"}
          </p>
          <ul className="incident-list">
            {queue.data.items.map((incident) => (
              <IncidentRow key={incident.id} incident={incident} practiceName={names.get(incident.practice_id)} />
            ))}
          </ul>
        </>
      )}
    </Page>
  );
}

function IncidentRow({ incident, practiceName }: { incident: Incident; practiceName: string | undefined }) {
  return (
    <li className={`incident incident--${incident.status}`}>
      <div className="finding__head">
        <SeverityBadge severity={incident.severity} />
        <Link to={`/incidents/${incident.practice_id}/${incident.id}`} className="incident__title">
          {incident.title}
        </Link>
      </div>
      <p className="incident__meta">
        {practiceName ?? "A practice"} · {humanize(incident.status)} · opened {formatAgo(incident.opened_at)}
        {incident.acknowledged_by && <> · acknowledged by {incident.acknowledged_by}</>}
      </p>
    </li>
  );
}

function IncidentDetailPage() {
  const { practiceId = "", incidentId = "" } = useParams();
  const incident = useIncident(practiceId, incidentId);
  const names = usePracticeNames();
  if (incident.isPending) return <Loading label="Loading the incident…" />;
  if (incident.isError) {
    return (
      <Page title="Incident">
        <ProblemMessage error={incident.error} messages={{ 404: "This incident doesn't exist, or you don't have access to its practice." }} />
        <p>
          <Link to="/incidents">Back to the incident queue</Link>
        </p>
      </Page>
    );
  }
  const inc = incident.data;
  return (
    <Page
      title={inc.title}
      description={
        <>
          <Link to={`/practices/${inc.practice_id}`}>{names.get(inc.practice_id) ?? "Open the practice"}</Link> · opened{" "}
          {formatDateTime(inc.opened_at)}
        </>
      }
    >
      <p>
        <Link to="/incidents">← Back to the incident queue</Link>
      </p>
      <dl className="details">
        <dt>Severity</dt>
        <dd>
          <SeverityBadge severity={inc.severity} />
        </dd>
        <dt>Status</dt>
        <dd data-testid="incident-status">
          {humanize(inc.status)}
          {inc.acknowledged_by && <> by {inc.acknowledged_by}</>}
          {inc.resolved_by && <>, resolved by {inc.resolved_by}</>}
        </dd>
        {inc.measured && (
          <>
            <dt>Now</dt>
            <dd>{inc.measured}</dd>
          </>
        )}
        {inc.target && (
          <>
            <dt>Expected</dt>
            <dd>{inc.target}</dd>
          </>
        )}
        <dt>What to do</dt>
        <dd>{inc.remediation}</dd>
        {inc.suppressed_by && (
          <>
            <dt>Notifications</dt>
            <dd>Held during the maintenance window “{inc.suppressed_by}”.</dd>
          </>
        )}
      </dl>
      {inc.status !== "resolved" && <IncidentActions practiceId={inc.practice_id} incidentId={inc.id} status={inc.status} />}
      <h2>Timeline</h2>
      <ol className="timeline">
        {inc.timeline.map((e) => (
          <li key={e.id}>
            <time dateTime={e.at}>{formatDateTime(e.at)}</time> · <strong>{humanize(e.kind)}</strong>
            {e.actor && <> by {e.actor}</>}
            {e.message && <p className="timeline__message">{e.message}</p>}
          </li>
        ))}
      </ol>
      <NoteForm practiceId={inc.practice_id} incidentId={inc.id} />
      {inc.children.length > 0 && (
        <>
          <h2>Grouped under this incident</h2>
          <ul className="incident-list">
            {inc.children.map((child) => (
              <IncidentRow key={child.id} incident={child} practiceName={names.get(child.practice_id)} />
            ))}
          </ul>
        </>
      )}
    </Page>
  );
}

function IncidentActions({ practiceId, incidentId, status }: { practiceId: string; incidentId: string; status: string }) {
  const acknowledge = useAcknowledgeIncident(practiceId, incidentId);
  const resolve = useResolveIncident(practiceId, incidentId);
  const [note, setNote] = useState("");
  const id = useId();
  return (
    <section aria-labelledby={`${id}-h`} className="actions-panel">
      <h2 id={`${id}-h`}>Act on it</h2>
      <div className="button-row">
        {status === "open" && (
          <button type="button" className="button button--primary" disabled={acknowledge.isPending} onClick={() => acknowledge.mutate(undefined)}>
            {acknowledge.isPending ? "Acknowledging…" : "Acknowledge"}
          </button>
        )}
      </div>
      <ProblemMessage error={acknowledge.error} />
      <form
        className="form"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          resolve.mutate(note);
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-note`}>Resolution note (optional)</label>
          <textarea id={`${id}-note`} maxLength={5000} value={note} onChange={(e) => setNote(e.target.value)} />
        </div>
        <div className="button-row">
          <button type="submit" className="button" disabled={resolve.isPending}>
            {resolve.isPending ? "Resolving…" : "Resolve"}
          </button>
        </div>
        <p className="field__hint">If the problem is still there, the next check opens the incident again.</p>
        <ProblemMessage error={resolve.error} shownFields={["note"]} />
      </form>
    </section>
  );
}

function NoteForm({ practiceId, incidentId }: { practiceId: string; incidentId: string }) {
  const addNote = useAddIncidentNote(practiceId, incidentId);
  const [text, setText] = useState("");
  const id = useId();
  const error = addNote.error instanceof ApiProblem ? addNote.error.fieldErrors.text : undefined;
  return (
    <form
      className="form"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        addNote.mutate(text, { onSuccess: () => setText("") });
      }}
    >
      <div className={error ? "field field--invalid" : "field"}>
        <label htmlFor={`${id}-text`}>Add a note</label>
        <textarea
          id={`${id}-text`}
          required
          maxLength={5000}
          value={text}
          aria-invalid={error ? true : undefined}
          onChange={(e) => setText(e.target.value)}
        />
        {error && <p className="field__error">{error}</p>}
      </div>
      <div className="button-row">
        <button type="submit" className="button" disabled={addNote.isPending || text.trim() === ""}>
          Add note
        </button>
      </div>
      <ProblemMessage error={addNote.error} shownFields={["text"]} />
    </form>
  );
}
