import { useReadiness, useReadinessTrend, type Readiness } from "../api/readiness";
import { ReadinessTrendChart } from "../components/charts/ReadinessTrendChart";
import { FindingList } from "../components/FindingList";
import { Loading } from "../components/Loading";
import { ProblemMessage } from "../components/ProblemMessage";
import { StatusBadge } from "../components/StatusBadge";
import { formatAgo, humanize } from "../lib/format";
import { usePracticeId } from "../practice/PracticeContext";

const COMPONENT_WORDS: Record<string, string> = {
  plan: "Plan: written, approved, reviewed on time",
  backups: "Backups: running, recent, offsite and tested",
  connectivity: "Connectivity: internet links up, with a backup",
  testing: "Testing: restores and exercises done",
  people: "People: roles assigned and acknowledged",
};

/** Components ordered by how many points they lost, worst first. */
export function componentsByLoss(components: Readiness["components"]) {
  return Object.entries(components).sort(([, a], [, b]) => b.lost - a.lost || a.weight - b.weight);
}

/** The readiness score, what it is made of, and every finding with what to do about it. */
export function ReadinessView() {
  const practiceId = usePracticeId();
  const readiness = useReadiness(practiceId);
  if (readiness.isPending) return <Loading label="Loading readiness…" />;
  if (readiness.isError) return <ProblemMessage error={readiness.error} />;
  const r = readiness.data;
  const counted = r.findings.filter((f) => f.counted_under === null);
  const restated = r.findings.filter((f) => f.counted_under !== null);
  const missing = r.sources.filter((s) => !s.available);
  return (
    <>
      <div className="score-card">
        <p className="score-card__score">
          <StatusBadge score={r.score} />
        </p>
        <p className="muted">Checked {formatAgo(r.computed_at)}. {r.findings.length === 0 ? "Nothing to fix." : `${counted.length} thing${counted.length === 1 ? "" : "s"} to fix, worst first below.`}</p>
      </div>
      <h2>Last 30 days</h2>
      <TrendSection practiceId={practiceId} />
      {missing.length > 0 && (
        <div className="notice section-gap">
          <p>Some facts could not be checked, so the score may change once they can be:</p>
          <ul>
            {missing.map((s) => (
              <li key={s.name}>
                {humanize(s.name)}
                {s.detail && `: ${s.detail}`}
              </li>
            ))}
          </ul>
        </div>
      )}
      <h2>Where the points go</h2>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Readiness by component">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Component</th>
              <th scope="col">Score</th>
              <th scope="col">Findings</th>
            </tr>
          </thead>
          <tbody>
            {componentsByLoss(r.components).map(([name, c]) => (
              <tr key={name}>
                <th scope="row">{COMPONENT_WORDS[name] ?? humanize(name)}</th>
                <td>
                  {c.score} of {c.weight}
                  {c.lost > 0 && <span className="table__sub">lost {c.lost}</span>}
                </td>
                <td>{c.findings}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>What to fix</h2>
      <FindingList
        findings={counted}
        empty={<p>Nothing to fix: every check passed. Keep the plan reviewed and backups tested to stay ready.</p>}
      />
      {restated.length > 0 && (
        <details className="section-gap">
          <summary>{restated.length === 1 ? "1 more finding that restates" : `${restated.length} more findings that restate`} one above (no extra points)</summary>
          <FindingList findings={restated} empty={null} />
        </details>
      )}
    </>
  );
}

function TrendSection({ practiceId }: { practiceId: string }) {
  const trend = useReadinessTrend(practiceId);
  if (trend.isPending) return <Loading label="Loading the last 30 days…" />;
  if (trend.isError) return <ProblemMessage error={trend.error} />;
  return <ReadinessTrendChart points={trend.data.points} />;
}
