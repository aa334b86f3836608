import { useState, type FormEvent } from "react";
import { useBackupJobs, useCreateBackupJob, useSystems, type BackupJobBody } from "../../../api/inventory";
import { useSites } from "../../../api/practices";
import { ProblemMessage } from "../../../components/ProblemMessage";
import { TextField } from "../../../components/TextField";
import { CheckboxField, fieldError, SelectField, StepFooter } from "./fields";
import { SavedList } from "./OnboardPage";

type Location = BackupJobBody["location"];
type Tool = NonNullable<BackupJobBody["tool"]>;

const LOCATIONS: readonly { value: Location; label: string }[] = [
  { value: "onsite", label: "On-site (a NAS or server at the practice)" },
  { value: "offsite", label: "Off-site (another building or data centre)" },
  { value: "cloud", label: "Cloud (counts as off-site)" },
];

const TOOLS: readonly { value: Tool; label: string }[] = [
  { value: "veeam", label: "Veeam" },
  { value: "datto", label: "Datto" },
  { value: "acronis", label: "Acronis" },
  { value: "restic", label: "restic" },
  { value: "borg", label: "Borg" },
  { value: "windows_server_backup", label: "Windows Server Backup" },
  { value: "other", label: "Other" },
];

interface Draft {
  name: string;
  location: Location;
  tool: Tool;
  encrypted: boolean;
  immutable: boolean;
  provider: string;
  baa_on_file: boolean;
  site_id: string;
  system_ids: string[];
}

const EMPTY: Draft = { name: "", location: "onsite", tool: "other", encrypted: true, immutable: false, provider: "", baa_on_file: false, site_id: "", system_ids: [] };
const NO_SITE = "none";

export function BackupsStep({ practiceId }: { practiceId: string }) {
  const jobs = useBackupJobs(practiceId);
  const systems = useSystems(practiceId);
  const sites = useSites(practiceId);
  const create = useCreateBackupJob(practiceId);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  // Until chosen, the job is reported by the first site's agent: the usual case of a one-site practice.
  const siteId = draft.site_id || sites.data?.[0]?.id || NO_SITE;
  const saved = jobs.data ?? [];
  const names = new Map((systems.data ?? []).map((s) => [s.id, s.name]));
  const offPremises = draft.location !== "onsite";
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      {
        name: draft.name.trim(),
        location: draft.location,
        tool: draft.tool,
        encrypted: draft.encrypted,
        immutable: draft.immutable,
        provider: offPremises ? draft.provider.trim() : "",
        baa_on_file: offPremises && draft.baa_on_file,
        site_id: siteId === NO_SITE ? null : siteId,
        system_ids: draft.system_ids,
      },
      { onSuccess: () => setDraft(EMPTY) },
    );
  };
  const err = (field: string) => fieldError(create.error, field);
  return (
    <>
      <h2>Backup jobs</h2>
      <p>Each job that copies the practice's data: where the copy goes, with which tool, and which systems it protects.</p>
      <SavedList
        title="Backup jobs saved"
        items={saved.map((j) => ({
          id: j.id,
          text: `${j.name}: ${LOCATIONS.find((l) => l.value === j.location)?.label.split(" (")[0] ?? j.location}, protects ${
            j.system_ids.map((id) => names.get(id)).filter(Boolean).join(", ") || "no system yet"
          }`,
        }))}
      />
      <form className="form onboard__form" onSubmit={submit} noValidate aria-labelledby="job-form-h">
        <h3 id="job-form-h">Add a backup job</h3>
        <TextField label="Job name" name="name" value={draft.name} onChange={(e) => set("name", e.target.value)} hint="As the backup tool names it, so the agent's reports match." error={err("name")} />
        <SelectField label="Where the copy is kept" name="location" value={draft.location} options={LOCATIONS} onChange={(v) => set("location", v)} error={err("location")} />
        <SelectField label="Backup tool" name="tool" value={draft.tool} options={TOOLS} onChange={(v) => set("tool", v)} error={err("tool")} />
        <CheckboxField label="Copies are encrypted" name="encrypted" checked={draft.encrypted} onChange={(v) => set("encrypted", v)} error={err("encrypted")} />
        <CheckboxField label="Copies are immutable (cannot be changed or deleted, e.g. by ransomware)" name="immutable" checked={draft.immutable} onChange={(v) => set("immutable", v)} error={err("immutable")} />
        {offPremises && (
          <>
            <TextField label="Storage provider" name="provider" value={draft.provider} onChange={(e) => set("provider", e.target.value)} hint="Who holds the copy, e.g. Backblaze or Wasabi." error={err("provider")} />
            <CheckboxField label="A business associate agreement (BAA) with the provider is on file" name="baa_on_file" checked={draft.baa_on_file} onChange={(v) => set("baa_on_file", v)} error={err("baa_on_file")} />
          </>
        )}
        <SelectField
          label="Reported by the agent at"
          name="site_id"
          value={siteId}
          options={[...(sites.data ?? []).map((s) => ({ value: s.id, label: s.name })), { value: NO_SITE, label: "No agent (the tool calls its ping address)" }]}
          onChange={(v) => set("site_id", v)}
          error={err("site_id")}
        />
        <fieldset className="onboard__choices">
          <legend>Systems it protects</legend>
          {(systems.data ?? []).length === 0 && <p className="muted">No systems yet: add them in the previous step, or link them later.</p>}
          {(systems.data ?? []).map((s) => (
            <CheckboxField
              key={s.id}
              label={s.name}
              name="system_ids"
              checked={draft.system_ids.includes(s.id)}
              onChange={(on) => set("system_ids", on ? [...draft.system_ids, s.id] : draft.system_ids.filter((x) => x !== s.id))}
            />
          ))}
          {err("system_ids") && <p className="field__error">{err("system_ids")}</p>}
        </fieldset>
        <ProblemMessage error={create.error} shownFields={["name", "location", "tool", "encrypted", "immutable", "provider", "baa_on_file", "site_id", "system_ids"]} />
        <div className="button-row">
          <button type="submit" className="button" disabled={create.isPending}>
            {create.isPending ? "Saving…" : "Save backup job"}
          </button>
        </div>
      </form>
      <StepFooter practiceId={practiceId} step="backups" done={saved.length > 0} />
    </>
  );
}
