import { useId, useState } from "react";
import {
  exportUrl,
  useAcknowledgePlan,
  useCreateDraft,
  useCreatePlan,
  usePlan,
  usePlanFindings,
  usePlanRoles,
  usePlanVersion,
  usePlanVersions,
  useVersionAction,
  type Plan,
  type PlanVersion,
  type RoleAssignment,
  type VersionAction,
} from "../../api/plans";
import { useSignedInSession } from "../../auth/RequireSession";
import { can } from "../../auth/permissions";
import { EmptyState } from "../../components/EmptyState";
import { FindingList } from "../../components/FindingList";
import { Loading } from "../../components/Loading";
import { ProblemMessage } from "../../components/ProblemMessage";
import { formatDate, formatDateTime, humanize } from "../../lib/format";
import { usePracticeId } from "../../practice/PracticeContext";
import { PlanCompare } from "./PlanDiffView";
import { PlanSections } from "./PlanSections";

const STATUS_WORDS: Record<string, string> = {
  draft: "Draft",
  in_review: "Waiting for approval",
  approved: "Approved, in force",
  superseded: "Superseded",
};

/** The practice's continuity plan: read it, edit the draft, review, approve, acknowledge, export. */
export function PlanView() {
  const practiceId = usePracticeId();
  const { memberships } = useSignedInSession();
  const plan = usePlan(practiceId);
  const create = useCreatePlan(practiceId);
  if (plan.isPending) return <Loading label="Loading the plan…" />;
  if (plan.isError) return <ProblemMessage error={plan.error} />;
  if (plan.data === null) {
    const mayStart = can(memberships, "practice_operate", practiceId);
    return (
      <EmptyState
        title="No plan yet"
        nextStep={
          mayStart
            ? "Start the plan from the built-in template; it opens as a draft you can fill in section by section."
            : "Your MSP writes the first draft of the plan. Ask them to start it; you will approve it here."
        }
        action={
          mayStart && (
            <>
              <button type="button" className="button button--primary" disabled={create.isPending} onClick={() => create.mutate(undefined)}>
                Start the plan
              </button>
              <ProblemMessage error={create.error} />
            </>
          )
        }
      />
    );
  }
  return <PlanBody plan={plan.data} practiceId={practiceId} />;
}

function PlanBody({ plan, practiceId }: { plan: Plan; practiceId: string }) {
  const { memberships, user } = useSignedInSession();
  const versions = usePlanVersions(practiceId, true);
  const roles = usePlanRoles(practiceId, true);
  const findings = usePlanFindings(practiceId);
  const defaultVersion = plan.working_version?.id ?? plan.current_version?.id;
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const selectedId = chosen ?? defaultVersion;
  const version = usePlanVersion(practiceId, selectedId);
  const newDraft = useCreateDraft(practiceId);
  const id = useId();
  const mayOperate = can(memberships, "practice_operate", practiceId);
  const myRoles = (roles.data ?? []).filter((r) => r.user_id === user.id);

  return (
    <>
      <dl className="details">
        <dt>In force</dt>
        <dd>
          {plan.current_version ? (
            <>
              Version {plan.current_version.number}, approved {formatDate(plan.current_version.approved_at)} by{" "}
              {plan.current_version.approved_by_label}
              {plan.current_version.next_review_date && <>; next review by {formatDate(plan.current_version.next_review_date)}</>}
            </>
          ) : (
            "No version approved yet"
          )}
        </dd>
        <dt>Being worked on</dt>
        <dd>
          {plan.working_version
            ? `Version ${plan.working_version.number}: ${STATUS_WORDS[plan.working_version.status] ?? plan.working_version.status}`
            : "Nothing"}
        </dd>
        <dt>Template</dt>
        <dd>{plan.template_name}</dd>
      </dl>

      {plan.current_version && myRoles.length > 0 && (
        <MyRoles practiceId={practiceId} roles={myRoles} versionNumber={plan.current_version.number} />
      )}

      {mayOperate && !plan.working_version && plan.current_version && (
        <div className="button-row section-gap">
          <button type="button" className="button" disabled={newDraft.isPending} onClick={() => newDraft.mutate(undefined, { onSuccess: (v) => setChosen(v.id) })}>
            Start a new draft from version {plan.current_version.number}
          </button>
          <ProblemMessage error={newDraft.error} />
        </div>
      )}

      <h2>What the plan checks found</h2>
      {findings.isPending ? (
        <Loading label="Checking the plan…" />
      ) : findings.isError ? (
        <ProblemMessage error={findings.error} />
      ) : (
        <FindingList findings={findings.data} empty={<p>The plan checks found nothing to fix.</p>} />
      )}

      <h2 id={`${id}-versions`}>The plan</h2>
      {versions.data && versions.data.length > 1 && (
        <div className="field section-gap">
          <label htmlFor={`${id}-pick`}>Show version</label>
          <select id={`${id}-pick`} value={selectedId} onChange={(e) => setChosen(e.target.value)}>
            {versions.data.map((v) => (
              <option key={v.id} value={v.id}>
                Version {v.number}: {STATUS_WORDS[v.status] ?? v.status}
              </option>
            ))}
          </select>
        </div>
      )}
      {version.isPending ? (
        <Loading label="Loading the version…" />
      ) : version.isError ? (
        <ProblemMessage error={version.error} />
      ) : (
        <VersionPanel practiceId={practiceId} version={version.data} />
      )}

      {versions.data && versions.data.length > 1 && <PlanCompare practiceId={practiceId} versions={versions.data} />}

      <h2>Roles in a disaster</h2>
      {roles.isPending ? (
        <Loading label="Loading roles…" />
      ) : roles.isError ? (
        <ProblemMessage error={roles.error} />
      ) : roles.data.length === 0 ? (
        <p>Nobody has a role yet. Your MSP assigns roles (who calls whom, who restores what) to the practice's people.</p>
      ) : (
        <ul className="plain-list">
          {roles.data.map((r) => (
            <li key={r.id}>
              <strong>{r.role_name}</strong>: {r.user_name}
              {r.duties && <> · {r.duties}</>} ·{" "}
              {r.acknowledged_at ? `acknowledged ${formatDate(r.acknowledged_at)}` : "not acknowledged yet"}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function MyRoles({ practiceId, roles, versionNumber }: { practiceId: string; roles: RoleAssignment[]; versionNumber: number }) {
  const acknowledge = useAcknowledgePlan(practiceId);
  const { memberships } = useSignedInSession();
  const pending = roles.some((r) => r.acknowledged_at === null);
  const names = roles.map((r) => r.role_name).join(", ");
  return (
    <section className="notice section-gap" aria-label="Your role">
      <p>
        Your role in the plan: <strong>{names}</strong>.{" "}
        {pending
          ? `Read version ${versionNumber}, then confirm you know what to do.`
          : `You acknowledged version ${versionNumber}. Thank you.`}
      </p>
      {pending && can(memberships, "plan_acknowledge", practiceId) && (
        <div className="button-row">
          <button type="button" className="button button--primary" disabled={acknowledge.isPending} onClick={() => acknowledge.mutate(undefined)}>
            I have read the plan and accept my role
          </button>
        </div>
      )}
      {acknowledge.isSuccess && <p role="status">Thank you: your acknowledgement is recorded.</p>}
      <ProblemMessage error={acknowledge.error} />
    </section>
  );
}

function VersionPanel({ practiceId, version }: { practiceId: string; version: PlanVersion }) {
  const { memberships } = useSignedInSession();
  const action = useVersionAction(practiceId, version.id);
  const mayOperate = can(memberships, "practice_operate", practiceId);
  const mayApprove = can(memberships, "plan_approve", practiceId);
  const buttons: { action: VersionAction; label: string; primary?: boolean }[] = [];
  if (version.status === "draft" && mayOperate) buttons.push({ action: "submit", label: "Submit for approval", primary: true });
  if (version.status === "in_review" && mayApprove) buttons.push({ action: "approve", label: "Approve this version", primary: true });
  if (version.status === "in_review" && mayApprove) buttons.push({ action: "return", label: "Send back for changes" });
  if (version.status === "in_review" && mayOperate) buttons.push({ action: "withdraw", label: "Withdraw to keep editing" });
  const incomplete = version.sections.filter((s) => s.required && !s.complete).length;
  return (
    <article className="card" aria-label={`Version ${version.number}`}>
      <h3 className="card__title">
        Version {version.number}: {STATUS_WORDS[version.status] ?? humanize(version.status)}
      </h3>
      <p className="card__meta">
        Created {formatDateTime(version.created_at)} by {version.created_by_label}
        {version.submitted_at && <>; submitted {formatDateTime(version.submitted_at)} by {version.submitted_by_label}</>}
        {version.approved_at && (
          <>
            ; approved {formatDateTime(version.approved_at)} by {version.approved_by_label}
            {version.approved_on_behalf && " on the practice's behalf"}
          </>
        )}
      </p>
      {incomplete > 0 && (
        <p className="notice">
          {incomplete} required section{incomplete === 1 ? "" : "s"} still need{incomplete === 1 ? "s" : ""} writing.
        </p>
      )}
      <div className="button-row section-gap">
        {buttons.map((b) => (
          <button
            key={b.action}
            type="button"
            className={b.primary ? "button button--primary" : "button"}
            disabled={action.isPending}
            onClick={() => action.mutate(b.action)}
          >
            {b.label}
          </button>
        ))}
        <a className="button" href={exportUrl(practiceId, version.id, "pdf")} download>
          Download PDF
        </a>
        <a className="button" href={exportUrl(practiceId, version.id, "html")} download>
          Download offline HTML
        </a>
      </div>
      {action.isSuccess && (
        <p role="status" className="section-gap">
          Done: version {action.data.number} is now {(STATUS_WORDS[action.data.status] ?? action.data.status).toLowerCase()}.
        </p>
      )}
      <ProblemMessage error={action.error} />
      <PlanSections practiceId={practiceId} versionId={version.id} sections={version.sections} editable={version.status === "draft" && mayOperate} />
    </article>
  );
}
