"""CSV import of systems and contacts: dry run first, idempotent by external_id, all or nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from services.core.audit.models import AuditEvent
from services.core.db import Scope
from services.core.inventory.models import Contact, System, SystemDependency
from tests.factories import sign_in
from tests.factories_inventory import create_contact, create_link, create_system

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
CSV = {"content-type": "text/csv"}

SYSTEMS = """external_id,name,category,tier,holds_ephi,rto_minutes,rpo_minutes,mtd_minutes,depends_on
SRV,Server,network,1,yes,240,60,480,
EHR,Open Dental,ehr,1,yes,240,60,480,SRV
IMG,Imaging,imaging,2,yes,480,240,1440,SRV;Open Dental
"""


def url(tenant, kind: str, dry_run: bool, practice=None) -> str:
    return f"/api/v1/practices/{(practice or tenant.practice).id}/imports/{kind}?dry_run={str(dry_run).lower()}"


async def rows(db, tenant, model) -> list:
    async with db.transaction(Scope(tenant.msp_id)) as s:
        return list(await s.scalars(select(model).where(model.msp_id == tenant.msp_id, model.practice_id == tenant.practice.id)))


async def dependencies(db, tenant) -> set[tuple[str, str]]:
    names = {s.id: s.name for s in await rows(db, tenant, System)}
    return {(names[d.system_id], names.get(d.depends_on_system_id, "link")) for d in await rows(db, tenant, SystemDependency)}


def counts(report) -> tuple[int, int, int]:
    return report["created"], report["updated"], report["unchanged"]


async def test_dry_run_reports_what_would_change_and_writes_nothing(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    r = await client.post(url(tenant, "systems", True), content=SYSTEMS.encode(), headers=CSV)
    assert r.status_code == 200, r.text
    assert r.json() == {"dry_run": True, "created": 3, "updated": 0, "unchanged": 0, "errors": []}
    assert await rows(db, tenant, System) == []


async def test_reimporting_the_same_file_updates_and_never_duplicates(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    r = await client.post(url(tenant, "systems", False), content=SYSTEMS.encode(), headers=CSV)
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (3, 0, 0)
    assert await dependencies(db, tenant) == {("Open Dental", "Server"), ("Imaging", "Server"), ("Imaging", "Open Dental")}

    r = await client.post(url(tenant, "systems", False), content=SYSTEMS.encode(), headers=CSV)
    assert counts(r.json()) == (0, 0, 3)
    changed = SYSTEMS.replace("IMG,Imaging,imaging,2,yes,480,240,1440,SRV;Open Dental", "IMG,Imaging,imaging,3,yes,480,240,1440,SRV")
    r = await client.post(url(tenant, "systems", True), content=changed.encode(), headers=CSV)
    assert counts(r.json()) == (0, 1, 2)
    r = await client.post(url(tenant, "systems", False), content=changed.encode(), headers=CSV)
    assert counts(r.json()) == (0, 1, 2)
    systems = {s.external_id: s for s in await rows(db, tenant, System)}
    assert len(systems) == 3 and systems["IMG"].tier == 3
    assert await dependencies(db, tenant) == {("Open Dental", "Server"), ("Imaging", "Server")}
    async with db.transaction(Scope(tenant.msp_id)) as s:
        events = list(await s.scalars(select(AuditEvent).where(AuditEvent.msp_id == tenant.msp_id,
                                                               AuditEvent.action == "systems.imported").order_by(AuditEvent.seq)))
    assert [e.changes["created"] for e in events] == [["EHR", "IMG", "SRV"], [], []]
    assert events[-1].changes["updated"] == {"IMG": ["tier", "depends_on"]}


async def test_import_keeps_link_dependencies_and_leaves_absent_columns_alone(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    fiber = await create_link(db, tenant.site, "Fiber")
    await client.post(url(tenant, "systems", False), content=SYSTEMS.encode(), headers=CSV)
    ehr = next(s for s in await rows(db, tenant, System) if s.external_id == "EHR")
    r = await client.patch(f"/api/v1/practices/{tenant.practice.id}/systems/{ehr.id}",
                           json={"depends_on": [str(fiber.id)], "owner": "Maria"})
    assert r.status_code == 200, r.text
    r = await client.post(url(tenant, "systems", False), content=SYSTEMS.encode(), headers=CSV)
    assert counts(r.json()) == (0, 1, 2)  # the file puts Server back among EHR's dependencies
    assert ("Open Dental", "link") in await dependencies(db, tenant)
    assert next(s for s in await rows(db, tenant, System) if s.external_id == "EHR").owner == "Maria"


async def test_a_system_entered_by_hand_is_adopted_by_name_not_duplicated(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    await create_system(db, tenant.practice, "Server", tier=1, holds_ephi=True, rto_minutes=240, rpo_minutes=60, mtd_minutes=480,
                        category="network")
    r = await client.post(url(tenant, "systems", False), content=SYSTEMS.encode(), headers=CSV)
    assert counts(r.json()) == (2, 1, 0)  # only the external_id is new on Server
    assert len(await rows(db, tenant, System)) == 3


async def test_broken_rows_are_named_and_a_real_import_writes_nothing(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    broken = """external_id,name,tier,holds_ephi,rto_minutes,rpo_minutes,mtd_minutes,depends_on
OK,Fine system,2,no,60,60,120,
BAD-TIER,Tier five,5,no,60,60,120,
SLOW,Too slow,2,no,600,60,120,
GHOST,Needs a ghost,2,no,60,60,120,Nowhere
,No external id,2,no,60,60,120,
BOOL,Maybe,2,perhaps,60,60,120,
OK,Fine system again,2,no,60,60,120,
LOOP-A,Loop A,2,no,60,60,120,LOOP-B
LOOP-B,Loop B,2,no,60,60,120,LOOP-A
"""
    r = await client.post(url(tenant, "systems", True), content=broken.encode(), headers=CSV)
    assert r.status_code == 200
    report = r.json()
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (3, "tier"), (4, "rto_minutes"), (5, "depends_on"), (6, "external_id"), (7, "holds_ephi"), (8, "external_id"),
        (9, "depends_on"), (10, "depends_on")]
    assert [e["message"] for e in report["errors"][-2:]] == [
        "circular dependency: Loop A → Loop B → Loop A", "circular dependency: Loop B → Loop A → Loop B"]
    assert counts(report) == (1, 0, 0)  # only the first OK row would have been created

    r = await client.post(url(tenant, "systems", False), content=broken.encode(), headers=CSV)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {(e["row"], e["field"]) for e in report["errors"]}
    assert "nothing was imported" in r.json()["detail"]
    assert await rows(db, tenant, System) == []


async def test_header_problems_are_reported_on_row_one(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    r = await client.post(url(tenant, "systems", True), content=b"External ID,Name,colour\nA,B,red\n", headers=CSV)
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [
        (1, "colour"), (1, "mtd_minutes"), (1, "rpo_minutes"), (1, "rto_minutes")]
    r = await client.post(url(tenant, "systems", False), content=b"External ID,Name,colour\nA,B,red\n", headers=CSV)
    assert r.status_code == 422 and await rows(db, tenant, System) == []


async def test_utf8_with_a_byte_order_mark_and_crlf_line_ends_imports(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    body = "\ufeff" + SYSTEMS.replace("Server", "Sérveur").replace("\n", "\r\n")
    r = await client.post(url(tenant, "systems", False), content=body.encode("utf-8"), headers={"content-type": "text/csv; charset=utf-8"})
    assert r.status_code == 200, r.text
    assert "Sérveur" in {s.name for s in await rows(db, tenant, System)}


async def test_unreadable_files_are_refused_with_a_problem(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    r = await client.post(url(tenant, "systems", True), content="external_id,name\nA,Café\n".encode("latin-1"), headers=CSV)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    r = await client.post(url(tenant, "systems", True), content=SYSTEMS.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 415
    big = b"external_id,name\n" + b"x" * (1024 * 1024)
    r = await client.post(url(tenant, "systems", True), content=big, headers=CSV)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    many = "external_id,name,rto_minutes,rpo_minutes,mtd_minutes\n" + "".join(f"S{i},System {i},1,1,1\n" for i in range(5001))
    r = await client.post(url(tenant, "systems", True), content=many.encode(), headers=CSV)
    assert r.status_code == 422 and "at most 5000" in r.json()["detail"]
    r = await client.post(url(tenant, "systems", True), content=b"", headers=CSV)
    assert r.status_code == 422


async def test_contacts_import_builds_the_call_tree_and_is_idempotent(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    body = (SAMPLES / "contacts.csv").read_bytes()
    r = await client.post(url(tenant, "contacts", False), content=body, headers=CSV)
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (5, 0, 0)
    r = await client.post(url(tenant, "contacts", False), content=body, headers=CSV)
    assert counts(r.json()) == (0, 0, 5)
    assert len(await rows(db, tenant, Contact)) == 5
    tree = (await client.get(f"/api/v1/practices/{tenant.practice.id}/call-tree")).json()
    assert [(c["name"], [a["name"] for a in c["alternates"]]) for c in tree] == [
        ("Maria Alvarez", ["Sam Okafor"]), ("Harborview IT helpdesk", []), ("Metro Fiber support", []), ("Open Dental support", [])]


async def test_broken_contact_rows_are_named_and_nothing_is_written(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    await create_contact(db, tenant.practice, "Pat Twin")
    await create_contact(db, tenant.practice, "Pat Twin")
    broken = """external_id,name,kind,email,call_order,alternate_for
A,Alice,staff,alice@clinic.example,1,
B,Bob,staff,not-an-email,2,A
C,Carol,robot,,3,
D,Dave,staff,,4,B
E,Eve,staff,,5,Nobody
F,Frank,staff,,5,Pat Twin
"""
    r = await client.post(url(tenant, "contacts", True), content=broken.encode(), headers=CSV)
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [
        (3, "email"), (4, "kind"), (5, "alternate_for"), (6, "alternate_for"), (7, "alternate_for")]
    r = await client.post(url(tenant, "contacts", False), content=broken.encode(), headers=CSV)
    assert r.status_code == 422
    assert len(await rows(db, tenant, Contact)) == 2


async def test_the_sample_files_in_the_docs_import_cleanly(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    r = await client.post(url(tenant, "systems", False), content=(SAMPLES / "systems.csv").read_bytes(), headers=CSV)
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (6, 0, 0)
    r = await client.post(url(tenant, "contacts", True), content=(SAMPLES / "contacts.csv").read_bytes(), headers=CSV)
    assert r.json()["errors"] == []


async def test_other_msp_gets_404(client, tenant, other_tenant, db):
    await sign_in(client, tenant["msp_owner"])
    for kind in ("systems", "contacts"):
        r = await client.post(url(tenant, kind, False, other_tenant.practice), content=SYSTEMS.encode(), headers=CSV)
        assert r.status_code == 404
    async with db.transaction(Scope(other_tenant.msp_id)) as s:
        assert await s.scalar(select(func.count()).select_from(System).where(System.msp_id == other_tenant.msp_id)) == 0
