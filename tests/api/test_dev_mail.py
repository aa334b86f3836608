"""Development mail: the sink `seawall run` starts, the mail sender against it, and the
development-only route that lists what it kept (absent in production)."""

from __future__ import annotations

import httpx
import pytest

from services.core import dev_mail, mail
from services.core.settings import get_settings
from tests.factories import sign_in, unique


@pytest.fixture
def dev_mail_dir(tmp_path, monkeypatch):
    """The kept messages go to a directory of this test's own (settings are cached: patch the field)."""
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    return dev_mail.mail_dir(get_settings())


@pytest.fixture
def run_sink(dev_mail_dir, monkeypatch):
    """The sink exactly as `seawall run` starts it, with the app's mail settings taken from the
    environment it hands to the API and the worker."""
    from services.cli import _start_dev_mail

    env: dict[str, str] = {}
    sink = _start_dev_mail(env)
    assert sink is not None
    settings = get_settings()
    monkeypatch.setattr(settings, "smtp_host", env["SEAWALL_SMTP_HOST"])
    monkeypatch.setattr(settings, "smtp_port", int(env["SEAWALL_SMTP_PORT"]))
    yield env
    sink.stop()


async def test_seawall_runs_sink_receives_an_invitation_and_the_dev_page_lists_its_link(client, tenant, run_sink):
    assert run_sink["SEAWALL_SMTP_HOST"] == "127.0.0.1"
    await sign_in(client, tenant["msp_owner"])
    email = f"{unique('devmail')}@example.test"
    r = await client.post("/api/v1/invitations", json={"email": email, "role": "msp_technician"})
    assert r.status_code == 201, r.text
    assert r.json()["email_sent"] is True
    async with httpx.AsyncClient(transport=client._transport, base_url="https://testserver") as anonymous:
        listed = (await anonymous.get("/api/v1/dev/mail")).json()  # no sign-in: a reset email is read signed out
    newest = listed["messages"][0]
    assert newest["to"] == email
    assert newest["subject"].startswith("You are invited to")
    assert newest["links"] == [r.json()["link"]]


async def test_the_sink_keeps_only_the_newest_messages(dev_mail_dir, monkeypatch):
    monkeypatch.setattr(dev_mail, "KEEP", 3)
    port = dev_mail.free_port()
    sink = dev_mail.start_sink(dev_mail_dir, "127.0.0.1", port)
    settings = get_settings()
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", port)
    try:
        for n in range(5):
            await mail.send_email("someone@example.test", f"message {n}", f"see http://127.0.0.1:8000/x?n={n}")
    finally:
        sink.stop()
    kept = dev_mail.kept_messages(dev_mail_dir)
    assert [m.subject for m in kept] == ["message 4", "message 3", "message 2"]
    assert kept[0].links == ["http://127.0.0.1:8000/x?n=4"]


def test_the_sink_listens_on_loopback_only(dev_mail_dir):
    with pytest.raises(ValueError, match="loopback"):
        dev_mail.start_sink(dev_mail_dir, "0.0.0.0", dev_mail.free_port())


async def test_production_has_no_dev_mail_route(db, dev_mail_dir):
    from services.api.app import create_app

    from services.core.logging import configure

    production = get_settings().model_copy(update={"environment": "production"})
    try:
        app = create_app(production, database=db)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
            r = await c.get("/api/v1/dev/mail")
    finally:
        configure(get_settings())  # create_app set production's JSON logs for the whole process
    assert r.status_code == 404
    assert "/api/v1/dev/mail" not in app.openapi()["paths"]


def test_seawall_run_starts_no_sink_when_mail_goes_to_a_real_server(dev_mail_dir, monkeypatch):
    from services.cli import _start_dev_mail

    monkeypatch.setattr(get_settings(), "smtp_host", "smtp.example.test")
    env: dict[str, str] = {}
    assert _start_dev_mail(env) is None and env == {}
