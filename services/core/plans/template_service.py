"""Plan templates: the built-in one (read-only, in code) and the MSP's own copies."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import Actor, record
from services.core.base import utcnow
from services.core.errors import Conflict, FieldError, NotFound
from services.core.plans import sections as sec
from services.core.plans.models import PlanTemplate
from services.core.plans.templates import DEFAULT_TEMPLATE, DEFAULT_TEMPLATE_ID, default_sections


def builtin_out() -> dict[str, Any]:
    return {**DEFAULT_TEMPLATE, "sections": sec.shown(default_sections()), "created_at": None, "updated_at": None}


def template_out(t: PlanTemplate) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "description": t.description, "builtin": False, "sections": sec.shown(t.sections),
            "created_at": t.created_at, "updated_at": t.updated_at}


async def list_templates(session: AsyncSession, msp_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.scalars(select(PlanTemplate).where(PlanTemplate.msp_id == msp_id).order_by(PlanTemplate.name))
    return [builtin_out(), *(template_out(t) for t in rows)]


async def get_template(session: AsyncSession, msp_id: uuid.UUID, template_id: uuid.UUID) -> PlanTemplate:
    t = await session.scalar(select(PlanTemplate).where(PlanTemplate.msp_id == msp_id, PlanTemplate.id == template_id))
    if t is None:
        raise NotFound("No such plan template.")
    return t


async def sections_of(session: AsyncSession, msp_id: uuid.UUID, template_id: uuid.UUID | None) -> tuple[str, list[dict[str, Any]]]:
    """(name, a fresh copy of the sections) of the built-in template or one of the MSP's."""
    if template_id is None or template_id == DEFAULT_TEMPLATE_ID:
        return DEFAULT_TEMPLATE["name"], default_sections()
    t = await get_template(session, msp_id, template_id)
    return t.name, [dict(s) for s in t.sections]


async def _flush_name(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("A plan template with that name already exists.", errors=[FieldError("name", "already taken")]) from exc


async def create_template(session: AsyncSession, msp_id: uuid.UUID, actor: Actor, name: str, description: str,
                          source_template_id: uuid.UUID | None, sections: list[Any] | None) -> PlanTemplate:
    if sections is not None:
        source_name, content = "", sec.normalise(sections)
    else:
        source_name, content = await sections_of(session, msp_id, source_template_id)
    t = PlanTemplate(msp_id=msp_id, name=name, description=description, sections=content)
    session.add(t)
    await _flush_name(session)
    await record(session, msp_id=msp_id, actor=actor, action="plan_template.created", object_type="plan_template",
                 object_id=t.id, changes={"name": name, "copied_from": source_name or None, "sections": len(content)})
    return t


async def update_template(session: AsyncSession, msp_id: uuid.UUID, template_id: uuid.UUID, actor: Actor,
                          changes: dict[str, Any]) -> PlanTemplate:
    if template_id == DEFAULT_TEMPLATE_ID:
        raise Conflict("The built-in template cannot be changed; copy it and edit the copy.")
    t = await get_template(session, msp_id, template_id)
    audit: dict[str, Any] = {}
    if "sections" in changes and changes["sections"] is not None:
        new = sec.normalise(changes["sections"])
        audit["sections"] = {"before": [s["key"] for s in t.sections], "after": [s["key"] for s in new]}
        t.sections = new
    for field in ("name", "description"):
        if changes.get(field) is not None and changes[field] != getattr(t, field):
            audit[field] = [getattr(t, field), changes[field]]
            setattr(t, field, changes[field])
    t.updated_at = utcnow()
    await _flush_name(session)
    await record(session, msp_id=msp_id, actor=actor, action="plan_template.updated", object_type="plan_template",
                 object_id=t.id, changes=audit)
    return t


async def delete_template(session: AsyncSession, msp_id: uuid.UUID, template_id: uuid.UUID, actor: Actor) -> None:
    if template_id == DEFAULT_TEMPLATE_ID:
        raise Conflict("The built-in template cannot be deleted.")
    t = await get_template(session, msp_id, template_id)
    # Plans keep their own copy of the sections, so removing a template changes no plan.
    await session.delete(t)
    await session.flush()
    await record(session, msp_id=msp_id, actor=actor, action="plan_template.deleted", object_type="plan_template",
                 object_id=t.id, changes={"name": t.name})
