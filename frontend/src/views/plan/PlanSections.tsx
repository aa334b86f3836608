import { useId, useState } from "react";
import { useUpdateSection, type PlanSection } from "../../api/plans";
import { ApiProblem } from "../../api/problem";
import { ProblemMessage } from "../../components/ProblemMessage";

/** The sections of one version; a draft's sections can be edited one at a time by whoever may. */
export function PlanSections({
  practiceId,
  versionId,
  sections,
  editable,
}: {
  practiceId: string;
  versionId: string;
  sections: readonly PlanSection[];
  editable: boolean;
}) {
  return (
    <div className="plan-sections">
      {sections.map((s) => (
        <PlanSectionView key={s.key} practiceId={practiceId} versionId={versionId} section={s} editable={editable} />
      ))}
    </div>
  );
}

function PlanSectionView({ practiceId, versionId, section, editable }: { practiceId: string; versionId: string; section: PlanSection; editable: boolean }) {
  const [editing, setEditing] = useState(false);
  const [body, setBody] = useState(section.body);
  const update = useUpdateSection(practiceId, versionId);
  const id = useId();
  const fieldError = update.error instanceof ApiProblem ? update.error.fieldErrors.body : undefined;
  return (
    <section className="plan-section" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>
        {section.title}
        {!section.complete && <span className="plan-section__todo"> · needs writing</span>}
      </h3>
      {editing ? (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            update.mutate({ key: section.key, body }, { onSuccess: () => setEditing(false) });
          }}
        >
          <div className={fieldError ? "field field--invalid" : "field"}>
            <label htmlFor={`${id}-body`}>Text of “{section.title}”</label>
            {section.guidance && (
              <p className="field__hint" id={`${id}-hint`}>
                {section.guidance}
              </p>
            )}
            <textarea
              id={`${id}-body`}
              rows={10}
              maxLength={50_000}
              value={body}
              aria-describedby={section.guidance ? `${id}-hint` : undefined}
              aria-invalid={fieldError ? true : undefined}
              onChange={(e) => setBody(e.target.value)}
            />
            {fieldError && <p className="field__error">{fieldError}</p>}
          </div>
          <div className="button-row">
            <button type="submit" className="button button--primary" disabled={update.isPending}>
              {update.isPending ? "Saving…" : "Save section"}
            </button>
            <button
              type="button"
              className="button"
              onClick={() => {
                setBody(section.body);
                setEditing(false);
              }}
            >
              Cancel
            </button>
          </div>
          <ProblemMessage error={update.error} shownFields={["body"]} />
        </form>
      ) : (
        <>
          {section.body ? (
            <div className="plan-section__body">{section.body}</div>
          ) : (
            <p className="muted">Not written yet.{section.guidance && ` ${section.guidance}`}</p>
          )}
          {editable && (
            <button type="button" className="button" onClick={() => setEditing(true)}>
              Edit<span className="visually-hidden"> “{section.title}”</span>
            </button>
          )}
        </>
      )}
    </section>
  );
}
