"""Monthly practice reports: generated on demand and on schedule, listed, downloaded; never shown
to someone who cannot see the practice."""

from __future__ import annotations

import io

import pypdf
from sqlalchemy import select

from services.core.base import utcnow
from services.core.db import Scope
from services.core.readiness import reports
from services.core.readiness.models import ReadinessReport
from tests.factories import sign_in
from tests.factories_identity import owner_execute
from tests.factories_readiness import build_perfect_practice


async def test_a_report_is_generated_listed_and_downloaded_as_the_pdf_that_was_stored(client, db, tenant):
    await build_perfect_practice(db, tenant.practice, tenant.site)
    await sign_in(client, tenant["msp_technician"])
    base = f"/api/v1/practices/{tenant.practice.id}/reports"
    r = await client.post(base, json={})
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["kind"] == "on_demand" and report["score"] == 100 and report["period_start"].endswith("-01")
    listed = (await client.get(base)).json()
    assert [x["id"] for x in listed] == [report["id"]]
    pdf = await client.get(f"{base}/{report['id']}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-content-sha256"] == report["sha256"]
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert tenant.practice.name in text and "100" in text and "Cloud nightly" in text and "Fiber" in text


async def added_in(owner_db, practice, when: str) -> None:
    await owner_execute(owner_db, "UPDATE practice SET created_at = CAST(:when AS timestamptz) WHERE msp_id = :m AND id = :p",
                        when=when, m=practice.msp_id, p=practice.id)


async def test_a_report_for_a_chosen_month_and_a_bad_month_is_422(client, tenant, owner_db):
    await added_in(owner_db, tenant.practice, "2024-02-20T10:00:00Z")
    await sign_in(client, tenant["msp_admin"])
    base = f"/api/v1/practices/{tenant.practice.id}/reports"
    r = await client.post(base, json={"month": "2024-02"})
    assert r.status_code == 201 and (r.json()["period_start"], r.json()["period_end"]) == ("2024-02-01", "2024-03-01")
    bad = await client.post(base, json={"month": "2024-13"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("month")


async def test_a_month_before_the_practice_was_added_or_not_yet_happened_is_422_naming_month(client, tenant, owner_db):
    await added_in(owner_db, tenant.practice, "2024-02-20T10:00:00Z")
    await sign_in(client, tenant["msp_admin"])
    base = f"/api/v1/practices/{tenant.practice.id}/reports"
    today = utcnow().date()
    next_month = f"{today.year + (today.month == 12)}-{today.month % 12 + 1:02d}"
    for month in ("0000-01", "0001-01", "2023-12", "9999-12", next_month):
        r = await client.post(base, json={"month": month})
        assert r.status_code == 422, (month, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in r.json()["errors"]] == ["month"], month
    assert (await client.post(base, json={"month": f"{today:%Y-%m}"})).status_code == 201
    # Agents may send events up to 30 days old, so the month before the practice was added can hold data.
    assert (await client.post(base, json={"month": "2024-01"})).status_code == 201
    assert sorted(x["period_start"] for x in (await client.get(base)).json()) == ["2024-01-01", f"{today:%Y-%m}-01"]


async def test_the_scheduled_run_makes_one_report_per_active_practice_and_is_idempotent(db, tenant, owner_db):
    now = utcnow()
    month = reports.previous_month(now.date())
    for practice in (tenant.practice, tenant.sibling):
        await added_in(owner_db, practice, f"{month}-01T00:00:00Z")
    assert await reports.generate_scheduled(db, tenant.msp_id, month, now) == 2
    assert await reports.generate_scheduled(db, tenant.msp_id, month, now) == 0
    async with db.transaction(Scope(tenant.msp_id)) as s:
        rows = (await s.scalars(select(ReadinessReport).where(ReadinessReport.msp_id == tenant.msp_id))).all()
    assert sorted(r.practice_id for r in rows) == sorted([tenant.practice.id, tenant.sibling.id])
    assert all(r.kind == "scheduled" and r.generated_by_label == "seawall" for r in rows)


async def test_the_scheduled_run_skips_a_practice_added_after_the_month(db, tenant, owner_db):
    now = utcnow()
    month = reports.previous_month(now.date())
    await added_in(owner_db, tenant.practice, f"{month}-28T23:00:00Z")
    assert await reports.generate_scheduled(db, tenant.msp_id, month, now) == 1  # the sibling was added this month
    async with db.transaction(Scope(tenant.msp_id)) as s:
        rows = (await s.scalars(select(ReadinessReport).where(ReadinessReport.msp_id == tenant.msp_id))).all()
    assert [r.practice_id for r in rows] == [tenant.practice.id]


async def test_practice_staff_read_their_reports_but_never_a_sibling_practices(client, db, tenant):
    async with db.transaction(Scope(tenant.msp_id)) as s:
        own = await reports.generate(s, tenant.practice, month=None, kind="on_demand", actor=reports.SYSTEM, now=utcnow())
        sibling = await reports.generate(s, tenant.sibling, month=None, kind="on_demand", actor=reports.SYSTEM, now=utcnow())
    for person in ("practice_staff", "assigned_technician"):
        client.cookies.clear()
        await sign_in(client, tenant[person])
        assert (await client.get(f"/api/v1/practices/{tenant.practice.id}/reports/{own.id}.pdf")).status_code == 200
        assert (await client.get(f"/api/v1/practices/{tenant.sibling.id}/reports")).status_code == 404
        assert (await client.get(f"/api/v1/practices/{tenant.sibling.id}/reports/{sibling.id}.pdf")).status_code == 404
        # The sibling's report id under the caller's own practice is not found either.
        assert (await client.get(f"/api/v1/practices/{tenant.practice.id}/reports/{sibling.id}.pdf")).status_code == 404
    assert (await client.post(f"/api/v1/practices/{tenant.practice.id}/reports", json={})).status_code == 201
    client.cookies.clear()
    await sign_in(client, tenant["practice_staff"])
    assert (await client.post(f"/api/v1/practices/{tenant.practice.id}/reports", json={})).status_code == 403


async def test_other_msp_gets_404(client, db, tenant, other_tenant):
    async with db.transaction(Scope(tenant.msp_id)) as s:
        report = await reports.generate(s, tenant.practice, month=None, kind="on_demand", actor=reports.SYSTEM, now=utcnow())
    await sign_in(client, other_tenant["msp_owner"])
    base = f"/api/v1/practices/{tenant.practice.id}/reports"
    assert (await client.get(base)).status_code == 404
    assert (await client.post(base, json={})).status_code == 404
    assert (await client.get(f"{base}/{report.id}.pdf")).status_code == 404
    assert (await client.get(f"/api/v1/practices/{other_tenant.practice.id}/reports/{report.id}.pdf")).status_code == 404
