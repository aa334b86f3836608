"""The inventory API: systems, backup jobs, links, contacts and the call tree, per practice."""

from __future__ import annotations

from sqlalchemy import func, select

from services.core.audit.models import AuditEvent
from services.core.db import Scope
from services.core.inventory.models import BackupJobSystem, System, SystemDependency
from tests.factories import sign_in
from tests.factories_inventory import create_contact, create_job, create_link, create_system

EHR = {"name": "Open Dental", "category": "ehr", "tier": 1, "holds_ephi": True, "rto_minutes": 240, "rpo_minutes": 60,
       "mtd_minutes": 480, "owner": "Office manager", "recovery_procedure": "Restore the server image from the NAS."}


def base(tenant, practice=None) -> str:
    return f"/api/v1/practices/{(practice or tenant.practice).id}"


async def count(db, tenant, model) -> int:
    async with db.transaction(Scope(tenant.msp_id)) as s:
        return await s.scalar(select(func.count()).select_from(model).where(model.msp_id == tenant.msp_id))


async def test_technician_creates_a_system_that_depends_on_a_system_and_a_link(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    link = await create_link(db, tenant.site, "Fiber")
    r = await client.post(f"{base(tenant)}/systems", json={**EHR, "name": "Server", "tier": 2, "holds_ephi": False})
    assert r.status_code == 201, r.text
    server = r.json()
    r = await client.post(f"{base(tenant)}/systems", json={**EHR, "depends_on": [server["id"], str(link.id)]})
    assert r.status_code == 201, r.text
    ehr = r.json()
    assert ehr["category"] == "ehr" and ehr["rto_minutes"] == 240
    assert sorted((d["kind"], d["name"]) for d in ehr["dependencies"]) == [("link", "Fiber"), ("system", "Server")]
    assert set(ehr["depends_on"]) == {server["id"], str(link.id)}

    listed = (await client.get(f"{base(tenant)}/systems")).json()
    assert [s["name"] for s in listed] == ["Open Dental", "Server"]  # most critical first
    async with db.transaction(Scope(tenant.msp_id)) as s:
        actions = list(await s.scalars(select(AuditEvent.action).where(AuditEvent.msp_id == tenant.msp_id,
                                                                       AuditEvent.object_id == ehr["id"])))
    assert actions == ["system.created"]


async def test_rto_above_mtd_is_refused_naming_rto_minutes_and_nothing_is_written(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    r = await client.post(f"{base(tenant)}/systems", json={**EHR, "rto_minutes": 600, "mtd_minutes": 480})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["rto_minutes"]
    assert await count(db, tenant, System) == 0

    system = await create_system(db, tenant.practice, "EHR", rto_minutes=240, mtd_minutes=480)
    r = await client.patch(f"{base(tenant)}/systems/{system.id}", json={"mtd_minutes": 120})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["rto_minutes"]
    assert (await client.get(f"{base(tenant)}/systems/{system.id}")).json()["mtd_minutes"] == 480


async def test_unknown_dependency_is_refused_naming_its_position_and_nothing_is_written(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    server = await create_system(db, tenant.practice, "Server")
    r = await client.post(f"{base(tenant)}/systems", json={**EHR, "depends_on": [str(server.id), "6f1c2b1e-0000-4000-8000-000000000000"]})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["depends_on[1]"]
    assert await count(db, tenant, System) == 1
    assert await count(db, tenant, SystemDependency) == 0


async def test_another_practices_link_or_system_is_refused_as_a_dependency(client, tenant, other_tenant, db):
    await sign_in(client, tenant["msp_technician"])
    own = await create_link(db, tenant.site, "Fiber")
    sibling_link = await create_link(db, tenant.sibling_site, "Sibling fiber")
    sibling_system = await create_system(db, tenant.sibling, "Sibling EHR")
    foreign_link = await create_link(db, other_tenant.site, "Foreign fiber")
    r = await client.post(f"{base(tenant)}/systems", json={
        **EHR, "depends_on": [str(own.id), str(sibling_link.id), str(sibling_system.id), str(foreign_link.id)]})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["depends_on[1]", "depends_on[2]", "depends_on[3]"]
    assert await count(db, tenant, System) == 1  # only the sibling's


async def test_a_dependency_loop_is_refused(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    a = await create_system(db, tenant.practice, "A")
    b = await create_system(db, tenant.practice, "B", depends_on=[a.id])
    r = await client.patch(f"{base(tenant)}/systems/{a.id}", json={"depends_on": [str(b.id)]})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "depends_on[0]", "message": "this would make a circular dependency: A → B → A"}]
    r = await client.patch(f"{base(tenant)}/systems/{a.id}", json={"depends_on": [str(a.id)]})
    assert r.json()["errors"][0]["message"] == "a system cannot depend on itself"


async def test_deleting_a_system_removes_its_dependencies_and_job_links(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    server = await create_system(db, tenant.practice, "Server")
    ehr = await create_system(db, tenant.practice, "EHR", depends_on=[server.id])
    await create_system(db, tenant.practice, "Imaging", depends_on=[ehr.id])
    job = await create_job(db, tenant.practice, systems=[ehr, server])
    assert (await client.delete(f"{base(tenant)}/systems/{ehr.id}")).status_code == 204
    assert await count(db, tenant, SystemDependency) == 0
    assert (await client.get(f"{base(tenant)}/backup-jobs/{job.id}")).json()["system_ids"] == [str(server.id)]
    assert (await client.get(f"{base(tenant)}/systems/{ehr.id}")).status_code == 404


async def test_explicit_null_in_a_patch_is_refused_naming_the_field(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    system = await create_system(db, tenant.practice, "EHR")
    r = await client.patch(f"{base(tenant)}/systems/{system.id}", json={"name": None})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    r = await client.patch(f"{base(tenant)}/systems/{system.id}", json={"external_id": None, "owner": "Dr. Lee"})
    assert r.status_code == 200 and r.json()["owner"] == "Dr. Lee"


async def test_duplicate_system_name_conflicts_naming_the_field(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    await create_system(db, tenant.practice, "Open Dental")
    r = await client.post(f"{base(tenant)}/systems", json=EHR)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "name"


async def test_backup_job_protects_only_this_practices_systems_at_its_own_site(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    ehr = await create_system(db, tenant.practice, "EHR")
    sibling_system = await create_system(db, tenant.sibling, "Sibling EHR")
    job = {"name": "B2 nightly", "location": "cloud", "tool": "restic", "provider": "Backblaze B2", "encrypted": True,
           "immutable": True, "baa_on_file": True, "site_id": str(tenant.site.id), "system_ids": [str(ehr.id), str(sibling_system.id)]}
    r = await client.post(f"{base(tenant)}/backup-jobs", json=job)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["system_ids[1]"]
    r = await client.post(f"{base(tenant)}/backup-jobs", json={**job, "site_id": str(tenant.sibling_site.id), "system_ids": [str(ehr.id)]})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["site_id"]
    r = await client.post(f"{base(tenant)}/backup-jobs", json={**job, "system_ids": [str(ehr.id)]})
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["location"], created["system_ids"], created["provider"]) == ("cloud", [str(ehr.id)], "Backblaze B2")
    r = await client.patch(f"{base(tenant)}/backup-jobs/{created['id']}", json={"encrypted": False, "system_ids": []})
    assert r.status_code == 200 and r.json()["encrypted"] is False and r.json()["system_ids"] == []
    r = await client.post(f"{base(tenant)}/backup-jobs", json={**job, "location": "tape"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "location"
    assert (await client.delete(f"{base(tenant)}/backup-jobs/{created['id']}")).status_code == 204
    assert await count(db, tenant, BackupJobSystem) == 0


async def test_links_belong_to_a_site_of_this_practice(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    link = {"site_id": str(tenant.site.id), "name": "Fiber", "isp": "Metro Fiber", "medium": "fiber", "role": "primary",
            "latency_threshold_ms": 80}
    r = await client.post(f"{base(tenant)}/links", json={**link, "site_id": str(tenant.sibling_site.id)})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "site_id"
    r = await client.post(f"{base(tenant)}/links", json=link)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["role"], created["latency_threshold_ms"]) == ("primary", 80)
    assert (await client.post(f"{base(tenant)}/links", json=link)).status_code == 409
    r = await client.post(f"{base(tenant)}/links", json={**link, "name": "LTE", "medium": "5g_lte", "role": "satellite"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "role"
    r = await client.patch(f"{base(tenant)}/links/{created['id']}", json={"loss_threshold_pct": 101})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "loss_threshold_pct"
    r = await client.patch(f"{base(tenant)}/links/{created['id']}", json={"role": "backup", "metered": True})
    assert (r.status_code, r.json()["role"], r.json()["metered"]) == (200, "backup", True)


async def test_call_tree_lists_contacts_in_calling_order_with_alternates_nested(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    url = f"{base(tenant)}/contacts"
    manager = (await client.post(url, json={"name": "Maria Office", "role_title": "Office manager", "phone": "555-0101",
                                             "call_order": 1})).json()
    helpdesk = (await client.post(url, json={"name": "Harborview helpdesk", "kind": "msp", "phone": "555-0110",
                                              "email": "help@harborview.example", "call_order": 2})).json()
    deputy = (await client.post(url, json={"name": "Dan Deputy", "call_order": 5, "alternate_for_id": manager["id"]})).json()
    r = await client.post(url, json={"name": "Second deputy", "alternate_for_id": deputy["id"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "alternate_for_id"
    r = await client.patch(f"{url}/{manager['id']}", json={"alternate_for_id": helpdesk["id"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "alternate_for_id"
    r = await client.post(url, json={"name": "Bad email", "email": "not-an-email"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "email"

    tree = (await client.get(f"{base(tenant)}/call-tree")).json()
    assert [(c["name"], [a["name"] for a in c["alternates"]]) for c in tree] == [
        ("Maria Office", ["Dan Deputy"]), ("Harborview helpdesk", [])]
    assert (await client.delete(f"{url}/{manager['id']}")).status_code == 204
    tree = (await client.get(f"{base(tenant)}/call-tree")).json()
    assert [c["name"] for c in tree] == ["Harborview helpdesk", "Dan Deputy"]


async def test_staff_can_read_the_inventory_but_not_change_it(client, tenant, db):
    system = await create_system(db, tenant.practice, "EHR")
    await create_contact(db, tenant.practice, "Maria Office")
    for person in ("practice_staff", "practice_owner"):
        client.cookies.clear()
        await sign_in(client, tenant[person])
        for path in ("systems", "backup-jobs", "links", "contacts", "call-tree", "inventory-findings"):
            assert (await client.get(f"{base(tenant)}/{path}")).status_code == 200, path
        assert (await client.post(f"{base(tenant)}/systems", json={**EHR, "name": "New"})).status_code == 403
        assert (await client.patch(f"{base(tenant)}/systems/{system.id}", json={"tier": 1})).status_code == 403
        assert (await client.delete(f"{base(tenant)}/systems/{system.id}")).status_code == 403
        assert (await client.post(f"{base(tenant)}/contacts", json={"name": "X"})).status_code == 403
        r = await client.post(f"{base(tenant)}/imports/systems?dry_run=true", content=b"external_id,name\n",
                              headers={"content-type": "text/csv"})
        assert r.status_code == 403
        assert (await client.get(f"{base(tenant, tenant.sibling)}/systems")).status_code == 404
    assert await count(db, tenant, System) == 1


async def test_assigned_technician_sees_only_assigned_practices(client, tenant, db):
    await sign_in(client, tenant["assigned_technician"])
    assert (await client.post(f"{base(tenant)}/systems", json=EHR)).status_code == 201
    assert (await client.post(f"{base(tenant, tenant.sibling)}/systems", json=EHR)).status_code == 404


async def test_other_msp_gets_404(client, tenant, other_tenant, db):
    await sign_in(client, tenant["msp_owner"])
    theirs = await create_system(db, other_tenant.practice, "Their EHR")
    their_job = await create_job(db, other_tenant.practice)
    their_link = await create_link(db, other_tenant.site)
    their_contact = await create_contact(db, other_tenant.practice, "Their manager")
    for path in ("systems", "backup-jobs", "links", "contacts", "call-tree", "inventory-findings"):
        r = await client.get(f"{base(other_tenant)}/{path}")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", path
    assert (await client.post(f"{base(other_tenant)}/systems", json=EHR)).status_code == 404
    # Their objects through our own practice are just as invisible.
    for path in (f"systems/{theirs.id}", f"backup-jobs/{their_job.id}", f"links/{their_link.id}", f"contacts/{their_contact.id}"):
        assert (await client.get(f"{base(tenant)}/{path}")).status_code == 404, path
        assert (await client.delete(f"{base(tenant)}/{path}")).status_code == 404, path
    assert await count(db, other_tenant, System) == 1


async def test_inventory_findings_endpoint_explains_each_finding(client, tenant, db):
    await sign_in(client, tenant["practice_owner"])
    ehr = await create_system(db, tenant.practice, "EHR", tier=1, holds_ephi=True)
    body = (await client.get(f"{base(tenant)}/inventory-findings")).json()
    by_rule = {f["rule_id"]: f for f in body}
    assert set(by_rule) == {"inventory.ephi_without_backup", "inventory.no_onsite_copy", "inventory.no_offsite_copy",
                            "inventory.no_immutable_copy", "inventory.single_link"}
    assert body[0]["rule_id"] == "inventory.ephi_without_backup"  # critical first
    f = by_rule["inventory.ephi_without_backup"]
    assert (f["subject_id"], f["severity"], f["component"]) == (str(ehr.id), "critical", "backups")
    assert f["hipaa"].startswith("164.308(a)(7)(ii)(A)") and f["remediation"] and f["measured"] and f["target"]


async def test_openapi_shows_the_closed_sets_as_enums(app):
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["BackupLocation"]["enum"] == ["onsite", "offsite", "cloud"]
    assert schemas["LinkRole"]["enum"] == ["primary", "backup", "hotspot"]
    assert "5g_lte" in schemas["LinkMedium"]["enum"] and "vendor" in schemas["ContactKind"]["enum"]
    assert schemas["SystemIn"]["properties"]["category"]["$ref"].endswith("/SystemCategory")


async def test_hostile_or_odd_input_gets_a_problem_naming_the_field_never_a_500(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    server = await create_system(db, tenant.practice, "Server", external_id="SRV")
    sibling_contact = await create_contact(db, tenant.sibling, "Sibling manager")
    cases = [
        ("post", "systems", {**EHR, "name": "Bad\u0000name"}, 422, "name"),
        ("post", "systems", {**EHR, "external_id": "SRV"}, 409, "external_id"),
        ("post", "systems", {**EHR, "depends_on": [str(server.id)] * 201}, 422, "depends_on"),
        ("post", "systems", {**EHR, "tier": 5}, 422, "tier"),
        ("post", "systems", {**EHR, "colour": "red"}, 422, "colour"),
        ("post", "contacts", {"name": "Alt", "alternate_for_id": str(sibling_contact.id)}, 422, "alternate_for_id"),
        ("patch", f"systems/{server.id}", {"depends_on": ["not-a-uuid"]}, 422, "depends_on.0"),
    ]
    for method, path, body, status, field in cases:
        r = await client.request(method.upper(), f"{base(tenant)}/{path}", json=body)
        assert (r.status_code, r.json()["errors"][0]["field"]) == (status, field), (path, body, r.text)
    r = await client.post(f"{base(tenant)}/systems", json={**EHR, "depends_on": [str(server.id), str(server.id)]})
    assert r.status_code == 201 and r.json()["depends_on"] == [str(server.id)]  # a repeated id counts once
