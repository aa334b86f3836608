import { useId, useState } from "react";
import { useCopyTemplate, useDeleteTemplate, useTemplates, useUpdateTemplate, type Template, type TemplateSection } from "../../api/templates";
import { ApiProblem } from "../../api/problem";
import { useSignedInSession } from "../../auth/RequireSession";
import { can } from "../../auth/permissions";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { ProblemMessage } from "../../components/ProblemMessage";
import { TextField } from "../../components/TextField";

/** The templates new plans start from: the built-in one, and copies the MSP tailored. */
export default function TemplatesPage() {
  const templates = useTemplates();
  const { memberships } = useSignedInSession();
  const mayManage = can(memberships, "msp_manage");
  return (
    <Page title="Plan templates" description="New plans start from a template. Copy the built-in one to write your own wording and guidance.">
      {templates.isPending ? (
        <Loading label="Loading templates…" />
      ) : templates.isError ? (
        <ProblemMessage error={templates.error} />
      ) : (
        <>
          {mayManage && <CopyForm templates={templates.data} />}
          <ul className="cards cards--wide section-gap">
            {templates.data.map((t) => (
              <li key={t.id} className="card">
                <TemplateCard template={t} mayManage={mayManage && !t.builtin} />
              </li>
            ))}
          </ul>
        </>
      )}
    </Page>
  );
}

function CopyForm({ templates }: { templates: readonly Template[] }) {
  const copy = useCopyTemplate();
  const [name, setName] = useState("");
  const [source, setSource] = useState(templates.find((t) => t.builtin)?.id ?? "");
  const id = useId();
  const errors = copy.error instanceof ApiProblem ? copy.error.fieldErrors : {};
  return (
    <form
      className="filters"
      aria-label="Copy a template"
      onSubmit={(e) => {
        e.preventDefault();
        copy.mutate({ name, description: "", source_template_id: source || null }, { onSuccess: () => setName("") });
      }}
    >
      <div className="field">
        <label htmlFor={`${id}-source`}>Copy</label>
        <select id={`${id}-source`} value={source} onChange={(e) => setSource(e.target.value)}>
          {templates.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      </div>
      <div className="filters__search">
        <TextField label="Name of the copy" name="name" required value={name} error={errors.name} onChange={(e) => setName(e.target.value)} />
      </div>
      <button type="submit" className="button button--primary" disabled={copy.isPending}>
        Make a copy
      </button>
      <ProblemMessage error={copy.error} shownFields={["name"]} />
    </form>
  );
}

function TemplateCard({ template, mayManage }: { template: Template; mayManage: boolean }) {
  const remove = useDeleteTemplate();
  return (
    <article aria-labelledby={`tpl-${template.id}`}>
      <h2 id={`tpl-${template.id}`} className="card__title">
        {template.name}
      </h2>
      <p className="card__meta">
        {template.builtin ? "Built in (read-only)" : "Your MSP's template"} · {template.sections.length} sections
        {template.description && ` · ${template.description}`}
      </p>
      <details>
        <summary>Sections{mayManage ? " (edit)" : ""}</summary>
        <ol className="plain-list">
          {template.sections.map((s) => (
            <li key={s.key}>
              <SectionRow templateId={template.id} sections={template.sections} section={s} editable={mayManage} />
            </li>
          ))}
        </ol>
      </details>
      {mayManage && (
        <div className="button-row section-gap">
          <button
            type="button"
            className="button"
            disabled={remove.isPending}
            onClick={() => {
              if (window.confirm(`Delete the template ${template.name}? Plans made from it keep their own copy.`)) remove.mutate(template.id);
            }}
          >
            Delete<span className="visually-hidden"> {template.name}</span>
          </button>
        </div>
      )}
      <ProblemMessage error={remove.error} />
    </article>
  );
}

function SectionRow({ templateId, sections, section, editable }: { templateId: string; sections: readonly TemplateSection[]; section: TemplateSection; editable: boolean }) {
  const [editing, setEditing] = useState(false);
  const [body, setBody] = useState(section.body);
  const update = useUpdateTemplate(templateId);
  const id = useId();
  if (!editing) {
    return (
      <>
        <strong>{section.title}</strong>
        {!section.required && " (optional)"}
        {section.guidance && <span className="table__sub">{section.guidance}</span>}
        {editable && (
          <button type="button" className="link-button" onClick={() => setEditing(true)}>
            Edit<span className="visually-hidden"> “{section.title}”</span>
          </button>
        )}
      </>
    );
  }
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        const next = sections.map(({ complete: _complete, ...s }) => (s.key === section.key ? { ...s, body } : s));
        update.mutate({ sections: next }, { onSuccess: () => setEditing(false) });
      }}
    >
      <div className="field">
        <label htmlFor={`${id}-body`}>Starting text of “{section.title}”</label>
        <p className="field__hint" id={`${id}-hint`}>
          Write [[blanks]] where each practice fills in its own details.
        </p>
        <textarea id={`${id}-body`} rows={8} maxLength={50_000} aria-describedby={`${id}-hint`} value={body} onChange={(e) => setBody(e.target.value)} />
      </div>
      <div className="button-row">
        <button type="submit" className="button button--primary" disabled={update.isPending}>
          Save section
        </button>
        <button type="button" className="button" onClick={() => setEditing(false)}>
          Cancel
        </button>
      </div>
      <ProblemMessage error={update.error} />
    </form>
  );
}
