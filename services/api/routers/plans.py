"""Plan templates, a practice's plan and its versions, the people in it, exports and plan findings."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from services.api.deps import (CurrentPrincipal, DbSession, MspManager, MspReader, PlanAcknowledger, PlanApprover, PracticeOperator,
                               PracticeReader, RescoresPractice, actor_of)
from services.core.base import utcnow
from services.core.errors import Forbidden, NotFound
from services.core.identity.policy import Permission
from services.core.identity.principal import Principal
from services.core.findings import Severity
from services.core.inventory.checks import inventory_findings
from services.core.plans import exports, people, service, template_service
from services.core.plans.checks import plan_findings
from services.core.plans.models import ExportFormat, PlanTemplate
from services.core.plans.schemas import (SECTION_KEY, AcknowledgementOut, ApproveIn, DiffOut, ExportOut, FindingOut, PlanIn, PlanOut, ReturnIn,
                                         RoleAssignmentIn, RoleAssignmentOut, RoleAssignmentPatch, SectionPatch, TemplateIn,
                                         TemplateOut, TemplatePatch, VersionOut, VersionPatch, VersionSummary)
from services.core.plans.templates import DEFAULT_TEMPLATE_ID

SectionKey = Annotated[str, Path(pattern=SECTION_KEY, max_length=60)]

templates = APIRouter(prefix="/api/v1/plan-templates", tags=["plans"])


def template_access(permission: Permission):
    """The named template of the caller's MSP (404 before 403: another MSP's template does not exist here)."""
    async def check(template_id: uuid.UUID, principal: CurrentPrincipal, db: DbSession) -> tuple[Principal, PlanTemplate | None]:
        found = None if template_id == DEFAULT_TEMPLATE_ID else await template_service.get_template(db, principal.msp_id, template_id)
        if not principal.can(permission):
            raise Forbidden("Your role does not allow this.")
        return principal, found

    return Depends(check)


TemplateReader = Annotated[tuple[Principal, PlanTemplate | None], template_access(Permission.msp_read)]
TemplateManager = Annotated[tuple[Principal, PlanTemplate | None], template_access(Permission.msp_manage)]
router = APIRouter(prefix="/api/v1/practices/{practice_id}", tags=["plans"], dependencies=[RescoresPractice])


# --- templates (MSP-wide) ---------------------------------------------------------------------

@templates.get("", operation_id="list_plan_templates", response_model=list[TemplateOut])
async def list_plan_templates(principal: MspReader, db: DbSession) -> list:
    """The built-in template and the MSP's own templates."""
    return await template_service.list_templates(db, principal.msp_id)


@templates.post("", operation_id="create_plan_template", response_model=TemplateOut, status_code=201)
async def create_plan_template(body: TemplateIn, principal: MspManager, db: DbSession) -> dict:
    """Copy the built-in template (or another of the MSP's) under a new name, or create one from sections."""
    t = await template_service.create_template(db, principal.msp_id, actor_of(principal), body.name, body.description,
                                               body.source_template_id, body.sections)
    return template_service.template_out(t)


@templates.get("/{template_id}", operation_id="get_plan_template", response_model=TemplateOut)
async def get_plan_template(template_id: uuid.UUID, access: TemplateReader) -> dict:
    """One template, with its sections and their guidance."""
    _, found = access
    return template_service.template_out(found) if found else template_service.builtin_out()


@templates.patch("/{template_id}", operation_id="update_plan_template", response_model=TemplateOut)
async def update_plan_template(template_id: uuid.UUID, body: TemplatePatch, access: TemplateManager, db: DbSession) -> dict:
    """Rename a template or replace its sections (plans made from it keep their own copy)."""
    principal, _ = access
    t = await template_service.update_template(db, principal.msp_id, template_id, actor_of(principal),
                                               body.model_dump(exclude_unset=True) | {"sections": body.sections})
    return template_service.template_out(t)


@templates.delete("/{template_id}", operation_id="delete_plan_template", status_code=204)
async def delete_plan_template(template_id: uuid.UUID, access: TemplateManager, db: DbSession) -> Response:
    """Remove one of the MSP's templates."""
    principal, _ = access
    await template_service.delete_template(db, principal.msp_id, template_id, actor_of(principal))
    return Response(status_code=204)


# --- the plan and its versions ----------------------------------------------------------------

@router.get("/plan", operation_id="get_plan", response_model=PlanOut)
async def get_plan(access: PracticeReader, db: DbSession) -> dict:
    """The practice's plan: the approved version in force and the one being worked on."""
    return await service.plan_out(db, await service.get_plan(db, access.practice))


@router.post("/plan", operation_id="create_plan", response_model=PlanOut, status_code=201)
async def create_plan(access: PracticeOperator, db: DbSession, body: PlanIn | None = None) -> dict:
    """Start the practice's plan from a template (the built-in one by default), as draft version 1."""
    plan = await service.create_plan(db, access.practice, access.actor, body.template_id if body else None)
    return await service.plan_out(db, plan)


@router.get("/plan/versions", operation_id="list_plan_versions", response_model=list[VersionSummary])
async def list_plan_versions(access: PracticeReader, db: DbSession) -> list:
    """Every version of the plan, newest first."""
    return await service.list_versions(db, access.practice)


@router.post("/plan/versions", operation_id="create_plan_draft", response_model=VersionOut, status_code=201)
async def create_plan_draft(access: PracticeOperator, db: DbSession) -> dict:
    """Start a new draft from the approved version (only one draft or version in review at a time)."""
    return service.version_out(await service.create_draft(db, access.practice, access.actor))


@router.get("/plan/versions/{version_id}", operation_id="get_plan_version", response_model=VersionOut)
async def get_plan_version(version_id: uuid.UUID, access: PracticeReader, db: DbSession) -> dict:
    """One version with all its sections."""
    return service.version_out(await service.get_version(db, access.practice, version_id))


@router.patch("/plan/versions/{version_id}", operation_id="update_plan_version", response_model=VersionOut)
async def update_plan_version(version_id: uuid.UUID, body: VersionPatch, access: PracticeOperator, db: DbSession) -> dict:
    """Edit the draft: replace its sections or change its review interval."""
    v = await service.get_version(db, access.practice, version_id)
    return service.version_out(await service.update_version(db, v, access.actor, body.model_dump(exclude_unset=True)
                                                            | {"sections": body.sections}))


@router.patch("/plan/versions/{version_id}/sections/{section_key}", operation_id="update_plan_section", response_model=VersionOut)
async def update_plan_section(version_id: uuid.UUID, section_key: SectionKey, body: SectionPatch, access: PracticeOperator,
                              db: DbSession) -> dict:
    """Edit one section of the draft."""
    v = await service.get_version(db, access.practice, version_id)
    return service.version_out(await service.update_section(db, v, section_key, access.actor, body.model_dump(exclude_unset=True)))


@router.post("/plan/versions/{version_id}/submit", operation_id="submit_plan_version", response_model=VersionOut)
async def submit_plan_version(version_id: uuid.UUID, access: PracticeOperator, db: DbSession) -> dict:
    """Send the draft to the practice owner for approval."""
    return service.version_out(await service.submit(db, await service.get_version(db, access.practice, version_id), access.actor))


@router.post("/plan/versions/{version_id}/withdraw", operation_id="withdraw_plan_version", response_model=VersionOut)
async def withdraw_plan_version(version_id: uuid.UUID, access: PracticeOperator, db: DbSession) -> dict:
    """Take a version back from review to keep editing it."""
    v = await service.get_version(db, access.practice, version_id)
    return service.version_out(await service.back_to_draft(db, v, access.actor, "plan_version.withdrawn"))


@router.post("/plan/versions/{version_id}/return", operation_id="return_plan_version", response_model=VersionOut)
async def return_plan_version(version_id: uuid.UUID, access: PlanApprover, db: DbSession, body: ReturnIn | None = None) -> dict:
    """Send a version in review back to draft, saying what should change."""
    v = await service.get_version(db, access.practice, version_id)
    return service.version_out(await service.back_to_draft(db, v, access.actor, "plan_version.returned", body.comment if body else ""))


@router.post("/plan/versions/{version_id}/approve", operation_id="approve_plan_version", response_model=VersionOut)
async def approve_plan_version(version_id: uuid.UUID, access: PlanApprover, db: DbSession, body: ApproveIn | None = None) -> dict:
    """Approve the version in review; it becomes the plan in force and can no longer change."""
    body = body or ApproveIn()
    v = await service.get_version(db, access.practice, version_id)
    v = await service.approve(db, access.practice, v, access.actor, service.approves_on_behalf(access.principal, access.practice_id),
                              body.effective_date, body.review_interval_months)
    return service.version_out(v)


@router.get("/plan/versions/{version_id}/diff/{other_version_id}", operation_id="diff_plan_versions", response_model=DiffOut)
async def diff_plan_versions(version_id: uuid.UUID, other_version_id: uuid.UUID, access: PracticeReader, db: DbSession) -> dict:
    """Compare two versions section by section (from the first to the second)."""
    return await service.diff(db, access.practice, version_id, other_version_id)


async def _export(version_id: uuid.UUID, access: Any, db: Any, fmt: ExportFormat) -> Response:
    v = await service.get_version(db, access.practice, version_id)
    f = await exports.export(db, access.practice, v, access.actor, fmt)
    headers = {"Content-Disposition": f'attachment; filename="{f.filename}"', "Cache-Control": "no-store",
               "X-Plan-Export-Id": str(f.record.id),
               # The file is self-contained; if a browser renders it from here, it may load nothing at all.
               "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return Response(f.content, media_type=f.media_type, headers=headers)


@router.get("/plan/versions/{version_id}/export.pdf", operation_id="export_plan_pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "The printable binder"}})
async def export_plan_pdf(version_id: uuid.UUID, access: PracticeReader, db: DbSession) -> Response:
    """The printable PDF binder of a version (recorded as an export)."""
    return await _export(version_id, access, db, ExportFormat.pdf)


@router.get("/plan/versions/{version_id}/export.html", operation_id="export_plan_html", response_class=Response,
            responses={200: {"content": {"text/html": {}}, "description": "One self-contained HTML file"}})
async def export_plan_html(version_id: uuid.UUID, access: PracticeReader, db: DbSession) -> Response:
    """The same binder as one HTML file that opens with no network (recorded as an export)."""
    return await _export(version_id, access, db, ExportFormat.html)


@router.get("/plan/exports", operation_id="list_plan_exports", response_model=list[ExportOut])
async def list_plan_exports(access: PracticeReader, db: DbSession, version_id: uuid.UUID | None = None) -> list:
    """Who exported which version, when, and in what format (newest first)."""
    return await exports.list_exports(db, access.practice, version_id)


# --- people -----------------------------------------------------------------------------------

@router.get("/plan/roles", operation_id="list_role_assignments", response_model=list[RoleAssignmentOut])
async def list_role_assignments(access: PracticeReader, db: DbSession) -> list:
    """Who holds which role in the plan, and whether they acknowledged the version in force."""
    return await people.assignments_out(db, access.practice)


@router.post("/plan/roles", operation_id="create_role_assignment", response_model=RoleAssignmentOut, status_code=201)
async def create_role_assignment(body: RoleAssignmentIn, access: PracticeOperator, db: DbSession) -> dict:
    """Give a practice user a role in the plan."""
    a = await people.create_assignment(db, access.practice, access.actor, body.model_dump())
    return (await people.assignments_out(db, access.practice, only=a.id))[0]


@router.patch("/plan/roles/{assignment_id}", operation_id="update_role_assignment", response_model=RoleAssignmentOut)
async def update_role_assignment(assignment_id: uuid.UUID, body: RoleAssignmentPatch, access: PracticeOperator, db: DbSession) -> dict:
    """Change a role's name or duties, link it to a contact, or record when the person was trained."""
    a = await people.get_assignment(db, access.practice, assignment_id)
    await people.update_assignment(db, access.practice, a, access.actor, body.model_dump(exclude_unset=True))
    return (await people.assignments_out(db, access.practice, only=a.id))[0]


@router.delete("/plan/roles/{assignment_id}", operation_id="delete_role_assignment", status_code=204)
async def delete_role_assignment(assignment_id: uuid.UUID, access: PracticeOperator, db: DbSession) -> Response:
    """Take a role away from someone."""
    a = await people.get_assignment(db, access.practice, assignment_id)
    await people.delete_assignment(db, access.practice, a, access.actor)
    return Response(status_code=204)


@router.post("/plan/acknowledgements", operation_id="acknowledge_plan", response_model=AcknowledgementOut)
async def acknowledge_plan(access: PlanAcknowledger, db: DbSession) -> Any:
    """Acknowledge your role in the approved version of the plan (again for each new version)."""
    return await people.acknowledge(db, access.practice, access.actor)


@router.get("/plan/acknowledgements", operation_id="list_plan_acknowledgements", response_model=list[AcknowledgementOut])
async def list_plan_acknowledgements(access: PracticeReader, db: DbSession, version_id: uuid.UUID | None = None) -> list:
    """Acknowledgements of one version (the approved version when none is named)."""
    version = (await service.get_version(db, access.practice, version_id) if version_id is not None
               else await service.current_version(db, access.msp_id, access.practice_id))
    if version is None:
        raise NotFound("This practice has no approved plan yet.")
    return await people.list_acknowledgements(db, version)


# --- findings ---------------------------------------------------------------------------------

@router.get("/plan-findings", operation_id="list_plan_findings", response_model=list[FindingOut])
async def list_plan_findings(access: PracticeReader, db: DbSession) -> list:
    """What is missing or stale in the practice's plan and inventory, each with what to do about it."""
    now = utcnow()
    found = await plan_findings(db, access.msp_id, access.practice_id, now)
    found += await inventory_findings(db, access.msp_id, access.practice_id, now)
    rank = list(Severity)
    return [f.as_dict() for f in sorted(found, key=lambda f: (rank.index(f.severity), f.rule_id, f.subject_id))]
