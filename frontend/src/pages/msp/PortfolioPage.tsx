import { useId, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { usePortfolio, type PortfolioItem } from "../../api/portfolio";
import { LiveIndicator } from "../../app/LiveContext";
import { useSignedInSession } from "../../auth/RequireSession";
import { can } from "../../auth/permissions";
import { EmptyState } from "../../components/EmptyState";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { StatusBadge } from "../../components/StatusBadge";
import { NotificationGapBanner } from "../../components/NotificationGapBanner";
import { TelemetryStallNotice } from "../../components/TelemetryStallNotice";
import { formatAgo, humanize } from "../../lib/format";
import {
  filtersFromSearch,
  hasFilters,
  searchFromFilters,
  SORT_LABELS,
  trendWords,
  type PortfolioFilters,
  type SortKey,
  type StatusFilter,
} from "./portfolioFilters";

const STATUS_OPTIONS: { value: StatusFilter; label: string }[] = [
  { value: "not_ready", label: "Not ready" },
  { value: "at_risk", label: "At risk" },
  { value: "ready", label: "Ready" },
];

/** Every practice, worst first: where the MSP's attention goes today. */
export default function PortfolioPage() {
  const [search, setSearch] = useSearchParams();
  const filters = filtersFromSearch(search);
  const portfolio = usePortfolio(filters);
  const update = (next: Partial<PortfolioFilters>) => setSearch(searchFromFilters({ ...filters, ...next }), { replace: true });

  return (
    <Page title="Portfolio" description="Your practices ranked by readiness and open incidents, worst first." actions={<PortfolioActions />}>
      <TelemetryStallNotice />
      <NotificationGapBanner />
      <Filters filters={filters} onChange={update} />
      {portfolio.isPending ? (
        <Loading label="Loading your practices…" />
      ) : portfolio.isError ? (
        <ProblemMessage error={portfolio.error} />
      ) : (
        <>
          <p className="summary" aria-live="polite">
            {portfolio.data.summary.total} practice{portfolio.data.summary.total === 1 ? "" : "s"}:{" "}
            {portfolio.data.summary.not_ready} not ready, {portfolio.data.summary.at_risk} at risk,{" "}
            {portfolio.data.summary.ready} ready
            {portfolio.data.summary.not_computed > 0 && <>, {portfolio.data.summary.not_computed} not scored yet</>}.
          </p>
          {portfolio.data.items.length === 0 ? (
            hasFilters(filters) ? (
              <EmptyState
                title="No practice matches these filters"
                nextStep="Clear the search or tick more statuses to see more practices."
                action={
                  <button type="button" className="button" onClick={() => setSearch(new URLSearchParams(), { replace: true })}>
                    Clear filters
                  </button>
                }
              />
            ) : (
              <EmptyState
                title="No practices yet"
                nextStep="Onboard your first practice: add it with its sites, then enrol an agent at each site."
                action={<AddPracticeLink />}
              />
            )
          ) : (
            <PortfolioTable items={portfolio.data.items} />
          )}
        </>
      )}
    </Page>
  );
}

/** Adding a practice is for MSP owners and admins (the API's create_practice needs msp_manage). */
function AddPracticeLink() {
  const session = useSignedInSession();
  return can(session.memberships, "msp_manage") ? (
    <Link className="button button--primary" to="/practices/new">
      Add a practice
    </Link>
  ) : null;
}

function PortfolioActions() {
  return (
    <div className="button-row">
      <AddPracticeLink />
      <LiveIndicator />
    </div>
  );
}

function Filters({ filters, onChange }: { filters: PortfolioFilters; onChange: (f: Partial<PortfolioFilters>) => void }) {
  const [q, setQ] = useState(filters.q);
  const id = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onChange({ q });
  };
  return (
    <form className="filters" role="search" aria-label="Filter practices" onSubmit={submit}>
      <div className="field filters__search">
        <label htmlFor={`${id}-q`}>Search practices</label>
        <div className="inline-input">
          <input id={`${id}-q`} name="q" type="search" value={q} maxLength={200} onChange={(e) => setQ(e.target.value)} />
          <button type="submit" className="button">
            Search
          </button>
        </div>
      </div>
      <fieldset className="filters__statuses">
        <legend>Status</legend>
        {STATUS_OPTIONS.map((o) => (
          <label key={o.value} className="checkbox checkbox--inline">
            <input
              type="checkbox"
              checked={filters.statuses.includes(o.value)}
              onChange={(e) =>
                onChange({
                  statuses: e.target.checked ? [...filters.statuses, o.value] : filters.statuses.filter((s) => s !== o.value),
                })
              }
            />
            {o.label}
          </label>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-critical`}>Critical incidents</label>
        <select
          id={`${id}-critical`}
          value={filters.critical}
          onChange={(e) => onChange({ critical: e.target.value === "yes" ? "yes" : e.target.value === "no" ? "no" : "any" })}
        >
          <option value="any">Any</option>
          <option value="yes">With an open critical incident</option>
          <option value="no">Without</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-sort`}>Order</label>
        <select id={`${id}-sort`} value={filters.sort} onChange={(e) => onChange({ sort: e.target.value as SortKey })}>
          {(Object.keys(SORT_LABELS) as SortKey[]).map((k) => (
            <option key={k} value={k}>
              {SORT_LABELS[k]}
            </option>
          ))}
        </select>
      </div>
    </form>
  );
}

function incidentWords(counts: PortfolioItem["open_incidents"]): string {
  if (counts.total === 0) return "none";
  const parts = (["critical", "high", "medium", "low"] as const).filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return parts.join(", ");
}

function PortfolioTable({ items }: { items: readonly PortfolioItem[] }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Practices, ranked">
      <table className="table portfolio">
        <thead>
          <tr>
            <th scope="col">Rank</th>
            <th scope="col">Practice</th>
            <th scope="col">Readiness</th>
            <th scope="col">Open incidents</th>
            <th scope="col">Last 30 days</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item, index) => (
            <tr key={item.practice_id} data-practice-id={item.practice_id}>
              <td>{index + 1}</td>
              <th scope="row">
                <Link to={`/practices/${item.practice_id}`}>{item.name}</Link>
                <span className="table__sub">
                  {humanize(item.kind)}
                  {!item.active && " · inactive"}
                </span>
              </th>
              <td>
                {item.score !== null && item.score !== undefined ? (
                  <StatusBadge score={item.score} />
                ) : (
                  <span className="muted">Not scored yet</span>
                )}
                {item.computed_at && <span className="table__sub">checked {formatAgo(item.computed_at)}</span>}
              </td>
              <td className={item.open_incidents.critical > 0 ? "cell--alert" : undefined}>
                {item.open_incidents.critical > 0 && <span aria-hidden="true">✕ </span>}
                {incidentWords(item.open_incidents)}
              </td>
              <td>{trendWords(item.trend)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
