import { describe, expect, it } from "vitest";
import { auditExportUrl, auditFiltersFromSearch, auditQuery, EMPTY_AUDIT_FILTERS, searchFromAuditFilters } from "./auditFilters";

describe("audit filters", () => {
  it("turns whole days into the API's instants, with 'to' including its day", () => {
    expect(auditQuery({ ...EMPTY_AUDIT_FILTERS, from: "2026-02-01", to: "2026-02-28" })).toEqual({
      from: "2026-02-01T00:00:00Z",
      to: "2026-03-01T00:00:00Z",
    });
  });

  it("drops malformed dates from the URL instead of sending them", () => {
    const f = auditFiltersFromSearch(new URLSearchParams("from=yesterday&to=2026-13-45x&action=plan_version."));
    expect(f).toEqual({ ...EMPTY_AUDIT_FILTERS, action: "plan_version." });
  });

  it("round-trips through the URL", () => {
    const f = { ...EMPTY_AUDIT_FILTERS, actor: "dana@harbor.example", objectType: "incident", from: "2026-02-01" };
    expect(auditFiltersFromSearch(searchFromAuditFilters(f))).toEqual(f);
  });

  it("exports exactly what is filtered", () => {
    expect(auditExportUrl(EMPTY_AUDIT_FILTERS)).toBe("/api/v1/audit-events/export.csv");
    expect(auditExportUrl({ ...EMPTY_AUDIT_FILTERS, action: "membership.", practiceId: "p1" })).toBe(
      "/api/v1/audit-events/export.csv?action=membership.&practice_id=p1",
    );
  });
});
