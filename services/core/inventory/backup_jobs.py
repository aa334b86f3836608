"""Backup jobs and the systems they protect — scoped to one practice and audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import Actor, diff, record
from services.core.errors import FieldError, ValidationFailed
from services.core.inventory import repository as repo
from services.core.inventory.models import BackupJob, BackupJobSystem, System
from services.core.inventory.schemas import BackupJobOut
from services.core.practices.models import Practice, Site

JOB_CONSTRAINTS = {"uq_backup_job_msp_id_practice_id_name": ("name", "This practice already has a backup job with that name.")}


async def _check_references(session: AsyncSession, practice: Practice, site_id: uuid.UUID | None,
                            system_ids: Sequence[uuid.UUID] | None) -> list[uuid.UUID] | None:
    errors: list[FieldError] = []
    if site_id is not None and not await repo.ids_in_practice(session, Site, practice, [site_id]):
        errors.append(FieldError("site_id", f"{site_id} is not a site of this practice"))
    unique_ids: list[uuid.UUID] | None = None
    if system_ids is not None:
        known = await repo.ids_in_practice(session, System, practice, system_ids)
        unique_ids = []
        for i, system_id in enumerate(system_ids):
            if system_id not in known:
                errors.append(FieldError(f"system_ids[{i}]", f"{system_id} is not a system of this practice"))
            elif system_id not in unique_ids:
                unique_ids.append(system_id)
    if errors:
        raise ValidationFailed("The backup job refers to something that is not part of this practice.", errors=errors)
    return unique_ids


async def _protected(session: AsyncSession, practice: Practice, job_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    protected: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in job_ids}
    if job_ids:
        rows = await session.execute(select(BackupJobSystem.backup_job_id, BackupJobSystem.system_id).where(
            BackupJobSystem.msp_id == practice.msp_id, BackupJobSystem.practice_id == practice.id,
            BackupJobSystem.backup_job_id.in_(job_ids)))
        for job_id, system_id in rows:
            protected[job_id].append(system_id)
    return protected


async def job_views(session: AsyncSession, practice: Practice, jobs: Sequence[BackupJob]) -> list[BackupJobOut]:
    protected = await _protected(session, practice, [j.id for j in jobs])
    return [BackupJobOut.model_validate({**{k: getattr(j, k) for k in BackupJobOut.model_fields if hasattr(j, k)},
                                         "system_ids": sorted(protected[j.id], key=str)}) for j in jobs]


async def _set_systems(session: AsyncSession, job: BackupJob, system_ids: list[uuid.UUID]) -> None:
    await session.execute(delete(BackupJobSystem).where(BackupJobSystem.msp_id == job.msp_id,
                                                        BackupJobSystem.backup_job_id == job.id))
    for system_id in system_ids:
        session.add(BackupJobSystem(msp_id=job.msp_id, practice_id=job.practice_id, backup_job_id=job.id, system_id=system_id))
    await session.flush()


async def list_jobs(session: AsyncSession, practice: Practice) -> list[BackupJobOut]:
    return await job_views(session, practice, await repo.list_all(session, BackupJob, practice, BackupJob.name))


async def get_job(session: AsyncSession, practice: Practice, job_id: uuid.UUID) -> BackupJob:
    return await repo.get_one(session, BackupJob, practice, job_id, "backup job")


async def create_job(session: AsyncSession, practice: Practice, actor: Actor, fields: dict[str, Any]) -> BackupJob:
    fields = repo.plain(fields)
    system_ids = await _check_references(session, practice, fields.get("site_id"), fields.pop("system_ids", []))
    job = BackupJob(msp_id=practice.msp_id, practice_id=practice.id, **fields)
    session.add(job)
    await repo.flush_or_conflict(session, JOB_CONSTRAINTS)
    await _set_systems(session, job, system_ids or [])
    await record(session, msp_id=practice.msp_id, actor=actor, action="backup_job.created", object_type="backup_job",
                 object_id=job.id, practice_id=practice.id, changes={**fields, "system_ids": system_ids})
    return job


async def update_job(session: AsyncSession, practice: Practice, job: BackupJob, actor: Actor, changes: dict[str, Any]) -> BackupJob:
    changes = repo.plain(changes)
    system_ids = await _check_references(session, practice, changes.get("site_id"), changes.pop("system_ids", None))
    before = {k: getattr(job, k) for k in changes}
    for k, v in changes.items():
        setattr(job, k, v)
    await repo.flush_or_conflict(session, JOB_CONSTRAINTS)
    changed = diff(before, changes)
    if system_ids is not None:
        old = (await _protected(session, practice, [job.id]))[job.id]
        await _set_systems(session, job, system_ids)
        if set(old) != set(system_ids):
            changed["system_ids"] = [sorted(map(str, old)), sorted(map(str, system_ids))]
    await record(session, msp_id=practice.msp_id, actor=actor, action="backup_job.updated", object_type="backup_job",
                 object_id=job.id, practice_id=practice.id, changes=changed)
    return job


async def delete_job(session: AsyncSession, practice: Practice, job: BackupJob, actor: Actor) -> None:
    await session.delete(job)
    await session.flush()
    await record(session, msp_id=practice.msp_id, actor=actor, action="backup_job.deleted", object_type="backup_job",
                 object_id=job.id, practice_id=practice.id, changes={"name": job.name})
