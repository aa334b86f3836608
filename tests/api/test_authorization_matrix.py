"""The authorization matrix: every operation × every kind of caller × own / sibling / other MSP.

Generated from the OpenAPI document, checked against one policy table (POLICY below, with the
role → permission rules of services/core/identity/policy.py). A route missing from POLICY fails.

HOW TO REGISTER A NEW ROUTE
1. Add its operationId to POLICY with a Rule: public (anyone; handles its own auth), agent (agent
   credential only), self (any signed-in user, own things), msp(Permission.x) (MSP-level), or
   practice(Permission.x) (about one practice: the {practice_id} in the path, or the practice of the
   object in the path). Use may_404=True when an allowed caller can legitimately get 404 (e.g. the
   practice has no plan yet).
2. For every new path parameter (e.g. {system_id}) add a maker to MAKERS: an async function
   (ctx, target) -> str that creates a fresh object in target.practice (or target.msp_id for
   MSP-level objects) and returns its id. Makers run as the owner role (no RLS) via ctx.owner_db.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text

from services.core.identity.models import Role
from services.core.identity.policy import READ_PERMISSIONS, Permission, allows
from tests.factories import Tenant, api_token, build_tenant, sign_in


@dataclass(frozen=True)
class Rule:
    kind: str  # public | agent | self | msp | practice
    permission: Permission | None = None
    may_404: bool = False


PUBLIC, AGENT, SELF = Rule("public"), Rule("agent"), Rule("self")


def msp(permission: Permission, may_404: bool = False) -> Rule:
    return Rule("msp", permission, may_404)


def practice(permission: Permission, may_404: bool = False) -> Rule:
    return Rule("practice", permission, may_404)


P = Permission
POLICY: dict[str, Rule] = {
    # health and sign-in
    "healthz": PUBLIC, "readyz": PUBLIC,
    "login": PUBLIC, "logout": PUBLIC, "get_session": PUBLIC, "mfa_verify": PUBLIC, "mfa_setup": PUBLIC, "mfa_enable": PUBLIC,
    # practices and sites
    "list_practices": SELF,
    "create_practice": msp(P.msp_manage),
    "get_practice": practice(P.practice_read),
    "update_practice": practice(P.practice_operate),
    "delete_practice": practice(P.msp_manage),
    "list_sites": practice(P.practice_read),
    "create_site": practice(P.practice_operate),
    "get_site": practice(P.practice_read),
    "update_site": practice(P.practice_operate),
    "delete_site": practice(P.practice_operate),
    # telemetry in: enrollment, agents, ingest, pings
    "create_enrollment_token": practice(P.practice_operate),
    "enroll_agent": PUBLIC, "ingest_events": AGENT, "get_agent_config": AGENT,
    "list_agents": msp(P.msp_read),
    "list_practice_agents": practice(P.practice_read),
    "rotate_agent_credential": practice(P.practice_operate),
    "revoke_agent": practice(P.practice_operate),
    "ping_get": PUBLIC, "ping_post": PUBLIC, "ping_signal_get": PUBLIC, "ping_signal_post": PUBLIC,
    "get_backup_job_ping_url": practice(P.practice_read),
    "rotate_backup_job_ping_url": practice(P.practice_operate),
    # telemetry that did not go through: dead letters (a replayed or discarded one is gone: 404), refusals, stall
    "list_telemetry_dead_letters": msp(P.telemetry_inspect), "get_telemetry_stall": msp(P.telemetry_inspect),
    "replay_telemetry_dead_letters": practice(P.telemetry_replay), "discard_telemetry_dead_letters": practice(P.telemetry_replay),
    "replay_telemetry_dead_letter": practice(P.telemetry_replay, may_404=True),
    "discard_telemetry_dead_letter": practice(P.telemetry_replay, may_404=True),
    "list_agent_refusals": practice(P.telemetry_inspect), "list_refusal_summaries": msp(P.telemetry_inspect),
    # telemetry state and history (read-only)
    "get_telemetry_state": practice(P.practice_read), "list_system_recovery": practice(P.practice_read),
    "list_backup_runs": practice(P.practice_read), "list_restore_tests": practice(P.practice_read),
    "list_link_samples": practice(P.practice_read), "list_failovers": practice(P.practice_read),
    # inventory: systems, backup jobs, links, contacts and the call tree, CSV imports, findings
    "list_systems": practice(P.practice_read), "get_system": practice(P.practice_read),
    "create_system": practice(P.practice_operate), "update_system": practice(P.practice_operate),
    "delete_system": practice(P.practice_operate),
    "list_backup_jobs": practice(P.practice_read), "get_backup_job": practice(P.practice_read),
    "create_backup_job": practice(P.practice_operate), "update_backup_job": practice(P.practice_operate),
    "delete_backup_job": practice(P.practice_operate),
    "list_links": practice(P.practice_read), "get_link": practice(P.practice_read),
    "create_link": practice(P.practice_operate), "update_link": practice(P.practice_operate),
    "delete_link": practice(P.practice_operate),
    "list_contacts": practice(P.practice_read), "get_contact": practice(P.practice_read), "get_call_tree": practice(P.practice_read),
    "create_contact": practice(P.practice_operate), "update_contact": practice(P.practice_operate),
    "delete_contact": practice(P.practice_operate),
    "import_systems": practice(P.practice_operate), "import_contacts": practice(P.practice_operate),
    "list_inventory_findings": practice(P.practice_read),
    # identity: password reset and invitation links (anonymous by design)
    "password_reset_request": PUBLIC, "password_reset_confirm": PUBLIC, "invitation_lookup": PUBLIC, "invitation_accept": PUBLIC,
    # development only (absent in production): the local mail sink's messages, read signed out for a reset
    "list_dev_mail": PUBLIC,
    # invitations (revoke: the invitation's own scope decides; the maker makes practice invitations)
    "create_msp_invitation": msp(P.msp_manage),
    "list_msp_invitations": msp(P.msp_manage),
    "create_practice_invitation": practice(P.practice_users),
    "list_practice_invitations": practice(P.practice_users),
    "revoke_invitation": practice(P.practice_users),
    # personal API tokens: a token may never create tokens and a read-only one never revokes, which
    # the "self" rule cannot express; tests/api/test_tokens.py checks both, and other MSPs' 404
    "list_tokens": SELF, "create_token": PUBLIC, "revoke_token": PUBLIC,
    # users and memberships (the maker makes practice memberships; assignments are an MSP manager's)
    "list_users": msp(P.msp_manage),
    "list_practice_users": practice(P.practice_users),
    "update_membership": practice(P.practice_users),
    "delete_membership": practice(P.practice_users),
    "set_membership_practices": practice(P.msp_manage),
    # plans: templates (MSP-wide), the plan and its versions, people, exports, findings
    "list_plan_templates": msp(P.msp_read), "get_plan_template": msp(P.msp_read),
    "create_plan_template": msp(P.msp_manage), "update_plan_template": msp(P.msp_manage), "delete_plan_template": msp(P.msp_manage),
    "get_plan": practice(P.practice_read, may_404=True), "create_plan": practice(P.practice_operate),
    "list_plan_versions": practice(P.practice_read), "create_plan_draft": practice(P.practice_operate, may_404=True),
    "get_plan_version": practice(P.practice_read), "update_plan_version": practice(P.practice_operate),
    "update_plan_section": practice(P.practice_operate), "submit_plan_version": practice(P.practice_operate),
    "withdraw_plan_version": practice(P.practice_operate), "return_plan_version": practice(P.plan_approve),
    "approve_plan_version": practice(P.plan_approve), "diff_plan_versions": practice(P.practice_read),
    "export_plan_pdf": practice(P.practice_read), "export_plan_html": practice(P.practice_read),
    "list_plan_exports": practice(P.practice_read),
    "list_role_assignments": practice(P.practice_read), "create_role_assignment": practice(P.practice_operate),
    "update_role_assignment": practice(P.practice_operate), "delete_role_assignment": practice(P.practice_operate),
    "acknowledge_plan": practice(P.plan_acknowledge), "list_plan_acknowledgements": practice(P.practice_read, may_404=True),
    "list_plan_findings": practice(P.practice_read),
    # audit log
    "list_audit_events": msp(P.msp_manage), "export_audit_events": msp(P.msp_manage), "verify_audit_chain": msp(P.msp_manage),
    # alerts: incidents, policy and overrides, maintenance windows, channels, routes, dead letters
    "list_incidents": msp(P.msp_read), "list_practice_incidents": practice(P.practice_read),
    "get_incident": practice(P.practice_read), "acknowledge_incident": practice(P.practice_operate),
    "resolve_incident": practice(P.practice_operate), "add_incident_note": practice(P.practice_operate),
    "list_alert_rules": SELF, "get_alert_policy": msp(P.msp_read), "update_alert_policy": msp(P.msp_manage),
    "list_alert_overrides": practice(P.practice_read), "set_alert_override": practice(P.practice_operate),
    "get_effective_alert_policy": practice(P.practice_read),
    "list_maintenance_windows": practice(P.practice_read), "create_maintenance_window": practice(P.practice_operate),
    "delete_maintenance_window": practice(P.practice_operate),
    "list_notification_channels": msp(P.msp_manage), "create_notification_channel": msp(P.msp_manage),
    "get_notification_channel": msp(P.msp_manage), "update_notification_channel": msp(P.msp_manage),
    "rotate_webhook_signing_secret": msp(P.msp_manage), "delete_notification_channel": msp(P.msp_manage),
    "test_notification_channel": msp(P.msp_manage),
    "list_notification_routes": msp(P.msp_manage), "create_notification_route": msp(P.msp_manage),
    "update_notification_route": msp(P.msp_manage), "delete_notification_route": msp(P.msp_manage),
    "list_dead_letters": msp(P.msp_manage), "retry_dead_letter": msp(P.msp_manage),
    # readiness: score, dashboard, weights, portfolio, monthly reports (GET /api/v1/live is outside the schema)
    "get_readiness": practice(P.practice_read), "get_readiness_trend": practice(P.practice_read),
    "get_practice_dashboard": practice(P.practice_read),
    "get_readiness_weights": msp(P.msp_read), "set_readiness_weights": msp(P.msp_manage),
    "get_portfolio": msp(P.msp_read),
    "create_practice_report": practice(P.practice_operate), "list_practice_reports": practice(P.practice_read),
    "download_practice_report": practice(P.practice_read),
}


@dataclass
class Target:
    name: str  # own | sibling | other
    tenant: Tenant

    @property
    def msp_id(self) -> uuid.UUID:
        return self.tenant.msp_id

    @property
    def practice(self):
        return self.tenant.sibling if self.name == "sibling" else self.tenant.practice


@dataclass
class Ctx:
    owner_db: object
    tenant: Tenant
    other: Tenant

    def target(self, name: str) -> Target:
        return Target(name, self.other if name == "other" else self.tenant)


async def _insert(ctx: Ctx, sql: str, **params) -> str:
    async with ctx.owner_db.transaction() as s:  # type: ignore[attr-defined]
        await s.execute(text(sql), params)
    return str(params["id"])


async def make_practice(ctx: Ctx, target: Target) -> str:
    return str(target.practice.id)


async def make_site(ctx: Ctx, target: Target) -> str:
    return await _insert(ctx, "INSERT INTO site (msp_id, id, practice_id, name, created_at) VALUES (:m, :id, :p, :n, now())",
                         m=target.msp_id, id=uuid.uuid4(), p=target.practice.id, n=f"site-{uuid.uuid4().hex[:8]}")


async def make_agent(ctx: Ctx, target: Target) -> str:
    site = target.tenant.sibling_site if target.name == "sibling" else target.tenant.site
    return await _insert(ctx, "INSERT INTO agent (msp_id, id, practice_id, site_id, hostname, agent_version, credential_hash,"
                         " heartbeat_interval_seconds, created_at) VALUES (:m, :id, :p, :s, 'pc', '0.1.0', :h, 60, now())",
                         m=target.msp_id, id=uuid.uuid4(), p=target.practice.id, s=site.id, h=uuid.uuid4().bytes)


async def make_backup_job(ctx: Ctx, target: Target) -> str:
    return await _insert(ctx, "INSERT INTO backup_job (msp_id, id, practice_id, name, location, tool, schedule,"
                         " expected_interval_minutes, encrypted, immutable, verifies, provider, baa_on_file, created_at)"
                         " VALUES (:m, :id, :p, :n, 'onsite', 'restic', '', 1440, true, false, false, '', false, now())",
                         m=target.msp_id, id=uuid.uuid4(), p=target.practice.id, n=f"job-{uuid.uuid4().hex[:8]}")


async def make_link(ctx: Ctx, target: Target) -> str:
    site_id = await make_site(ctx, target)
    return await _insert(ctx, "INSERT INTO link (msp_id, id, practice_id, site_id, name, isp, medium, role, metered,"
                         " loss_threshold_pct, latency_threshold_ms, jitter_threshold_ms, created_at)"
                         " VALUES (:m, :id, :p, :s, :n, '', 'fiber', 'primary', false, 2, 150, 30, now())",
                         m=target.msp_id, id=uuid.uuid4(), p=target.practice.id, s=site_id, n=f"link-{uuid.uuid4().hex[:8]}")


async def make_system(ctx: Ctx, target: Target) -> str:
    return await _insert(ctx, "INSERT INTO system (msp_id, id, practice_id, name, category, tier, holds_ephi, rto_minutes,"
                         " rpo_minutes, mtd_minutes, requires_onsite_copy, requires_offsite_copy, owner, recovery_procedure,"
                         " created_at) VALUES (:m, :id, :p, :n, 'ehr', 1, true, 60, 60, 120, true, true, '', '', now())",
                         m=target.msp_id, id=uuid.uuid4(), p=target.practice.id, n=f"system-{uuid.uuid4().hex[:8]}")


async def make_contact(ctx: Ctx, target: Target) -> str:
    return await _insert(ctx, "INSERT INTO contact (msp_id, id, practice_id, name, kind, organization, role_title, phone, email,"
                         " call_order, notes, created_at) VALUES (:m, :id, :p, 'Matrix contact', 'staff', '', '', '', '', 1, '', now())",
                         m=target.msp_id, id=uuid.uuid4(), p=target.practice.id)


async def make_invitation(ctx: Ctx, target: Target) -> str:
    return await _insert(ctx, "INSERT INTO invitation (msp_id, id, email, role, practice_id, practice_ids, token_hash, expires_at,"
                         " created_at) VALUES (:m, :id, :e, 'practice_staff', :p, '[]', :h, now() + interval '7 days', now())",
                         m=target.msp_id, id=uuid.uuid4(), p=target.practice.id, e=f"{uuid.uuid4().hex[:8]}@example.test",
                         h=uuid.uuid4().bytes)


async def make_membership(ctx: Ctx, target: Target) -> str:
    user_id = uuid.uuid4()
    await _insert(ctx, "INSERT INTO app_user (id, email, name, is_active, created_at) VALUES (:id, :e, 'Matrix', true, now())",
                  id=user_id, e=f"{user_id.hex[:12]}@example.test")
    return await _insert(ctx, "INSERT INTO membership (msp_id, id, user_id, role, practice_id, all_practices, created_at)"
                         " VALUES (:m, :id, :u, 'practice_staff', :p, true, now())",
                         m=target.msp_id, id=uuid.uuid4(), u=user_id, p=target.practice.id)


async def make_incident(ctx: Ctx, target: Target) -> str:
    return await _insert(ctx, "INSERT INTO incident (msp_id, id, practice_id, rule_id, subject_type, subject_id, severity,"
                         " component, urgency, title, remediation, hipaa, status, opened_at, last_fired_at,"
                         " clear_evaluations, reopen_count, updated_at, created_at) VALUES (:m, :id, :p, 'link.down',"
                         " 'link', :s, 'high', 'connectivity', 'high', 'Link down', '', '', 'open', now(), now(), 0, 0,"
                         " now(), now())", m=target.msp_id, id=uuid.uuid4(), p=target.practice.id, s=str(uuid.uuid4()))


async def make_rule_id(ctx: Ctx, target: Target) -> str:
    return "link.down"


async def make_maintenance_window(ctx: Ctx, target: Target) -> str:
    return await _insert(ctx, "INSERT INTO maintenance_window (msp_id, id, practice_id, name, kind, starts_at, ends_at,"
                         " timezone, created_by, created_at) VALUES (:m, :id, :p, 'swap', 'once', now(),"
                         " now() + interval '1 hour', 'UTC', 'matrix', now())",
                         m=target.msp_id, id=uuid.uuid4(), p=target.practice.id)


async def make_notification_channel(ctx: Ctx, target: Target) -> str:
    return await _insert(ctx, "INSERT INTO notification_channel (msp_id, id, name, kind, enabled, config, secret_hint,"
                         " updated_at, created_at) VALUES (:m, :id, :n, 'webhook', true, '{}', '', now(), now())",
                         m=target.msp_id, id=uuid.uuid4(), n=f"channel-{uuid.uuid4().hex[:8]}")


async def make_notification_route(ctx: Ctx, target: Target) -> str:
    channel = await make_notification_channel(ctx, target)
    return await _insert(ctx, "INSERT INTO notification_route (msp_id, id, channel_id, min_severity, include_low_urgency,"
                         " enabled, created_at) VALUES (:m, :id, :c, 'high', false, true, now())",
                         m=target.msp_id, id=uuid.uuid4(), c=uuid.UUID(channel))


async def make_dead_letter(ctx: Ctx, target: Target) -> str:
    channel = await make_notification_channel(ctx, target)
    return await _insert(ctx, "INSERT INTO notification_outbox (msp_id, id, channel_id, action, payload, status, attempts,"
                         " next_attempt_at, last_error, created_at) VALUES (:m, :id, :c, 'test', '{}', 'dead', 8, now(),"
                         " 'HTTP 410', now())", m=target.msp_id, id=uuid.uuid4(), c=uuid.UUID(channel))


async def make_telemetry_dead_letter(ctx: Ctx, target: Target) -> str:
    return await _insert(ctx, "INSERT INTO telemetry_dead_letter (msp_id, id, created_at, practice_id, event_seq, source_id, event_id,"
                         " type, occurred_at, payload, code, reason, failures, first_failed_at, last_failed_at, replay_count)"
                         " VALUES (:m, :id, now(), :p, 1, :s, :e, 'backup_run', now(), '{}', 'invalid_payload', 'job_id is missing',"
                         " 1, now(), now(), 0)", m=target.msp_id, id=uuid.uuid4(), p=target.practice.id, s=uuid.uuid4(),
                         e=uuid.uuid4().hex)


async def make_plan_template(ctx: Ctx, target: Target) -> str:
    return await _insert(ctx, "INSERT INTO plan_template (msp_id, id, name, description, sections, updated_at, created_at)"
                         " VALUES (:m, :id, :n, '', '[]', now(), now())", m=target.msp_id, id=uuid.uuid4(),
                         n=f"template-{uuid.uuid4().hex[:8]}")


async def make_plan_version(ctx: Ctx, target: Target) -> str:
    """A superseded version (immutable, so every caller meets the same object) of the practice's plan."""
    params = {"m": target.msp_id, "p": target.practice.id, "plan": uuid.uuid4(), "id": uuid.uuid4()}
    async with ctx.owner_db.transaction() as s:  # type: ignore[attr-defined]
        await s.execute(text("INSERT INTO plan (msp_id, id, practice_id, template_name, created_at) VALUES (:m, :plan, :p, '', now())"
                             " ON CONFLICT (msp_id, practice_id) DO NOTHING"), params)
        await s.execute(text(
            "INSERT INTO plan_version (msp_id, id, practice_id, plan_id, number, status, sections, created_by_label, updated_at,"
            " submitted_by_label, approved_at, approved_by_label, approved_on_behalf, effective_date, review_interval_months,"
            " next_review_date, created_at)"
            " SELECT :m, :id, :p, pl.id, COALESCE((SELECT max(v.number) FROM plan_version v WHERE v.msp_id = :m AND v.plan_id = pl.id), 0) + 1,"
            " 'superseded', '[{\"key\": \"overview\", \"title\": \"Overview\", \"guidance\": \"\", \"required\": true, \"body\": \"\"}]',"
            " '', now(), '', now(), 'matrix', false, current_date, 12, current_date + 365, now()"
            " FROM plan pl WHERE pl.msp_id = :m AND pl.practice_id = :p"), params)
    return str(params["id"])


async def make_section_key(ctx: Ctx, target: Target) -> str:
    return "overview"


async def make_role_assignment(ctx: Ctx, target: Target) -> str:
    return await _insert(ctx, "INSERT INTO role_assignment (msp_id, id, practice_id, user_id, role_name, duties, created_at)"
                         " VALUES (:m, :id, :p, :u, :n, '', now())", m=target.msp_id, id=uuid.uuid4(), p=target.practice.id,
                         u=target.tenant["practice_staff"].user_id, n=f"role-{uuid.uuid4().hex[:8]}")


async def make_readiness_report(ctx: Ctx, target: Target) -> str:
    return await _insert(ctx, "INSERT INTO readiness_report (msp_id, id, created_at, practice_id, kind, period_start, period_end,"
                         " generated_at, generated_by_label, sha256, size_bytes, pdf) VALUES (:m, :id, now(), :p, 'on_demand',"
                         " date_trunc('month', now())::date, (date_trunc('month', now()) + interval '1 month')::date, now(),"
                         " 'matrix', repeat('0', 64), 9, '%PDF-1.4 '::bytea)", m=target.msp_id, id=uuid.uuid4(), p=target.practice.id)


MAKERS: dict[str, Callable[[Ctx, Target], Awaitable[str]]] = {
    "practice_id": make_practice,
    "invitation_id": make_invitation,
    "membership_id": make_membership,
    "site_id": make_site,
    "template_id": make_plan_template,
    "version_id": make_plan_version,
    "other_version_id": make_plan_version,
    "section_key": make_section_key,
    "assignment_id": make_role_assignment,
    "agent_id": make_agent,
    "backup_job_id": make_backup_job,
    "system_id": make_system,
    "contact_id": make_contact,
    "link_id": make_link,
    "incident_id": make_incident,
    "rule_id": make_rule_id,
    "window_id": make_maintenance_window,
    "channel_id": make_notification_channel,
    "route_id": make_notification_route,
    "outbox_id": make_dead_letter,
    "dead_letter_id": make_telemetry_dead_letter,
    "report_id": make_readiness_report,
}

# Who calls: the people of tests/factories.build_tenant, a read-only token, and nobody.
CALLERS = ["msp_owner", "msp_admin", "msp_technician", "assigned_technician", "practice_owner", "practice_staff",
           "read_only_token", "anonymous"]
SAFE = {"get", "head", "options"}


def _operations() -> list[tuple[str, str, str]]:
    from services.api.app import create_app

    spec = create_app().openapi()
    ops = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                ops.append((op["operationId"], method, path))
    return sorted(ops)


OPERATIONS = _operations()


def test_every_operation_is_in_the_policy_table():
    missing = [op for op, _, _ in OPERATIONS if op not in POLICY]
    assert missing == [], f"add these operationIds to POLICY in {__file__}: {missing}"
    stale = sorted(set(POLICY) - {op for op, _, _ in OPERATIONS})
    assert stale == [], f"POLICY names operations that no longer exist: {stale}"


def _role(caller: str) -> Role | None:
    return {"assigned_technician": Role.msp_technician, "read_only_token": Role.msp_owner}.get(caller) or (
        Role(caller) if caller in Role.__members__ else None)


def _sees(caller: str, target: str) -> bool:
    if target == "other":
        return False
    if caller in ("msp_owner", "msp_admin", "msp_technician", "read_only_token"):
        return True
    return target == "own"  # assigned technician and practice people see only tenant.practice


def expected(rule: Rule, caller: str, target: str, method: str, has_object: bool) -> str:
    """'allowed', or the status code a refusal must have."""
    if caller == "anonymous":
        return "401"
    if rule.kind == "agent":
        return "401"
    write = method not in SAFE
    if has_object and target == "other":
        return "404"
    role = _role(caller)
    if rule.kind == "self":
        return "allowed"
    if rule.kind == "msp":
        ok = allows(role, rule.permission) and not (caller == "read_only_token" and rule.permission not in READ_PERMISSIONS)
        if role is not None and not role.is_msp_role:
            ok = False
        return "allowed" if ok else "403"
    # practice
    if not _sees(caller, target):
        return "404"
    ok = allows(role, rule.permission) and not (caller == "read_only_token" and (write or rule.permission not in READ_PERMISSIONS))
    return "allowed" if ok else "403"


@pytest.fixture(scope="module")
async def matrix(db, owner_db, app):
    tenant, other = await build_tenant(db), await build_tenant(db)
    clients: dict[str, httpx.AsyncClient] = {}
    for caller in CALLERS:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver")
        if caller == "read_only_token":
            c.headers["Authorization"] = f"Bearer {await api_token(db, tenant.msp_id, tenant['msp_owner'], read_only=True)}"
        elif caller != "anonymous":
            await sign_in(c, tenant[caller])
        clients[caller] = c
    yield Ctx(owner_db, tenant, other), clients
    for c in clients.values():
        await c.aclose()


PARAM = re.compile(r"{(\w+)}")


# Objects every case shares: never deleted by the matrix (their own suites test deletion).
SHARED_PARAMS = {"practice_id"}


def _order(method: str, path: str, callers: list[str], rule: Rule, target: str, has_object: bool) -> list[str]:
    """Destructive calls: refusals first, then one allowed caller (the object is gone afterwards)."""
    if method != "delete":
        return callers
    refused = [c for c in callers if expected(rule, c, target, method, has_object) != "allowed"]
    last = PARAM.findall(path)[-1:]
    if set(last) & SHARED_PARAMS:
        return refused
    allowed = [c for c in callers if c not in refused]
    return refused + allowed[:1]


@pytest.mark.parametrize("operation_id,method,path", OPERATIONS, ids=[o[0] for o in OPERATIONS])
async def test_operation_enforces_its_policy(matrix, operation_id, method, path):
    ctx, clients = matrix
    rule = POLICY.get(operation_id)
    if rule is None:
        pytest.fail(f"{operation_id} is not in POLICY")
    if rule.kind == "public":
        return
    params = PARAM.findall(path)
    unknown = [p for p in params if p not in MAKERS]
    assert unknown == [], f"register a maker for path parameters {unknown} in MAKERS"
    failures = []
    for target_name in ("own", "sibling", "other"):
        if not params and target_name != "own":
            continue
        target = ctx.target(target_name)
        for caller in _order(method, path, CALLERS, rule, target_name, bool(params)):
            values = {p: await MAKERS[p](ctx, target) for p in params}
            url = path.format(**values)
            kwargs = {"json": {}} if method in ("post", "put", "patch") else {}
            r = await clients[caller].request(method.upper(), url, **kwargs)
            want = expected(rule, caller, target_name, method, bool(params))
            got = r.status_code
            if want == "allowed":
                refused = got in (401, 403) or (got == 404 and not rule.may_404)
                if refused or got >= 500:
                    failures.append(f"{caller} on {target_name}: expected to be allowed, got {got} {r.text[:120]}")
            elif str(got) != want:
                failures.append(f"{caller} on {target_name}: expected {want}, got {got} {r.text[:120]}")
    assert failures == [], f"{method.upper()} {path}:\n" + "\n".join(failures)
