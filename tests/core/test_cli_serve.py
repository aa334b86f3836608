"""`seawall serve`: several processes without Redis are said to split the rate limits."""

from __future__ import annotations

import types

import pytest
import uvicorn

from services import cli


@pytest.fixture
def served(monkeypatch):
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append((app, kwargs)))
    monkeypatch.setattr(cli, "_urls", lambda: None)

    def serve(*argv: str, redis_url: str | None = None) -> list:
        settings = types.SimpleNamespace(redis_url=redis_url, host="127.0.0.1", port=8000)
        monkeypatch.setattr(cli, "get_settings", lambda: settings)
        assert cli.main(["serve", *argv]) == 0
        return calls

    return serve


@pytest.mark.parametrize("argv,redis_url,warned", [
    (("--workers", "2"), None, True),
    (("--workers", "2"), "redis://127.0.0.1:6379/0", False),
    ((), None, False),
])
def test_serve_warns_when_processes_would_count_rate_limits_apart(served, capsys, argv, redis_url, warned):
    calls = served(*argv, redis_url=redis_url)
    assert calls[-1][0] == "services.api.main:app" and calls[-1][1]["workers"] == (2 if argv else 1)
    assert ("SEAWALL_REDIS_URL" in capsys.readouterr().err) is warned
