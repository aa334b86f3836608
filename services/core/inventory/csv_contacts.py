"""Importing contacts (the call tree) from CSV: idempotent by external_id, all-or-nothing, dry run first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import Actor, record
from services.core.inventory import repository as repo
from services.core.inventory.contacts import CONTACT_CONSTRAINTS
from services.core.inventory.csv_import import Column, Row, Sheet, Tally, choice, integer, read_sheet, refuse, report, text
from services.core.inventory.models import Contact, ContactKind
from services.core.inventory.schemas import ImportReport, check_email
from services.core.practices.models import Practice


def _email(raw: str) -> str:
    return check_email(text(320)(raw))


COLUMNS: dict[str, Column] = {c.name: c for c in [
    Column("external_id", text(100), required=True),
    Column("name", text(200), required=True),
    Column("kind", choice(ContactKind), ContactKind.staff.value),
    Column("organization", text(200), ""),
    Column("role_title", text(200), ""),
    Column("phone", text(40), ""),
    Column("email", _email, ""),
    Column("call_order", integer(0, 10_000), 100),
    Column("alternate_for", text(200), None),
    Column("notes", text(5_000), ""),
]}
FIELDS = ["name", "kind", "organization", "role_title", "phone", "email", "call_order", "notes"]


@dataclass
class Planned:
    row: Row
    id: uuid.UUID
    existing: Contact | None
    fields: dict[str, Any]
    alternate_for_id: uuid.UUID | None = None


async def import_contacts(session: AsyncSession, practice: Practice, actor: Actor, data: bytes, dry_run: bool) -> ImportReport:
    sheet = read_sheet(data, COLUMNS)
    tally = Tally()
    if sheet.errors and not sheet.rows:
        if dry_run:
            return report(sheet, tally, dry_run)
        raise refuse(sheet)

    existing = await repo.list_all(session, Contact, practice)
    plans = _match(sheet, existing)
    _resolve_alternates(sheet, plans, existing)

    bad_rows = {(e.extra or {}).get("row") for e in sheet.errors}
    changes: dict[str, list[str]] = {}
    for p in plans:
        if p.row.number in bad_rows:
            continue
        if p.existing is None:
            tally.created += 1
            continue
        changed = [k for k in [*FIELDS, "external_id", "alternate_for_id"] if getattr(p.existing, k) != p.fields[k]]
        if changed:
            tally.updated += 1
            changes[p.fields["external_id"]] = changed
        else:
            tally.unchanged += 1
    if dry_run:
        return report(sheet, tally, dry_run)
    if sheet.errors:
        raise refuse(sheet)

    # Alternates point at rows of the same table: insert every contact first, then link them.
    contacts: dict[uuid.UUID, Contact] = {}
    for p in plans:
        if p.existing is None:
            contacts[p.id] = Contact(id=p.id, msp_id=practice.msp_id, practice_id=practice.id,
                                     **{**p.fields, "alternate_for_id": None})
            session.add(contacts[p.id])
        elif p.fields["external_id"] in changes:
            for k, v in p.fields.items():
                if k != "alternate_for_id":
                    setattr(p.existing, k, v)
            contacts[p.id] = p.existing
    await repo.flush_or_conflict(session, CONTACT_CONSTRAINTS)
    for p in plans:
        if p.id in contacts:
            contacts[p.id].alternate_for_id = p.fields["alternate_for_id"]
    await session.flush()
    await record(session, msp_id=practice.msp_id, actor=actor, action="contacts.imported", object_type="practice",
                 object_id=practice.id, practice_id=practice.id,
                 changes={"created": sorted(p.fields["external_id"] for p in plans if p.existing is None),
                          "updated": changes, "unchanged": tally.unchanged})
    return report(sheet, tally, dry_run)


def _match(sheet: Sheet, existing: list[Contact]) -> list[Planned]:
    """Pair each row with the contact it updates (by external_id; by name for a unique contact that has none yet)."""
    by_ext = {c.external_id: c for c in existing if c.external_id}
    unnamed: dict[str, list[Contact]] = {}
    for c in existing:
        if c.external_id is None:
            unnamed.setdefault(c.name, []).append(c)
    plans: list[Planned] = []
    seen_ext: dict[str, int] = {}
    adopted: set[uuid.UUID] = set()
    for row in sheet.rows:
        ext, name = row.values.get("external_id"), row.values.get("name")
        if not ext or not name:
            continue
        if ext in seen_ext:
            sheet.error(row.number, "external_id", f"'{ext}' already appears in row {seen_ext[ext]}")
            continue
        seen_ext[ext] = row.number
        match = by_ext.get(ext)
        if match is None and len(candidates := unnamed.get(name, [])) == 1 and candidates[0].id not in adopted:
            match = candidates[0]  # adopt a contact entered by hand before the first import
            adopted.add(match.id)
        fields = {k: getattr(match, k) for k in FIELDS} if match else {k: COLUMNS[k].default for k in FIELDS}
        fields.update({k: v for k, v in row.values.items() if k in FIELDS})
        fields["external_id"] = ext
        fields["alternate_for_id"] = match.alternate_for_id if match else None
        plans.append(Planned(row, match.id if match else uuid.uuid4(), match, fields))
    return plans


def _resolve_alternates(sheet: Sheet, plans: list[Planned], existing: list[Contact]) -> None:
    """alternate_for names another contact by external_id or name; the call tree keeps one level of alternates."""
    if sheet.has("alternate_for"):
        file_ext = {p.fields["external_id"]: p.id for p in plans}
        by_ext = {c.external_id: c.id for c in existing if c.external_id}
        file_names: dict[str, list[uuid.UUID]] = {}
        for p in plans:
            file_names.setdefault(p.fields["name"], []).append(p.id)
        planned_ids = {p.id for p in plans}
        for c in existing:
            if c.id not in planned_ids:
                file_names.setdefault(c.name, []).append(c.id)
        for p in plans:
            ref = p.row.values.get("alternate_for")
            if not ref:
                p.fields["alternate_for_id"] = None
                continue
            target = file_ext.get(ref) or by_ext.get(ref)
            if target is None:
                named = file_names.get(ref, [])
                if len(named) > 1:
                    sheet.error(p.row.number, "alternate_for", f"more than one contact is named '{ref}'; use their external_id")
                    continue
                target = named[0] if named else None
            if target is None:
                sheet.error(p.row.number, "alternate_for", f"no contact with external_id or name '{ref}' in the file or in this practice")
            elif target == p.id:
                sheet.error(p.row.number, "alternate_for", "a contact cannot be their own alternate")
            else:
                p.fields["alternate_for_id"] = target

    final = {c.id: c.alternate_for_id for c in existing} | {p.id: p.fields["alternate_for_id"] for p in plans}
    names = {c.id: c.name for c in existing} | {p.id: p.fields["name"] for p in plans}
    rows = {p.id: p.row.number for p in plans}
    for contact_id, primary in final.items():
        if primary is None or final.get(primary) is None:
            continue
        if contact_id in rows:
            sheet.error(rows[contact_id], "alternate_for",
                        f"{names.get(primary, primary)} is an alternate too; name the contact they cover for")
        elif primary in rows:
            sheet.error(rows[primary], "alternate_for",
                        f"{names[primary]} has an alternate ({names[contact_id]}) and cannot become an alternate")
