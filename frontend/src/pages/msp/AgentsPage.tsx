import { useEffect, useId, useRef, useState } from "react";
import { useAgents, useCreateEnrollmentToken, useRevokeAgent, type Agent } from "../../api/agents";
import { usePractices, useSites } from "../../api/practices";
import { useAgentRefusals, useRefusalSummaries, type Refusal, type RefusalSummary } from "../../api/setAside";
import { useSignedInSession } from "../../auth/RequireSession";
import { can } from "../../auth/permissions";
import { EmptyState } from "../../components/EmptyState";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { TelemetryStallNotice } from "../../components/TelemetryStallNotice";
import { formatAgo, formatDateTime } from "../../lib/format";
import { eventWords, refusalWords } from "../../lib/telemetryWords";

/** The server says whether an agent is silent (heartbeat interval plus the alert policy's grace for
 * its site: the same rule as the agent-silent alert and the dead man's switch), so the page agrees.
 * An agent that enrolled and never reported is silent too once that time has passed since it
 * enrolled; until then it is only "never seen". */
export function agentState(agent: Pick<Agent, "revoked_at" | "last_seen_at" | "silent">) {
  if (agent.revoked_at) return "revoked" as const;
  if (!agent.last_seen_at) return agent.silent ? ("never reported" as const) : ("never seen" as const);
  return agent.silent ? ("silent" as const) : ("online" as const);
}

const STATE_ICONS = { online: "●", silent: "!", "never reported": "!", "never seen": "○", revoked: "✕" } as const;

export default function AgentsPage() {
  const agents = useAgents();
  const practices = usePractices();
  const names = new Map((practices.data ?? []).map((p) => [p.id, p.name]));
  const [inspected, setInspected] = useState<Agent | null>(null);
  const summaries = useRefusalSummaries();
  const refused = new Map((summaries.data ?? []).map((r) => [r.agent_id, r]));
  return (
    <Page title="Agents" description="The small program at each site that reports backups and internet links to Seawall.">
      <TelemetryStallNotice />
      <EnrolForm />
      <h2>Enrolled agents</h2>
      {agents.isPending ? (
        <Loading label="Loading agents…" />
      ) : agents.isError ? (
        <ProblemMessage error={agents.error} />
      ) : agents.data.length === 0 ? (
        <EmptyState title="No agents yet" nextStep="Enrol the first one above: pick a practice and a site, then run the command on a computer at that site." />
      ) : (
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Enrolled agents">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Computer</th>
                <th scope="col">Practice</th>
                <th scope="col">State</th>
                <th scope="col">Version</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {agents.data.map((a) => (
                <AgentRow
                  key={a.id}
                  agent={a}
                  practiceName={names.get(a.practice_id) ?? "—"}
                  refused={refused.get(a.id)}
                  onInspect={() => setInspected(a)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {inspected && <Refusals agent={inspected} onClose={() => setInspected(null)} />}
    </Page>
  );
}

interface AgentRowProps {
  agent: Agent;
  practiceName: string;
  refused: RefusalSummary | undefined;
  onInspect: () => void;
}

function AgentRow({ agent, practiceName, refused, onInspect }: AgentRowProps) {
  const revoke = useRevokeAgent();
  const { memberships } = useSignedInSession();
  const state = agentState(agent);
  return (
    <tr>
      <th scope="row">{agent.hostname || "unnamed computer"}</th>
      <td>{practiceName}</td>
      <td>
        <span aria-hidden="true">{STATE_ICONS[state]} </span>
        {state}
        <span className="table__sub">
          {agent.last_seen_at ? `last seen ${formatAgo(agent.last_seen_at)}` : `enrolled ${formatAgo(agent.created_at)}, nothing heard since`}
        </span>
        {refused && (
          <span className="table__sub">
            <span aria-hidden="true">! </span>
            {refused.batches} batch{refused.batches === 1 ? "" : "es"} refused, the last {formatAgo(refused.last_at)}
          </span>
        )}
      </td>
      <td>{agent.agent_version || "—"}</td>
      <td>
        <button type="button" className="link-button" onClick={onInspect}>
          Refused reports<span className="visually-hidden"> from {agent.hostname || "this computer"}</span>
        </button>{" "}
        {state !== "revoked" && can(memberships, "practice_operate") && (
          <button
            type="button"
            className="button"
            disabled={revoke.isPending}
            onClick={() => {
              if (window.confirm(`Revoke the agent on ${agent.hostname || "this computer"}? It stops reporting at once.`)) {
                revoke.mutate({ practiceId: agent.practice_id, agentId: agent.id });
              }
            }}
          >
            Revoke<span className="visually-hidden"> {agent.hostname}</span>
          </button>
        )}
        <ProblemMessage error={revoke.error} />
      </td>
    </tr>
  );
}

function EnrolForm() {
  const practices = usePractices();
  const [practiceId, setPracticeId] = useState("");
  const [siteId, setSiteId] = useState("");
  const sites = useSites(practiceId);
  const create = useCreateEnrollmentToken();
  const id = useId();
  return (
    <section className="actions-panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Enrol a site</h2>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ practiceId, siteId });
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-practice`}>Practice</label>
          <select
            id={`${id}-practice`}
            required
            value={practiceId}
            onChange={(e) => {
              setPracticeId(e.target.value);
              setSiteId("");
              create.reset();
            }}
          >
            <option value="">Choose a practice</option>
            {(practices.data ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-site`}>Site</label>
          <select id={`${id}-site`} required value={siteId} disabled={practiceId === ""} onChange={(e) => setSiteId(e.target.value)}>
            <option value="">{practiceId === "" ? "Choose a practice first" : "Choose a site"}</option>
            {(practiceId ? (sites.data ?? []) : []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button button--primary" disabled={!siteId || create.isPending}>
          Get the install command
        </button>
      </form>
      <ProblemMessage error={create.error} />
      {create.data && (
        <div className="notice" role="status">
          <p>
            Run this once on a computer at the site, as an administrator. It installs the agent and enrols it. The
            command works once and expires {formatDateTime(create.data.expires_at)}; it is not shown again.
          </p>
          <h3>Linux, as root</h3>
          <pre className="command" tabIndex={0} aria-label="Install and enrol command">
            {create.data.install_command}
          </pre>
          <button type="button" className="button" onClick={() => void navigator.clipboard?.writeText(create.data.install_command)}>
            Copy the command
          </button>
          <h3>Windows, in PowerShell as administrator</h3>
          <pre className="command" tabIndex={0} aria-label="Install and enrol command for Windows">
            {create.data.install_command_windows}
          </pre>
          <button type="button" className="button" onClick={() => void navigator.clipboard?.writeText(create.data.install_command_windows)}>
            Copy the Windows command
          </button>
        </div>
      )}
    </section>
  );
}

/** What Seawall refused from this agent lately: when, which report, what was wrong with it. */
function Refusals({ agent, onClose }: { agent: Agent; onClose: () => void }) {
  const refusals = useAgentRefusals(agent.practice_id, agent.id, true);
  const id = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  // Opened from a row of the table above: move there, so keyboard and screen reader users follow.
  useEffect(() => heading.current?.focus(), [agent.id]);
  const name = agent.hostname || "this computer";
  return (
    <section className="actions-panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`} tabIndex={-1} ref={heading}>
        Reports refused from {name}
      </h2>
      <p className="muted">
        When Seawall refuses a batch of reports, nothing of it is kept and the agent stops sending it. The last 50 refusals
        are listed here so you can fix their cause (usually a backup job or link name that does not match Seawall).
      </p>
      {refusals.isPending ? (
        <Loading label="Loading refused reports…" />
      ) : refusals.isError ? (
        <ProblemMessage error={refusals.error} />
      ) : refusals.data.length === 0 ? (
        <p>Nothing from {name} has been refused.</p>
      ) : (
        <ul className="incident-list">
          {refusals.data.map((r) => (
            <RefusalItem key={r.id} refusal={r} />
          ))}
        </ul>
      )}
      <button type="button" className="button" onClick={onClose}>
        Close
      </button>
    </section>
  );
}

const STATUS_WORDS: Record<number, string> = {
  413: "The batch was too large to accept",
  415: "The batch was not sent in a form Seawall reads",
  422: "Some reports in the batch were not valid, so none of it was kept",
};

function RefusalItem({ refusal }: { refusal: Refusal }) {
  return (
    <li className="incident">
      <p className="incident__title">{STATUS_WORDS[refusal.status] ?? "The batch was refused"}</p>
      <p className="incident__meta">
        {formatAgo(refusal.last_at)} ({formatDateTime(refusal.last_at)})
        {refusal.repeats > 1 ? ` · sent ${refusal.repeats} times, first ${formatAgo(refusal.first_at)}` : ""}
      </p>
      {refusal.errors.length > 0 && (
        <ul>
          {refusal.errors.map((e, i) => (
            <li key={i}>
              {e.event_index !== null && e.event_index !== undefined
                ? `${eventWords(e.event_type)} (report ${e.event_index + 1} of the batch): `
                : ""}
              {refusalWords(e.field, e.message)}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
