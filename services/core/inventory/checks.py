"""What the written inventory already says about a practice's readiness, before any telemetry.

Each rule has a stable id documented in docs/rules.md; the findings feed the plan checks and the
readiness score. The rules read only the inventory, so a practice that fixes its inventory sees
the finding disappear on the next read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.findings import (
    HIPAA_BAA,
    HIPAA_CRITICALITY,
    HIPAA_DATA_BACKUP,
    HIPAA_EMERGENCY_MODE,
    HIPAA_ENCRYPTION,
    Component,
    Finding,
    Severity,
)
from services.core.inventory.copies import OFFSITE, jobs_by_copy
from services.core.inventory.models import BackupJob, BackupJobSystem, BackupLocation, Link, LinkRole, System, SystemDependency
from services.core.practices.models import Site

EPHI_WITHOUT_BACKUP = "inventory.ephi_without_backup"
NO_OFFSITE_COPY = "inventory.no_offsite_copy"
NO_ONSITE_COPY = "inventory.no_onsite_copy"
BACKUP_NOT_ENCRYPTED = "inventory.backup_not_encrypted"
NO_BAA = "inventory.no_baa"
SINGLE_LINK = "inventory.single_link"
NO_IMMUTABLE_COPY = "inventory.no_immutable_copy"
DEPENDENCY_RTO_ABOVE_MTD = "inventory.dependency_rto_above_mtd"
NO_SYSTEMS = "inventory.no_systems"
NO_SITES = "inventory.no_sites"

SEVERITY_RANK = {Severity.critical: 0, Severity.high: 1, Severity.medium: 2, Severity.low: 3}
REDUNDANT_ROLES = (LinkRole.backup.value, LinkRole.hotspot.value)


def duration(minutes: int) -> str:
    """Minutes in the unit a practice owner would say them in."""
    if minutes % 1440 == 0:
        return f"{minutes // 1440} d"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    if minutes > 120:
        return f"{minutes / 60:.1f} h"
    return f"{minutes} min"


def transitive(edges: Mapping[uuid.UUID, Iterable[uuid.UUID]], start: uuid.UUID) -> set[uuid.UUID]:
    """Every system start needs, directly or through others (cycles tolerated)."""
    seen: set[uuid.UUID] = set()
    stack = list(edges.get(start, ()))
    while stack:
        node = stack.pop()
        if node in seen or node == start:
            continue
        seen.add(node)
        stack.extend(edges.get(node, ()))
    return seen


@dataclass
class Inventory:
    """One practice's written inventory, as the rules read it (systems, jobs and sites in name order)."""

    systems: list[System] = field(default_factory=list)
    jobs: list[BackupJob] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    protected: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)  # (backup job, system)
    deps: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)  # (system, system it depends on)


async def load_inventories(session: AsyncSession, msp_id: uuid.UUID,
                           practice_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Inventory]:
    """The inventories of these practices: six queries whatever their number (the readiness pass
    rescores up to hundreds of practices at a time; one practice at a time it was six round trips each)."""
    out = {pid: Inventory() for pid in practice_ids}
    ids = list(out)
    if not ids:
        return out

    def of(model):
        return select(model).where(model.msp_id == msp_id, model.practice_id.in_(ids))

    for s in await session.scalars(of(System).order_by(System.name, System.id)):
        out[s.practice_id].systems.append(s)
    for j in await session.scalars(of(BackupJob).order_by(BackupJob.name, BackupJob.id)):
        out[j.practice_id].jobs.append(j)
    for link in await session.scalars(of(Link).order_by(Link.id)):
        out[link.practice_id].links.append(link)
    for site in await session.scalars(of(Site).order_by(Site.name, Site.id)):
        out[site.practice_id].sites.append(site)
    for pid, job_id, system_id in (await session.execute(
            select(BackupJobSystem.practice_id, BackupJobSystem.backup_job_id, BackupJobSystem.system_id)
            .where(BackupJobSystem.msp_id == msp_id, BackupJobSystem.practice_id.in_(ids)))).all():
        out[pid].protected.append((job_id, system_id))
    for pid, system_id, target in (await session.execute(
            select(SystemDependency.practice_id, SystemDependency.system_id, SystemDependency.depends_on_system_id)
            .where(SystemDependency.msp_id == msp_id, SystemDependency.practice_id.in_(ids),
                   SystemDependency.depends_on_system_id.is_not(None)))).all():
        assert target is not None  # the query leaves out dependencies on links
        out[pid].deps.append((system_id, target))
    return out


async def inventory_findings(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, now: datetime) -> list[Finding]:
    """Findings of one practice's inventory, most severe first."""
    return findings_of(practice_id, (await load_inventories(session, msp_id, [practice_id]))[practice_id])


async def inventory_findings_many(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Sequence[uuid.UUID],
                                  now: datetime) -> dict[uuid.UUID, list[Finding]]:
    """The readiness source: findings of each of these practices, most severe first.

    `now` is taken for the shape every source shares; no inventory rule depends on the time yet.
    """
    del now
    return {pid: findings_of(pid, inv) for pid, inv in (await load_inventories(session, msp_id, practice_ids)).items()}


def findings_of(practice_id: uuid.UUID, inv: Inventory) -> list[Finding]:
    """The rules over one practice's inventory, most severe first."""
    systems, jobs, links, sites, protected, deps = inv.systems, inv.jobs, inv.links, inv.sites, inv.protected, inv.deps
    jobs_by_id = {j.id: j for j in jobs}
    jobs_of: dict[uuid.UUID, list[BackupJob]] = {}
    systems_of: dict[uuid.UUID, list[uuid.UUID]] = {}
    for job_id, system_id in protected:
        jobs_of.setdefault(system_id, []).append(jobs_by_id[job_id])
        systems_of.setdefault(job_id, []).append(system_id)
    ephi = {s.id for s in systems if s.holds_ephi}
    findings: list[Finding] = []

    # A practice that has recorded nothing must not look ready: nothing measured is not nothing wrong.
    if not systems:
        findings.append(Finding(
            NO_SYSTEMS, Component.backups, Severity.critical, "practice", str(practice_id),
            "No critical systems are recorded, so nothing can be measured against recovery targets",
            "List the systems the practice cannot work without (EHR, billing, scheduling, phones…) with their RTO and RPO.",
            HIPAA_CRITICALITY, measured="0 systems", target="every critical system recorded"))
    if not sites:
        findings.append(Finding(
            NO_SITES, Component.connectivity, Severity.high, "practice", str(practice_id),
            "No site is recorded, so the practice's internet links cannot be watched",
            "Add the practice's site(s) with their internet links, then enrol an agent there.",
            HIPAA_EMERGENCY_MODE, measured="0 sites", target="at least one site with its links"))

    for s in systems:
        own_jobs = jobs_of.get(s.id, [])
        if s.holds_ephi and not own_jobs:
            findings.append(Finding(
                EPHI_WITHOUT_BACKUP, Component.backups, Severity.critical, "system", str(s.id),
                f"{s.name} holds patient data (ePHI) but no backup job protects it",
                f"Add a backup job that protects {s.name}, or record the one that already does.",
                HIPAA_DATA_BACKUP, measured="no backup job", target="at least one backup job"))
        # Every copy the plan requires that no job makes, whatever the tier: the Systems page shows
        # that copy's RPO gauge red, so readiness charges it too (docs/decisions/0010-every-required-copy-is-judged.md).
        for copy, making in jobs_by_copy(s, own_jobs, lambda j: j.offsite):
            if making:
                continue
            severity = Severity.high if s.tier == 1 or s.holds_ephi else Severity.medium
            but = "is critical (tier 1) but " if s.tier == 1 else "holds patient data but " if s.holds_ephi else ""
            because = "" if but else ", which its plan requires"
            onsite_n, offsite_n = sum(not j.offsite for j in own_jobs), sum(j.offsite for j in own_jobs)
            measured = f"{onsite_n} on-site job(s), {offsite_n} off-site"
            if copy == OFFSITE:
                findings.append(Finding(
                    NO_OFFSITE_COPY, Component.backups, severity, "system", str(s.id),
                    f"{s.name} {but}has no off-site or cloud copy{because}",
                    f"Add an off-site or cloud backup job for {s.name} so a fire, flood or ransomware at the office cannot take every copy.",
                    HIPAA_DATA_BACKUP, measured=measured, target="at least one off-site or cloud copy"))
            else:
                findings.append(Finding(
                    NO_ONSITE_COPY, Component.backups, severity, "system", str(s.id),
                    f"{s.name} {but}has no on-site copy{because}",
                    f"Add an on-site backup job for {s.name} (a local copy restores fastest), or mark that its plan needs none.",
                    HIPAA_DATA_BACKUP, measured=measured, target="at least one on-site copy"))

    for j in jobs:
        if not j.encrypted:
            offsite = j.offsite
            findings.append(Finding(
                BACKUP_NOT_ENCRYPTED, Component.backups, Severity.high if offsite else Severity.medium, "backup_job", str(j.id),
                f"Backup job {j.name} ({j.location}) is not encrypted",
                f"Turn on encryption for {j.name} (and keep the key in the plan's safe place, not only on the server).",
                HIPAA_ENCRYPTION, measured="not encrypted", target="encrypted"))
        # A drive a staff member takes home involves no business associate; a provider or any cloud does.
        third_party = j.location == BackupLocation.cloud.value or (j.location == BackupLocation.offsite.value and j.provider.strip())
        if third_party and not j.baa_on_file and any(sid in ephi for sid in systems_of.get(j.id, [])):
            provider = j.provider or "the storage provider"
            findings.append(Finding(
                NO_BAA, Component.backups, Severity.high, "backup_job", str(j.id),
                f"{provider} stores patient data for {j.name} without a business associate agreement on file",
                f"Sign a BAA with {provider} and mark it on file, or move {j.name} to a provider that signs one.",
                HIPAA_BAA, measured="no BAA on file", target="BAA on file"))

    links_at: dict[uuid.UUID, list[Link]] = {}
    for link in links:
        links_at.setdefault(link.site_id, []).append(link)
    for site in sites:
        here = links_at.get(site.id, [])
        if not any(link.role in REDUNDANT_ROLES for link in here):
            measured = f"{len(here)} link(s), none backup or hotspot" if here else "no internet link recorded"
            findings.append(Finding(
                SINGLE_LINK, Component.connectivity, Severity.high, "site", str(site.id),
                f"Site {site.name} has no backup internet link or hotspot",
                f"Add a backup link (5G/LTE router or a second ISP) or a hotspot at {site.name}, and record it here.",
                HIPAA_EMERGENCY_MODE, measured=measured, target="a primary link plus a backup or hotspot"))

    if ephi and not any(j.immutable and any(sid in ephi for sid in systems_of.get(j.id, [])) for j in jobs):
        findings.append(Finding(
            NO_IMMUTABLE_COPY, Component.backups, Severity.high, "practice", str(practice_id),
            "No immutable backup copy of patient data: ransomware could encrypt or delete every backup",
            "Add an immutable (object-lock or write-once) copy of the systems that hold ePHI.",
            HIPAA_DATA_BACKUP, measured="no immutable copy", target="at least one immutable copy of ePHI"))

    edges: dict[uuid.UUID, set[uuid.UUID]] = {}
    for system_id, target in deps:
        edges.setdefault(system_id, set()).add(target)
    by_id = {s.id: s for s in systems}
    for s in systems:
        too_slow = sorted((by_id[d] for d in transitive(edges, s.id) if d in by_id and by_id[d].rto_minutes > s.mtd_minutes),
                          key=lambda d: (-d.rto_minutes, d.name))
        if too_slow:
            worst = too_slow[0]
            names = ", ".join(f"{d.name} (RTO {duration(d.rto_minutes)})" for d in too_slow)
            findings.append(Finding(
                DEPENDENCY_RTO_ABOVE_MTD, Component.plan, Severity.high, "system", str(s.id),
                f"{s.name} cannot be back within its {duration(s.mtd_minutes)} MTD: it needs {names}",
                f"Shorten the RTO of {worst.name} to {duration(s.mtd_minutes)} or less, or raise the MTD of {s.name}.",
                HIPAA_CRITICALITY, measured=f"{worst.name} RTO {duration(worst.rto_minutes)}",
                target=f"≤ {duration(s.mtd_minutes)} (MTD of {s.name})"))

    return sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], f.rule_id, f.title))
