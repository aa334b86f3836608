import asyncio

import pyotp

from services.core.identity.models import Role
from services.core.identity.sessions import CSRF_COOKIE, SESSION_COOKIE
from services.core.settings import get_settings
from tests.factories import create_person, sign_in
from tests.factories_identity import anonymous, audit_events, owner_execute

LOGIN = "/api/v1/auth/login"


async def login(client, person, password=None):
    return await client.post(LOGIN, json={"email": person.email, "password": password or person.password})


async def test_login_is_throttled_with_retry_after(client, tenant, monkeypatch):
    monkeypatch.setattr(get_settings(), "login_rate_limit", "3/minute")
    person = tenant["practice_staff"]
    for _ in range(3):
        assert (await login(client, person, "wrong password!")).status_code == 401
    r = await login(client, person)  # even the right password waits
    assert r.status_code == 429
    assert r.headers["content-type"] == "application/problem+json"
    assert 1 <= int(r.headers["retry-after"]) <= 60


async def test_failed_sign_ins_are_audited(client, tenant, db):
    owner = tenant["msp_owner"]
    assert (await login(client, owner, "not the password")).status_code == 401
    r = await login(client, owner)
    r = await client.post("/api/v1/auth/mfa/verify", json={"code": "000000"}, headers={"X-CSRF-Token": r.json()["csrf_token"]})
    assert r.status_code == 422
    failed = await audit_events(db, tenant.msp_id, "auth.")
    by_action = {e.action: e for e in failed}
    assert by_action["auth.sign_in_failed"].actor_label == owner.email
    assert by_action["auth.sign_in_failed"].ip and by_action["auth.sign_in_failed"].changes == {"reason": "bad password"}
    assert "auth.mfa_failed" in by_action


async def test_a_totp_code_is_accepted_only_once(app, tenant):
    owner = tenant["msp_owner"]
    code = owner.code()
    async with anonymous(app) as first, anonymous(app) as second:
        csrf = (await login(first, owner)).json()["csrf_token"]
        assert (await first.post("/api/v1/auth/mfa/verify", json={"code": code}, headers={"X-CSRF-Token": csrf})).status_code == 200
        body = (await login(second, owner)).json()
        assert body["status"] == "mfa_required"
        r = await second.post("/api/v1/auth/mfa/verify", json={"code": code}, headers={"X-CSRF-Token": body["csrf_token"]})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "code"
        assert (await second.get("/api/v1/practices")).status_code == 401


async def enrol(client, person):
    """Password, then QR set-up, then enable: returns (totp secret, recovery codes)."""
    body = (await login(client, person)).json()
    assert body["status"] == "mfa_enrollment_required"
    client.headers["X-CSRF-Token"] = body["csrf_token"]
    setup = (await client.post("/api/v1/auth/mfa/setup")).json()
    assert setup["qr_svg"].lstrip().startswith("<svg") and setup["otpauth_uri"].startswith("otpauth://totp/")
    r = await client.post("/api/v1/auth/mfa/enable", json={"code": pyotp.TOTP(setup["secret"]).now()})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = client.cookies[CSRF_COOKIE]
    return setup["secret"], r.json()["recovery_codes"]


async def test_msp_user_without_mfa_reaches_nothing_until_enrolled(app, tenant, db):
    person = await create_person(db, tenant.msp_id, Role.msp_admin, mfa=False)
    async with anonymous(app) as browser:
        body = (await login(browser, person)).json()
        assert body["status"] == "mfa_enrollment_required"
        browser.headers["X-CSRF-Token"] = body["csrf_token"]
        for method, path in (("GET", "/api/v1/practices"), ("GET", "/api/v1/users"), ("GET", "/api/v1/tokens"),
                             ("POST", "/api/v1/tokens"), ("GET", "/api/v1/audit-events"),
                             ("GET", f"/api/v1/practices/{tenant.practice.id}")):
            r = await browser.request(method, path, json={"name": "x"} if method == "POST" else None)
            assert r.status_code == 401, (method, path, r.status_code)
        assert (await browser.post("/api/v1/auth/mfa/verify", json={"code": "123456"})).status_code == 409
        assert (await browser.get("/api/v1/auth/session")).json()["status"] == "mfa_enrollment_required"
        assert (await browser.post("/api/v1/auth/mfa/enable", json={"code": "000000"})).status_code == 409  # no set-up yet
        setup = (await browser.post("/api/v1/auth/mfa/setup")).json()
        r = await browser.post("/api/v1/auth/mfa/enable", json={"code": "000000"})
        assert r.status_code == 422
        r = await browser.post("/api/v1/auth/mfa/enable", json={"code": pyotp.TOTP(setup["secret"]).now()})
        assert r.status_code == 200 and len(r.json()["recovery_codes"]) == 10
        assert (await browser.get("/api/v1/practices")).status_code == 200
    assert "auth.mfa_enabled" in [e.action for e in await audit_events(db, tenant.msp_id, "auth.")]


async def test_a_recovery_code_works_once(app, tenant, db):
    person = await create_person(db, tenant.msp_id, Role.msp_technician, mfa=False)
    async with anonymous(app) as browser:
        _, codes = await enrol(browser, person)
    for attempt, expected in (("first", 200), ("second", 422)):
        async with anonymous(app) as browser:
            body = (await login(browser, person)).json()
            assert body["status"] == "mfa_required", attempt
            r = await browser.post("/api/v1/auth/mfa/verify", json={"recovery_code": codes[0].upper()},
                                   headers={"X-CSRF-Token": body["csrf_token"]})
            assert r.status_code == expected, (attempt, r.text)
    methods = [e.changes.get("method") for e in await audit_events(db, tenant.msp_id, "auth.sign_in") if e.actor_id == person.user_id]
    assert methods == ["recovery_code"]


async def test_idle_sessions_end_after_15_minutes(client, tenant, owner_db):
    person = tenant["practice_owner"]
    await sign_in(client, person)
    await owner_execute(owner_db, "UPDATE user_session SET last_seen_at = now() - interval '14 minutes' WHERE user_id = :u",
                        u=person.user_id)
    assert (await client.get("/api/v1/practices")).status_code == 200  # and that request counts as activity
    await owner_execute(owner_db, "UPDATE user_session SET last_seen_at = now() - interval '15 minutes 1 second' WHERE user_id = :u",
                        u=person.user_id)
    r = await client.get("/api/v1/practices")
    assert r.status_code == 401
    assert (await client.get("/api/v1/auth/session")).status_code == 401


async def test_sessions_end_after_12_hours_however_active(client, tenant, owner_db):
    person = tenant["practice_owner"]
    await sign_in(client, person)
    await owner_execute(owner_db, "UPDATE user_session SET expires_at = now() - interval '1 second' WHERE user_id = :u",
                        u=person.user_id)
    assert (await client.get("/api/v1/practices")).status_code == 401


async def test_session_lifetime_is_12_hours(client, tenant, db):
    from sqlalchemy import select

    from services.core.identity.models import UserSession

    await sign_in(client, tenant["practice_staff"])
    async with db.transaction() as s:
        row = (await s.scalars(select(UserSession).where(UserSession.user_id == tenant["practice_staff"].user_id))).one()
    assert abs((row.expires_at - row.created_at).total_seconds() - 12 * 3600) < 60


async def test_logout_ends_the_session_on_the_server(app, client, tenant, db):
    await sign_in(client, tenant["msp_admin"])
    cookie = client.cookies.get(SESSION_COOKIE)
    csrf = client.headers["X-CSRF-Token"]
    del client.headers["X-CSRF-Token"]
    assert (await client.post("/api/v1/auth/logout")).status_code == 403  # logout is a write too
    client.headers["X-CSRF-Token"] = csrf
    r = await client.post("/api/v1/auth/logout")
    assert r.status_code == 204
    assert any(h.startswith(f"{SESSION_COOKIE}=") and "Max-Age=0" in h for h in r.headers.get_list("set-cookie"))
    async with anonymous(app) as replay:  # a copy of the old cookie, as a thief would have it
        replay.cookies.set(SESSION_COOKIE, cookie)
        replay.headers["X-CSRF-Token"] = csrf
        assert (await replay.get("/api/v1/practices")).status_code == 401
        assert (await replay.get("/api/v1/auth/session")).status_code == 401
    signed_out = [e for e in await audit_events(db, tenant.msp_id, "auth.sign_out")]
    assert [e.actor_id for e in signed_out] == [tenant["msp_admin"].user_id]


async def test_session_cookies_are_httponly_secure_and_samesite_lax(client, tenant):
    r = await login(client, tenant["practice_staff"])
    cookies = {h.split("=", 1)[0]: h.lower() for h in r.headers.get_list("set-cookie")}
    session, csrf = cookies[SESSION_COOKIE], cookies[CSRF_COOKIE]
    for flag in ("httponly", "secure", "samesite=lax", "path=/"):
        assert flag in session, flag
    assert "secure" in csrf and "samesite=lax" in csrf
    assert "httponly" not in csrf  # the app's JavaScript echoes it in X-CSRF-Token


async def test_cookie_writes_need_the_csrf_token(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    good = client.headers.pop("X-CSRF-Token")
    r = await client.post("/api/v1/tokens", json={"name": "no csrf"})
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    r = await client.post("/api/v1/tokens", json={"name": "wrong csrf"}, headers={"X-CSRF-Token": good[:-1] + "x"})
    assert r.status_code == 403
    assert (await client.post("/api/v1/auth/mfa/setup")).status_code == 403
    assert (await client.get("/api/v1/tokens")).status_code == 200  # reads need no token
    assert (await client.post("/api/v1/tokens", json={"name": "ok"}, headers={"X-CSRF-Token": good})).status_code == 201


async def test_other_msp_gets_404(client, tenant, other_tenant):
    await sign_in(client, tenant["msp_owner"])
    r = await client.get(f"/api/v1/practices/{other_tenant.practice.id}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    memberships = (await client.get("/api/v1/auth/session")).json()["memberships"]
    assert {m["msp_id"] for m in memberships} == {str(tenant.msp_id)}


async def test_completing_mfa_issues_a_new_session_id_and_the_password_step_cookie_stops_working(app, tenant):
    owner = tenant["msp_owner"]
    async with anonymous(app) as browser, anonymous(app) as thief:
        body = (await login(browser, owner)).json()
        half_signed_in, old_csrf = browser.cookies[SESSION_COOKIE], browser.cookies[CSRF_COOKIE]
        assert old_csrf == body["csrf_token"]
        r = await browser.post("/api/v1/auth/mfa/verify", json={"code": owner.code()}, headers={"X-CSRF-Token": old_csrf})
        assert r.status_code == 200, r.text
        assert browser.cookies[SESSION_COOKIE] != half_signed_in and browser.cookies[CSRF_COOKIE] != old_csrf
        assert (await browser.get("/api/v1/practices")).status_code == 200
        assert (await browser.get("/api/v1/auth/session")).json()["csrf_token"] == browser.cookies[CSRF_COOKIE]
        # Whoever saw the cookie of the password step holds nothing once MFA is done.
        thief.cookies.set(SESSION_COOKIE, half_signed_in)
        thief.headers["X-CSRF-Token"] = old_csrf
        assert (await thief.get("/api/v1/practices")).status_code == 401
        assert (await thief.get("/api/v1/auth/session")).status_code == 401
        assert (await thief.post("/api/v1/auth/mfa/verify", json={"code": owner.code()})).status_code == 401
        # The old CSRF token no longer authorises writes in the renewed session either.
        r = await browser.post("/api/v1/tokens", json={"name": "old csrf"}, headers={"X-CSRF-Token": old_csrf})
        assert r.status_code == 403
        r = await browser.post("/api/v1/tokens", json={"name": "new csrf"}, headers={"X-CSRF-Token": browser.cookies[CSRF_COOKIE]})
        assert r.status_code == 201


async def test_enabling_mfa_renews_the_session_and_ends_the_accounts_other_sessions(app, tenant, db):
    person = await create_person(db, tenant.msp_id, Role.msp_admin, mfa=False)
    async with anonymous(app) as browser, anonymous(app) as other_tab:
        other_csrf = (await login(other_tab, person)).json()["csrf_token"]
        body = (await login(browser, person)).json()
        before = browser.cookies[SESSION_COOKIE]
        browser.headers["X-CSRF-Token"] = body["csrf_token"]
        setup = (await browser.post("/api/v1/auth/mfa/setup")).json()
        r = await browser.post("/api/v1/auth/mfa/enable", json={"code": pyotp.TOTP(setup["secret"]).now()})
        assert r.status_code == 200, r.text
        assert browser.cookies[SESSION_COOKIE] != before
        assert (await browser.get("/api/v1/practices")).status_code == 200
        async with anonymous(app) as replay:
            replay.cookies.set(SESSION_COOKIE, before)
            assert (await replay.get("/api/v1/auth/session")).status_code == 401
        # A session that never passed the second factor cannot pick it up now.
        assert (await other_tab.get("/api/v1/auth/session")).status_code == 401
        assert (await other_tab.post("/api/v1/auth/mfa/verify", json={"code": "123456"},
                                     headers={"X-CSRF-Token": other_csrf})).status_code == 401



async def test_two_mfa_verifications_racing_with_one_password_step_cookie_leave_exactly_one_signed_in_session(app, tenant):
    owner = tenant["msp_owner"]
    async with anonymous(app) as browser, anonymous(app) as thief:
        body = (await login(browser, owner)).json()
        thief.cookies.set(SESSION_COOKIE, browser.cookies[SESSION_COOKIE])
        code = owner.code()
        headers = {"X-CSRF-Token": body["csrf_token"]}
        answers = await asyncio.gather(browser.post("/api/v1/auth/mfa/verify", json={"code": code}, headers=headers),
                                       thief.post("/api/v1/auth/mfa/verify", json={"code": code}, headers=headers))
        # The first to lock the session renews it; the other finds its secret replaced.
        assert sorted(a.status_code for a in answers) == [200, 401], [a.text for a in answers]
        winner = browser if answers[0].status_code == 200 else thief
        loser = thief if winner is browser else browser
        assert (await winner.get("/api/v1/practices")).status_code == 200
        assert (await loser.get("/api/v1/practices")).status_code == 401
