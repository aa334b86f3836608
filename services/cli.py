"""`seawall`: the operator's command (serve, worker, migrate, demo, admin …)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys

from services.core.settings import get_settings


def _urls():
    from services.core.database_server import resolve

    return resolve(get_settings())


def cmd_migrate(args: argparse.Namespace) -> int:
    from services.core import migrate

    urls = _urls()
    if args.downgrade:
        migrate.downgrade(urls.owner, args.downgrade)
    else:
        migrate.upgrade(urls.owner, urls.app, args.revision)
    print(f"database at {'revision ' + args.downgrade if args.downgrade else 'head'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    if args.workers > 1 and not settings.redis_url:
        # Each process would keep its own in-memory rate-limit budgets (services/core/ratelimit.py).
        print(f"seawall serve: {args.workers} processes without SEAWALL_REDIS_URL each count rate limits on their own;"
              " an agent or a sign-in address gets up to that many times its budget. Set SEAWALL_REDIS_URL to share one.",
              file=sys.stderr)
    _urls()  # start the embedded server (if used) before workers fork
    uvicorn.run("services.api.main:app", host=args.host or settings.host, port=args.port or settings.port,
                workers=args.workers, log_level="warning", proxy_headers=True)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from services.worker.main import run_worker

    return asyncio.run(run_worker(concurrency=args.concurrency))


async def _with_db(fn):
    from services.core.db import Database

    db = Database.connect(_urls().app, pool_size=2)
    try:
        return await fn(db)
    finally:
        await db.dispose()


def cmd_demo(args: argparse.Namespace) -> int:
    settings = get_settings()
    if settings.is_production:
        print("seawall demo refuses to run in production (SEAWALL_ENVIRONMENT=production).", file=sys.stderr)
        return 2
    from services.demo import SEEDERS
    from services.demo.tenancy import DEMO_PASSWORD, current_code, demo_logins

    if args.code:
        print(current_code(args.code))
        return 0

    async def run(db):
        for seeder in SEEDERS:
            await seeder(db)

    asyncio.run(_with_db(run))
    print("Demo data is ready (labelled as demo). Sign in at", settings.public_url, "with password", repr(DEMO_PASSWORD), "as:")
    for login in demo_logins():
        where = f" at {login.practice}" if login.practice else ""
        mfa = f"  TOTP secret {login.totp_secret} (current code: seawall demo --code {login.email})" if login.totp_secret else ""
        print(f"  {login.email:34} {login.role}{where}{mfa}")
    return 0


def cmd_demo_agents(args: argparse.Namespace) -> int:
    """Simulated agents for the demo practices, through the real enrollment and ingest API."""
    if get_settings().is_production:
        print("seawall demo-agents refuses to run in production (SEAWALL_ENVIRONMENT=production).", file=sys.stderr)
        return 2
    from services.demo.agents import run_demo_agents

    async def run(db):
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await run_demo_agents(db, stop, args.server)

    asyncio.run(_with_db(run))
    return 0


def cmd_create_msp(args: argparse.Namespace) -> int:
    from services.core.identity.service import create_msp

    async def run(db):
        async with db.transaction() as s:
            msp, owner = await create_msp(s, args.name, args.owner_email, args.owner_name or "", args.password)
            return msp, owner

    msp, owner = asyncio.run(_with_db(run))
    print(f"MSP {msp.name!r} created (id {msp.id}); owner {owner.email}.")
    if not args.password:
        print("The owner has no password yet: send a password reset from the sign-in page.")
    return 0


def cmd_create_token(args: argparse.Namespace) -> int:
    from services.core.audit.service import Actor
    from services.core.db import Scope, set_scope
    from services.core.identity.service import create_api_token, find_user
    from services.core.identity.sessions import memberships_of

    async def run(db):
        async with db.transaction() as s:
            user = await find_user(s, args.email)
            if user is None:
                raise SystemExit(f"No user with email {args.email}.")
            memberships = await memberships_of(s, user.id)
            if not memberships:
                raise SystemExit(f"{args.email} has no membership in any MSP.")
            msp_id = memberships[0].msp_id
            await set_scope(s, Scope(msp_id, frozenset(), user.id))
            _, secret = await create_api_token(s, msp_id, user, args.name, args.read_only, Actor("system", label="seawall admin"))
            return secret

    print(asyncio.run(_with_db(run)))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Development: migrate, demo data, then API and worker (and simulated agents when present)."""
    if cmd_migrate(argparse.Namespace(downgrade=None, revision="head")) or cmd_demo(argparse.Namespace(code=None)):
        return 1
    env = dict(os.environ)
    sink = _start_dev_mail(env)
    exe = [sys.executable, "-m", "services.cli"]
    procs = [subprocess.Popen([*exe, "serve"], env=env), subprocess.Popen([*exe, "worker"], env=env)]
    if os.path.exists(os.path.join(os.path.dirname(__file__), "demo", "agents.py")):
        procs.append(subprocess.Popen([*exe, "demo-agents"], env=env))

    def stop(*_):
        for p in procs:
            p.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"Seawall is running on {get_settings().public_url} (Ctrl-C to stop).")
    code = 0
    for p in procs:
        code = p.wait() or code
    if sink is not None:
        sink.stop()
    return code


def _start_dev_mail(env: dict[str, str]):
    """Development: a local SMTP sink, with the API's and the worker's mail settings (in `env`)
    pointed at it, so invitation and reset links can be read at /dev/mail on a fresh machine.
    None when mail goes elsewhere (a non-loopback SEAWALL_SMTP_HOST is someone's real server)."""
    from services.core import dev_mail

    settings = get_settings()
    if settings.is_production or settings.smtp_host not in dev_mail.LOOPBACK:
        return None
    host = "127.0.0.1"
    # The configured port when it is free; another program (or a second `make run`) may hold it.
    port = settings.smtp_port if dev_mail.port_is_free(host, settings.smtp_port) else dev_mail.free_port(host)
    try:
        sink = dev_mail.start_sink(dev_mail.mail_dir(settings), host, port)
    except ImportError:
        print("Development mail is off: aiosmtpd is not installed (make run installs it).", file=sys.stderr)
        return None
    env.update(SEAWALL_SMTP_HOST=host, SEAWALL_SMTP_PORT=str(port), SEAWALL_SMTP_STARTTLS="false")
    env.pop("SEAWALL_SMTP_USERNAME", None)
    env.pop("SEAWALL_SMTP_PASSWORD", None)
    print(f"Development mail: a local sink on {host}:{port} keeps the newest {dev_mail.KEEP} emails;"
          f" read them at {settings.public_url.rstrip('/')}/dev/mail")
    return sink


def cmd_openapi(args: argparse.Namespace) -> int:
    """Print the OpenAPI document (the TypeScript client is generated from it)."""
    import json

    from services.api.app import create_app

    print(json.dumps(create_app().openapi(), indent=2, sort_keys=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="seawall", description="Seawall operations")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("migrate", help="apply database migrations (creates the application role)")
    p.add_argument("--revision", default="head")
    p.add_argument("--downgrade", metavar="REVISION")
    p.set_defaults(fn=cmd_migrate)

    p = sub.add_parser("serve", help="serve the API and web app")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(fn=cmd_serve)

    p = sub.add_parser("worker", help="run the background worker")
    p.add_argument("--concurrency", type=int, default=4)
    p.set_defaults(fn=cmd_worker)

    p = sub.add_parser("demo", help="create or refresh the demo data (not in production)")
    p.add_argument("--code", metavar="EMAIL", help="print the current TOTP code of a demo user")
    p.set_defaults(fn=cmd_demo)

    p = sub.add_parser("demo-agents", help="simulated agents pushing demo telemetry (not in production)")
    p.add_argument("--server", help="the API's URL (default: SEAWALL_PUBLIC_URL)")
    p.set_defaults(fn=cmd_demo_agents)

    p = sub.add_parser("run", help="development: migrate, demo data, API and worker together")
    p.set_defaults(fn=cmd_run)

    p = sub.add_parser("openapi", help="print the OpenAPI document")
    p.set_defaults(fn=cmd_openapi)

    admin = sub.add_parser("admin", help="administration").add_subparsers(dest="admin_command", required=True)
    p = admin.add_parser("create-msp", help="create an MSP and its owner")
    p.add_argument("--name", required=True)
    p.add_argument("--owner-email", required=True)
    p.add_argument("--owner-name")
    p.add_argument("--password", help="initial password (otherwise the owner resets it by email)")
    p.set_defaults(fn=cmd_create_msp)
    p = admin.add_parser("create-token", help="print a new personal API token for a user")
    p.add_argument("--email", required=True)
    p.add_argument("--name", default="cli token")
    p.add_argument("--read-only", action="store_true")
    p.set_defaults(fn=cmd_create_token)

    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
