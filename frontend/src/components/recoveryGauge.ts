// Target vs achieved for a recovery objective (RPO or RTO): the arithmetic behind the gauge.
import { formatMinutes } from "../lib/format";

export type GaugeState = "met" | "near" | "missed" | "unknown";

export interface GaugeReading {
  state: GaugeState;
  /** Where the target sits on the bar, 0–100 (%). */
  targetAt: number;
  /** How much of the bar the achieved value fills, 0–100 (%); 0 when unknown. */
  fill: number;
  /** One sentence that says everything the bar shows, for screen readers and for the eye. */
  summary: string;
}

/**
 * RTO only: within this share of the target the objective is still met, but only just. An RPO gauge
 * never uses it: it is given the server's `atRisk`, judged with backup.rpo_at_risk's effective
 * at_risk_ratio for that copy, so its amber is the finding readiness charges.
 */
export const NEAR_SHARE = 0.8;

const STATE_WORDS: Record<GaugeState, string> = {
  met: "within target",
  near: "within target, but close to the limit",
  missed: "over target",
  unknown: "not measured yet",
};

export function gaugeStateLabel(state: GaugeState): string {
  return STATE_WORDS[state];
}

/**
 * The bar spans twice the target so that "met" fills at most half and a miss is visibly past
 * the mark; a much larger miss extends the scale instead of being clipped. A target of zero
 * (RPO 0: no data may be lost) is met only by zero. `atRisk`: the server's judgement of an RPO copy
 * (SystemRecovery's onsite_/offsite_rpo_at_risk); left out, the RTO's NEAR_SHARE applies.
 */
export function readGauge(targetMinutes: number, achievedMinutes: number | null | undefined, noJob = false, atRisk?: boolean): GaugeReading {
  const target = Math.max(0, targetMinutes);
  if (noJob) {
    // A required copy no backup job makes can never be measured: it is missed (and charged in
    // readiness as inventory.no_onsite_copy / no_offsite_copy), not "not measured yet".
    return { state: "missed", targetAt: 50, fill: 0, summary: `Target ${formatMinutes(target)}; no backup job makes this copy.` };
  }
  if (achievedMinutes === null || achievedMinutes === undefined || !Number.isFinite(achievedMinutes)) {
    return {
      state: "unknown",
      targetAt: 50,
      fill: 0,
      summary: `Target ${formatMinutes(target)}; achieved ${STATE_WORDS.unknown}.`,
    };
  }
  const achieved = Math.max(0, achievedMinutes);
  const near = atRisk ?? (achieved >= target * NEAR_SHARE && target > 0);
  const state: GaugeState = achieved > target ? "missed" : near ? "near" : "met";
  const scale = Math.max(target * 2, achieved * 1.1, 1);
  return {
    state,
    targetAt: round1((target / scale) * 100),
    fill: round1(Math.min(achieved / scale, 1) * 100),
    summary: `Achieved ${formatMinutes(achieved)} against a target of ${formatMinutes(target)}: ${STATE_WORDS[state]}.`,
  };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
