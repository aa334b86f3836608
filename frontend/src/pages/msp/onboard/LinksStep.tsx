import { useState, type FormEvent } from "react";
import { useCreateLink, useLinks, type LinkBody } from "../../../api/inventory";
import { useSites } from "../../../api/practices";
import { ProblemMessage } from "../../../components/ProblemMessage";
import { TextField } from "../../../components/TextField";
import { CheckboxField, fieldError, SelectField, StepFooter } from "./fields";
import { SavedList } from "./OnboardPage";

type Role = NonNullable<LinkBody["role"]>;
type Medium = NonNullable<LinkBody["medium"]>;

const ROLES: readonly { value: Role; label: string }[] = [
  { value: "primary", label: "Main connection" },
  { value: "backup", label: "Backup connection" },
  { value: "hotspot", label: "Hotspot (a phone or mobile router)" },
];

const MEDIA: readonly { value: Medium; label: string }[] = [
  { value: "fiber", label: "Fibre" },
  { value: "cable", label: "Cable" },
  { value: "dsl", label: "DSL" },
  { value: "5g_lte", label: "Cellular (5G or LTE)" },
  { value: "satellite", label: "Satellite" },
  { value: "fixed_wireless", label: "Fixed wireless" },
  { value: "other", label: "Other" },
];

interface Draft {
  site_id: string;
  name: string;
  role: Role;
  medium: Medium;
  isp: string;
  metered: boolean;
}

const EMPTY: Draft = { site_id: "", name: "", role: "primary", medium: "fiber", isp: "", metered: false };

export function LinksStep({ practiceId }: { practiceId: string }) {
  const links = useLinks(practiceId);
  const sites = useSites(practiceId);
  const create = useCreateLink(practiceId);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const siteId = draft.site_id || sites.data?.[0]?.id || "";
  const siteNames = new Map((sites.data ?? []).map((s) => [s.id, s.name]));
  const saved = links.data ?? [];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { site_id: siteId, name: draft.name.trim(), role: draft.role, medium: draft.medium, isp: draft.isp.trim(), metered: draft.metered },
      // The next link at the same site is usually its backup connection.
      { onSuccess: () => setDraft({ ...EMPTY, site_id: siteId, role: "backup", medium: "5g_lte" }) },
    );
  };
  const err = (field: string) => fieldError(create.error, field);
  return (
    <>
      <h2>Internet links</h2>
      <p>Each internet connection at a site. A backup connection keeps the practice online when the main one fails.</p>
      <SavedList
        title="Links saved"
        items={saved.map((l) => ({
          id: l.id,
          text: `${l.name} at ${siteNames.get(l.site_id) ?? "a site"}: ${ROLES.find((r) => r.value === l.role)?.label.split(" (")[0] ?? l.role}${l.isp ? `, ${l.isp}` : ""}`,
        }))}
      />
      <form className="form onboard__form" onSubmit={submit} noValidate aria-labelledby="link-form-h">
        <h3 id="link-form-h">Add an internet link</h3>
        <SelectField label="Site" name="site_id" value={siteId} options={(sites.data ?? []).map((s) => ({ value: s.id, label: s.name }))} onChange={(v) => set("site_id", v)} error={err("site_id")} />
        <TextField label="Link name" name="name" value={draft.name} onChange={(e) => set("name", e.target.value)} hint="As the agent will name it, e.g. “Main fibre”." error={err("name")} />
        <SelectField label="Role" name="role" value={draft.role} options={ROLES} onChange={(v) => set("role", v)} error={err("role")} />
        <SelectField label="Kind of connection" name="medium" value={draft.medium} options={MEDIA} onChange={(v) => set("medium", v)} error={err("medium")} />
        <TextField label="Internet provider (optional)" name="isp" value={draft.isp} onChange={(e) => set("isp", e.target.value)} error={err("isp")} />
        <CheckboxField label="Metered (charged by the amount of data used, as most cellular plans are)" name="metered" checked={draft.metered} onChange={(v) => set("metered", v)} error={err("metered")} />
        <ProblemMessage error={create.error} shownFields={["site_id", "name", "role", "medium", "isp", "metered"]} />
        <div className="button-row">
          <button type="submit" className="button" disabled={create.isPending || !siteId}>
            {create.isPending ? "Saving…" : "Save link"}
          </button>
        </div>
      </form>
      <StepFooter practiceId={practiceId} step="links" done={saved.length > 0} />
    </>
  );
}
