"""A practice's inventory: systems, backup jobs, internet links, contacts and the call tree, CSV
imports, and the findings the inventory already produces."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.api.deps import DbSession, PracticeOperator, PracticeReader, RescoresPractice
from services.core.base import utcnow
from services.core.errors import FieldError, PayloadTooLarge, UnsupportedMediaType
from services.core.inventory import backup_jobs, contacts, links, service
from services.core.inventory.checks import inventory_findings
from services.core.inventory.csv_contacts import import_contacts
from services.core.inventory.csv_import import MAX_BYTES
from services.core.inventory.csv_systems import import_systems
from services.core.inventory.schemas import (
    BackupJobIn,
    BackupJobOut,
    BackupJobPatch,
    CallTreeEntry,
    ContactIn,
    ContactOut,
    ContactPatch,
    InventoryFindingOut,
    ImportReport,
    LinkIn,
    LinkOut,
    LinkPatch,
    SystemIn,
    SystemOut,
    SystemPatch,
)

router = APIRouter(prefix="/api/v1/practices/{practice_id}", tags=["inventory"], dependencies=[RescoresPractice])
CSV_TYPES = ("text/csv", "application/csv", "text/plain")
CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}
DryRun = Annotated[bool, Query(description="true: report what would change and write nothing")]


async def _csv_body(request: Request) -> bytes:
    """The request body as CSV bytes, refused beyond MAX_BYTES before it is all read."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in CSV_TYPES:
        raise UnsupportedMediaType("Send the file as text/csv.", errors=[FieldError("content-type", f"'{media or 'none'}' is not text/csv")])
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BYTES:
        raise PayloadTooLarge(f"The file is larger than {MAX_BYTES // 1024} KiB; split it into smaller files.")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BYTES:
            raise PayloadTooLarge(f"The file is larger than {MAX_BYTES // 1024} KiB; split it into smaller files.")
    return bytes(data)


# ----- systems -----

@router.get("/systems", operation_id="list_systems", response_model=list[SystemOut])
async def list_systems(access: PracticeReader, db: DbSession):
    """The practice's systems, most critical first, with their dependencies and protecting backup jobs."""
    return await service.list_systems(db, access.practice)


@router.post("/systems", operation_id="create_system", response_model=SystemOut, status_code=201)
async def create_system(body: SystemIn, access: PracticeOperator, db: DbSession):
    """Add a system with its recovery targets (RTO must not exceed MTD) and what it depends on."""
    system = await service.create_system(db, access.practice, access.actor, body.model_dump())
    return (await service.system_views(db, access.practice, [system]))[0]


@router.get("/systems/{system_id}", operation_id="get_system", response_model=SystemOut)
async def get_system(system_id: uuid.UUID, access: PracticeReader, db: DbSession):
    """One system."""
    system = await service.get_system(db, access.practice, system_id)
    return (await service.system_views(db, access.practice, [system]))[0]


@router.patch("/systems/{system_id}", operation_id="update_system", response_model=SystemOut)
async def update_system(system_id: uuid.UUID, body: SystemPatch, access: PracticeOperator, db: DbSession):
    """Change a system; `depends_on`, when given, replaces the whole list."""
    system = await service.get_system(db, access.practice, system_id)
    await service.update_system(db, access.practice, system, access.actor, body.model_dump(exclude_unset=True))
    return (await service.system_views(db, access.practice, [system]))[0]


@router.delete("/systems/{system_id}", operation_id="delete_system", status_code=204)
async def delete_system(system_id: uuid.UUID, access: PracticeOperator, db: DbSession) -> Response:
    """Remove a system, its dependencies (both ways) and its place in backup jobs."""
    system = await service.get_system(db, access.practice, system_id)
    await service.delete_system(db, access.practice, system, access.actor)
    return Response(status_code=204)


# ----- backup jobs -----

@router.get("/backup-jobs", operation_id="list_backup_jobs", response_model=list[BackupJobOut])
async def list_backup_jobs(access: PracticeReader, db: DbSession):
    """The practice's backup jobs with the systems each protects."""
    return await backup_jobs.list_jobs(db, access.practice)


@router.post("/backup-jobs", operation_id="create_backup_job", response_model=BackupJobOut, status_code=201)
async def create_backup_job(body: BackupJobIn, access: PracticeOperator, db: DbSession):
    """Add a backup job: where it stores copies, how, and which systems it protects."""
    job = await backup_jobs.create_job(db, access.practice, access.actor, body.model_dump())
    return (await backup_jobs.job_views(db, access.practice, [job]))[0]


@router.get("/backup-jobs/{backup_job_id}", operation_id="get_backup_job", response_model=BackupJobOut)
async def get_backup_job(backup_job_id: uuid.UUID, access: PracticeReader, db: DbSession):
    """One backup job."""
    job = await backup_jobs.get_job(db, access.practice, backup_job_id)
    return (await backup_jobs.job_views(db, access.practice, [job]))[0]


@router.patch("/backup-jobs/{backup_job_id}", operation_id="update_backup_job", response_model=BackupJobOut)
async def update_backup_job(backup_job_id: uuid.UUID, body: BackupJobPatch, access: PracticeOperator, db: DbSession):
    """Change a backup job; `system_ids`, when given, replaces the whole list."""
    job = await backup_jobs.get_job(db, access.practice, backup_job_id)
    await backup_jobs.update_job(db, access.practice, job, access.actor, body.model_dump(exclude_unset=True))
    return (await backup_jobs.job_views(db, access.practice, [job]))[0]


@router.delete("/backup-jobs/{backup_job_id}", operation_id="delete_backup_job", status_code=204)
async def delete_backup_job(backup_job_id: uuid.UUID, access: PracticeOperator, db: DbSession) -> Response:
    """Remove a backup job."""
    job = await backup_jobs.get_job(db, access.practice, backup_job_id)
    await backup_jobs.delete_job(db, access.practice, job, access.actor)
    return Response(status_code=204)


# ----- internet links -----

@router.get("/links", operation_id="list_links", response_model=list[LinkOut])
async def list_links(access: PracticeReader, db: DbSession):
    """The internet links of every site of the practice."""
    return await links.list_links(db, access.practice)


@router.post("/links", operation_id="create_link", response_model=LinkOut, status_code=201)
async def create_link(body: LinkIn, access: PracticeOperator, db: DbSession):
    """Add an internet link at one of the practice's sites."""
    return await links.create_link(db, access.practice, access.actor, body.model_dump())


@router.get("/links/{link_id}", operation_id="get_link", response_model=LinkOut)
async def get_link(link_id: uuid.UUID, access: PracticeReader, db: DbSession):
    """One internet link."""
    return await links.get_link(db, access.practice, link_id)


@router.patch("/links/{link_id}", operation_id="update_link", response_model=LinkOut)
async def update_link(link_id: uuid.UUID, body: LinkPatch, access: PracticeOperator, db: DbSession):
    """Change an internet link or its alert thresholds."""
    link = await links.get_link(db, access.practice, link_id)
    return await links.update_link(db, access.practice, link, access.actor, body.model_dump(exclude_unset=True))


@router.delete("/links/{link_id}", operation_id="delete_link", status_code=204)
async def delete_link(link_id: uuid.UUID, access: PracticeOperator, db: DbSession) -> Response:
    """Remove an internet link (systems stop depending on it)."""
    link = await links.get_link(db, access.practice, link_id)
    await links.delete_link(db, access.practice, link, access.actor)
    return Response(status_code=204)


# ----- contacts and the call tree -----

@router.get("/contacts", operation_id="list_contacts", response_model=list[ContactOut])
async def list_contacts(access: PracticeReader, db: DbSession):
    """Every contact of the practice, in calling order."""
    return await contacts.list_contacts(db, access.practice)


@router.get("/call-tree", operation_id="get_call_tree", response_model=list[CallTreeEntry])
async def get_call_tree(access: PracticeReader, db: DbSession):
    """Whom to call, in order, each with the alternates to try when they cannot be reached."""
    return await contacts.call_tree(db, access.practice)


@router.post("/contacts", operation_id="create_contact", response_model=ContactOut, status_code=201)
async def create_contact(body: ContactIn, access: PracticeOperator, db: DbSession):
    """Add someone to the call tree (staff, the MSP, an ISP, a vendor)."""
    return await contacts.create_contact(db, access.practice, access.actor, body.model_dump())


@router.get("/contacts/{contact_id}", operation_id="get_contact", response_model=ContactOut)
async def get_contact(contact_id: uuid.UUID, access: PracticeReader, db: DbSession):
    """One contact."""
    return await contacts.get_contact(db, access.practice, contact_id)


@router.patch("/contacts/{contact_id}", operation_id="update_contact", response_model=ContactOut)
async def update_contact(contact_id: uuid.UUID, body: ContactPatch, access: PracticeOperator, db: DbSession):
    """Change a contact, their place in the calling order, or whom they are the alternate for."""
    contact = await contacts.get_contact(db, access.practice, contact_id)
    return await contacts.update_contact(db, access.practice, contact, access.actor, body.model_dump(exclude_unset=True))


@router.delete("/contacts/{contact_id}", operation_id="delete_contact", status_code=204)
async def delete_contact(contact_id: uuid.UUID, access: PracticeOperator, db: DbSession) -> Response:
    """Remove a contact; their alternates become primary contacts."""
    contact = await contacts.get_contact(db, access.practice, contact_id)
    await contacts.delete_contact(db, access.practice, contact, access.actor)
    return Response(status_code=204)


# ----- CSV imports -----

@router.post("/imports/systems", operation_id="import_systems", response_model=ImportReport, openapi_extra=CSV_BODY)
async def import_systems_csv(request: Request, access: PracticeOperator, db: DbSession, dry_run: DryRun = True):
    """Import systems from CSV (text/csv, UTF-8, ≤ 1 MiB, ≤ 5,000 rows), matched by external_id; see docs/inventory-import.md.

    Columns (header row, any order): external_id*, name*, rto_minutes*, rpo_minutes*, mtd_minutes*,
    category (ehr, practice_management, scheduling, imaging, e_prescribing, phones, iot, endpoints,
    network, other), tier (1–4, default 2), holds_ephi, requires_onsite_copy, requires_offsite_copy
    (yes/no), owner, recovery_procedure, depends_on (other systems' external_id or name, separated
    by ";", in the file or already in the practice). * = required. A re-import updates, never
    duplicates. With dry_run=true (the default) nothing is written and the report lists every row
    error; a real import with any error writes nothing and answers 422 with the same errors.
    """
    return await import_systems(db, access.practice, access.actor, await _csv_body(request), dry_run)


@router.post("/imports/contacts", operation_id="import_contacts", response_model=ImportReport, openapi_extra=CSV_BODY)
async def import_contacts_csv(request: Request, access: PracticeOperator, db: DbSession, dry_run: DryRun = True):
    """Import contacts (the call tree) from CSV (text/csv, UTF-8, ≤ 1 MiB, ≤ 5,000 rows), matched by external_id.

    Columns (header row, any order): external_id*, name*, kind (staff, msp, isp, vendor, other),
    organization, role_title, phone, email, call_order (0–10000, lower is called first, default 100),
    alternate_for (the external_id or name of the contact this one covers for), notes. * = required.
    A re-import updates, never duplicates. With dry_run=true (the default) nothing is written; a
    real import with any error writes nothing and answers 422 with every row error.
    """
    return await import_contacts(db, access.practice, access.actor, await _csv_body(request), dry_run)


# ----- findings -----

@router.get("/inventory-findings", operation_id="list_inventory_findings", response_model=list[InventoryFindingOut])
async def list_inventory_findings(access: PracticeReader, db: DbSession):
    """What the inventory already says is missing (no backup, no off-site copy, single link …), most severe first."""
    return await inventory_findings(db, access.msp_id, access.practice_id, utcnow())
