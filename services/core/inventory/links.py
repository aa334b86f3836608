"""Internet links of a practice's sites — scoped to one practice and audited."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import Actor, diff, record
from services.core.errors import FieldError, ValidationFailed
from services.core.inventory import repository as repo
from services.core.inventory.models import Link
from services.core.practices.models import Practice, Site

LINK_CONSTRAINTS = {"uq_link_msp_id_site_id_name": ("name", "This site already has an internet link with that name.")}


async def _check_site(session: AsyncSession, practice: Practice, site_id: uuid.UUID | None) -> None:
    if site_id is not None and not await repo.ids_in_practice(session, Site, practice, [site_id]):
        raise ValidationFailed("The link's site is not a site of this practice.",
                               errors=[FieldError("site_id", f"{site_id} is not a site of this practice")])


async def list_links(session: AsyncSession, practice: Practice) -> list[Link]:
    return await repo.list_all(session, Link, practice, Link.site_id, Link.role, Link.name)


async def get_link(session: AsyncSession, practice: Practice, link_id: uuid.UUID) -> Link:
    return await repo.get_one(session, Link, practice, link_id, "internet link")


async def create_link(session: AsyncSession, practice: Practice, actor: Actor, fields: dict[str, Any]) -> Link:
    fields = repo.plain(fields)
    await _check_site(session, practice, fields["site_id"])
    link = Link(msp_id=practice.msp_id, practice_id=practice.id, **fields)
    session.add(link)
    await repo.flush_or_conflict(session, LINK_CONSTRAINTS)
    await record(session, msp_id=practice.msp_id, actor=actor, action="link.created", object_type="link",
                 object_id=link.id, practice_id=practice.id, changes=fields)
    return link


async def update_link(session: AsyncSession, practice: Practice, link: Link, actor: Actor, changes: dict[str, Any]) -> Link:
    changes = repo.plain(changes)
    await _check_site(session, practice, changes.get("site_id"))
    before = {k: getattr(link, k) for k in changes}
    for k, v in changes.items():
        setattr(link, k, v)
    await repo.flush_or_conflict(session, LINK_CONSTRAINTS)
    await record(session, msp_id=practice.msp_id, actor=actor, action="link.updated", object_type="link",
                 object_id=link.id, practice_id=practice.id, changes=diff(before, changes))
    return link


async def delete_link(session: AsyncSession, practice: Practice, link: Link, actor: Actor) -> None:
    """Remove a link; systems that depended on it lose that dependency (database cascade)."""
    await session.delete(link)
    await session.flush()
    await record(session, msp_id=practice.msp_id, actor=actor, action="link.deleted", object_type="link",
                 object_id=link.id, practice_id=practice.id, changes={"name": link.name})
