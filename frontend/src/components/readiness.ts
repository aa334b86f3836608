// Readiness bands from SPEC §3: ready ≥ 80 > at risk ≥ 50 > not ready.
export type ReadinessStatus = "ready" | "at_risk" | "not_ready";

export const READY_AT = 80;
export const AT_RISK_AT = 50;

export function readinessStatus(score: number): ReadinessStatus {
  if (!Number.isFinite(score) || score < 0 || score > 100) {
    throw new RangeError(`A readiness score is between 0 and 100, got ${score}`);
  }
  if (score >= READY_AT) return "ready";
  if (score >= AT_RISK_AT) return "at_risk";
  return "not_ready";
}

export const READINESS_LABELS: Record<ReadinessStatus, string> = {
  ready: "Ready",
  at_risk: "At risk",
  not_ready: "Not ready",
};
