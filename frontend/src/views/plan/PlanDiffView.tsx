import { useId, useState } from "react";
import { usePlanDiff, type VersionSummary } from "../../api/plans";
import { Loading } from "../../components/Loading";
import { ProblemMessage } from "../../components/ProblemMessage";
import { diffCounts, parseUnifiedDiff, SECTION_STATUS_WORDS } from "./planDiff";

const MARKS = { added: "+", removed: "−", context: " ", hunk: "" } as const;
const LINE_WORDS = { added: "added", removed: "removed", context: "", hunk: "" } as const;

/** Pick two versions and see, section by section, what changed between them. */
export function PlanCompare({ practiceId, versions }: { practiceId: string; versions: readonly VersionSummary[] }) {
  const [fromId, setFromId] = useState(versions[1]?.id ?? "");
  const [toId, setToId] = useState(versions[0]?.id ?? "");
  const id = useId();
  const diff = usePlanDiff(practiceId, fromId, toId);
  const label = (v: VersionSummary) => `Version ${v.number} (${v.status.replace("_", " ")})`;
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Compare versions</h2>
      <div className="filters">
        <div className="field">
          <label htmlFor={`${id}-from`}>From</label>
          <select id={`${id}-from`} value={fromId} onChange={(e) => setFromId(e.target.value)}>
            {versions.map((v) => (
              <option key={v.id} value={v.id}>
                {label(v)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>To</label>
          <select id={`${id}-to`} value={toId} onChange={(e) => setToId(e.target.value)}>
            {versions.map((v) => (
              <option key={v.id} value={v.id}>
                {label(v)}
              </option>
            ))}
          </select>
        </div>
      </div>
      {fromId === toId ? (
        <p>Pick two different versions to see what changed.</p>
      ) : diff.isPending ? (
        <Loading label="Comparing…" />
      ) : diff.isError ? (
        <ProblemMessage error={diff.error} />
      ) : (
        <ul className="diff">
          {diff.data.sections.map((s) => {
            const lines = parseUnifiedDiff(s.diff);
            const counts = diffCounts(lines);
            return (
              <li key={s.key} className={`diff__section diff__section--${s.status}`}>
                <h3>
                  {s.title_after ?? s.title}{" "}
                  <span className="diff__status">
                    {SECTION_STATUS_WORDS[s.status] ?? s.status}
                    {s.status === "changed" && ` (${counts.added} line${counts.added === 1 ? "" : "s"} added, ${counts.removed} removed)`}
                  </span>
                </h3>
                {s.title_before && s.title_after && s.title_before !== s.title_after && (
                  <p>
                    Renamed from “{s.title_before}”.
                  </p>
                )}
                {lines.length > 0 && (
                  <pre className="diff__body">
                    {lines.map((line, i) => (
                      <span key={i} className={`diff__line diff__line--${line.kind}`}>
                        <span aria-hidden="true" className="diff__mark">
                          {MARKS[line.kind]}
                        </span>
                        {LINE_WORDS[line.kind] && <span className="visually-hidden">{LINE_WORDS[line.kind]}: </span>}
                        {line.text}
                        {"\n"}
                      </span>
                    ))}
                  </pre>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
