import { useId } from "react";
import { AT_RISK_AT, READY_AT } from "../readiness";
import { chartGeometry, statusChanges, statusWords, trendSummary, whenWords, type TrendPointLike } from "./readinessTrend";

const WIDTH = 320;
const HEIGHT = 120;
const PAD = 8;
// Room under the plot for the first and last point's day (or hour).
const AXIS = 14;
// Where the status bands start, as faint guide lines.
const GUIDES = [
  { score: READY_AT, label: "ready" },
  { score: AT_RISK_AT, label: "at risk" },
];

/**
 * The score over the last 30 days (or today's hours), with a ring on each point where the status
 * changed. The drawing is one image to assistive technology; its label, the caption and the list
 * of changes say the same in words.
 */
export function ReadinessTrendChart({ points }: { points: readonly TrendPointLike[] }) {
  const captionId = useId();
  const summary = trendSummary(points);
  if (points.length === 0) return <p className="muted">{summary}</p>;
  const { x, y } = chartGeometry(points, WIDTH, HEIGHT, PAD);
  const changes = statusChanges(points);
  const line = points.map((_, i) => `${x[i]?.toFixed(1)},${y[i]?.toFixed(1)}`).join(" ");
  return (
    <figure className="chart trend-chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + AXIS}`} className="trend-chart__svg" role="img" aria-labelledby={captionId}>
        {GUIDES.map((g) => {
          const gy = chartGeometry([{ score: g.score }], WIDTH, HEIGHT, PAD).y[0];
          return (
            <g key={g.label}>
              <line x1={PAD} x2={WIDTH - PAD} y1={gy} y2={gy} className="trend-chart__guide" />
              <text x={WIDTH - PAD} y={(gy ?? 0) - 3} textAnchor="end" className="trend-chart__guide-label">
                {g.label} {g.score}
              </text>
            </g>
          );
        })}
        {points.length > 1 && <polyline points={line} className="trend-chart__line" fill="none" />}
        {points.length === 1 && <circle cx={x[0]} cy={y[0]} r={3} className="trend-chart__point" />}
        {changes.map((c) => (
          <circle key={c.index} cx={x[c.index]} cy={y[c.index]} r={5} className={`trend-chart__change trend-chart__change--${c.status}`} data-testid="status-change" />
        ))}
        {points.length > 1 && (
          <>
            <text x={PAD} y={HEIGHT + AXIS - 3} className="trend-chart__axis-label">
              {axisWords(points[0])}
            </text>
            <text x={WIDTH - PAD} y={HEIGHT + AXIS - 3} textAnchor="end" className="trend-chart__axis-label">
              {axisWords(points[points.length - 1])}
            </text>
          </>
        )}
      </svg>
      <figcaption id={captionId} className="chart__caption">{summary}</figcaption>
      {changes.length > 0 && (
        <ul className="trend-chart__changes" aria-label="Days the status changed">
          {changes.map((c) => (
            <li key={c.index}>
              Became {statusWords(c.status)} {c.when} (score {points[c.index]?.score})
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}

const axisWords = (point: TrendPointLike | undefined) => (point ? whenWords(point).replace(/^(on|at) /, "") : "");
