import { useState, type FormEvent } from "react";
import { useCreateSystem, useSystems, type SystemBody } from "../../../api/inventory";
import { ProblemMessage } from "../../../components/ProblemMessage";
import { TextField } from "../../../components/TextField";
import { formatMinutes } from "../../../lib/format";
import { CheckboxField, fieldError, SelectField, StepFooter } from "./fields";
import { SavedList } from "./OnboardPage";
import { STARTER_SYSTEMS, type StarterSystem } from "./starterSystems";

type Category = SystemBody["category"] & string;

export const CATEGORY_OPTIONS: readonly { value: Category; label: string }[] = [
  { value: "ehr", label: "Health record (EHR)" },
  { value: "practice_management", label: "Practice management and billing" },
  { value: "scheduling", label: "Scheduling and booking" },
  { value: "imaging", label: "Imaging" },
  { value: "e_prescribing", label: "E-prescribing" },
  { value: "phones", label: "Phones" },
  { value: "iot", label: "Monitors and devices" },
  { value: "endpoints", label: "Laptops, tablets and phones" },
  { value: "network", label: "Network" },
  { value: "other", label: "Other" },
];

const TIER_OPTIONS = [
  { value: "1", label: "1: cannot work without it" },
  { value: "2", label: "2: needed the same day" },
  { value: "3", label: "3: needed within days" },
  { value: "4", label: "4: can wait" },
] as const;

interface Draft {
  name: string;
  category: Category;
  tier: string;
  holds_ephi: boolean;
  rto: string;
  rpo: string;
  mtd: string;
  requires_onsite_copy: boolean;
  requires_offsite_copy: boolean;
  depends_on: string[];
}

const EMPTY: Draft = { name: "", category: "other", tier: "2", holds_ephi: false, rto: "", rpo: "", mtd: "", requires_onsite_copy: true, requires_offsite_copy: true, depends_on: [] };

function fromStarter(s: StarterSystem): Draft {
  return { ...EMPTY, name: s.name, category: s.category as Category, tier: String(s.tier), holds_ephi: s.holds_ephi, rto: String(s.rto_minutes), rpo: String(s.rpo_minutes), mtd: String(s.mtd_minutes), requires_onsite_copy: s.requires_onsite_copy, requires_offsite_copy: s.requires_offsite_copy };
}

/** Minutes typed in the form; "" and words are NaN, which the API then names at the field. */
function minutes(value: string): number {
  return value.trim() === "" ? Number.NaN : Number(value);
}

/** Said at the RTO field while typing, before the API would refuse it. */
export function rtoProblem(rto: string, mtd: string): string | undefined {
  const r = minutes(rto);
  const m = minutes(mtd);
  return Number.isFinite(r) && Number.isFinite(m) && r > m
    ? `The time to recover (${formatMinutes(r)}) must not be longer than the longest the practice can be without it (${formatMinutes(m)}).`
    : undefined;
}

function durationHint(value: string, words: string) {
  const n = minutes(value);
  return Number.isFinite(n) && n >= 0 ? `${words} In minutes: ${formatMinutes(n)}.` : `${words} In minutes.`;
}

export function SystemsStep({ practiceId }: { practiceId: string }) {
  const systems = useSystems(practiceId);
  const create = useCreateSystem(practiceId);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const saved = systems.data ?? [];
  const savedNames = new Set(saved.map((s) => s.name));
  const rtoClash = rtoProblem(draft.rto, draft.mtd);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (rtoClash) return;
    create.mutate(
      {
        name: draft.name.trim(),
        category: draft.category,
        tier: Number(draft.tier),
        holds_ephi: draft.holds_ephi,
        // NaN goes out as null, which the API refuses at the field with its own words.
        rto_minutes: minutes(draft.rto),
        rpo_minutes: minutes(draft.rpo),
        mtd_minutes: minutes(draft.mtd),
        requires_onsite_copy: draft.requires_onsite_copy,
        requires_offsite_copy: draft.requires_offsite_copy,
        depends_on: draft.depends_on,
      },
      { onSuccess: () => setDraft(EMPTY) },
    );
  };
  const err = (field: string) => fieldError(create.error, field);
  return (
    <>
      <h2>Critical systems</h2>
      <p>The systems the practice needs to see patients, and how quickly each must be back. Pick from the usual ones or add your own.</p>
      <SavedList title="Systems saved" items={saved.map((s) => ({ id: s.id, text: `${s.name} (tier ${s.tier}, back within ${formatMinutes(s.rto_minutes)})` }))} />
      <section aria-labelledby="starter-h">
        <h3 id="starter-h">Usual systems of a healthcare practice</h3>
        <ul className="onboard__starters">
          {STARTER_SYSTEMS.map((s) => (
            <li key={s.name} className="card">
              <p className="card__title">{s.name}</p>
              <p className="card__meta">{s.why}</p>
              {savedNames.has(s.name) ? (
                <p className="muted">Saved</p>
              ) : (
                <button type="button" className="button" onClick={() => setDraft(fromStarter(s))}>
                  Use <span className="visually-hidden">{s.name}</span>
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>
      <form className="form onboard__form" onSubmit={submit} noValidate aria-labelledby="system-form-h">
        <h3 id="system-form-h">Add a system</h3>
        <TextField label="System name" name="name" value={draft.name} onChange={(e) => set("name", e.target.value)} error={err("name")} />
        <SelectField label="Kind of system" name="category" value={draft.category} options={CATEGORY_OPTIONS} onChange={(v) => set("category", v)} error={err("category")} />
        <SelectField label="How critical" name="tier" value={draft.tier} options={TIER_OPTIONS} onChange={(v) => set("tier", v)} error={err("tier")} />
        <CheckboxField label="Holds patient health information (ePHI)" name="holds_ephi" checked={draft.holds_ephi} onChange={(v) => set("holds_ephi", v)} error={err("holds_ephi")} />
        <div className="onboard__targets">
          <TextField
            label="Time to recover (RTO)"
            name="rto_minutes"
            inputMode="numeric"
            value={draft.rto}
            onChange={(e) => set("rto", e.target.value)}
            hint={durationHint(draft.rto, "How long getting it back may take; no longer than the maximum downtime.")}
            error={rtoClash ?? err("rto_minutes")}
          />
          <TextField
            label="Data that may be lost (RPO)"
            name="rpo_minutes"
            inputMode="numeric"
            value={draft.rpo}
            onChange={(e) => set("rpo", e.target.value)}
            hint={durationHint(draft.rpo, "How old the newest backup may be.")}
            error={err("rpo_minutes")}
          />
          <TextField
            label="Maximum downtime (MTD)"
            name="mtd_minutes"
            inputMode="numeric"
            value={draft.mtd}
            onChange={(e) => set("mtd", e.target.value)}
            hint={durationHint(draft.mtd, "The longest the practice can be without it.")}
            error={err("mtd_minutes")}
          />
        </div>
        <CheckboxField label="Needs a copy at the practice (on-site)" name="requires_onsite_copy" checked={draft.requires_onsite_copy} onChange={(v) => set("requires_onsite_copy", v)} />
        <CheckboxField label="Needs a copy away from the practice (off-site or cloud)" name="requires_offsite_copy" checked={draft.requires_offsite_copy} onChange={(v) => set("requires_offsite_copy", v)} />
        {saved.length > 0 && (
          <fieldset className="onboard__choices">
            <legend>Depends on (optional)</legend>
            {saved.map((s) => (
              <CheckboxField
                key={s.id}
                label={s.name}
                name="depends_on"
                checked={draft.depends_on.includes(s.id)}
                onChange={(on) => set("depends_on", on ? [...draft.depends_on, s.id] : draft.depends_on.filter((x) => x !== s.id))}
              />
            ))}
            {err("depends_on") && <p className="field__error">{err("depends_on")}</p>}
          </fieldset>
        )}
        <ProblemMessage
          error={create.error}
          shownFields={["name", "category", "tier", "holds_ephi", "rto_minutes", "rpo_minutes", "mtd_minutes", "depends_on"]}
        />
        <div className="button-row">
          <button type="submit" className="button" disabled={create.isPending}>
            {create.isPending ? "Saving…" : "Save system"}
          </button>
        </div>
      </form>
      <StepFooter practiceId={practiceId} step="systems" done={saved.length > 0} />
    </>
  );
}
