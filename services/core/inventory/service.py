"""Systems and what they depend on: create, change, remove — scoped to one practice and audited.

Backup jobs, links and contacts have their own modules (backup_jobs.py, links.py, contacts.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import Actor, diff, record
from services.core.errors import FieldError, ValidationFailed
from services.core.inventory import repository as repo
from services.core.inventory.models import BackupJobSystem, Link, System, SystemDependency
from services.core.inventory.schemas import DependencyOut, SystemOut
from services.core.practices.models import Practice

SYSTEM_CONSTRAINTS = {
    "uq_system_msp_id_practice_id_name": ("name", "This practice already has a system with that name."),
    "uq_system_external_id": ("external_id", "This practice already has a system with that external id."),
}


def check_targets(rto: int, mtd: int) -> None:
    if rto > mtd:
        raise ValidationFailed("The recovery time objective cannot be longer than the maximum tolerable downtime.",
                               errors=[FieldError("rto_minutes", f"RTO ({rto} min) must not exceed MTD ({mtd} min)")])


async def resolve_dependencies(session: AsyncSession, practice: Practice, system_id: uuid.UUID,
                               ids: Sequence[uuid.UUID]) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Split depends_on into (system ids, link ids) of this practice; any other id is a 422 naming its place."""
    systems = await repo.ids_in_practice(session, System, practice, ids)
    links = await repo.ids_in_practice(session, Link, practice, ids)
    errors: list[FieldError] = []
    on_systems: list[uuid.UUID] = []
    on_links: list[uuid.UUID] = []
    for i, target in enumerate(ids):
        field = f"depends_on[{i}]"
        if target == system_id:
            errors.append(FieldError(field, "a system cannot depend on itself"))
        elif target in systems:
            if target not in on_systems:
                on_systems.append(target)
        elif target in links:
            if target not in on_links:
                on_links.append(target)
        else:
            errors.append(FieldError(field, f"{target} is not a system or internet link of this practice"))
    if not errors and on_systems:
        edges = await repo.system_edges(session, practice)
        for i, target in enumerate(ids):
            if target in on_systems and (path := repo.path_back(edges, target, system_id)):
                names = dict((await session.execute(select(System.id, System.name).where(
                    System.msp_id == practice.msp_id, System.id.in_(path)))).all())
                loop = " → ".join(names.get(p, str(p)) for p in [system_id, *path])
                errors.append(FieldError(f"depends_on[{i}]", f"this would make a circular dependency: {loop}"))
    if errors:
        raise ValidationFailed("Some dependencies are not systems or internet links of this practice.", errors=errors)
    return on_systems, on_links


async def set_dependencies(session: AsyncSession, system: System, on_systems: list[uuid.UUID], on_links: list[uuid.UUID],
                           keep_links: bool = False) -> None:
    """Replace what the system depends on (keep_links: replace only the system-to-system part)."""
    query = delete(SystemDependency).where(SystemDependency.msp_id == system.msp_id, SystemDependency.system_id == system.id)
    if keep_links:
        query = query.where(SystemDependency.depends_on_system_id.is_not(None))
    await session.execute(query)
    for target in on_systems:
        session.add(SystemDependency(msp_id=system.msp_id, practice_id=system.practice_id, system_id=system.id,
                                     depends_on_system_id=target))
    for target in on_links:
        session.add(SystemDependency(msp_id=system.msp_id, practice_id=system.practice_id, system_id=system.id,
                                     depends_on_link_id=target))
    await session.flush()


async def system_views(session: AsyncSession, practice: Practice, systems: Sequence[System]) -> list[SystemOut]:
    """Systems with their dependencies and protecting backup jobs, loaded in three queries."""
    ids = [s.id for s in systems]
    deps: dict[uuid.UUID, list[DependencyOut]] = {i: [] for i in ids}
    jobs: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    if ids:
        rows = await session.execute(
            select(SystemDependency.system_id, System.id, System.name, Link.id, Link.name)
            .outerjoin(System, (System.msp_id == SystemDependency.msp_id) & (System.id == SystemDependency.depends_on_system_id))
            .outerjoin(Link, (Link.msp_id == SystemDependency.msp_id) & (Link.id == SystemDependency.depends_on_link_id))
            .where(SystemDependency.msp_id == practice.msp_id, SystemDependency.practice_id == practice.id,
                   SystemDependency.system_id.in_(ids)))
        for system_id, sys_id, sys_name, link_id, link_name in rows:
            dep = DependencyOut(id=sys_id, kind="system", name=sys_name) if sys_id else DependencyOut(id=link_id, kind="link", name=link_name)
            deps[system_id].append(dep)
        for system_id, job_id in await session.execute(
                select(BackupJobSystem.system_id, BackupJobSystem.backup_job_id).where(
                    BackupJobSystem.msp_id == practice.msp_id, BackupJobSystem.practice_id == practice.id,
                    BackupJobSystem.system_id.in_(ids))):
            jobs[system_id].append(job_id)
    views = []
    for s in systems:
        ordered = sorted(deps[s.id], key=lambda d: (d.kind, d.name.lower()))
        views.append(SystemOut.model_validate({
            **{k: getattr(s, k) for k in SystemOut.model_fields if hasattr(s, k)},
            "depends_on": [d.id for d in ordered], "dependencies": ordered, "backup_job_ids": sorted(jobs[s.id], key=str),
        }))
    return views


async def list_systems(session: AsyncSession, practice: Practice) -> list[SystemOut]:
    systems = await repo.list_all(session, System, practice, System.tier, System.name)
    return await system_views(session, practice, systems)


async def get_system(session: AsyncSession, practice: Practice, system_id: uuid.UUID) -> System:
    return await repo.get_one(session, System, practice, system_id, "system")


async def create_system(session: AsyncSession, practice: Practice, actor: Actor, fields: dict[str, Any]) -> System:
    fields = repo.plain(fields)
    depends_on = fields.pop("depends_on", [])
    check_targets(fields["rto_minutes"], fields["mtd_minutes"])
    system = System(id=uuid.uuid4(), msp_id=practice.msp_id, practice_id=practice.id, **fields)
    on_systems, on_links = await resolve_dependencies(session, practice, system.id, depends_on)
    session.add(system)
    await repo.flush_or_conflict(session, SYSTEM_CONSTRAINTS)
    await set_dependencies(session, system, on_systems, on_links)
    await record(session, msp_id=practice.msp_id, actor=actor, action="system.created", object_type="system",
                 object_id=system.id, practice_id=practice.id, changes={**fields, "depends_on": [*on_systems, *on_links]})
    return system


async def update_system(session: AsyncSession, practice: Practice, system: System, actor: Actor, changes: dict[str, Any]) -> System:
    changes = repo.plain(changes)
    depends_on = changes.pop("depends_on", None)
    check_targets(changes.get("rto_minutes", system.rto_minutes), changes.get("mtd_minutes", system.mtd_minutes))
    resolved = None if depends_on is None else await resolve_dependencies(session, practice, system.id, depends_on)
    before = {k: getattr(system, k) for k in changes}
    for k, v in changes.items():
        setattr(system, k, v)
    await repo.flush_or_conflict(session, SYSTEM_CONSTRAINTS)
    changed = diff(before, changes)
    if resolved is not None:
        old = [str(t) for t in await session.scalars(
            select(func.coalesce(SystemDependency.depends_on_system_id, SystemDependency.depends_on_link_id)).where(
                SystemDependency.msp_id == system.msp_id, SystemDependency.system_id == system.id))]
        await set_dependencies(session, system, *resolved)
        changed["depends_on"] = [old, [str(i) for i in [*resolved[0], *resolved[1]]]]
    await record(session, msp_id=practice.msp_id, actor=actor, action="system.updated", object_type="system",
                 object_id=system.id, practice_id=practice.id, changes=changed)
    return system


async def delete_system(session: AsyncSession, practice: Practice, system: System, actor: Actor) -> None:
    """Remove a system; the database cascades its dependencies (both ways) and its backup-job links."""
    await session.delete(system)
    await session.flush()
    await record(session, msp_id=practice.msp_id, actor=actor, action="system.deleted", object_type="system",
                 object_id=system.id, practice_id=practice.id, changes={"name": system.name})
