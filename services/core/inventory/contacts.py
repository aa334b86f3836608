"""Contacts and the call tree — scoped to one practice and audited.

The call tree has one level of alternates: a contact may be the alternate for a contact who is
not an alternate themselves. That keeps "who do I call next" answerable on a printed page, and
makes a loop (A covers for B covers for A) impossible.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import Actor, diff, record
from services.core.errors import FieldError, ValidationFailed
from services.core.inventory import repository as repo
from services.core.inventory.models import Contact
from services.core.inventory.schemas import CallTreeEntry, ContactOut
from services.core.practices.models import Practice

CONTACT_CONSTRAINTS = {"uq_contact_external_id": ("external_id", "This practice already has a contact with that external id.")}


def calling_order(c: Contact) -> tuple[int, str, str]:
    return (c.call_order, c.name.lower(), str(c.id))


async def _check_alternate(session: AsyncSession, practice: Practice, contact_id: uuid.UUID, alternate_for_id: uuid.UUID | None) -> None:
    if alternate_for_id is None:
        return
    field = "alternate_for_id"
    if alternate_for_id == contact_id:
        raise ValidationFailed("A contact cannot be their own alternate.", errors=[FieldError(field, "a contact cannot be their own alternate")])
    primary = await session.scalar(select(Contact).where(Contact.msp_id == practice.msp_id, Contact.practice_id == practice.id,
                                                         Contact.id == alternate_for_id))
    if primary is None:
        raise ValidationFailed("The alternate's primary contact is not part of this practice.",
                               errors=[FieldError(field, f"{alternate_for_id} is not a contact of this practice")])
    if primary.alternate_for_id is not None:
        raise ValidationFailed("Alternates cover for a primary contact, not for another alternate.",
                               errors=[FieldError(field, f"{primary.name} is already an alternate; choose the contact they cover for")])
    has_alternates = await session.scalar(select(Contact.id).where(Contact.msp_id == practice.msp_id,
                                                                   Contact.alternate_for_id == contact_id).limit(1))
    if has_alternates is not None:
        raise ValidationFailed("A contact who has alternates cannot become an alternate.",
                               errors=[FieldError(field, "this contact has alternates of their own; reassign them first")])


async def list_contacts(session: AsyncSession, practice: Practice) -> list[Contact]:
    return sorted(await repo.list_all(session, Contact, practice), key=calling_order)


async def call_tree(session: AsyncSession, practice: Practice) -> list[CallTreeEntry]:
    """Primary contacts in calling order, each with their alternates (also in calling order)."""
    contacts = await list_contacts(session, practice)
    by_id = {c.id: c for c in contacts}
    children: dict[uuid.UUID | None, list[Contact]] = {}
    for c in contacts:
        # An alternate whose primary is gone (or a loop made outside the API) is called as a primary.
        parent = c.alternate_for_id if c.alternate_for_id in by_id else None
        children.setdefault(parent, []).append(c)

    placed: set[uuid.UUID] = set()

    def entry(c: Contact) -> CallTreeEntry:
        placed.add(c.id)
        alternates = [entry(a) for a in children.get(c.id, []) if a.id not in placed]
        return CallTreeEntry.model_validate({**ContactOut.model_validate(c).model_dump(), "alternates": alternates})

    tree = [entry(c) for c in children.get(None, [])]
    tree += [entry(c) for c in contacts if c.id not in placed]
    return tree


async def get_contact(session: AsyncSession, practice: Practice, contact_id: uuid.UUID) -> Contact:
    return await repo.get_one(session, Contact, practice, contact_id, "contact")


async def create_contact(session: AsyncSession, practice: Practice, actor: Actor, fields: dict[str, Any]) -> Contact:
    fields = repo.plain(fields)
    contact = Contact(id=uuid.uuid4(), msp_id=practice.msp_id, practice_id=practice.id, **fields)
    await _check_alternate(session, practice, contact.id, fields.get("alternate_for_id"))
    session.add(contact)
    await repo.flush_or_conflict(session, CONTACT_CONSTRAINTS)
    await record(session, msp_id=practice.msp_id, actor=actor, action="contact.created", object_type="contact",
                 object_id=contact.id, practice_id=practice.id, changes=fields)
    return contact


async def update_contact(session: AsyncSession, practice: Practice, contact: Contact, actor: Actor, changes: dict[str, Any]) -> Contact:
    changes = repo.plain(changes)
    if "alternate_for_id" in changes:
        await _check_alternate(session, practice, contact.id, changes["alternate_for_id"])
    before = {k: getattr(contact, k) for k in changes}
    for k, v in changes.items():
        setattr(contact, k, v)
    await repo.flush_or_conflict(session, CONTACT_CONSTRAINTS)
    await record(session, msp_id=practice.msp_id, actor=actor, action="contact.updated", object_type="contact",
                 object_id=contact.id, practice_id=practice.id, changes=diff(before, changes))
    return contact


async def delete_contact(session: AsyncSession, practice: Practice, contact: Contact, actor: Actor) -> None:
    """Remove a contact; their alternates become primary contacts (the foreign key sets them free)."""
    await session.delete(contact)
    await session.flush()
    await record(session, msp_id=practice.msp_id, actor=actor, action="contact.deleted", object_type="contact",
                 object_id=contact.id, practice_id=practice.id, changes={"name": contact.name})
