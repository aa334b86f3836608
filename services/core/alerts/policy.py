"""Thresholds with inheritance: catalogue default ← MSP policy ← practice override ← site override.

Each level may leave a rule's `enabled` and any threshold unset (inherit), set it (override), or,
for `enabled`, set it false (disable). `resolve()` is the one place that decides; everything else
(evaluation, the API's "effective policy" view) calls it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts import rules as catalogue
from services.core.alerts.models import AlertOverride, AlertPolicy
from services.core.errors import FieldError, ValidationFailed

# Plan and inventory findings use their own ids (plan.review_overdue …); they may be enabled or
# disabled but have no thresholds here.
RULE_ID = re.compile(r"^[a-z]+\.[a-z0-9_]+$")


@dataclass(frozen=True)
class Level:
    """One level's say about one rule: None = inherit."""

    enabled: bool | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Effective:
    enabled: bool
    params: dict[str, Any]
    # Where each value came from: "default", "msp", "practice" or "site" (key "enabled" too).
    source: dict[str, str]


def resolve(rule_id: str, msp: Level | None, practice: Level | None = None, site: Level | None = None) -> Effective:
    r = catalogue.get(rule_id)
    params: dict[str, Any] = r.defaults() if r else {}
    source = {k: "default" for k in params} | {"enabled": "default"}
    enabled = True
    for name, level in (("msp", msp), ("practice", practice), ("site", site)):
        if level is None:
            continue
        if level.enabled is not None:
            enabled, source["enabled"] = level.enabled, name
        for k, v in level.params.items():
            if k in params:
                params[k], source[k] = v, name
    return Effective(enabled, params, source)


def validate_level(rule_id: str, enabled: bool | None, params: dict[str, Any], field_prefix: str = "") -> Level:
    """Refuse unknown rules, unknown thresholds and values outside a threshold's range."""
    errors: list[FieldError] = []
    r = catalogue.get(rule_id)
    if r is None and not RULE_ID.match(rule_id):
        raise ValidationFailed("Unknown rule.", errors=[FieldError(f"{field_prefix}rule_id", f"{rule_id!r} is not a rule id")])
    clean: dict[str, Any] = {}
    for k, v in params.items():
        spec = r.params.get(k) if r else None
        if spec is None:
            errors.append(FieldError(f"{field_prefix}params.{k}", f"{rule_id} has no threshold named {k!r}"))
        elif v is None:
            continue
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            errors.append(FieldError(f"{field_prefix}params.{k}", "must be a number"))
        elif not spec.minimum <= v <= spec.maximum:
            errors.append(FieldError(f"{field_prefix}params.{k}", f"must be between {spec.minimum:g} and {spec.maximum:g}"))
        else:
            clean[k] = v
    if errors:
        raise ValidationFailed("Some thresholds are not valid.", errors=errors)
    return Level(enabled, clean)


def _level(raw: dict[str, Any] | None) -> Level | None:
    if not raw:
        return None
    return Level(raw.get("enabled"), dict(raw.get("params") or {}))


@dataclass
class PolicyView:
    """The policy and every override of some practices, loaded once per evaluation."""

    policy: AlertPolicy | None
    practice: dict[tuple[uuid.UUID, str], AlertOverride]
    site: dict[tuple[uuid.UUID, str], AlertOverride]
    # effective() per (rule, practice, site): an evaluation asks ~20 rules × every site of every
    # practice, and the worker keeps a view for as long as the configuration stays the same
    # (alerts/config.py). The view and what it returns are never modified.
    _effective: dict[tuple[str, uuid.UUID, uuid.UUID | None], Effective] = field(default_factory=dict, repr=False,
                                                                                 compare=False)

    def effective(self, rule_id: str, practice_id: uuid.UUID, site_id: uuid.UUID | None = None) -> Effective:
        key = (rule_id, practice_id, site_id)
        if (known := self._effective.get(key)) is not None:
            return known
        msp = _level((self.policy.rules if self.policy else {}).get(rule_id))
        p = self.practice.get((practice_id, rule_id))
        s = self.site.get((site_id, rule_id)) if site_id else None
        out = self._effective[key] = resolve(rule_id, msp, Level(p.enabled, p.params) if p else None,
                                             Level(s.enabled, s.params) if s else None)
        return out

    @property
    def resolve_after_minutes(self) -> int:
        return self.policy.resolve_after_minutes if self.policy else 5

    @property
    def resolve_after_evaluations(self) -> int:
        return self.policy.resolve_after_evaluations if self.policy else 2

    @property
    def reopen_cooldown_minutes(self) -> int:
        return self.policy.reopen_cooldown_minutes if self.policy else 60

    @property
    def max_notifications_per_hour(self) -> int:
        return self.policy.max_notifications_per_hour if self.policy else 3


async def get_policy(session: AsyncSession, msp_id: uuid.UUID) -> AlertPolicy | None:
    return await session.scalar(select(AlertPolicy).where(AlertPolicy.msp_id == msp_id))


async def get_or_create_policy(session: AsyncSession, msp_id: uuid.UUID) -> AlertPolicy:
    policy = await get_policy(session, msp_id)
    if policy is None:
        policy = AlertPolicy(msp_id=msp_id, rules={}, resolve_after_minutes=5, resolve_after_evaluations=2,
                             reopen_cooldown_minutes=60, max_notifications_per_hour=3)
        session.add(policy)
        await session.flush()
    return policy


async def load(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Iterable[uuid.UUID] | None) -> PolicyView:
    """The policy and the overrides of these practices (None: of every practice of the MSP)."""
    if practice_ids is None:
        overrides = (await session.scalars(select(AlertOverride).where(AlertOverride.msp_id == msp_id))).all()
    else:
        ids = list(practice_ids)
        overrides = (await session.scalars(select(AlertOverride).where(
            AlertOverride.msp_id == msp_id, AlertOverride.practice_id.in_(ids)))).all() if ids else []
    return PolicyView(
        await get_policy(session, msp_id),
        {(o.practice_id, o.rule_id): o for o in overrides if o.site_id is None},
        {(o.site_id, o.rule_id): o for o in overrides if o.site_id is not None},
    )
