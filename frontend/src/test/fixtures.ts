// Sessions and API bodies shared by page tests; shapes follow the generated schema.
import { SESSION_OK } from "./fakeApi";

export const PRACTICE_ID = SESSION_OK.memberships[0].practice_id;
export const MSP_ID = SESSION_OK.memberships[0].msp_id;

export const MSP_SESSION = {
  ...SESSION_OK,
  memberships: [{ msp_id: MSP_ID, msp_name: "Harbor IT", practice_id: null, practice_name: null, role: "msp_technician" }],
};

export const STAFF_SESSION = {
  ...SESSION_OK,
  memberships: [{ ...SESSION_OK.memberships[0], role: "practice_staff" }],
};

export function system(overrides: Record<string, unknown> = {}) {
  return {
    id: "5f0c0000-0000-4000-8000-000000000001",
    practice_id: PRACTICE_ID,
    name: "Dentrix EHR",
    category: "ehr",
    tier: 1,
    holds_ephi: true,
    rto_minutes: 240,
    rpo_minutes: 60,
    mtd_minutes: 1440,
    requires_onsite_copy: true,
    requires_offsite_copy: true,
    owner: "",
    recovery_procedure: "",
    external_id: null,
    depends_on: [],
    dependencies: [],
    backup_job_ids: [],
    created_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

export function backupJob(overrides: Record<string, unknown> = {}) {
  return {
    id: "5f0c0000-0000-4000-8000-0000000000b1",
    practice_id: PRACTICE_ID,
    site_id: null,
    name: "Nightly to NAS",
    location: "onsite",
    tool: "restic",
    schedule: "0 2 * * *",
    expected_interval_minutes: 1440,
    encrypted: true,
    immutable: false,
    verifies: true,
    provider: "",
    baa_on_file: false,
    system_ids: [],
    created_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

export function finding(overrides: Record<string, unknown> = {}) {
  return {
    rule_id: "inventory.no_offsite_copy",
    component: "backups",
    severity: "high",
    subject_type: "system",
    subject_id: "5f0c0000-0000-4000-8000-000000000001",
    title: "No offsite copy",
    remediation: "Add a backup job that copies this system offsite.",
    hipaa: "164.308(a)(7)(ii)(A)",
    measured: null,
    target: null,
    ...overrides,
  };
}

export const practiceUrl = (path: string) => `/api/v1/practices/${PRACTICE_ID}${path}`;
