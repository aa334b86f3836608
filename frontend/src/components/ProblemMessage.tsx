import { ApiProblem, errorMessage } from "../api/problem";

interface ProblemMessageProps {
  error: unknown;
  /** Fields the form shows next to their inputs; errors for any other field are listed here. */
  shownFields?: readonly string[];
  /**
   * Better words for a status where the page knows what it means (e.g. 401 on sign-in). Not used
   * when the problem names fields: then the fields say what is wrong.
   */
  messages?: Partial<Record<number, string>>;
}

/** One failure, in plain words, announced to screen readers. Renders nothing without an error. */
export function ProblemMessage({ error, shownFields = [], messages = {} }: ProblemMessageProps) {
  if (error === null || error === undefined) return null;
  const problem = error instanceof ApiProblem ? error : undefined;
  const override = problem && !problem.hasFieldErrors() ? messages[problem.status] : undefined;
  const message = override ?? errorMessage(error);
  const unshown = problem
    ? Object.entries(problem.fieldErrors).filter(([field]) => !shownFields.includes(field))
    : [];
  return (
    <div className="problem" role="alert">
      <p>{message}</p>
      {unshown.length > 0 && (
        <ul>
          {unshown.map(([field, text]) => (
            <li key={field}>{text}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
