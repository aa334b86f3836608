"""Queries every inventory service shares: one practice's rows, always filtered by msp_id AND practice_id."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import Conflict, FieldError, NotFound
from services.core.inventory.models import BackupJob, Contact, Link, System, SystemDependency
from services.core.practices.models import Practice, Site

Row = TypeVar("Row", System, BackupJob, Link, Contact, Site)


def plain(values: dict[str, Any]) -> dict[str, Any]:
    """Enum members as their stored strings, so columns and audit events hold exactly what the API showed."""
    return {k: v.value if isinstance(v, enum.Enum) else v for k, v in values.items()}


async def get_one(session: AsyncSession, model: type[Row], practice: Practice, object_id: uuid.UUID, what: str) -> Row:
    row = await session.scalar(select(model).where(model.msp_id == practice.msp_id, model.practice_id == practice.id,
                                                   model.id == object_id))
    if row is None:
        raise NotFound(f"No such {what} in this practice.")
    return row


async def list_all(session: AsyncSession, model: type[Row], practice: Practice, *order) -> list[Row]:
    query = select(model).where(model.msp_id == practice.msp_id, model.practice_id == practice.id)
    return list(await session.scalars(query.order_by(*order) if order else query))


async def ids_in_practice(session: AsyncSession, model: type[Row], practice: Practice, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these ids are rows of this practice (another practice's or tenant's ids are simply absent)."""
    wanted = set(ids)
    if not wanted:
        return set()
    return set(await session.scalars(select(model.id).where(model.msp_id == practice.msp_id, model.practice_id == practice.id,
                                                            model.id.in_(wanted))))


async def flush_or_conflict(session: AsyncSession, constraints: Mapping[str, tuple[str, str]]) -> None:
    """Flush; a unique violation we know becomes a 409 naming the field, anything else stays a bug."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if isinstance(name, str) and name in constraints:
            field, message = constraints[name]
            raise Conflict(message, errors=[FieldError(field, "already taken")]) from exc
        raise


async def system_edges(session: AsyncSession, practice: Practice) -> dict[uuid.UUID, set[uuid.UUID]]:
    """system id → the systems it depends on directly (links left out: they have no recovery target)."""
    rows = await session.execute(select(SystemDependency.system_id, SystemDependency.depends_on_system_id).where(
        SystemDependency.msp_id == practice.msp_id, SystemDependency.practice_id == practice.id,
        SystemDependency.depends_on_system_id.is_not(None)))
    edges: dict[uuid.UUID, set[uuid.UUID]] = {}
    for system_id, target in rows:
        assert target is not None  # the query leaves out dependencies on links
        edges.setdefault(system_id, set()).add(target)
    return edges


def path_back(edges: Mapping[uuid.UUID, Iterable[uuid.UUID]], start: uuid.UUID, goal: uuid.UUID) -> list[uuid.UUID] | None:
    """A dependency path from start to goal, if there is one (used to refuse circular dependencies)."""
    stack: list[tuple[uuid.UUID, list[uuid.UUID]]] = [(start, [start])]
    seen: set[uuid.UUID] = set()
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        if node in seen:
            continue
        seen.add(node)
        for nxt in edges.get(node, ()):
            stack.append((nxt, [*path, nxt]))
    return None


def find_cycles(edges: Mapping[uuid.UUID, Iterable[uuid.UUID]]) -> list[list[uuid.UUID]]:
    """Each dependency cycle once, as the list of systems around it."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour: dict[uuid.UUID, int] = {}
    cycles: list[list[uuid.UUID]] = []
    for root in sorted(edges, key=str):
        if colour.get(root, WHITE) != WHITE:
            continue
        stack: list[tuple[uuid.UUID, list[uuid.UUID]]] = [(root, sorted(edges.get(root, ()), key=str))]
        trail = [root]
        colour[root] = GREY
        while stack:
            node, pending = stack[-1]
            if not pending:
                colour[node] = BLACK
                stack.pop()
                trail.pop()
                continue
            nxt = pending.pop()
            state = colour.get(nxt, WHITE)
            if state == GREY:
                cycles.append(trail[trail.index(nxt):])
            elif state == WHITE:
                colour[nxt] = GREY
                trail.append(nxt)
                stack.append((nxt, sorted(edges.get(nxt, ()), key=str)))
    return cycles
