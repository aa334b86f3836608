"""The binder: a PDF that prints what people need with every screen dark, and an HTML copy that needs no network."""

from __future__ import annotations

import hashlib
import io
import re
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from services.core.db import Scope
from services.core.plans.export_pdf import INSTALL_HINT, PdfUnavailable, _weasyprint, offline_fetcher, render_pdf
from services.core.plans.models import PlanExport
from services.core.plans.templates import default_sections
from tests.conftest import REQUIRE_ALL
from tests.factories import sign_in
from tests.factories_inventory import create_contact, well_prepared
from tests.factories_plans import acknowledge, assign_role, create_plan, filled_sections

HOSTILE = ('<img src="https://evil.example/pixel.png"><script src="//evil.example/x.js"></script>'
           '<a href="http://evil.example/">click</a><style>body{background:url(https://evil.example/bg.png)}</style>')


@pytest.fixture
def weasyprint():
    """PDF tests need WeasyPrint's system libraries; skip locally (fail in CI) when they are missing."""
    try:
        return _weasyprint()
    except PdfUnavailable as exc:
        message = f"WeasyPrint cannot render here ({exc.detail}); install: {INSTALL_HINT}"
        if REQUIRE_ALL:
            pytest.fail(message)
        pytest.skip(message)


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages))


async def _practice_with_everything(db, tenant):
    inv = await well_prepared(db, tenant.practice, tenant.site)
    lead = await create_contact(db, tenant.practice, "Dana Lee", call_order=1, role_title="Incident lead", phone="555-0101")
    await create_contact(db, tenant.practice, "Sam Ortiz", call_order=2, role_title="Office manager", phone="555-0102",
                         alternate_for_id=lead.id)
    await create_contact(db, tenant.practice, "Harborview IT", call_order=3, kind="msp", organization="Harborview IT",
                         phone="555-0199")
    await assign_role(db, tenant.practice, tenant["practice_staff"], "Front-desk downtime lead")
    await assign_role(db, tenant.practice, tenant["practice_owner"], "Incident lead")
    v = await create_plan(db, tenant.practice, state="approved", sections=filled_sections(overview="Activation. " + HOSTILE))
    await acknowledge(db, tenant.practice, tenant["practice_owner"])
    return inv, v


async def test_pdf_binder_holds_the_call_tree_every_system_with_its_targets_and_every_section(client, tenant, db, weasyprint):
    _, v = await _practice_with_everything(db, tenant)
    await sign_in(client, tenant["practice_staff"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/plan/versions/{v.id}/export.pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert "attachment" in r.headers["content-disposition"]
    text = _text(r.content)
    # The call tree, in order, with the alternate and the phone numbers.
    assert re.search(r"1 Dana Lee .*555-0101.*Alternate: Sam Ortiz .*555-0102.*2 Harborview IT .*555-0199", text)
    # Every system with its recovery targets (well_prepared: EHR 4 h / 1 h / 8 h; file server 2 h / 1 h / 10 h).
    assert "EHR 1 yes RTO 4 h RPO 1 h MTD 8 h" in text
    assert "File server 2 no RTO 2 h RPO 1 h MTD 10 h" in text
    for section in default_sections():
        assert section["title"] in text, section["title"]
    for heading in ("Internet down", "Server or system down", "Ransomware", "Power outage", "Acknowledgement sheet"):
        assert heading in text
    # The inventory speaks in the scenarios: which link takes over.
    assert "Traffic fails over to LTE (Cellular Co" in text
    assert "Approved by owner@example.test" in text and "Version 1" in text
    assert "not yet" in text and "yes," in text  # staff has not acknowledged, the owner has


async def test_every_export_is_recorded_and_audited(client, tenant, db):
    v = await create_plan(db, tenant.practice, state="approved")
    await sign_in(client, tenant["msp_technician"])
    url = f"/api/v1/practices/{tenant.practice.id}/plan"
    r = await client.get(f"{url}/versions/{v.id}/export.html")
    assert r.status_code == 200
    exports = (await client.get(f"{url}/exports")).json()
    assert [(e["plan_version_id"], e["format"], e["exported_by_label"]) for e in exports] == [
        (str(v.id), "html", tenant["msp_technician"].email)]
    assert exports[0]["id"] == r.headers["x-plan-export-id"]
    assert (await client.get(url)).json()["last_exported_at"] is not None
    async with db.transaction(Scope(tenant.msp_id)) as s:
        row = await s.scalar(select(PlanExport).where(PlanExport.msp_id == tenant.msp_id, PlanExport.plan_version_id == v.id))
    assert row.sha256 == hashlib.sha256(r.content).hexdigest()


class _References(HTMLParser):
    """Every URL-bearing attribute, every tag, and the text of <style> blocks."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data", "formaction", "background", "xlink:href"):
                self.urls.append(value or "")
            if name == "style":
                self.styles.append(value or "")

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


async def test_offline_html_refers_to_nothing_outside_itself(client, tenant, db):
    _, v = await _practice_with_everything(db, tenant)
    await sign_in(client, tenant["practice_owner"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/plan/versions/{v.id}/export.html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    refs = _References()
    refs.feed(html)
    assert "script" not in refs.tags and "img" not in refs.tags and "link" not in refs.tags and "iframe" not in refs.tags
    assert refs.urls and all(u.startswith("#") for u in refs.urls), refs.urls  # only links within the file
    for css in refs.styles:
        for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", css):
            assert target.startswith(("#", "data:")), target
        assert "@import" not in css
    # The hostile text typed into a section is shown as text, not obeyed.
    assert "&lt;img src=&#34;https://evil.example/pixel.png&#34;&gt;" in html or "&lt;img src=&quot;https://evil" in html
    assert "Dana Lee" in html and "RTO 4 h" in html


async def test_pdf_rendering_fetches_nothing_from_the_network(weasyprint):
    fetcher = offline_fetcher()
    pdf = render_pdf('<html><body><p>Binder</p><img src="https://example.com/logo.png">'
                     '<div style="background: url(http://example.com/bg.png)">x</div></body></html>', fetcher)
    assert pdf.startswith(b"%PDF")
    assert sorted(fetcher.refused) == ["http://example.com/bg.png", "https://example.com/logo.png"]


async def test_a_draft_export_says_it_is_not_approved(client, tenant, db, weasyprint):
    v = await create_plan(db, tenant.practice, state="draft")
    await sign_in(client, tenant["msp_technician"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/plan/versions/{v.id}/export.pdf")
    assert r.status_code == 200
    assert "DRAFT — version 1 is draft and has not been approved" in _text(r.content)


@pytest.mark.parametrize("person,status", [("practice_staff", 404), ("assigned_technician", 404), ("msp_technician", 200)])
async def test_exports_of_a_sibling_practice_follow_visibility(client, tenant, db, person, status):
    v = await create_plan(db, tenant.sibling, state="approved")
    await sign_in(client, tenant[person])
    r = await client.get(f"/api/v1/practices/{tenant.sibling.id}/plan/versions/{v.id}/export.html")
    assert r.status_code == status


async def test_other_msp_gets_404(client, tenant, other_tenant, db):
    v = await create_plan(db, other_tenant.practice, state="approved")
    await sign_in(client, tenant["msp_owner"])
    for fmt in ("pdf", "html"):
        r = await client.get(f"/api/v1/practices/{other_tenant.practice.id}/plan/versions/{v.id}/export.{fmt}")
        assert r.status_code == 404
    assert (await client.get(f"/api/v1/practices/{other_tenant.practice.id}/plan/exports")).status_code == 404
