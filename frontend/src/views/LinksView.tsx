import { useMemo } from "react";
import { useLinks } from "../api/inventory";
import { useSites } from "../api/practices";
import { since, useFailovers, useLinkSamples, useTelemetryState, type LinkState } from "../api/telemetry";
import { LinkChart } from "../components/charts/LinkChart";
import { linkSeries } from "../components/charts/series";
import { EmptyState } from "../components/EmptyState";
import { Loading } from "../components/Loading";
import { ProblemMessage } from "../components/ProblemMessage";
import { formatAgo, formatDateTime, formatMinutes, humanize } from "../lib/format";
import { usePracticeId } from "../practice/PracticeContext";

type LinkHealth = "up" | "degraded" | "down" | "no_data" | "unknown";

type HealthInput = Pick<LinkState, "up" | "loss_pct" | "latency_ms" | "loss_threshold_pct" | "latency_threshold_ms"> & Partial<Pick<LinkState, "state">>;

/** Up and within thresholds, up but over a threshold, down, no data (nothing heard for several of
 * its sample intervals: the server's reading, the one its rules use), or never reported. */
export function linkHealth(s: HealthInput): LinkHealth {
  // The server says whether the last state still holds; a stale "down" is no data, not down.
  if (s.state === "no_data") return "no_data";
  if (s.state === "unknown" || s.up === null || s.up === undefined) return "unknown";
  if (!s.up) return "down";
  const over = (v: number | null | undefined, limit: number) => v !== null && v !== undefined && v > limit;
  return over(s.loss_pct, s.loss_threshold_pct) || over(s.latency_ms, s.latency_threshold_ms) ? "degraded" : "up";
}

const HEALTH = {
  up: { icon: "✓", words: "Up" },
  degraded: { icon: "!", words: "Up, but slow or losing packets" },
  down: { icon: "✕", words: "Down" },
  no_data: { icon: "?", words: "No data" },
  unknown: { icon: "?", words: "No reports yet" },
} as const;

/** Each internet link: its state now, the last day of latency and loss, and failovers. */
export function LinksView() {
  const practiceId = usePracticeId();
  const links = useLinks(practiceId);
  const state = useTelemetryState(practiceId);
  const failovers = useFailovers(practiceId);
  const sites = useSites(practiceId);
  const from = useMemo(() => since(24), []);
  if (links.isPending || state.isPending) return <Loading label="Loading internet links…" />;
  if (links.isError) return <ProblemMessage error={links.error} />;
  if (state.isError) return <ProblemMessage error={state.error} />;
  if (links.data.length === 0) {
    return <EmptyState title="No internet links recorded" nextStep="Ask your MSP to add each site's internet connections (primary and backup), then enrol an agent at the site to watch them." />;
  }
  const stateById = new Map(state.data.links.map((l) => [l.link_id, l]));
  const linkName = new Map(links.data.map((l) => [l.id, l.name]));
  const siteName = new Map((sites.data ?? []).map((s) => [s.id, s.name]));
  return (
    <>
      <ul className="cards">
        {links.data.map((link) => {
          const s = stateById.get(link.id);
          return (
            <li key={link.id} className="card">
              <LinkCard
                practiceId={practiceId}
                linkId={link.id}
                name={link.name}
                meta={`${humanize(link.role)} · ${humanize(link.medium)}${link.isp ? ` · ${link.isp}` : ""} · ${siteName.get(link.site_id) ?? "site"}`}
                state={s}
                from={from}
              />
            </li>
          );
        })}
      </ul>
      <h2>Failovers</h2>
      {failovers.isPending ? (
        <Loading label="Loading failovers…" />
      ) : failovers.isError ? (
        <ProblemMessage error={failovers.error} />
      ) : failovers.data.items.length === 0 ? (
        <p>No failovers in the last year: traffic has stayed on the primary links.</p>
      ) : (
        <ul className="plain-list">
          {failovers.data.items.map((f) => (
            <li key={f.id}>
              {formatDateTime(f.started_at)}: from {linkName.get(f.from_link_id) ?? "a link"} to {linkName.get(f.to_link_id) ?? "another link"}
              {f.ended_at
                ? `, back after ${formatMinutes((new Date(f.ended_at).getTime() - new Date(f.started_at).getTime()) / 60_000)}`
                : ", still on the backup link"}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function LinkCard({ practiceId, linkId, name, meta, state, from }: { practiceId: string; linkId: string; name: string; meta: string; state: LinkState | undefined; from: string }) {
  const samples = useLinkSamples(practiceId, linkId, from);
  const series = useMemo(() => linkSeries(samples.data?.items ?? []), [samples.data]);
  const health = state ? linkHealth(state) : "unknown";
  return (
    <article aria-labelledby={`link-${linkId}`}>
      <h3 id={`link-${linkId}`} className="card__title">
        {name}
      </h3>
      <p className="card__meta">{meta}</p>
      <p className={`link-health link-health--${health}`}>
        <span aria-hidden="true">{HEALTH[health].icon} </span>
        <strong>{HEALTH[health].words}</strong>
        {health === "no_data" ? (
          state?.no_data_since && <> since {formatDateTime(state.no_data_since)} ({formatAgo(state.no_data_since)})</>
        ) : (
          state?.state_since && <> since {formatDateTime(state.state_since)}</>
        )}
      </p>
      {health === "no_data" && (
        <p className="card__meta">Its last readings are too old to say whether it is up. Check that the Seawall agent at the site is running and probes this link.</p>
      )}
      {state && state.up !== null && health !== "no_data" && (
        <dl className="details details--compact">
          <dt>Latency</dt>
          <dd>
            {state.latency_ms === null || state.latency_ms === undefined ? "—" : `${Math.round(state.latency_ms)} ms`} (limit {state.latency_threshold_ms} ms)
          </dd>
          <dt>Packet loss</dt>
          <dd>
            {state.loss_pct === null || state.loss_pct === undefined ? "—" : `${state.loss_pct.toFixed(1)}%`} (limit {state.loss_threshold_pct}%)
          </dd>
          <dt>Last report</dt>
          <dd>{formatAgo(state.last_sample_at)}</dd>
          {state.flaps_last_hour > 0 && (
            <>
              <dt>Dropped in the last hour</dt>
              <dd>{state.flaps_last_hour} times</dd>
            </>
          )}
          {state.on_backup_since && (
            <>
              <dt>On the backup link since</dt>
              <dd>{formatDateTime(state.on_backup_since)}</dd>
            </>
          )}
        </dl>
      )}
      <h4 className="chart__title">Last 24 hours</h4>
      {samples.isPending ? (
        <Loading label="Loading samples…" />
      ) : samples.isError ? (
        <ProblemMessage error={samples.error} />
      ) : (
        <LinkChart title={`${name}, last 24 hours`} series={series} latencyThresholdMs={state?.latency_threshold_ms ?? 150} />
      )}
    </article>
  );
}
