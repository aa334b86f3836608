"""Practices and their sites: create, change, remove — scoped and audited."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from psycopg.errors import UniqueViolation
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import locks
from services.core.audit.service import Actor, diff, record
from services.core.errors import Conflict, FieldError, NotFound
from services.core.practices.models import Practice, Site


async def _flush_unique(session: AsyncSession, field: str, what: str) -> None:
    """Flush, turning a duplicate name into a 409 that names the field (the request then rolls back)."""
    try:
        await session.flush()
    except IntegrityError as exc:
        if isinstance(exc.orig, UniqueViolation):
            raise Conflict(f"A {what} with that {field} already exists.", errors=[FieldError(field, "already taken")]) from exc
        raise


async def list_practices(session: AsyncSession, msp_id: uuid.UUID) -> list[Practice]:
    return list(await session.scalars(select(Practice).where(Practice.msp_id == msp_id).order_by(Practice.name)))


async def create_practice(session: AsyncSession, msp_id: uuid.UUID, actor: Actor, **fields: Any) -> Practice:
    practice = Practice(msp_id=msp_id, **fields)
    session.add(practice)
    await _flush_unique(session, "name", "practice")
    await record(session, msp_id=msp_id, actor=actor, action="practice.created", object_type="practice",
                 object_id=practice.id, practice_id=practice.id, changes=fields)
    return practice


async def update_practice(session: AsyncSession, practice: Practice, actor: Actor, changes: dict[str, Any]) -> Practice:
    before = {k: getattr(practice, k) for k in changes}
    for k, v in changes.items():
        setattr(practice, k, v)
    await _flush_unique(session, "name", "practice")
    await record(session, msp_id=practice.msp_id, actor=actor, action="practice.updated", object_type="practice",
                 object_id=practice.id, practice_id=practice.id, changes=diff(before, changes))
    return practice


async def _before_removing(session: AsyncSession, practice_id: uuid.UUID, msp_id: uuid.UUID) -> None:
    """Removing a practice or site deletes rows a telemetry batch writes (agents, links, their state)
    and incident rows: take the MSP's telemetry lock and the practice's incident lock first, as a
    batch and an acknowledgement do, so neither can hold one of those rows while waiting for the
    other (docs/decisions/0005-lock-order.md)."""
    await locks.wait_for_telemetry(session, msp_id)
    await locks.lock_practices(session, [practice_id])


async def delete_practice(session: AsyncSession, practice: Practice, actor: Actor) -> None:
    from services.core.identity import users  # identity depends on practices, not the other way round
    from services.core.identity.models import Membership

    await _before_removing(session, practice.id, practice.msp_id)
    members = set(await session.scalars(select(Membership.user_id).where(
        Membership.msp_id == practice.msp_id, Membership.practice_id == practice.id)))
    await session.delete(practice)
    await session.flush()
    revoked = await users.cut_off_members_of_removed_practice(session, practice.msp_id, members)
    await record(session, msp_id=practice.msp_id, actor=actor, action="practice.deleted", object_type="practice",
                 object_id=practice.id, changes={"name": practice.name})
    for user_id, token_ids in revoked.items():
        await record(session, msp_id=practice.msp_id, actor=actor, action="api_token.revoked", object_type="user",
                     object_id=user_id, changes={"reason": "no role left in the MSP", "token_ids": token_ids})


async def list_sites(session: AsyncSession, practice: Practice) -> list[Site]:
    return list(await session.scalars(select(Site).where(Site.msp_id == practice.msp_id, Site.practice_id == practice.id).order_by(Site.name)))


async def get_site(session: AsyncSession, practice: Practice, site_id: uuid.UUID) -> Site:
    site = await session.scalar(select(Site).where(Site.msp_id == practice.msp_id, Site.practice_id == practice.id, Site.id == site_id))
    if site is None:
        raise NotFound("No such site in this practice.")
    return site


async def create_site(session: AsyncSession, practice: Practice, actor: Actor, **fields: Any) -> Site:
    site = Site(msp_id=practice.msp_id, practice_id=practice.id, **fields)
    session.add(site)
    await _flush_unique(session, "name", "site")
    await record(session, msp_id=practice.msp_id, actor=actor, action="site.created", object_type="site", object_id=site.id,
                 practice_id=practice.id, changes=fields)
    return site


async def update_site(session: AsyncSession, site: Site, actor: Actor, changes: dict[str, Any]) -> Site:
    before = {k: getattr(site, k) for k in changes}
    for k, v in changes.items():
        setattr(site, k, v)
    await _flush_unique(session, "name", "site")
    await record(session, msp_id=site.msp_id, actor=actor, action="site.updated", object_type="site", object_id=site.id,
                 practice_id=site.practice_id, changes=diff(before, changes))
    return site


async def delete_site(session: AsyncSession, site: Site, actor: Actor) -> None:
    await _before_removing(session, site.practice_id, site.msp_id)
    await session.delete(site)
    await session.flush()
    await record(session, msp_id=site.msp_id, actor=actor, action="site.deleted", object_type="site", object_id=site.id,
                 practice_id=site.practice_id, changes={"name": site.name})
