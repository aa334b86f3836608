"""Everything the printed binder and the offline HTML copy show, gathered once from the database.

The plan's sections say what people do; the inventory says with what (links, systems, backups,
contacts). Each scenario chapter puts both side by side, so the page a receptionist reads while
the internet is down names the actual backup line, the ISP's phone number and the hotspot.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.base import utcnow
from services.core.identity.models import User
from services.core.inventory.checks import duration  # one way of saying durations, in findings and the binder
from services.core.inventory.models import BackupJob, BackupJobSystem, Contact, Link, System, SystemDependency
from services.core.plans import templates as T
from services.core.plans.models import PlanVersion
from services.core.plans.people import acknowledgements, list_assignments
from services.core.practices.models import Practice, Site


@dataclass
class CallTreeEntry:
    contact: Contact
    alternates: list[Contact] = field(default_factory=list)


@dataclass
class Scenario:
    anchor: str
    title: str
    steps: list[str]  # from the inventory
    section: dict[str, Any] | None  # from the plan


@dataclass
class Binder:
    practice: Practice
    version: PlanVersion
    generated_at: datetime
    generated_by: str
    sites: list[Site]
    call_tree: list[CallTreeEntry]
    systems: list[dict[str, Any]]
    backup_jobs: list[dict[str, Any]]
    links_by_site: list[tuple[Site, list[Link]]]
    roles: list[dict[str, Any]]
    scenarios: list[Scenario]
    sections: dict[str, dict[str, Any]]
    other_sections: list[dict[str, Any]]

    @property
    def draft(self) -> bool:
        return self.version.status not in ("approved", "superseded")

    def section(self, key: str) -> dict[str, Any] | None:
        return self.sections.get(key)


# Sections placed in their own chapter of the binder; every other section is printed as written.
PLACED = {T.KEY_OVERVIEW, T.KEY_CRITICALITY, T.KEY_BACKUP, T.KEY_DISASTER_RECOVERY, T.KEY_EMERGENCY_MODE, T.KEY_INTERNET,
          T.KEY_RANSOMWARE, T.KEY_POWER, T.KEY_CONTACTS, T.KEY_ROLES, T.KEY_TESTING}


def _call_tree(contacts: list[Contact]) -> list[CallTreeEntry]:
    by_id = {c.id: c for c in contacts}

    def root(c: Contact) -> Contact:
        seen = set()
        while c.alternate_for_id in by_id and c.id not in seen:
            seen.add(c.id)
            c = by_id[c.alternate_for_id]
        return c

    entries = {c.id: CallTreeEntry(c) for c in contacts if c.alternate_for_id not in by_id}
    for c in contacts:
        if c.id not in entries:
            top = root(c)
            entries.setdefault(top.id, CallTreeEntry(top)).alternates.append(c)
    for e in entries.values():
        e.alternates.sort(key=lambda c: (c.call_order, c.name))
    return sorted(entries.values(), key=lambda e: (e.contact.call_order, e.contact.name))


def _who(c: Contact) -> str:
    label = c.organization or c.name
    return f"{label} ({c.name})" if c.organization and c.name != c.organization else label


def _phones(contacts: list[Contact], kind: str) -> list[str]:
    return [f"Call {_who(c)}: {c.phone or c.email or 'no number recorded'}" for c in contacts if c.kind == kind]


def _internet_steps(links_by_site: list[tuple[Site, list[Link]]], systems: list[dict[str, Any]], contacts: list[Contact]) -> list[str]:
    steps: list[str] = []
    for site, links in links_by_site:
        primary = [link for link in links if link.role == "primary"]
        backup = [link for link in links if link.role == "backup"]
        hotspots = [link for link in links if link.role == "hotspot"]
        where = f"{site.name}: " if len(links_by_site) > 1 else ""
        for link in primary:
            steps.append(f"{where}the main line is {link.name} ({link.isp or 'ISP not recorded'}, {link.medium}).")
        if backup:
            for link in backup:
                metered = "; it is metered, so keep to essential work" if link.metered else ""
                steps.append(f"{where}traffic fails over to {link.name} ({link.isp or 'ISP not recorded'}, {link.medium}){metered}.")
        else:
            steps.append(f"{where}there is no backup line: go straight to the hotspot, or work offline.")
        for link in hotspots:
            steps.append(f"{where}hotspot: {link.name} ({link.isp or 'carrier not recorded'}); where it is kept is written below.")
        if not links:
            steps.append(f"{where}no internet links are recorded in Seawall for this site.")
    needing = sorted({s["name"] for s in systems if s["needs_internet"]})
    if needing:
        steps.append("Systems that stop without the internet: " + ", ".join(needing) + ".")
    return [step[:1].upper() + step[1:] for step in steps] + _phones(contacts, "isp")


def _server_steps(systems: list[dict[str, Any]], contacts: list[Contact]) -> list[str]:
    steps = _phones(contacts, "msp")
    ordered = [s for s in systems if s["tier"] <= 2]
    if ordered:
        steps.append("Restore in this order: " + "; ".join(
            f"{s['name']} (tier {s['tier']}, back within {s['rto']})" for s in ordered) + ".")
    steps.append("Each system's own recovery steps are in the chapter 'Systems and recovery targets'.")
    return steps + _phones(contacts, "vendor")


def _ransomware_steps(jobs: list[dict[str, Any]], contacts: list[Contact]) -> list[str]:
    steps = ["Unplug the affected computer from the network; do not switch it off and do not pay."]
    steps += _phones(contacts, "msp")
    clean = [j for j in jobs if j["job"].immutable or j["job"].offsite]
    if clean:
        steps.append("Copies the MSP restores from: " + "; ".join(
            f"{j['job'].name} ({j['job'].location}{', immutable' if j['job'].immutable else ''})" for j in clean) + ".")
    if not any(j["job"].immutable for j in jobs):
        steps.append("No backup copy is recorded as immutable: ask the MSP which copy ransomware could not have reached.")
    return steps


def _power_steps(sites: list[Site], systems: list[dict[str, Any]]) -> list[str]:
    steps = []
    first = [s["name"] for s in systems if s["tier"] == 1]
    if first:
        steps.append("When power returns, start these first: " + ", ".join(first) + ".")
    devices = [s["name"] for s in systems if s["category"] in ("iot", "phones", "network")]
    if devices:
        steps.append("Check these devices came back on: " + ", ".join(devices) + ".")
    if len(sites) > 1:
        steps.append("Sites: " + "; ".join(f"{s.name}{' — ' + s.address if s.address else ''}" for s in sites) + ".")
    return steps


async def build(session: AsyncSession, practice: Practice, version: PlanVersion, generated_by: str) -> Binder:
    m, p = practice.msp_id, practice.id

    async def rows(model):
        return list(await session.scalars(select(model).where(model.msp_id == m, model.practice_id == p)))

    sites = sorted(await rows(Site), key=lambda s: s.name)
    contacts, systems, jobs, links = await rows(Contact), await rows(System), await rows(BackupJob), await rows(Link)
    deps, protects = await rows(SystemDependency), await rows(BackupJobSystem)
    names: dict[uuid.UUID, str] = {s.id: s.name for s in systems} | {link.id: link.name for link in links}
    system_rows = []
    for s in sorted(systems, key=lambda s: (s.tier, s.name)):
        mine = [d for d in deps if d.system_id == s.id]
        system_rows.append({
            "system": s, "name": s.name, "tier": s.tier, "category": s.category,
            "rto": duration(s.rto_minutes), "rpo": duration(s.rpo_minutes), "mtd": duration(s.mtd_minutes),
            "depends_on": [names.get(d.depends_on_system_id or d.depends_on_link_id, "?") for d in mine],
            "needs_internet": any(d.depends_on_link_id for d in mine),
            "backups": sorted(j.name for j in jobs if any(x.backup_job_id == j.id and x.system_id == s.id for x in protects)),
        })
    job_rows = [{"job": j, "systems": sorted(names.get(x.system_id, "?") for x in protects if x.backup_job_id == j.id),
                 "site": next((s.name for s in sites if s.id == j.site_id), "")} for j in sorted(jobs, key=lambda j: j.name)]
    links_by_site = [(s, sorted((link for link in links if link.site_id == s.id), key=lambda x: (x.role != "primary", x.role, x.name)))
                     for s in sites]
    assignments = await list_assignments(session, m, p)
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_({a.user_id for a in assignments})))} \
        if assignments else {}
    acks = await acknowledgements(session, version)
    by_contact = {c.id: c for c in contacts}
    roles = [{"assignment": a, "name": users[a.user_id].name if a.user_id in users else "", "role": a.role_name,
              "duties": a.duties, "trained_at": a.trained_at, "phone": by_contact[a.contact_id].phone if a.contact_id in by_contact else "",
              "acknowledged_at": acks[a.user_id].acknowledged_at if a.user_id in acks else None}
             for a in sorted(assignments, key=lambda a: (a.role_name, a.user_id))]
    secs = {s["key"]: s for s in version.sections}
    scenarios = [
        Scenario("internet-down", "Internet down", _internet_steps(links_by_site, system_rows, contacts), secs.get(T.KEY_INTERNET)),
        Scenario("server-down", "Server or system down", _server_steps(system_rows, contacts), secs.get(T.KEY_DISASTER_RECOVERY)),
        Scenario("ransomware", "Ransomware", _ransomware_steps(job_rows, contacts), secs.get(T.KEY_RANSOMWARE)),
        Scenario("power-outage", "Power outage", _power_steps(sites, system_rows), secs.get(T.KEY_POWER)),
    ]
    return Binder(practice=practice, version=version, generated_at=utcnow(), generated_by=generated_by, sites=sites,
                  call_tree=_call_tree(contacts), systems=system_rows, backup_jobs=job_rows, links_by_site=links_by_site,
                  roles=roles, scenarios=scenarios, sections=secs,
                  other_sections=[s for s in version.sections if s["key"] not in PLACED])
