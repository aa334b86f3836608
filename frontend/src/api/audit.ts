// The MSP's audit log, a page at a time (newest first).
import { useInfiniteQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import { auditQuery, type AuditFilters } from "../pages/msp/auditFilters";

const listEvents = (filters: AuditFilters, cursor: string | undefined) =>
  unwrap(api.GET("/api/v1/audit-events", { params: { query: { ...auditQuery(filters), cursor, limit: 50 } } }));

export type AuditEvent = Awaited<ReturnType<typeof listEvents>>["items"][number];

export function useAuditEvents(filters: AuditFilters) {
  return useInfiniteQuery({
    queryKey: ["audit", filters],
    queryFn: ({ pageParam }) => listEvents(filters, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}
