import type { Membership } from "../api/auth";

export type Shell = "msp" | "practice";

/** The roles of SPEC §2. The API sends role as a plain string, so unknown ones are handled too. */
export type Role = "msp_owner" | "msp_admin" | "msp_technician" | "practice_owner" | "practice_staff";

const ROLE_LABELS: Record<string, string | undefined> = {
  msp_owner: "MSP owner",
  msp_admin: "MSP administrator",
  msp_technician: "MSP technician",
  practice_owner: "Practice owner",
  practice_staff: "Practice staff",
} satisfies Record<Role, string>;

export function roleLabel(role: string): string {
  const known = ROLE_LABELS[role];
  if (known) return known;
  const words = role.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function isMspRole(role: string): boolean {
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
