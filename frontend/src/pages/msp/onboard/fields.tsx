// Small form pieces the onboarding steps share: a labelled select and checkbox with their error
// tied to them, the API's field errors read by name, and the footer that moves between steps.
import { useId, type ReactNode } from "react";
import { Link } from "react-router";
import { ApiProblem } from "../../../api/problem";
import { STEPS, stepPath, type StepKey } from "./steps";

/** The API's message for one field (e.g. "rto_minutes"), already in plain words, or nothing. */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiProblem ? error.fieldErrors[field] : undefined;
}

interface SelectFieldProps<V extends string> {
  label: string;
  name: string;
  value: V;
  options: readonly { value: V; label: string }[];
  onChange: (value: V) => void;
  hint?: ReactNode;
  error?: string | undefined;
}

export function SelectField<V extends string>({ label, name, value, options, onChange, hint, error }: SelectFieldProps<V>) {
  const id = useId();
  const describedBy = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className={error ? "field field--invalid" : "field"}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={`${id}-hint`} className="field__hint">
          {hint}
        </p>
      )}
      <select
        id={id}
        name={name}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        onChange={(e) => onChange(e.target.value as V)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {error && (
        <p id={`${id}-error`} className="field__error">
          <span aria-hidden="true">⚠ </span>
          {error}
        </p>
      )}
    </div>
  );
}

interface CheckboxFieldProps {
  label: string;
  name: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  error?: string | undefined;
}

export function CheckboxField({ label, name, checked, onChange, error }: CheckboxFieldProps) {
  const id = useId();
  return (
    <div className={error ? "field field--invalid" : "field"}>
      <div className="checkbox checkbox--tight">
        <input
          id={id}
          name={name}
          type="checkbox"
          checked={checked}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          onChange={(e) => onChange(e.target.checked)}
        />
        <label htmlFor={id}>{label}</label>
      </div>
      {error && (
        <p id={`${id}-error`} className="field__error">
          <span aria-hidden="true">⚠ </span>
          {error}
        </p>
      )}
    </div>
  );
}

interface StepFooterProps {
  practiceId: string;
  step: StepKey;
  /** Something was saved in this step: the way on reads "Next", otherwise "Skip". */
  done: boolean;
  /** Why the way on is closed (a step later ones need, with nothing saved yet). */
  blocked?: string;
}

/** Back, and on to the next step; the step's own saves already happened, so leaving loses nothing. */
export function StepFooter({ practiceId, step, done, blocked }: StepFooterProps) {
  const index = STEPS.findIndex((s) => s.key === step);
  const previous = STEPS[index - 1];
  const next = STEPS[index + 1];
  return (
    <div className="button-row onboard__footer">
      {previous && (
        <Link className="button" to={stepPath(practiceId, previous.key)}>
          Back
        </Link>
      )}
      {blocked ? (
        <p className="muted">{blocked}</p>
      ) : next ? (
        <Link className="button button--primary" to={stepPath(practiceId, next.key)}>
          {done ? `Next: ${next.label}` : `Skip to ${next.label}`}
        </Link>
      ) : (
        <Link className="button button--primary" to={`/practices/${practiceId}/readiness`}>
          Finish: see the readiness score
        </Link>
      )}
    </div>
  );
}
