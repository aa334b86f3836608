// What the app offers each role: a copy of services/core/identity/policy.py for showing or hiding
// buttons. The API decides; this only keeps people from meeting buttons that would answer 403.
import type { Membership } from "../api/auth";

export type Permission = "practice_operate" | "plan_approve" | "plan_acknowledge" | "msp_manage" | "telemetry_replay";

const MSP_STAFF = ["msp_owner", "msp_admin", "msp_technician"];
const GRANTS: Record<Permission, readonly string[]> = {
  practice_operate: MSP_STAFF,
  plan_approve: ["practice_owner", "msp_owner", "msp_admin"],
  plan_acknowledge: ["practice_owner", "practice_staff"],
  msp_manage: ["msp_owner", "msp_admin"],
  telemetry_replay: MSP_STAFF,
};

/** True when one of the person's memberships grants the permission for this practice. */
export function can(memberships: readonly Membership[], permission: Permission, practiceId?: string): boolean {
  return memberships.some(
    (m) => GRANTS[permission].includes(m.role) && (m.practice_id === null || practiceId === undefined || m.practice_id === practiceId),
  );
}
