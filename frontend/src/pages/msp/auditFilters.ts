// Audit log filters: from the URL, to the API's query, and to the CSV export link (same filters).

export interface AuditFilters {
  action: string;
  actor: string;
  objectType: string;
  practiceId: string;
  /** yyyy-mm-dd as typed in a date field; the API wants instants with a zone. */
  from: string;
  to: string;
}

export const EMPTY_AUDIT_FILTERS: AuditFilters = { action: "", actor: "", objectType: "", practiceId: "", from: "", to: "" };

const KEYS: Record<keyof AuditFilters, string> = {
  action: "action",
  actor: "actor",
  objectType: "object_type",
  practiceId: "practice_id",
  from: "from",
  to: "to",
};

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function auditFiltersFromSearch(search: URLSearchParams): AuditFilters {
  const f = { ...EMPTY_AUDIT_FILTERS };
  for (const key of Object.keys(KEYS) as (keyof AuditFilters)[]) f[key] = (search.get(KEYS[key]) ?? "").trim();
  if (!DAY.test(f.from)) f.from = "";
  if (!DAY.test(f.to)) f.to = "";
  return f;
}

export function searchFromAuditFilters(f: AuditFilters): URLSearchParams {
  const search = new URLSearchParams();
  for (const key of Object.keys(KEYS) as (keyof AuditFilters)[]) if (f[key].trim()) search.set(KEYS[key], f[key].trim());
  return search;
}

/**
 * The API's query. Dates are whole days in UTC: "to" includes the day it names, so it becomes
 * the start of the next day (the API's `to` is exclusive).
 */
export function auditQuery(f: AuditFilters): Record<string, string> {
  const q: Record<string, string> = {};
  if (f.action.trim()) q.action = f.action.trim();
  if (f.actor.trim()) q.actor = f.actor.trim();
  if (f.objectType.trim()) q.object_type = f.objectType.trim();
  if (f.practiceId) q.practice_id = f.practiceId;
  if (f.from) q.from = `${f.from}T00:00:00Z`;
  if (f.to) {
    const next = new Date(`${f.to}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    q.to = next.toISOString().replace(".000Z", "Z");
  }
  return q;
}

export function auditExportUrl(f: AuditFilters): string {
  const search = new URLSearchParams(auditQuery(f)).toString();
  return `/api/v1/audit-events/export.csv${search ? `?${search}` : ""}`;
}
