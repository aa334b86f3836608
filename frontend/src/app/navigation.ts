// The navigation of each shell, in the order people see it. An item shows only once its page
// is registered in src/app/pages.tsx, so nobody is sent to a page that doesn't exist yet.
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
  | "reports";

export interface NavItem {
  key: PageKey;
  label: string;
  path: string;
}

export const NAVIGATION: Record<Shell, readonly NavItem[]> = {
  msp: [
    { key: "portfolio", label: "Portfolio", path: "/portfolio" },
    { key: "incidents", label: "Incidents", path: "/incidents" },
    { key: "templates", label: "Templates", path: "/templates" },
    { key: "alert-policies", label: "Alert policies", path: "/alert-policies" },
    { key: "agents", label: "Agents", path: "/agents" },
    { key: "set-aside", label: "Set-aside reports", path: "/set-aside" },
    { key: "users", label: "Users", path: "/users" },
    { key: "audit-log", label: "Audit log", path: "/audit-log" },
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

/** The nav items of a shell whose pages exist. */
export function navItemsFor(shell: Shell, available: ReadonlySet<PageKey>): NavItem[] {
  return NAVIGATION[shell].filter((item) => available.has(item.key));
}
