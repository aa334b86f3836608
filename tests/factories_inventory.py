"""Inventory factories: systems, backup jobs, links and contacts written straight to the database."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from services.core.db import Database, Scope
from services.core.inventory.models import BackupJob, BackupJobSystem, Contact, Link, System, SystemDependency
from services.core.practices.models import Practice, Site


async def create_site(db: Database, practice: Practice, name: str = "Annex") -> Site:
    """Another site of the practice (build_tenant gives each practice one)."""
    async with db.transaction(Scope(practice.msp_id)) as s:
        site = Site(msp_id=practice.msp_id, practice_id=practice.id, name=name)
        s.add(site)
        await s.flush()
        return site


async def create_system(db: Database, practice: Practice, name: str = "EHR", *, depends_on: list[uuid.UUID] = (),
                        **fields: Any) -> System:
    values = {"tier": 2, "holds_ephi": False, "rto_minutes": 240, "rpo_minutes": 60, "mtd_minutes": 480, **fields}
    async with db.transaction(Scope(practice.msp_id)) as s:
        system = System(msp_id=practice.msp_id, practice_id=practice.id, name=name, **values)
        s.add(system)
        await s.flush()
        for target in depends_on:
            s.add(SystemDependency(msp_id=practice.msp_id, practice_id=practice.id, system_id=system.id, depends_on_system_id=target))
        return system


async def create_job(db: Database, practice: Practice, name: str = "Nightly NAS", *, systems: list[System] = (),
                     location: str = "onsite", **fields: Any) -> BackupJob:
    """A backup job at the practice's first site (the one an agent there reports), unless `site_id` is given
    (None: a job no agent reports)."""
    values = {"encrypted": True, "immutable": False, "tool": "restic", **fields}
    async with db.transaction(Scope(practice.msp_id)) as s:
        if "site_id" not in values:
            values["site_id"] = await s.scalar(select(Site.id).where(Site.msp_id == practice.msp_id, Site.practice_id == practice.id)
                                               .order_by(Site.created_at, Site.name).limit(1))
        job = BackupJob(msp_id=practice.msp_id, practice_id=practice.id, name=name, location=location, **values)
        s.add(job)
        await s.flush()
        for system in systems:
            s.add(BackupJobSystem(msp_id=practice.msp_id, practice_id=practice.id, backup_job_id=job.id, system_id=system.id))
        return job


async def create_link(db: Database, site: Site, name: str = "Fiber", role: str = "primary", **fields: Any) -> Link:
    async with db.transaction(Scope(site.msp_id)) as s:
        link = Link(msp_id=site.msp_id, practice_id=site.practice_id, site_id=site.id, name=name, role=role,
                    **{"medium": "fiber", "isp": "Metro Fiber", **fields})
        s.add(link)
        await s.flush()
        return link


async def create_contact(db: Database, practice: Practice, name: str, call_order: int = 100, **fields: Any) -> Contact:
    async with db.transaction(Scope(practice.msp_id)) as s:
        contact = Contact(msp_id=practice.msp_id, practice_id=practice.id, name=name, call_order=call_order, **fields)
        s.add(contact)
        await s.flush()
        return contact


async def well_prepared(db: Database, practice: Practice, site: Site) -> dict[str, Any]:
    """An inventory that produces no inventory finding: the baseline each finding test breaks once."""
    ehr = await create_system(db, practice, "EHR", tier=1, holds_ephi=True, rto_minutes=240, mtd_minutes=480)
    server = await create_system(db, practice, "File server", tier=2, rto_minutes=120, mtd_minutes=600)
    await create_job(db, practice, "NAS nightly", systems=[ehr, server], location="onsite")
    cloud = await create_job(db, practice, "Cloud copy", systems=[ehr, server], location="cloud", immutable=True,
                             provider="Backblaze B2", baa_on_file=True)
    primary = await create_link(db, site, "Fiber", "primary")
    backup = await create_link(db, site, "LTE", "backup", medium="5g_lte", isp="Cellular Co")
    return {"ehr": ehr, "server": server, "cloud": cloud, "primary": primary, "backup": backup}
