// The onboarding steps in order. The step is in the URL, so a refresh (or a colleague with the
// link) resumes where the technician was; everything a step saved is read back from the API.
export const STEPS = [
  { key: "sites", label: "Sites" },
  { key: "systems", label: "Critical systems" },
  { key: "backups", label: "Backup jobs" },
  { key: "links", label: "Internet links" },
  { key: "agent", label: "Enrol an agent" },
] as const;

export type StepKey = (typeof STEPS)[number]["key"];

export function isStep(value: string | undefined): value is StepKey {
  return STEPS.some((s) => s.key === value);
}

export function stepPath(practiceId: string, step: StepKey): string {
  return `/practices/${practiceId}/onboard/${step}`;
}
