import { useId, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { useAuditEvents, type AuditEvent } from "../../api/audit";
import { usePractices } from "../../api/practices";
import { EmptyState } from "../../components/EmptyState";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { formatDateTime } from "../../lib/format";
import { SPAN_MAX, SPAN_MIN } from "../../lib/span";
import { auditExportUrl, auditFiltersFromSearch, searchFromAuditFilters, type AuditFilters } from "./auditFilters";

/** Who did what, when: every change in the MSP, newest first, filterable and exportable. */
export default function AuditLogPage() {
  const [search, setSearch] = useSearchParams();
  const filters = auditFiltersFromSearch(search);
  const events = useAuditEvents(filters);
  const practices = usePractices();
  const names = new Map((practices.data ?? []).map((p) => [p.id, p.name]));
  const items = events.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Page
      title="Audit log"
      description="Every change and sign-in in your MSP, kept as tamper-evident evidence."
      actions={
        <a className="button" href={auditExportUrl(filters)} download>
          Export these events as CSV
        </a>
      }
    >
      <AuditFilterForm
        key={search.toString()}
        initial={filters}
        practices={practices.data ?? []}
        onApply={(f) => setSearch(searchFromAuditFilters(f), { replace: true })}
      />
      {events.isPending ? (
        <Loading label="Loading the audit log…" />
      ) : events.isError ? (
        <ProblemMessage error={events.error} messages={{ 403: "Only MSP owners and administrators can read the audit log." }} />
      ) : items.length === 0 ? (
        <EmptyState title="No events match" nextStep="Widen the dates or clear a filter to see more." />
      ) : (
        <>
          <div className="table-scroll" tabIndex={0} role="region" aria-label="Audit events">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">What</th>
                  <th scope="col">On</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <AuditRow key={e.seq} event={e} practiceName={e.practice_id ? names.get(e.practice_id) : undefined} />
                ))}
              </tbody>
            </table>
          </div>
          {events.hasNextPage && (
            <div className="button-row section-gap">
              <button type="button" className="button" disabled={events.isFetchingNextPage} onClick={() => void events.fetchNextPage()}>
                {events.isFetchingNextPage ? "Loading…" : "Show older events"}
              </button>
            </div>
          )}
        </>
      )}
    </Page>
  );
}

function AuditRow({ event: e, practiceName }: { event: AuditEvent; practiceName: string | undefined }) {
  const changed = Object.keys(e.changes);
  return (
    <tr>
      <td>
        <time dateTime={e.occurred_at}>{formatDateTime(e.occurred_at)}</time>
      </td>
      <td>
        {e.actor_label || e.actor_type}
        {e.ip && <span className="table__sub">from {e.ip}</span>}
      </td>
      <th scope="row">
        <code>{e.action}</code>
        {changed.length > 0 && <span className="table__sub">changed {changed.slice(0, 5).join(", ")}{changed.length > 5 ? "…" : ""}</span>}
      </th>
      <td>
        {e.object_type}
        {practiceName && <span className="table__sub">{practiceName}</span>}
      </td>
    </tr>
  );
}

function AuditFilterForm({
  initial,
  practices,
  onApply,
}: {
  initial: AuditFilters;
  practices: readonly { id: string; name: string }[];
  onApply: (f: AuditFilters) => void;
}) {
  const [f, setF] = useState(initial);
  const id = useId();
  const field = (key: keyof AuditFilters, label: string, type = "text", hint?: string) => (
    <div className="field">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      {hint && (
        <p className="field__hint" id={`${id}-${key}-hint`}>
          {hint}
        </p>
      )}
      <input
        id={`${id}-${key}`}
        type={type}
        {...(type === "date" ? { min: SPAN_MIN.slice(0, 10), max: SPAN_MAX.slice(0, 10) } : {})}
        value={f[key]}
        maxLength={320}
        aria-describedby={hint ? `${id}-${key}-hint` : undefined}
        onChange={(e) => setF({ ...f, [key]: e.target.value })}
      />
    </div>
  );
  return (
    <form
      className="filters"
      aria-label="Filter audit events"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        onApply(f);
      }}
    >
      {field("action", "Action", "text", "Starts with, e.g. plan_version.")}
      {field("actor", "Who", "text", "Email address")}
      {field("objectType", "Object type")}
      <div className="field">
        <label htmlFor={`${id}-practice`}>Practice</label>
        <select id={`${id}-practice`} value={f.practiceId} onChange={(e) => setF({ ...f, practiceId: e.target.value })}>
          <option value="">Any</option>
          {practices.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </div>
      {field("from", "From", "date")}
      {field("to", "To (including)", "date")}
      <button type="submit" className="button button--primary">
        Apply filters
      </button>
    </form>
  );
}
