// API samples (newest first, with gaps) → uPlot's columnar data (oldest first, seconds, nulls for gaps).
import type { AlignedData } from "uplot";

export interface SamplePoint {
  at: string;
  up: boolean;
  latency_ms: number | null;
  loss_pct: number | null;
}

export interface LinkSeries {
  data: AlignedData;
  /** Summary in words for screen readers and as the chart's caption. */
  summary: string;
}

/**
 * Oldest first; a down interval has no latency (the line breaks instead of dropping to 0) and
 * 100% loss when the agent reported none; duplicate timestamps keep the last one.
 */
export function linkSeries(samples: readonly SamplePoint[]): LinkSeries {
  const byTime = new Map<number, SamplePoint>();
  for (const s of samples) {
    const t = Math.floor(new Date(s.at).getTime() / 1000);
    if (Number.isFinite(t)) byTime.set(t, s);
  }
  const times = [...byTime.keys()].sort((a, b) => a - b);
  const latency = times.map((t) => {
    const s = byTime.get(t);
    return s && s.up && s.latency_ms !== null ? s.latency_ms : null;
  });
  const loss = times.map((t) => {
    const s = byTime.get(t);
    if (!s) return null;
    return s.loss_pct ?? (s.up ? null : 100);
  });
  return { data: [times, latency, loss], summary: summarise(latency, loss, times.length) };
}

function summarise(latency: (number | null)[], loss: (number | null)[], points: number): string {
  if (points === 0) return "No samples in this period.";
  const lat = latency.filter((v): v is number => v !== null);
  const los = loss.filter((v): v is number => v !== null);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const parts = [];
  if (lat.length > 0) parts.push(`latency averaged ${Math.round(avg(lat))} ms (highest ${Math.round(Math.max(...lat))} ms)`);
  if (los.length > 0) parts.push(`packet loss averaged ${avg(los).toFixed(1)}% (highest ${Math.max(...los).toFixed(1)}%)`);
  return `${points} readings: ${parts.join("; ") || "no measurements"}.`;
}

/** The legend's reading for the hovered point, rounded as the caption is ("2.2 %", not "2.19178"). */
export function legendValue(v: number | null, digits: number, unit: string): string {
  return v === null || !Number.isFinite(v) ? "—" : `${v.toFixed(digits)}${unit}`;
}
