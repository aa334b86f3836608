import type { Membership, Role } from "../api/auth";

export type Shell = "msp" | "practice";

const ROLE_LABELS: Record<Role, string> = {
  msp_owner: "MSP owner",
  msp_admin: "MSP administrator",
  msp_technician: "MSP technician",
  practice_owner: "Practice owner",
  practice_staff: "Practice staff",
};

export function roleLabel(role: Role): string {
  return ROLE_LABELS[role];
}

export function isMspRole(role: Role): boolean {
  return role.startsWith("msp_");
}

/**
 * Which app a person sees. Anyone with an MSP membership works across practices, so they get
 * the MSP shell even if they also belong to a practice; null when they belong to nothing yet.
 */
export function shellFor(memberships: readonly Membership[]): Shell | null {
  if (memberships.some((m) => isMspRole(m.role))) return "msp";
  if (memberships.length > 0) return "practice";
  return null;
}

/** The organisation a membership is in, in the words a person would use. */
export function membershipPlace(m: Membership): string {
  return m.practice_name ? `${m.practice_name} (${m.msp_name})` : m.msp_name;
}
