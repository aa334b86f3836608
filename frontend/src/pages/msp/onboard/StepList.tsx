import { Link } from "react-router";
import { STEPS, stepPath, type StepKey } from "./steps";

/** Where the technician is in onboarding; once the practice exists, every step can be opened. */
export function StepList({ current, practiceId }: { current: StepKey | "practice"; practiceId?: string }) {
  const all = [{ key: "practice" as const, label: "Practice" }, ...STEPS];
  return (
    <nav aria-label="Onboarding steps">
      <ol className="onboard__steps">
        {all.map((s, i) => {
          const here = s.key === current;
          const text = `${i + 1}. ${s.label}`;
          return (
            <li key={s.key} className={here ? "onboard__step onboard__step--current" : "onboard__step"}>
              {here ? (
                <span aria-current="step">{text}</span>
              ) : practiceId && s.key !== "practice" ? (
                <Link to={stepPath(practiceId, s.key)}>{text}</Link>
              ) : (
                <span>{text}</span>
              )}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
