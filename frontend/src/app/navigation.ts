// The navigation of each shell, in the order people see it. An item shows only once its page
// is registered in src/app/pages.tsx, so nobody is sent to a page that doesn't exist yet.
import type { Membership } from "../api/auth";
import { can, type Permission } from "../auth/permissions";
import type { Shell } from "../auth/roles";

export type PageKey =
  // MSP staff
  | "portfolio"
  | "incidents"
  | "templates"
  | "alert-policies"
  | "agents"
  | "set-aside"
  | "users"
  | "audit-log"
  // Practice users
  | "readiness"
  | "systems"
  | "backups"
  | "links"
  | "plan"
  | "exercises"
  | "reports"
  // Development only (added by the shell when the server is in development, src/api/devMail.ts)
  | "dev-mail";

export interface NavItem {
  key: PageKey;
  label: string;
  path: string;
  /** What the page's own reads need (services/core/identity/policy.py): without it the page would
   * answer 403, so it is neither in the person's navigation nor reachable. */
  requires?: Permission;
}

export const NAVIGATION: Record<Shell, readonly NavItem[]> = {
  msp: [
    { key: "portfolio", label: "Portfolio", path: "/portfolio" },
    { key: "incidents", label: "Incidents", path: "/incidents" },
    { key: "templates", label: "Templates", path: "/templates" },
    // Its notification channels and routes are for MSP managers (MspManager in the API).
    { key: "alert-policies", label: "Alert policies", path: "/alert-policies", requires: "msp_manage" },
    { key: "agents", label: "Agents", path: "/agents" },
    { key: "set-aside", label: "Set-aside reports", path: "/set-aside" },
    { key: "users", label: "Users", path: "/users", requires: "msp_manage" },
    { key: "audit-log", label: "Audit log", path: "/audit-log", requires: "msp_manage" },
  ],
  practice: [
    { key: "readiness", label: "Readiness", path: "/readiness" },
    { key: "systems", label: "Systems", path: "/systems" },
    { key: "backups", label: "Backups", path: "/backups" },
    { key: "links", label: "Links", path: "/links" },
    { key: "plan", label: "Plan", path: "/plan" },
    { key: "exercises", label: "Exercises", path: "/exercises" },
    { key: "reports", label: "Reports", path: "/reports" },
  ],
};

/** The development mail page: in every shell's navigation, but only when the server is in development. */
export const DEV_MAIL_ITEM: NavItem = { key: "dev-mail", label: "Development mail", path: "/dev/mail" };

/** Whether the person may use the item's page at all. */
export function mayUse(item: NavItem, memberships: readonly Membership[]): boolean {
  return item.requires === undefined || can(memberships, item.requires);
}

/** The nav items of a shell whose pages exist and that the person may use. */
export function navItemsFor(shell: Shell, available: ReadonlySet<PageKey>, memberships: readonly Membership[]): NavItem[] {
  return NAVIGATION[shell].filter((item) => available.has(item.key) && mayUse(item, memberships));
}
