import { useId, useState, type FormEvent } from "react";
import {
  effectiveSetting,
  useAlertPolicy,
  useAlertRules,
  useChannels,
  useCreateChannel,
  useCreateWindow,
  useDeleteChannel,
  useDeleteWindow,
  useMaintenanceWindows,
  useTestChannel,
  useUpdateRule,
  type AlertPolicy,
  type AlertRule,
  type ChannelKind,
} from "../../api/alerts";
import { usePractices } from "../../api/practices";
import { ApiProblem } from "../../api/problem";
import { useSignedInSession } from "../../auth/RequireSession";
import { can } from "../../auth/permissions";
import { EmptyState } from "../../components/EmptyState";
import { SeverityBadge } from "../../components/FindingList";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { TextField } from "../../components/TextField";
import { formatDateTime, humanize } from "../../lib/format";
import { SPAN_MAX, SPAN_MIN } from "../../lib/span";
import { NotificationRoutes } from "./NotificationRoutes";

const MANAGERS_ONLY = { 403: "Only MSP owners and administrators change alerting. Ask one of them." };

/** When Seawall opens incidents, whom it tells, and when it keeps quiet. */
export default function AlertPoliciesPage() {
  return (
    <Page title="Alert policies" description="Which problems open incidents, who is notified, and when to keep quiet for planned work.">
      <Rules />
      <Channels />
      <NotificationRoutes />
      <MaintenanceWindows />
    </Page>
  );
}

function Rules() {
  const rules = useAlertRules();
  const policy = useAlertPolicy();
  return (
    <section aria-labelledby="rules-h">
      <h2 id="rules-h">Rules</h2>
      {rules.isPending || policy.isPending ? (
        <Loading label="Loading rules…" />
      ) : rules.isError ? (
        <ProblemMessage error={rules.error} />
      ) : policy.isError ? (
        <ProblemMessage error={policy.error} />
      ) : (
        <ul className="cards">
          {rules.data.map((r) => (
            <li key={r.id} className="card">
              <RuleCard rule={r} policy={policy.data} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function RuleCard({ rule, policy }: { rule: AlertRule; policy: AlertPolicy }) {
  const { memberships } = useSignedInSession();
  const mayEdit = can(memberships, "msp_manage");
  const current = effectiveSetting(rule, policy);
  const [enabled, setEnabled] = useState(current.enabled);
  const [params, setParams] = useState<Record<string, string>>(Object.fromEntries(Object.entries(current.params).map(([k, v]) => [k, String(v)])));
  const update = useUpdateRule();
  const id = useId();
  const fieldErrors = update.error instanceof ApiProblem ? update.error.fieldErrors : {};
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const numbers: Record<string, number> = {};
    for (const [k, v] of Object.entries(params)) numbers[k] = Number(v);
    update.mutate({ ruleId: rule.id, setting: { enabled, params: numbers } });
  };
  return (
    <form onSubmit={submit} aria-labelledby={`${id}-t`}>
      <div className="finding__head">
        <SeverityBadge severity={rule.severity} />
        <h3 id={`${id}-t`} className="card__title">
          {rule.title}
        </h3>
      </div>
      <p className="card__meta">{rule.meaning}</p>
      <label className="checkbox">
        <input type="checkbox" checked={enabled} disabled={!mayEdit} onChange={(e) => setEnabled(e.target.checked)} />
        Opens incidents
      </label>
      {Object.keys(params).map((k) => (
        <TextField
          key={k}
          label={humanize(rule.param_meanings[k] ?? k)}
          name={k}
          type="number"
          step="any"
          value={params[k] ?? ""}
          readOnly={!mayEdit}
          error={fieldErrors[`rules.${rule.id}.params.${k}`]}
          onChange={(e) => setParams({ ...params, [k]: e.target.value })}
        />
      ))}
      {mayEdit && (
        <div className="button-row section-gap">
          <button type="submit" className="button" disabled={update.isPending}>
            Save<span className="visually-hidden"> “{rule.title}”</span>
          </button>
          {update.isSuccess && <span role="status">Saved.</span>}
        </div>
      )}
      <ProblemMessage error={update.error} shownFields={Object.keys(params).map((k) => `rules.${rule.id}.params.${k}`)} />
    </form>
  );
}

const KIND_LABELS: Record<ChannelKind, string> = { email: "Email", webhook: "Webhook", slack: "Slack", teams: "Microsoft Teams", pagerduty: "PagerDuty" };

function Channels() {
  const channels = useChannels();
  const create = useCreateChannel();
  const test = useTestChannel();
  const remove = useDeleteChannel();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<ChannelKind>("email");
  const [target, setTarget] = useState("");
  const id = useId();
  const fieldErrors = create.error instanceof ApiProblem ? create.error.fieldErrors : {};
  const targetField = kind === "email" ? "to" : kind === "pagerduty" ? "routing_key" : "url";
  const targetLabel = kind === "email" ? "Email addresses (comma-separated)" : kind === "pagerduty" ? "Routing key" : "Web address (https://…)";
  return (
    <section aria-labelledby="channels-h">
      <h2 id="channels-h">Notification channels</h2>
      {channels.isPending ? (
        <Loading label="Loading channels…" />
      ) : channels.isError ? (
        <ProblemMessage error={channels.error} messages={MANAGERS_ONLY} />
      ) : (
        <>
          {channels.data.length === 0 ? (
            <EmptyState title="No channels yet" nextStep="Add where incidents should go (an email list, Slack, Teams, PagerDuty or a webhook) below. The first channel gets a route for every practice and severity." />
          ) : (
            <ul className="plain-list">
              {channels.data.map((c) => (
                <li key={c.id}>
                  <strong>{c.name}</strong> · {KIND_LABELS[c.kind as ChannelKind] ?? c.kind} · {c.to?.join(", ") ?? c.secret_hint}
                  {!c.enabled && " · off"}{" "}
                  <span className="button-row">
                    <button type="button" className="link-button" onClick={() => test.mutate(c.id)}>
                      Send a test<span className="visually-hidden"> to {c.name}</span>
                    </button>
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => {
                        if (window.confirm(`Remove the channel ${c.name}?`)) remove.mutate(c.id);
                      }}
                    >
                      Remove<span className="visually-hidden"> {c.name}</span>
                    </button>
                  </span>
                </li>
              ))}
            </ul>
          )}
          {test.isSuccess && <p role="status">Test queued: it arrives within a minute if the channel works.</p>}
          {create.data?.default_route_id && (
            <p className="notice" role="status">
              Channel added. As your first channel, it gets every incident of every practice, at every severity (plan and inventory findings stay in the queue), through a default
              route: change or narrow it under Notification routes below.
            </p>
          )}
          <ProblemMessage error={test.error ?? remove.error} />
          <form
            className="filters section-gap"
            aria-label="Add a channel"
            onSubmit={(e) => {
              e.preventDefault();
              const body =
                kind === "email"
                  ? { name, kind, to: target.split(",").map((s) => s.trim()).filter(Boolean) }
                  : kind === "pagerduty"
                    ? { name, kind, routing_key: target }
                    : { name, kind, url: target };
              create.mutate(body, {
                onSuccess: () => {
                  setName("");
                  setTarget("");
                },
              });
            }}
          >
            <div className="filters__search">
              <TextField label="Channel name" name="name" required value={name} error={fieldErrors.name} onChange={(e) => setName(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor={`${id}-kind`}>Kind</label>
              <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value as ChannelKind)}>
                {(Object.keys(KIND_LABELS) as ChannelKind[]).map((k) => (
                  <option key={k} value={k}>
                    {KIND_LABELS[k]}
                  </option>
                ))}
              </select>
            </div>
            <div className="filters__search">
              <TextField label={targetLabel} name={targetField} required value={target} error={fieldErrors[targetField]} onChange={(e) => setTarget(e.target.value)} />
            </div>
            <button type="submit" className="button button--primary" disabled={create.isPending}>
              Add channel
            </button>
          </form>
          <ProblemMessage error={create.error} shownFields={["name", targetField]} messages={MANAGERS_ONLY} />
        </>
      )}
    </section>
  );
}

function MaintenanceWindows() {
  const practices = usePractices();
  const [practiceId, setPracticeId] = useState("");
  const windows = useMaintenanceWindows(practiceId);
  const create = useCreateWindow(practiceId);
  const remove = useDeleteWindow(practiceId);
  const [name, setName] = useState("");
  const [starts, setStarts] = useState("");
  const [ends, setEnds] = useState("");
  const id = useId();
  const fieldErrors = create.error instanceof ApiProblem ? create.error.fieldErrors : {};
  return (
    <section aria-labelledby="windows-h">
      <h2 id="windows-h">Maintenance windows</h2>
      <p>During a window, incidents still open but nobody is notified: for planned work such as a server move.</p>
      <div className="field section-gap">
        <label htmlFor={`${id}-practice`}>Practice</label>
        <select id={`${id}-practice`} value={practiceId} onChange={(e) => setPracticeId(e.target.value)}>
          <option value="">Choose a practice</option>
          {(practices.data ?? []).map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </div>
      {practiceId !== "" &&
        (windows.isPending ? (
          <Loading label="Loading windows…" />
        ) : windows.isError ? (
          <ProblemMessage error={windows.error} />
        ) : (
          <>
            {windows.data.length === 0 ? (
              <p>No maintenance windows for this practice.</p>
            ) : (
              <ul className="plain-list">
                {windows.data.map((w) => (
                  <li key={w.id}>
                    <strong>{w.name}</strong>:{" "}
                    {w.kind === "once"
                      ? `${formatDateTime(w.starts_at)} to ${formatDateTime(w.ends_at)}`
                      : `every ${w.weekdays.join(", ")} at ${w.start_time ?? "?"} for ${w.duration_minutes ?? "?"} min (${w.timezone})`}
                    {w.active_now && " · in effect now"}{" "}
                    <button type="button" className="link-button" onClick={() => remove.mutate(w.id)}>
                      Remove<span className="visually-hidden"> {w.name}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <ProblemMessage error={remove.error} />
            <form
              className="filters section-gap"
              aria-label="Plan a maintenance window"
              onSubmit={(e) => {
                e.preventDefault();
                create.mutate(
                  { name, kind: "once", starts_at: new Date(starts).toISOString(), ends_at: new Date(ends).toISOString() },
                  { onSuccess: () => setName("") },
                );
              }}
            >
              <div className="filters__search">
                <TextField label="Name" name="name" required value={name} error={fieldErrors.name} onChange={(e) => setName(e.target.value)} />
              </div>
              <TextField label="Starts" name="starts_at" type="datetime-local" min={SPAN_MIN} max={SPAN_MAX} required value={starts} error={fieldErrors.starts_at} onChange={(e) => setStarts(e.target.value)} />
              <TextField label="Ends" name="ends_at" type="datetime-local" min={SPAN_MIN} max={SPAN_MAX} required value={ends} error={fieldErrors.ends_at} onChange={(e) => setEnds(e.target.value)} />
              <button type="submit" className="button button--primary" disabled={create.isPending}>
                Plan the window
              </button>
            </form>
            <ProblemMessage error={create.error} shownFields={["name", "starts_at", "ends_at"]} />
          </>
        ))}
    </section>
  );
}
