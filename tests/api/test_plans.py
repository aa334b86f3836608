"""A practice's plan through the API: versions, approval, comparison, people, findings."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from services.core.audit.models import AuditEvent
from services.core.db import Scope
from services.core.plans.service import add_months
from tests.factories import sign_in
from tests.factories_inventory import create_contact, create_link
from tests.factories_plans import assign_role, create_plan, filled_sections


def plan_url(practice) -> str:
    return f"/api/v1/practices/{practice.id}/plan"


async def _actions(db, tenant, object_id) -> list[str]:
    async with db.transaction(Scope(tenant.msp_id)) as s:
        rows = await s.scalars(select(AuditEvent.action).where(AuditEvent.msp_id == tenant.msp_id,
                                                               AuditEvent.object_id == str(object_id)).order_by(AuditEvent.seq))
        return list(rows)


async def test_technician_writes_the_plan_and_the_practice_owner_approves_it(client, tenant, db):
    url = plan_url(tenant.practice)
    await sign_in(client, tenant["msp_technician"])
    r = await client.post(url, json={})
    assert r.status_code == 201, r.text
    draft = r.json()["working_version"]
    assert (draft["number"], draft["status"], r.json()["current_version"]) == (1, "draft", None)
    v_url = f"{url}/versions/{draft['id']}"
    r = await client.patch(f"{v_url}/sections/overview", json={"body": "We activate this plan when the EHR is down."})
    assert r.status_code == 200, r.text
    overview = next(s for s in r.json()["sections"] if s["key"] == "overview")
    assert overview["body"] == "We activate this plan when the EHR is down." and overview["complete"] is True
    assert (await client.post(f"{v_url}/submit")).json()["status"] == "in_review"
    assert (await client.post(f"{v_url}/approve", json={})).status_code == 403

    await sign_in(client, tenant["practice_staff"])
    assert (await client.post(f"{v_url}/approve", json={})).status_code == 403

    await sign_in(client, tenant["practice_owner"])
    r = await client.post(f"{v_url}/approve", json={"effective_date": "2026-01-31"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "approved" and body["approved_on_behalf"] is False
    assert body["approved_by_label"] == tenant["practice_owner"].email
    assert (body["effective_date"], body["next_review_date"]) == ("2026-01-31", "2027-01-31")
    assert (await client.get(url)).json()["current_version"]["id"] == draft["id"]
    assert await _actions(db, tenant, draft["id"]) == [
        "plan_version.section_updated", "plan_version.submitted", "plan_version.approved"]


async def test_msp_admin_approval_is_recorded_as_on_behalf_of_the_owner(client, tenant, db):
    v = await create_plan(db, tenant.practice, state="in_review")
    await sign_in(client, tenant["msp_admin"])
    r = await client.post(f"{plan_url(tenant.practice)}/versions/{v.id}/approve")
    assert r.status_code == 200, r.text
    assert r.json()["approved_on_behalf"] is True
    assert r.json()["approved_by_label"] == tenant["msp_admin"].email


async def test_approving_a_new_version_supersedes_the_one_before(client, tenant, db):
    first = await create_plan(db, tenant.practice, state="approved")
    await sign_in(client, tenant["msp_technician"])
    url = plan_url(tenant.practice)
    r = await client.post(f"{url}/versions")
    assert r.status_code == 201, r.text
    second = r.json()
    assert second["number"] == 2 and second["sections"] == (await client.get(f"{url}/versions/{first.id}")).json()["sections"]
    assert (await client.post(f"{url}/versions")).status_code == 409  # one draft at a time
    await client.post(f"{url}/versions/{second['id']}/submit")
    await sign_in(client, tenant["practice_owner"])
    assert (await client.post(f"{url}/versions/{second['id']}/approve")).status_code == 200
    statuses = {v["number"]: v["status"] for v in (await client.get(f"{url}/versions")).json()}
    assert statuses == {1: "superseded", 2: "approved"}


async def test_an_approved_version_cannot_be_edited_through_the_api(client, tenant, db):
    v = await create_plan(db, tenant.practice, state="approved")
    await sign_in(client, tenant["msp_technician"])
    v_url = f"{plan_url(tenant.practice)}/versions/{v.id}"
    r = await client.patch(v_url, json={"review_interval_months": 6})
    assert r.status_code == 409 and r.json()["type"].endswith("plan-not-editable")
    assert (await client.patch(f"{v_url}/sections/overview", json={"body": "x"})).status_code == 409
    assert (await client.post(f"{v_url}/submit")).status_code == 409


async def test_duplicate_section_keys_are_refused_and_the_draft_is_left_as_it_was(client, tenant, db):
    v = await create_plan(db, tenant.practice)
    await sign_in(client, tenant["msp_technician"])
    v_url = f"{plan_url(tenant.practice)}/versions/{v.id}"
    before = (await client.get(v_url)).json()["sections"]
    sections = [{"key": "a", "title": "A"}, {"key": "a", "title": "Again"}]
    r = await client.patch(v_url, json={"sections": sections})
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "sections.1.key"
    assert (await client.get(v_url)).json()["sections"] == before


async def test_diff_shows_exactly_the_changed_sections(client, tenant, db):
    first = await create_plan(db, tenant.practice, state="approved", sections=filled_sections())
    changed = filled_sections(data_backup="Nightly to the NAS, hourly to the cloud.", ransomware="Unplug. Call the MSP.")
    changed = [s for s in changed if s["key"] != "power_outage"]
    changed.append({"key": "pandemic", "title": "Pandemic staffing", "guidance": "", "required": False, "body": "Work remotely."})
    second = await create_plan(db, tenant.practice, state="draft", sections=changed)
    await sign_in(client, tenant["practice_staff"])
    r = await client.get(f"{plan_url(tenant.practice)}/versions/{first.id}/diff/{second.id}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from_version"]["number"], body["to_version"]["number"]) == (1, 2)
    status = {s["key"]: s["status"] for s in body["sections"]}
    assert {k: v for k, v in status.items() if v != "unchanged"} == {
        "data_backup": "changed", "ransomware": "changed", "power_outage": "removed", "pandemic": "added"}
    backup = next(s for s in body["sections"] if s["key"] == "data_backup")
    assert "+Nightly to the NAS, hourly to the cloud." in backup["diff"] and backup["diff"].startswith("--- v1/data_backup")
    assert all(s["diff"] == "" for s in body["sections"] if s["status"] == "unchanged")


async def test_staff_see_only_their_own_practices_plan(client, tenant, db):
    own = await create_plan(db, tenant.practice, state="approved")
    sibling = await create_plan(db, tenant.sibling, state="approved")
    await sign_in(client, tenant["practice_staff"])
    assert (await client.get(plan_url(tenant.practice))).status_code == 200
    assert (await client.get(f"{plan_url(tenant.practice)}/versions/{own.id}")).status_code == 200
    assert (await client.get(plan_url(tenant.sibling))).status_code == 404
    assert (await client.get(f"{plan_url(tenant.sibling)}/versions/{sibling.id}")).status_code == 404
    # Naming the sibling's version under the own practice finds nothing either.
    assert (await client.get(f"{plan_url(tenant.practice)}/versions/{sibling.id}")).status_code == 404


async def test_staff_acknowledge_their_role_once_per_approved_version(client, tenant, db):
    await create_plan(db, tenant.practice, state="approved")
    await assign_role(db, tenant.practice, tenant["practice_staff"], "Front-desk downtime lead", duties="Switch to paper.")
    await sign_in(client, tenant["practice_staff"])
    url = plan_url(tenant.practice)
    r = await client.post(f"{url}/acknowledgements")
    assert r.status_code == 200, r.text
    again = await client.post(f"{url}/acknowledgements")
    assert again.json()["id"] == r.json()["id"]
    roles = (await client.get(f"{url}/roles")).json()
    assert roles[0]["role_name"] == "Front-desk downtime lead" and roles[0]["acknowledged_at"] is not None

    await create_plan(db, tenant.practice, state="approved")  # version 2 needs its own acknowledgement
    assert (await client.get(f"{url}/roles")).json()[0]["acknowledged_at"] is None
    assert (await client.post(f"{url}/acknowledgements")).status_code == 200
    assert len((await client.get(f"{url}/acknowledgements")).json()) == 1


async def test_acknowledging_needs_an_approved_plan_and_a_role(client, tenant, db):
    await sign_in(client, tenant["practice_staff"])
    url = f"{plan_url(tenant.practice)}/acknowledgements"
    assert (await client.post(url)).status_code == 409
    await create_plan(db, tenant.practice, state="approved")
    r = await client.post(url)
    assert r.status_code == 409 and "no role" in r.json()["detail"]
    await sign_in(client, tenant["msp_technician"])
    assert (await client.post(url)).status_code == 403


async def test_roles_go_only_to_people_and_contacts_of_the_practice(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    url = f"{plan_url(tenant.practice)}/roles"
    r = await client.post(url, json={"user_id": str(tenant["msp_admin"].user_id), "role_name": "IT liaison"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "user_id"
    stranger = await create_contact(db, tenant.sibling, "Sibling's ISP", phone="555-0100")
    r = await client.post(url, json={"user_id": str(tenant["practice_staff"].user_id), "role_name": "IT liaison",
                                     "contact_id": str(stranger.id)})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "contact_id"
    mine = await create_contact(db, tenant.practice, "Frankie", phone="555-0101")
    r = await client.post(url, json={"user_id": str(tenant["practice_staff"].user_id), "role_name": "IT liaison",
                                     "contact_id": str(mine.id)})
    assert r.status_code == 201, r.text
    dup = await client.post(url, json={"user_id": str(tenant["practice_staff"].user_id), "role_name": "IT liaison"})
    assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "role_name"


async def test_operators_record_training_and_staff_cannot(client, tenant, db):
    a = await assign_role(db, tenant.practice, tenant["practice_staff"])
    url = f"{plan_url(tenant.practice)}/roles/{a.id}"
    await sign_in(client, tenant["practice_staff"])
    assert (await client.patch(url, json={"trained_at": "2026-03-01"})).status_code == 403
    await sign_in(client, tenant["msp_technician"])
    r = await client.patch(url, json={"trained_at": "2026-03-01"})
    assert r.status_code == 200 and r.json()["trained_at"] == "2026-03-01"
    assert await _actions(db, tenant, a.id) == ["role_assignment.created", "role_assignment.updated"]


async def test_plan_findings_combine_the_plan_and_the_inventory(client, tenant, db):
    await create_link(db, tenant.site, "Fiber", "primary")  # one link only: an inventory finding
    await sign_in(client, tenant["practice_owner"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/plan-findings")
    assert r.status_code == 200, r.text
    rules = {f["rule_id"] for f in r.json()}
    assert "plan.not_approved" in rules and "inventory.single_link" in rules
    assert all(f["remediation"] and f["severity"] for f in r.json())


async def test_review_date_follows_the_interval_to_the_end_of_short_months():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


async def test_other_msp_gets_404(client, tenant, other_tenant, db):
    v = await create_plan(db, other_tenant.practice, state="approved")
    a = await assign_role(db, other_tenant.practice, other_tenant["practice_staff"])
    await sign_in(client, tenant["msp_owner"])
    theirs = plan_url(other_tenant.practice)
    for r in [await client.get(theirs), await client.get(f"{theirs}/versions/{v.id}"),
              await client.get(f"{theirs}/versions/{v.id}/export.pdf"), await client.post(f"{theirs}/versions/{v.id}/approve"),
              await client.patch(f"{theirs}/roles/{a.id}", json={"duties": "x"}),
              await client.get(f"/api/v1/practices/{other_tenant.practice.id}/plan-findings"),
              # Their version named under our own practice is not found either.
              await client.get(f"{plan_url(tenant.practice)}/versions/{v.id}")]:
        assert r.status_code == 404, r.request.url
        assert r.headers["content-type"] == "application/problem+json"
