import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { useCreatePractice } from "../../../api/practices";
import { Page } from "../../../components/Page";
import { ProblemMessage } from "../../../components/ProblemMessage";
import { TextField } from "../../../components/TextField";
import { fieldError, SelectField } from "./fields";
import { StepList } from "./StepList";
import { stepPath } from "./steps";

// US zones in words first (most practices are there); the viewer's own zone is added when it is
// not one of them, so a practice abroad is one click too.
const US_ZONES = [
  { value: "America/New_York", label: "Eastern time (New York)" },
  { value: "America/Chicago", label: "Central time (Chicago)" },
  { value: "America/Denver", label: "Mountain time (Denver)" },
  { value: "America/Phoenix", label: "Mountain time without daylight saving (Phoenix)" },
  { value: "America/Los_Angeles", label: "Pacific time (Los Angeles)" },
  { value: "America/Anchorage", label: "Alaska time (Anchorage)" },
  { value: "Pacific/Honolulu", label: "Hawaii time (Honolulu)" },
] as const;

export function timeZoneOptions(viewerZone: string = Intl.DateTimeFormat().resolvedOptions().timeZone) {
  const known = US_ZONES.some((z) => z.value === viewerZone);
  return known || !viewerZone ? [...US_ZONES] : [...US_ZONES, { value: viewerZone, label: `Your time zone (${viewerZone.replace(/_/g, " ")})` }];
}

/** Step one of onboarding: the practice itself. Saving it opens the next step for that practice. */
export default function NewPracticePage() {
  const create = useCreatePractice();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [timezone, setTimezone] = useState<string>("America/New_York");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { name: name.trim(), timezone },
      { onSuccess: (practice) => void navigate(stepPath(practice.id, "sites")) },
    );
  };
  return (
    <Page title="Add a practice" description="Set up a client in a few steps. Each step is saved as you go.">
      <StepList current="practice" />
      <form className="form onboard__form" onSubmit={submit} noValidate>
        <h2>The practice</h2>
        <TextField
          label="Practice name"
          name="name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoComplete="organization"
          error={fieldError(create.error, "name")}
        />
        <SelectField
          label="Time zone"
          name="timezone"
          value={timezone}
          options={timeZoneOptions()}
          onChange={setTimezone}
          hint="Reports, maintenance windows and plan dates use the practice's local time."
          error={fieldError(create.error, "timezone")}
        />
        <ProblemMessage error={create.error} shownFields={["name", "timezone"]} />
        <div className="button-row">
          <button type="submit" className="button button--primary" disabled={create.isPending}>
            {create.isPending ? "Saving…" : "Save and continue"}
          </button>
        </div>
      </form>
    </Page>
  );
}
