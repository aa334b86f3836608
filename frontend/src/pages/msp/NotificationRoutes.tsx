import { useState, type FormEvent } from "react";
import {
  nothingNotified,
  routeGaps,
  useChannels,
  useCreateRoute,
  useDeleteRoute,
  useRoutes,
  useUpdateRoute,
  type Channel,
  type Route,
  type RouteBody,
  type RouteGap,
  type Severity,
} from "../../api/alerts";
import { usePractices } from "../../api/practices";
import { ApiProblem } from "../../api/problem";
import { Loading } from "../../components/Loading";
import { ProblemMessage } from "../../components/ProblemMessage";
import { SelectField } from "../../components/SelectField";
import { TextField } from "../../components/TextField";

export const SEVERITY_CHOICES: Record<Severity, string> = {
  critical: "Critical only",
  high: "High and critical",
  medium: "Medium and above",
  low: "Every severity",
};

const GAP_WORDS: Record<RouteGap, string> = {
  route_off: "This route is off: it sends nothing.",
  channel_missing: "Its channel no longer exists: it sends nothing.",
  channel_off: "Its channel is off: it sends nothing until the channel is turned on.",
  escalation_channel_off: "Its escalation channel is off or gone: nobody is told when an incident is left unacknowledged.",
};

const FIELDS = ["channel_id", "practice_id", "min_severity", "include_low_urgency", "escalate_after_minutes", "escalation_channel_id", "enabled"];

/** Where incidents go: each route sends matching incidents to one channel. */
export function NotificationRoutes() {
  const routes = useRoutes();
  const channels = useChannels();
  const practices = usePractices();
  const remove = useDeleteRoute();
  const [adding, setAdding] = useState(false);
  if (routes.isPending || channels.isPending) return <Loading label="Loading routes…" />;
  if (routes.isError) return <ProblemMessage error={routes.error} />;
  if (channels.isError) return null; // the channels section above already says why
  const practiceName = (id: string | null) =>
    id === null ? "Every practice" : ((practices.data ?? []).find((p) => p.id === id)?.name ?? "A practice");
  const channelName = (id: string | null) => channels.data.find((c) => c.id === id)?.name ?? "a removed channel";
  return (
    <section aria-labelledby="routes-h">
      <h2 id="routes-h">Notification routes</h2>
      <p>Each route sends the incidents it matches to one channel. Incidents no route matches stay in the queue, and nobody is told.</p>
      {nothingNotified(routes.data, channels.data) && (
        <div className="problem" role="alert">
          <p>
            <strong>Incidents go nowhere.</strong>{" "}
            {channels.data.length === 0
              ? "Add a channel above: the first one gets a route for every practice and severity."
              : "No route that is on sends to a channel that is on. Add a route, or turn a route or its channel on."}
          </p>
        </div>
      )}
      {routes.data.length === 0 ? (
        <p className="section-gap">No routes yet.</p>
      ) : (
        <ul className="cards section-gap">
          {routes.data.map((r) => (
            <li key={r.id} className="card">
              <RouteCard
                route={r}
                channels={channels.data}
                title={`${practiceName(r.practice_id)} → ${channelName(r.channel_id)}`}
                escalation={r.escalation_channel_id === null ? null : `after ${r.escalate_after_minutes ?? "?"} min unacknowledged, ${channelName(r.escalation_channel_id)}`}
                onRemove={() => {
                  if (window.confirm(`Remove the route ${practiceName(r.practice_id)} → ${channelName(r.channel_id)}?`)) remove.mutate(r.id);
                }}
              />
            </li>
          ))}
        </ul>
      )}
      <ProblemMessage error={remove.error} />
      {channels.data.length > 0 &&
        (adding ? (
          <NewRoute channels={channels.data} onDone={() => setAdding(false)} />
        ) : (
          <button type="button" className="button section-gap" onClick={() => setAdding(true)}>
            Add a route
          </button>
        ))}
    </section>
  );
}

function RouteCard(props: { route: Route; channels: Channel[]; title: string; escalation: string | null; onRemove: () => void }) {
  const { route, channels, title, escalation, onRemove } = props;
  const [editing, setEditing] = useState(false);
  const update = useUpdateRoute(route.id);
  const gaps = routeGaps(route, channels);
  if (editing) {
    return (
      <RouteForm
        label={`Edit the route ${title}`}
        channels={channels}
        initial={route}
        mutation={update}
        submitLabel="Save route"
        onCancel={() => setEditing(false)}
        onSubmit={(body) => update.mutate(body, { onSuccess: () => setEditing(false) })}
      />
    );
  }
  return (
    <article aria-label={title}>
      <h3 className="card__title">{title}</h3>
      <p className="card__meta">
        {SEVERITY_CHOICES[route.min_severity as Severity] ?? route.min_severity}
        {route.include_low_urgency ? ", plan and inventory findings included" : ""}
        {escalation !== null ? `; escalates ${escalation}` : ""}
        {route.enabled ? "" : " · off"}
      </p>
      {gaps.map((g) => (
        <p key={g} className="field__error">
          <span aria-hidden="true">⚠ </span>
          {GAP_WORDS[g]}
        </p>
      ))}
      <div className="button-row">
        <button type="button" className="link-button" onClick={() => setEditing(true)}>
          Edit<span className="visually-hidden"> the route {title}</span>
        </button>
        <button type="button" className="link-button" onClick={onRemove}>
          Remove<span className="visually-hidden"> the route {title}</span>
        </button>
      </div>
    </article>
  );
}

function NewRoute({ channels, onDone }: { channels: Channel[]; onDone: () => void }) {
  const create = useCreateRoute();
  return (
    <RouteForm
      label="Add a route"
      channels={channels}
      initial={null}
      mutation={create}
      submitLabel="Add route"
      onCancel={onDone}
      onSubmit={(body) => create.mutate(body, { onSuccess: onDone })}
    />
  );
}

interface RouteFormProps {
  label: string;
  channels: Channel[];
  initial: Route | null;
  mutation: { error: Error | null; isPending: boolean };
  submitLabel: string;
  onSubmit: (body: RouteBody) => void;
  onCancel: () => void;
}

function RouteForm({ label, channels, initial, mutation, submitLabel, onSubmit, onCancel }: RouteFormProps) {
  const practices = usePractices();
  const [channelId, setChannelId] = useState(initial?.channel_id ?? channels[0]?.id ?? "");
  const [practiceId, setPracticeId] = useState(initial?.practice_id ?? "");
  const [severity, setSeverity] = useState<Severity>((initial?.min_severity as Severity | undefined) ?? "high");
  const [lowUrgency, setLowUrgency] = useState(initial?.include_low_urgency ?? false);
  const [escalateAfter, setEscalateAfter] = useState(initial?.escalate_after_minutes?.toString() ?? "");
  const [escalateTo, setEscalateTo] = useState(initial?.escalation_channel_id ?? "");
  const [enabled, setEnabled] = useState(initial?.enabled ?? true);
  const errors = mutation.error instanceof ApiProblem ? mutation.error.fieldErrors : {};
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit({
      channel_id: channelId,
      practice_id: practiceId === "" ? null : practiceId,
      min_severity: severity,
      include_low_urgency: lowUrgency,
      escalate_after_minutes: escalateAfter.trim() === "" ? null : Number(escalateAfter),
      escalation_channel_id: escalateTo === "" ? null : escalateTo,
      enabled,
    });
  };
  return (
    <form className="filters section-gap" aria-label={label} onSubmit={submit}>
      <SelectField label="Send to" name="channel_id" value={channelId} error={errors.channel_id} onChange={(e) => setChannelId(e.target.value)}>
        {channels.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
            {c.enabled ? "" : " (off)"}
          </option>
        ))}
      </SelectField>
      <SelectField label="Practice" name="practice_id" value={practiceId} error={errors.practice_id} onChange={(e) => setPracticeId(e.target.value)}>
        <option value="">Every practice</option>
        {(practices.data ?? []).map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </SelectField>
      <SelectField label="Severity" name="min_severity" value={severity} error={errors.min_severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
        {(Object.keys(SEVERITY_CHOICES) as Severity[]).map((s) => (
          <option key={s} value={s}>
            {SEVERITY_CHOICES[s]}
          </option>
        ))}
      </SelectField>
      <label className="checkbox checkbox--inline">
        <input type="checkbox" checked={lowUrgency} onChange={(e) => setLowUrgency(e.target.checked)} />
        Also plan and inventory findings (low urgency)
      </label>
      <TextField
        label="Escalate after (minutes unacknowledged)"
        name="escalate_after_minutes"
        type="number"
        min={1}
        max={10080}
        value={escalateAfter}
        error={errors.escalate_after_minutes}
        onChange={(e) => setEscalateAfter(e.target.value)}
      />
      <SelectField label="Escalate to" name="escalation_channel_id" value={escalateTo} error={errors.escalation_channel_id} onChange={(e) => setEscalateTo(e.target.value)}>
        <option value="">No escalation</option>
        {channels.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </SelectField>
      <label className="checkbox checkbox--inline">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        Route is on
      </label>
      <div className="button-row">
        <button type="submit" className="button button--primary" disabled={mutation.isPending}>
          {submitLabel}
        </button>
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ProblemMessage error={mutation.error} shownFields={FIELDS} />
    </form>
  );
}
