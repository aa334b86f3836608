"""Practices and sites of the caller's MSP."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from typing import Annotated

from services.api.deps import (CurrentPrincipal, DbSession, MspManager, PracticeAccess, PracticeOperator, PracticeReader,
                               RescoresPractice,
                               actor_of, practice_permission)
from services.core.errors import Forbidden
from services.core.identity.policy import Permission
from services.core.practices import service
from services.core.practices.schemas import PracticeIn, PracticeOut, PracticePatch, SiteIn, SiteOut, SitePatch

# Removing a practice is an MSP manager's act, checked against the practice so that a practice the
# caller cannot see stays a 404.
PracticeRemover = Annotated[PracticeAccess, practice_permission(Permission.msp_manage)]

router = APIRouter(prefix="/api/v1/practices", tags=["practices"])


@router.get("", operation_id="list_practices", response_model=list[PracticeOut])
async def list_practices(principal: CurrentPrincipal, db: DbSession) -> list:
    """Every practice the caller may see (row-level security narrows the list)."""
    return await service.list_practices(db, principal.msp_id)


@router.post("", operation_id="create_practice", response_model=PracticeOut, status_code=201)
async def create_practice(body: PracticeIn, principal: MspManager, db: DbSession):
    """Onboard a practice."""
    return await service.create_practice(db, principal.msp_id, actor_of(principal), **body.model_dump())


@router.get("/{practice_id}", operation_id="get_practice", response_model=PracticeOut)
async def get_practice(access: PracticeReader):
    """One practice."""
    return access.practice


@router.patch("/{practice_id}", operation_id="update_practice", response_model=PracticeOut)
async def update_practice(body: PracticePatch, access: PracticeOperator, db: DbSession):
    """Rename a practice, change its details, or mark it inactive (MSP managers only for `active`)."""
    changes = body.model_dump(exclude_unset=True)
    if "active" in changes and not access.principal.can(Permission.msp_manage):
        raise Forbidden("Only an MSP owner or admin may activate or deactivate a practice.")
    return await service.update_practice(db, access.practice, access.actor, changes)


@router.delete("/{practice_id}", operation_id="delete_practice", status_code=204)
async def delete_practice(access: PracticeRemover, db: DbSession) -> Response:
    """Remove a practice and everything it holds (MSP owners and admins)."""
    await service.delete_practice(db, access.practice, access.actor)
    return Response(status_code=204)


@router.get("/{practice_id}/sites", operation_id="list_sites", response_model=list[SiteOut])
async def list_sites(access: PracticeReader, db: DbSession):
    """The practice's sites."""
    return await service.list_sites(db, access.practice)


@router.post("/{practice_id}/sites", operation_id="create_site", response_model=SiteOut, status_code=201,
             dependencies=[RescoresPractice])
async def create_site(body: SiteIn, access: PracticeOperator, db: DbSession):
    """Add a site (a physical location with its own internet links and agent)."""
    return await service.create_site(db, access.practice, access.actor, **body.model_dump())


@router.get("/{practice_id}/sites/{site_id}", operation_id="get_site", response_model=SiteOut)
async def get_site(site_id: uuid.UUID, access: PracticeReader, db: DbSession):
    """One site."""
    return await service.get_site(db, access.practice, site_id)


@router.patch("/{practice_id}/sites/{site_id}", operation_id="update_site", response_model=SiteOut)
async def update_site(site_id: uuid.UUID, body: SitePatch, access: PracticeOperator, db: DbSession):
    """Change a site's name or address."""
    site = await service.get_site(db, access.practice, site_id)
    return await service.update_site(db, site, access.actor, body.model_dump(exclude_unset=True))


@router.delete("/{practice_id}/sites/{site_id}", operation_id="delete_site", status_code=204,
               dependencies=[RescoresPractice])
async def delete_site(site_id: uuid.UUID, access: PracticeOperator, db: DbSession) -> Response:
    """Remove a site."""
    site = await service.get_site(db, access.practice, site_id)
    await service.delete_site(db, site, access.actor)
    return Response(status_code=204)
