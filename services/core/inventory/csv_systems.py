"""Importing systems from CSV: idempotent by external_id, all-or-nothing, with a dry run first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import Actor, record
from services.core.inventory import repository as repo
from services.core.inventory.csv_import import Column, Row, Sheet, Tally, boolean, choice, integer, read_sheet, references, refuse, report, text
from services.core.inventory.models import System, SystemCategory, SystemDependency
from services.core.inventory.schemas import MAX_MINUTES, ImportReport
from services.core.inventory.service import SYSTEM_CONSTRAINTS
from services.core.practices.models import Practice

COLUMNS: dict[str, Column] = {c.name: c for c in [
    Column("external_id", text(100), required=True),
    Column("name", text(200), required=True),
    Column("category", choice(SystemCategory), SystemCategory.other.value),
    Column("tier", integer(1, 4), 2),
    Column("holds_ephi", boolean, False),
    Column("rto_minutes", integer(1, MAX_MINUTES), required=True),
    Column("rpo_minutes", integer(0, MAX_MINUTES), required=True),
    Column("mtd_minutes", integer(1, MAX_MINUTES), required=True),
    Column("requires_onsite_copy", boolean, True),
    Column("requires_offsite_copy", boolean, True),
    Column("owner", text(200), ""),
    Column("recovery_procedure", text(20_000), ""),
    Column("depends_on", references, []),
]}
FIELDS = [name for name in COLUMNS if name not in ("external_id", "depends_on")]


@dataclass
class Planned:
    row: Row
    id: uuid.UUID
    existing: System | None
    fields: dict[str, Any]
    deps: list[uuid.UUID] | None = None  # None: the file has no depends_on column


async def import_systems(session: AsyncSession, practice: Practice, actor: Actor, data: bytes, dry_run: bool) -> ImportReport:
    sheet = read_sheet(data, COLUMNS)
    tally = Tally()
    if sheet.errors and not sheet.rows:
        if dry_run:
            return report(sheet, tally, dry_run)
        raise refuse(sheet)

    existing = await repo.list_all(session, System, practice)
    by_ext = {s.external_id: s for s in existing if s.external_id}
    by_name = {s.name: s for s in existing}
    old_edges = await repo.system_edges(session, practice)
    bad_rows = {(e.extra or {}).get("row") for e in sheet.errors}
    plans = _match(sheet, by_ext, by_name, bad_rows)
    _resolve_dependencies(sheet, plans, by_ext, by_name, old_edges)

    bad_rows = {(e.extra or {}).get("row") for e in sheet.errors}
    changes: dict[str, list[str]] = {}
    for p in plans:
        if p.row.number in bad_rows:
            continue
        if p.existing is None:
            tally.created += 1
            continue
        changed = [k for k in FIELDS if getattr(p.existing, k) != p.fields[k]]
        if p.existing.external_id != p.fields["external_id"]:
            changed.append("external_id")
        if p.deps is not None and set(p.deps) != old_edges.get(p.id, set()):
            changed.append("depends_on")
        if changed:
            tally.updated += 1
            changes[p.fields["external_id"]] = changed
        else:
            tally.unchanged += 1
    if dry_run:
        return report(sheet, tally, dry_run)
    if sheet.errors:
        raise refuse(sheet)

    systems: dict[uuid.UUID, System] = {}
    for p in plans:
        if p.existing is None:
            systems[p.id] = System(id=p.id, msp_id=practice.msp_id, practice_id=practice.id, **p.fields)
            session.add(systems[p.id])
        elif p.fields["external_id"] in changes:
            for k, v in p.fields.items():
                setattr(p.existing, k, v)
            systems[p.id] = p.existing
    await repo.flush_or_conflict(session, SYSTEM_CONSTRAINTS)
    redo = [p for p in plans if p.deps is not None and (p.existing is None or "depends_on" in changes.get(p.fields["external_id"], []))]
    if redo:
        # One statement for the whole file: the CSV speaks only of systems, so link dependencies stay.
        await session.execute(delete(SystemDependency).where(
            SystemDependency.msp_id == practice.msp_id, SystemDependency.practice_id == practice.id,
            SystemDependency.system_id.in_([p.id for p in redo]), SystemDependency.depends_on_system_id.is_not(None)))
        session.add_all(SystemDependency(msp_id=practice.msp_id, practice_id=practice.id, system_id=p.id, depends_on_system_id=target)
                        for p in redo for target in p.deps or [])
        await session.flush()
    await record(session, msp_id=practice.msp_id, actor=actor, action="systems.imported", object_type="practice",
                 object_id=practice.id, practice_id=practice.id,
                 changes={"created": sorted(p.fields["external_id"] for p in plans if p.existing is None),
                          "updated": changes, "unchanged": tally.unchanged})
    return report(sheet, tally, dry_run)


def _match(sheet: Sheet, by_ext: dict[str, System], by_name: dict[str, System], bad_rows: set[int | None]) -> list[Planned]:
    """Pair each row with the system it updates (by external_id; by name for a system that has none yet)."""
    plans: list[Planned] = []
    seen_ext: dict[str, int] = {}
    seen_name: dict[str, int] = {}
    for row in sheet.rows:
        ext, name = row.values.get("external_id"), row.values.get("name")
        if not ext or not name:
            continue
        if ext in seen_ext:
            sheet.error(row.number, "external_id", f"'{ext}' already appears in row {seen_ext[ext]}")
            continue
        if name in seen_name:
            sheet.error(row.number, "name", f"'{name}' already appears in row {seen_name[name]}")
            continue
        seen_ext[ext], seen_name[name] = row.number, row.number
        match = by_ext.get(ext)
        if match is None and (same := by_name.get(name)) is not None and same.external_id is None:
            match = same  # adopt a system entered by hand before the first import
        fields = {k: getattr(match, k) for k in FIELDS} if match else {k: COLUMNS[k].default for k in FIELDS}
        fields.update({k: v for k, v in row.values.items() if k in FIELDS})
        fields["external_id"] = ext
        if row.number not in bad_rows and fields["rto_minutes"] > fields["mtd_minutes"]:
            sheet.error(row.number, "rto_minutes",
                        f"RTO ({fields['rto_minutes']} min) must not exceed MTD ({fields['mtd_minutes']} min)")
        plans.append(Planned(row, match.id if match else uuid.uuid4(), match, fields))
    matched = {p.id for p in plans}
    for p in plans:
        other = by_name.get(p.fields["name"])
        if other is not None and other.id != p.id and other.id not in matched:
            sheet.error(p.row.number, "name", f"another system is already named '{p.fields['name']}'"
                        + (f" (external_id {other.external_id})" if other.external_id else ""))
    return plans


def _resolve_dependencies(sheet: Sheet, plans: list[Planned], by_ext: dict[str, System], by_name: dict[str, System],
                          old_edges: dict[uuid.UUID, set[uuid.UUID]]) -> None:
    """depends_on names other systems by external_id or name, in the file or already in the practice."""
    if not sheet.has("depends_on"):
        return
    file_ext = {p.fields["external_id"]: p.id for p in plans}
    file_name = {p.fields["name"]: p.id for p in plans}
    names = {s.id: s.name for s in by_name.values()} | {p.id: p.fields["name"] for p in plans}
    for p in plans:
        resolved: list[uuid.UUID] = []
        for ref in p.row.values.get("depends_on") or []:
            target = (file_ext.get(ref) or (by_ext[ref].id if ref in by_ext else None) or file_name.get(ref)
                      or (by_name[ref].id if ref in by_name else None))
            if target is None:
                sheet.error(p.row.number, "depends_on", f"no system with external_id or name '{ref}' in the file or in this practice")
            elif target == p.id:
                sheet.error(p.row.number, "depends_on", "a system cannot depend on itself")
            elif target not in resolved:
                resolved.append(target)
        p.deps = resolved

    edges = {k: set(v) for k, v in old_edges.items()} | {p.id: set(p.deps or []) for p in plans}
    rows = {p.id: p.row.number for p in plans}
    for cycle in repo.find_cycles(edges):
        for start, node in enumerate(cycle):
            if node in rows:  # every row of the loop is told, each from its own point of view
                loop = [*cycle[start:], *cycle[:start], node]
                sheet.error(rows[node], "depends_on", "circular dependency: " + " → ".join(names.get(n, str(n)) for n in loop))
