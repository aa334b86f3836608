import { useId } from "react";
import { useSearchParams } from "react-router";
import { usePractices } from "../../api/practices";
import {
  ACTION_LIMIT,
  useSetAside,
  useSetAsideAction,
  type SetAsideEvent,
  type SetAsideFilters,
  type SetAsideStatus,
  type SetAsideType,
} from "../../api/setAside";
import { useSignedInSession } from "../../auth/RequireSession";
import { can } from "../../auth/permissions";
import { EmptyState } from "../../components/EmptyState";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { TelemetryStallNotice } from "../../components/TelemetryStallNotice";
import { formatAgo, formatDateTime } from "../../lib/format";
import { eventWords, reasonWords } from "../../lib/telemetryWords";

const STATUS_LABELS: Record<SetAsideStatus, string> = {
  open: "Waiting for a decision",
  replayed: "Sent again",
  discarded: "Discarded",
  all: "All",
};
const TYPES: SetAsideType[] = ["backup_run", "restore_test", "link_sample", "failover", "heartbeat", "ping"];

export function setAsideFilters(search: URLSearchParams): SetAsideFilters {
  const status = search.get("status") ?? "";
  const type = search.get("type") ?? "";
  return {
    practiceId: search.get("practice") ?? "",
    status: status in STATUS_LABELS ? (status as SetAsideStatus) : "open",
    type: (TYPES as string[]).includes(type) ? (type as SetAsideType) : "",
  };
}

/** Reports from agents and backup tools that could not be applied, to send again once fixed, or discard. */
export default function SetAsidePage() {
  const [search, setSearch] = useSearchParams();
  const filters = setAsideFilters(search);
  const list = useSetAside(filters);
  const practices = usePractices();
  const names = new Map((practices.data ?? []).map((p) => [p.id, p.name]));
  const { memberships } = useSignedInSession();
  const mayAct = can(memberships, "telemetry_replay", filters.practiceId || undefined);
  const replayAll = useSetAsideAction("replay");
  const discardAll = useSetAsideAction("discard");
  const id = useId();
  const update = (next: Partial<SetAsideFilters>) => {
    const merged = { ...filters, ...next };
    const params = new URLSearchParams();
    if (merged.practiceId) params.set("practice", merged.practiceId);
    if (merged.status !== "open") params.set("status", merged.status);
    if (merged.type) params.set("type", merged.type);
    setSearch(params, { replace: true });
  };
  const practiceName = names.get(filters.practiceId);
  const openHere = list.data?.open_count ?? 0;
  return (
    <Page
      title="Set-aside reports"
      description="Reports from agents and backup tools that Seawall could not apply. Once the cause is fixed, send them again; or discard the ones that no longer matter."
    >
      <TelemetryStallNotice />
      <form className="filters" aria-label="Filter set-aside reports" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={`${id}-practice`}>Practice</label>
          <select id={`${id}-practice`} value={filters.practiceId} onChange={(e) => update({ practiceId: e.target.value })}>
            <option value="">Every practice</option>
            {(practices.data ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-status`}>Show</label>
          <select id={`${id}-status`} value={filters.status} onChange={(e) => update({ status: e.target.value as SetAsideStatus })}>
            {(Object.keys(STATUS_LABELS) as SetAsideStatus[]).map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-type`}>Kind of report</label>
          <select id={`${id}-type`} value={filters.type} onChange={(e) => update({ type: e.target.value as SetAsideType | "" })}>
            <option value="">Any</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {eventWords(t)}
              </option>
            ))}
          </select>
        </div>
      </form>
      {filters.practiceId && mayAct && openHere > 0 && (
        <div className="button-row">
          <button
            type="button"
            className="button button--primary"
            disabled={replayAll.isPending}
            onClick={() => replayAll.mutate({ practiceId: filters.practiceId })}
          >
            {openHere === 1
              ? "Send the one report again"
              : openHere > ACTION_LIMIT
                ? `Send the oldest ${ACTION_LIMIT.toLocaleString()} again`
                : `Send all ${openHere} again`}
          </button>
          <button
            type="button"
            className="button"
            disabled={discardAll.isPending}
            onClick={() => {
              const count = openHere > ACTION_LIMIT ? `the oldest ${ACTION_LIMIT.toLocaleString()}` : `all ${openHere}`;
              if (window.confirm(`Discard ${count} set-aside reports of ${practiceName ?? "this practice"}? They will not be applied.`)) {
                discardAll.mutate({ practiceId: filters.practiceId });
              }
            }}
          >
            {openHere > ACTION_LIMIT ? `Discard the oldest ${ACTION_LIMIT.toLocaleString()}` : "Discard all"}
          </button>
        </div>
      )}
      {(replayAll.data?.remaining ?? 0) > 0 && !replayAll.isPending && (
        <p role="status">
          {replayAll.data?.replayed.toLocaleString()} sent again; {replayAll.data?.remaining.toLocaleString()} still set aside. Send
          them again to go on.
        </p>
      )}
      {(discardAll.data?.remaining ?? 0) > 0 && !discardAll.isPending && (
        <p role="status">
          {discardAll.data?.discarded.toLocaleString()} discarded; {discardAll.data?.remaining.toLocaleString()} still set aside.
        </p>
      )}
      <ProblemMessage error={replayAll.error ?? discardAll.error} />
      {list.isPending ? (
        <Loading label="Loading set-aside reports…" />
      ) : list.isError ? (
        <ProblemMessage error={list.error} />
      ) : list.data.items.length === 0 ? (
        <EmptyState
          title={filters.status === "open" ? "Nothing is set aside" : "No reports match"}
          nextStep={
            filters.status === "open"
              ? "Every report your agents and backup tools sent could be applied."
              : "Change the filters above to see other reports."
          }
        />
      ) : (
        <>
          <p className="summary">
            {list.data.open_count} waiting for a decision{filters.practiceId ? ` in ${practiceName ?? "this practice"}` : ""}
          </p>
          <ul className="incident-list">
            {list.data.items.map((item) => (
              <SetAsideItem key={item.id} item={item} practiceName={names.get(item.practice_id)} mayAct={mayAct || can(memberships, "telemetry_replay", item.practice_id)} />
            ))}
          </ul>
        </>
      )}
    </Page>
  );
}

function sourceWords(item: SetAsideEvent): string {
  if (item.source_kind === "ping") return `the backup tool of job ${item.source_name || "(deleted)"}`;
  return item.source_name ? `the agent on ${item.source_name}` : "an agent";
}

function SetAsideItem({ item, practiceName, mayAct }: { item: SetAsideEvent; practiceName: string | undefined; mayAct: boolean }) {
  const replay = useSetAsideAction("replay");
  const discard = useSetAsideAction("discard");
  const open = item.resolved_at === null || item.resolved_at === undefined;
  const headingId = useId();
  return (
    <li className={`incident ${open ? "" : "incident--resolved"}`} aria-labelledby={headingId}>
      <p className="incident__title" id={headingId}>
        {eventWords(item.type)} from {sourceWords(item)}
      </p>
      <p>{reasonWords(item.field, item.reason)}</p>
      <p className="incident__meta">
        {practiceName ?? "A practice"}
        {item.site_name ? ` · ${item.site_name}` : ""} · reported {formatAgo(item.occurred_at)} · set aside{" "}
        {formatAgo(item.last_failed_at)} ({formatDateTime(item.last_failed_at)})
        {item.failures > 1 ? ` · failed ${item.failures} times` : ""}
        {item.replay_count > 0 ? ` · sent again ${item.replay_count} time${item.replay_count === 1 ? "" : "s"}` : ""}
        {item.resolution === "replayed" && item.replayed_at ? ` · last sent again ${formatAgo(item.replayed_at)}` : ""}
        {item.resolution === "discarded" && item.resolved_at ? ` · discarded ${formatAgo(item.resolved_at)}` : ""}
      </p>
      {open && mayAct && (
        <div className="button-row">
          <button
            type="button"
            className="button button--primary"
            disabled={replay.isPending}
            onClick={() => replay.mutate({ practiceId: item.practice_id, id: item.id })}
          >
            Send again<span className="visually-hidden"> the {eventWords(item.type).toLowerCase()} from {sourceWords(item)}</span>
          </button>
          <button
            type="button"
            className="button"
            disabled={discard.isPending}
            onClick={() => discard.mutate({ practiceId: item.practice_id, id: item.id })}
          >
            Discard<span className="visually-hidden"> the {eventWords(item.type).toLowerCase()} from {sourceWords(item)}</span>
          </button>
        </div>
      )}
      <ProblemMessage error={replay.error ?? discard.error} />
    </li>
  );
}
