"""Who may do what: one table, read by every router through services/api/deps.py.

Roles are those of SPEC section 2. Visibility (which practices a caller can see at all) is decided
when the principal is resolved; this table decides what a caller may do with what it sees.
"""

from __future__ import annotations

import enum

from services.core.identity.models import Role


class Permission(str, enum.Enum):
    msp_read = "msp:read"  # MSP-wide views: portfolio, incidents queue, agents
    msp_manage = "msp:manage"  # practices, users, templates, policies, audit log
    msp_billing = "msp:billing"
    practice_read = "practice:read"  # readiness, inventory, plan (read)
    practice_operate = "practice:operate"  # edit inventory and plans, handle incidents, enrol agents
    practice_users = "practice:users"  # invite and manage the practice's own users
    plan_approve = "plan:approve"
    plan_acknowledge = "plan:acknowledge"
    telemetry_inspect = "telemetry:inspect"  # dead letters, refused batches, a stalled MSP
    telemetry_replay = "telemetry:replay"  # replay or discard dead letters


_MSP_STAFF = {Role.msp_owner, Role.msp_admin, Role.msp_technician}

POLICY: dict[Permission, frozenset[Role]] = {
    Permission.msp_read: frozenset(_MSP_STAFF),
    Permission.msp_manage: frozenset({Role.msp_owner, Role.msp_admin}),
    Permission.msp_billing: frozenset({Role.msp_owner}),
    Permission.practice_read: frozenset(_MSP_STAFF | {Role.practice_owner, Role.practice_staff}),
    Permission.practice_operate: frozenset(_MSP_STAFF),
    Permission.practice_users: frozenset({Role.msp_owner, Role.msp_admin, Role.practice_owner}),
    # An MSP admin may approve on the owner's behalf; the approval records that it was so.
    Permission.plan_approve: frozenset({Role.practice_owner, Role.msp_owner, Role.msp_admin}),
    Permission.plan_acknowledge: frozenset({Role.practice_owner, Role.practice_staff}),
    # The MSP's people fix what an agent or a release got wrong; a practice sees its own readiness.
    Permission.telemetry_inspect: frozenset(_MSP_STAFF),
    Permission.telemetry_replay: frozenset(_MSP_STAFF),
}

# Permissions that change something: a read-only token never gets them.
READ_PERMISSIONS = frozenset({Permission.msp_read, Permission.practice_read, Permission.telemetry_inspect})


def allows(role: Role | None, permission: Permission) -> bool:
    return role is not None and role in POLICY[permission]
