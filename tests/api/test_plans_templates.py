"""Plan templates: the built-in one for everybody, the MSP's own copies for its practices."""

from __future__ import annotations

from services.core.plans.templates import DEFAULT_TEMPLATE_ID, default_sections
from tests.factories import sign_in

URL = "/api/v1/plan-templates"
HIPAA_TITLES = {"Data backup plan", "Disaster recovery plan", "Emergency-mode operation plan", "Testing and revision procedures",
                "Applications and data criticality analysis"}


async def test_the_built_in_template_follows_hipaa_and_guides_the_owner(client, tenant):
    await sign_in(client, tenant["msp_technician"])
    r = await client.get(URL)
    assert r.status_code == 200
    builtin = r.json()[0]
    assert builtin["builtin"] is True and builtin["id"] == str(DEFAULT_TEMPLATE_ID)
    titles = {s["title"] for s in builtin["sections"]}
    assert HIPAA_TITLES <= titles
    assert {"Internet contingency", "Contacts and call tree", "Roles and responsibilities"} <= titles
    assert all(s["guidance"] and s["body"] for s in builtin["sections"])
    internet = next(s for s in builtin["sections"] if s["key"] == "internet_contingency")["body"]
    assert all(word in internet for word in ("Failover", "Hotspot", "Booking without the online system", "Patient communication"))
    assert (await client.get(f"{URL}/{DEFAULT_TEMPLATE_ID}")).json()["name"] == builtin["name"]


async def test_managers_copy_edit_and_delete_templates_and_plans_start_from_them(client, tenant, db):
    await sign_in(client, tenant["msp_admin"])
    r = await client.post(URL, json={"name": "Dental"})
    assert r.status_code == 201, r.text
    copy = r.json()
    assert copy["builtin"] is False and [s["key"] for s in copy["sections"]] == [s["key"] for s in default_sections()]
    assert (await client.post(URL, json={"name": "Dental"})).status_code == 409
    sections = [{"key": "overview", "title": "Who we are", "body": "A dental office."},
                {"key": "sterilizer", "title": "Sterilizer failure", "required": False, "body": "Call the vendor."}]
    r = await client.patch(f"{URL}/{copy['id']}", json={"sections": sections})
    assert r.status_code == 200 and [s["title"] for s in r.json()["sections"]] == ["Who we are", "Sterilizer failure"]
    again = await client.post(URL, json={"name": "Dental, second office", "source_template_id": copy["id"]})
    assert [s["key"] for s in again.json()["sections"]] == ["overview", "sterilizer"]

    await sign_in(client, tenant["msp_technician"])
    r = await client.post(f"/api/v1/practices/{tenant.practice.id}/plan", json={"template_id": copy["id"]})
    assert r.status_code == 201, r.text
    assert r.json()["template_name"] == "Dental"
    version = (await client.get(f"/api/v1/practices/{tenant.practice.id}/plan/versions/{r.json()['working_version']['id']}")).json()
    assert [s["title"] for s in version["sections"]] == ["Who we are", "Sterilizer failure"]

    await sign_in(client, tenant["msp_owner"])  # (the admin's TOTP code may not be used twice in one time step)
    assert (await client.delete(f"{URL}/{copy['id']}")).status_code == 204
    assert (await client.get(f"{URL}/{copy['id']}")).status_code == 404
    # The plan keeps its own copy of the sections.
    assert (await client.get(f"/api/v1/practices/{tenant.practice.id}/plan/versions/{version['id']}")).json()["sections"] == version["sections"]


async def test_the_built_in_template_cannot_be_changed(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    assert (await client.patch(f"{URL}/{DEFAULT_TEMPLATE_ID}", json={"name": "Mine now"})).status_code == 409
    assert (await client.delete(f"{URL}/{DEFAULT_TEMPLATE_ID}")).status_code == 409


async def test_duplicate_section_keys_name_the_section(client, tenant):
    await sign_in(client, tenant["msp_admin"])
    r = await client.post(URL, json={"name": "Broken", "sections": [{"key": "a", "title": "A"}, {"key": "a", "title": "B"}]})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "sections.1.key"
    assert all(t["name"] != "Broken" for t in (await client.get(URL)).json())
    r = await client.post(URL, json={"name": "Bad key", "sections": [{"key": "Not A Key", "title": "A"}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sections.0.key"


async def test_technicians_read_templates_and_practice_people_do_not(client, tenant):
    await sign_in(client, tenant["msp_technician"])
    assert (await client.post(URL, json={"name": "Tech's"})).status_code == 403
    await sign_in(client, tenant["practice_owner"])
    assert (await client.get(URL)).status_code == 403


async def test_other_msp_gets_404(client, tenant, other_tenant):
    await sign_in(client, other_tenant["msp_admin"])
    theirs = (await client.post(URL, json={"name": "Theirs"})).json()
    await sign_in(client, tenant["msp_admin"])
    assert all(t["id"] != theirs["id"] for t in (await client.get(URL)).json())
    for r in (await client.get(f"{URL}/{theirs['id']}"), await client.patch(f"{URL}/{theirs['id']}", json={"name": "Mine"}),
              await client.delete(f"{URL}/{theirs['id']}"),
              await client.post(URL, json={"name": "Copy", "source_template_id": theirs["id"]}),
              await client.post(f"/api/v1/practices/{tenant.practice.id}/plan", json={"template_id": theirs["id"]})):
        assert r.status_code == 404, r.request.url
