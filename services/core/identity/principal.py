"""The caller, resolved once per request: a signed-in user, an API token, or an agent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from services.core.db import Scope
from services.core.identity.models import Role
from services.core.identity.policy import READ_PERMISSIONS, Permission, allows


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "token", "agent"]
    msp_id: uuid.UUID
    user_id: uuid.UUID | None = None
    email: str = ""
    msp_role: Role | None = None
    practice_roles: dict[uuid.UUID, Role] = field(default_factory=dict)
    # None = every practice of the MSP; otherwise exactly these.
    visible_practices: frozenset[uuid.UUID] | None = None
    read_only: bool = False
    session_id: uuid.UUID | None = None
    token_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    # Set for agents: the one practice and site the credential belongs to.
    practice_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    ip: str | None = None

    @property
    def scope(self) -> Scope:
        return Scope(self.msp_id, self.visible_practices, self.user_id)

    def sees_practice(self, practice_id: uuid.UUID) -> bool:
        return self.visible_practices is None or practice_id in self.visible_practices

    def role_in(self, practice_id: uuid.UUID | None) -> Role | None:
        """The strongest role the caller holds for this practice (or the MSP when None)."""
        if self.msp_role is not None and (practice_id is None or self.sees_practice(practice_id)):
            return self.msp_role
        if practice_id is not None:
            return self.practice_roles.get(practice_id)
        return None

    def can(self, permission: Permission, practice_id: uuid.UUID | None = None) -> bool:
        if self.read_only and permission not in READ_PERMISSIONS:
            return False
        if practice_id is None:
            return allows(self.msp_role, permission)
        return self.sees_practice(practice_id) and allows(self.role_in(practice_id), permission)

    @property
    def label(self) -> str:
        return self.email or (f"agent:{self.agent_id}" if self.agent_id else "")
