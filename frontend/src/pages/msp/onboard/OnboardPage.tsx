import { useState, type FormEvent } from "react";
import { Navigate, useParams } from "react-router";
import { useCreateEnrollmentToken } from "../../../api/agents";
import { useCreateSite, usePractice, useSites } from "../../../api/practices";
import { Loading } from "../../../components/Loading";
import { Page } from "../../../components/Page";
import { ProblemMessage } from "../../../components/ProblemMessage";
import { TextField } from "../../../components/TextField";
import { formatDateTime } from "../../../lib/format";
import { BackupsStep } from "./BackupsStep";
import { fieldError, SelectField, StepFooter } from "./fields";
import { LinksStep } from "./LinksStep";
import { StepList } from "./StepList";
import { isStep, STEPS, stepPath, type StepKey } from "./steps";
import { SystemsStep } from "./SystemsStep";

/** Onboarding of one practice, one step at a time (/practices/:id/onboard/:step). */
export default function OnboardPage() {
  const { practiceId = "", step } = useParams();
  const practice = usePractice(practiceId);
  if (!isStep(step)) return <Navigate to={stepPath(practiceId, "sites")} replace />;
  if (practice.isPending) return <Loading label="Loading the practice…" />;
  if (practice.isError) {
    return (
      <Page title="Set up a practice">
        <ProblemMessage error={practice.error} messages={{ 404: "This practice doesn't exist, or you don't have access to it." }} />
      </Page>
    );
  }
  const label = STEPS.find((s) => s.key === step)?.label ?? "";
  return (
    <Page title={`Set up ${practice.data.name}`} description={`Step ${STEPS.findIndex((s) => s.key === step) + 2} of ${STEPS.length + 1}: ${label}. Each save is kept; come back to any step later.`}>
      <StepList current={step} practiceId={practiceId} />
      <StepBody practiceId={practiceId} step={step} />
    </Page>
  );
}

function StepBody({ practiceId, step }: { practiceId: string; step: StepKey }) {
  switch (step) {
    case "sites":
      return <SitesStep practiceId={practiceId} />;
    case "systems":
      return <SystemsStep practiceId={practiceId} />;
    case "backups":
      return <BackupsStep practiceId={practiceId} />;
    case "links":
      return <LinksStep practiceId={practiceId} />;
    case "agent":
      return <AgentStep practiceId={practiceId} />;
  }
}

/** Saved items of a step, so the technician sees what a refresh or an earlier visit kept. */
export function SavedList({ title, items }: { title: string; items: readonly { id: string; text: string }[] }) {
  if (items.length === 0) return null;
  return (
    <section className="onboard__saved" aria-label={title}>
      <h3>{title}</h3>
      <ul className="plain-list">
        {items.map((i) => (
          <li key={i.id}>
            <span aria-hidden="true">✓ </span>
            {i.text}
          </li>
        ))}
      </ul>
    </section>
  );
}

function SitesStep({ practiceId }: { practiceId: string }) {
  const sites = useSites(practiceId);
  const create = useCreateSite(practiceId);
  const [name, setName] = useState("");
  const [address, setAddress] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { name: name.trim(), address: address.trim() || null },
      {
        onSuccess: () => {
          setName("");
          setAddress("");
        },
      },
    );
  };
  const saved = sites.data ?? [];
  return (
    <>
      <h2>Sites</h2>
      <p>Each office or clinic with its own internet connection is a site. Its agent and links belong to it.</p>
      <SavedList title="Sites saved" items={saved.map((s) => ({ id: s.id, text: s.address ? `${s.name}, ${s.address}` : s.name }))} />
      <form className="form onboard__form" onSubmit={submit} noValidate>
        <h3>{saved.length === 0 ? "Add the first site" : "Add another site"}</h3>
        <TextField label="Site name" name="name" value={name} onChange={(e) => setName(e.target.value)} error={fieldError(create.error, "name")} />
        <TextField
          label="Address (optional)"
          name="address"
          value={address}
          autoComplete="street-address"
          onChange={(e) => setAddress(e.target.value)}
          error={fieldError(create.error, "address")}
        />
        <ProblemMessage error={create.error} shownFields={["name", "address"]} />
        <div className="button-row">
          <button type="submit" className="button" disabled={create.isPending}>
            {create.isPending ? "Saving…" : "Save site"}
          </button>
        </div>
      </form>
      <StepFooter
        practiceId={practiceId}
        step="sites"
        done={saved.length > 0}
        blocked={sites.isSuccess && saved.length === 0 ? "Add at least one site: links and agents belong to a site." : undefined}
      />
    </>
  );
}

function AgentStep({ practiceId }: { practiceId: string }) {
  const sites = useSites(practiceId);
  const create = useCreateEnrollmentToken();
  const [siteId, setSiteId] = useState("");
  const chosen = siteId || sites.data?.[0]?.id || "";
  return (
    <>
      <h2>Enrol an agent</h2>
      <p>
        The agent is a small program on one computer at the site. It reports backups and tests the internet links, which
        is what the readiness score measures.
      </p>
      <form
        className="form onboard__form"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ practiceId, siteId: chosen });
        }}
      >
        <SelectField
          label="Site"
          name="site_id"
          value={chosen}
          options={(sites.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
          onChange={(v) => {
            setSiteId(v);
            create.reset();
          }}
        />
        <div className="button-row">
          <button type="submit" className="button" disabled={!chosen || create.isPending}>
            Get the install command
          </button>
        </div>
      </form>
      <ProblemMessage error={create.error} />
      {create.data && (
        <div className="notice" role="status">
          <p>
            Run one of these once on a computer at the site, as an administrator. It installs the agent and enrols it. It
            works once and expires {formatDateTime(create.data.expires_at)}; it is not shown again.
          </p>
          <Command title="Linux" command={create.data.install_command} hint="In a terminal, as root." />
          <Command title="Windows" command={create.data.install_command_windows} hint="In PowerShell, run as administrator." />
        </div>
      )}
      <StepFooter practiceId={practiceId} step="agent" done={create.isSuccess} />
    </>
  );
}

function Command({ title, command, hint }: { title: string; command: string; hint: string }) {
  return (
    <div className="onboard__command">
      <h3>{title}</h3>
      <p className="muted">{hint}</p>
      <pre className="command" tabIndex={0} aria-label={`Install and enrol command for ${title}`}>
        {command}
      </pre>
      <button type="button" className="button" onClick={() => void navigator.clipboard?.writeText(command)}>
        Copy the {title} command
      </button>
    </div>
  );
}
