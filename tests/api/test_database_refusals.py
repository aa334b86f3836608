"""A value the database refuses answers 422, and is said in the log: it may be a bug of ours, not the caller's input."""

from __future__ import annotations

import httpx
import psycopg
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from services.api import problems
from tests.log_capture import captured_logs


async def test_a_value_the_database_refuses_is_logged_with_its_sqlstate_not_only_answered_422(monkeypatch):
    app = FastAPI()
    problems.install(app)

    @app.get("/boom")
    async def boom():
        raise DBAPIError("SELECT CAST(:v AS uuid)", {"v": "secret-ish value"}, psycopg.errors.InvalidTextRepresentation("bad uuid"))

    with captured_logs(monkeypatch, problems) as logs:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
            r = await c.get("/boom")
    assert r.status_code == 422 and r.json()["type"].endswith("unstorable-value")
    (entry,) = [e for e in logs if e["event"] == "database_refused_value"]
    assert entry["path"] == "/boom" and entry["error_type"] == "InvalidTextRepresentation"
    assert "secret-ish value" not in str(entry)
