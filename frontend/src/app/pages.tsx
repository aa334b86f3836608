// Domain pages, registered as their API lands. Registering a page here adds its route (under
// the signed-in shell, at the path in navigation.ts) and shows its nav item.
//
//   import { lazy } from "react";
//   export const PAGES: PageRegistry = {
//     portfolio: lazy(() => import("../pages/msp/PortfolioPage")),
//   };
import { lazy, type ComponentType } from "react";
import type { PageKey } from "./navigation";

export type PageRegistry = Partial<Record<PageKey, ComponentType>>;

export const PAGES: PageRegistry = {
  portfolio: lazy(() => import("../pages/msp/PortfolioPage")),
  incidents: lazy(() => import("../pages/msp/IncidentsPage")),
  templates: lazy(() => import("../pages/msp/TemplatesPage")),
  "alert-policies": lazy(() => import("../pages/msp/AlertPoliciesPage")),
  agents: lazy(() => import("../pages/msp/AgentsPage")),
  "set-aside": lazy(() => import("../pages/msp/SetAsidePage")),
  users: lazy(() => import("../pages/msp/UsersPage")),
  "audit-log": lazy(() => import("../pages/msp/AuditLogPage")),
  readiness: lazy(() => import("../pages/practice/ReadinessPage")),
  backups: lazy(() => import("../pages/practice/BackupsPage")),
  links: lazy(() => import("../pages/practice/LinksPage")),
  plan: lazy(() => import("../pages/practice/PlanPage")),
  reports: lazy(() => import("../pages/practice/ReportsPage")),
  systems: lazy(() => import("../pages/practice/SystemsPage")),
};
