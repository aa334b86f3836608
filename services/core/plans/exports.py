"""Exporting a plan version (PDF binder or offline HTML), each export recorded and audited.

Readiness asks whether the version in force has been exported since it was approved, so every export
leaves a PlanExport row (who, when, which version, what format, and a digest of the bytes given out).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from anyio import to_thread
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import Actor, record
from services.core.plans import binder
from services.core.plans.export_html import render_html
from services.core.plans.export_pdf import render_pdf
from services.core.plans.models import ExportFormat, PlanExport, PlanVersion
from services.core.practices.models import Practice

MEDIA_TYPES = {ExportFormat.pdf: "application/pdf", ExportFormat.html: "text/html; charset=utf-8"}


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    media_type: str
    record: PlanExport


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "practice"


async def export(session: AsyncSession, practice: Practice, version: PlanVersion, actor: Actor, fmt: ExportFormat) -> ExportFile:
    b = await binder.build(session, practice, version, actor.label or actor.type)
    html = render_html(b)
    content = html.encode() if fmt is ExportFormat.html else await to_thread.run_sync(render_pdf, html)
    row = PlanExport(msp_id=practice.msp_id, practice_id=practice.id, plan_version_id=version.id, format=fmt.value,
                     exported_at=b.generated_at, exported_by=actor.id, exported_by_label=actor.label,
                     sha256=hashlib.sha256(content).hexdigest(), size_bytes=len(content))
    session.add(row)
    await session.flush()
    await record(session, msp_id=practice.msp_id, actor=actor, action="plan_version.exported", object_type="plan_version",
                 object_id=version.id, practice_id=practice.id,
                 changes={"number": version.number, "format": fmt.value, "sha256": row.sha256, "export_id": row.id})
    filename = f"{_slug(practice.name)}-plan-v{version.number}.{fmt.value}"
    return ExportFile(content, filename, MEDIA_TYPES[fmt], row)


async def list_exports(session: AsyncSession, practice: Practice, version_id: uuid.UUID | None = None) -> list[PlanExport]:
    q = select(PlanExport).where(PlanExport.msp_id == practice.msp_id, PlanExport.practice_id == practice.id)
    if version_id is not None:
        q = q.where(PlanExport.plan_version_id == version_id)
    return list(await session.scalars(q.order_by(PlanExport.exported_at.desc()).limit(200)))
