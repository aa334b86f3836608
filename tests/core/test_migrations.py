"""One linear history that upgrades and downgrades cleanly on PostgreSQL, matching the models."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from services.core import migrate
from services.core.database_server import app_url_for, libpq
from services.core.models import Base
from services.core.settings import get_settings


@pytest.fixture
def scratch_database(database_urls):
    owner = make_url(database_urls[0])
    name = f"seawall_migrations_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(database_urls[0]), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = owner.set(database=name).render_as_string(hide_password=False)
    yield url
    with psycopg.connect(libpq(database_urls[0]), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_history_is_linear():
    script = ScriptDirectory.from_config(migrate.alembic_config(""))
    assert len(script.get_heads()) == 1
    for rev in script.walk_revisions():
        assert rev.down_revision is None or isinstance(rev.down_revision, str), f"{rev.revision} merges branches"


def test_upgrade_downgrade_upgrade_round_trip(scratch_database):
    app = app_url_for(scratch_database, get_settings())
    migrate.upgrade(scratch_database, app)
    cfg = migrate.alembic_config(scratch_database)
    command.downgrade(cfg, "base")
    engine = create_engine(scratch_database, poolclass=pool.NullPool)
    with engine.connect() as conn:
        leftover = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")).scalars().all()
    assert leftover == []
    migrate.upgrade(scratch_database, app)


def test_an_application_url_without_a_user_is_refused_naming_the_setting_before_any_role_is_touched(scratch_database):
    # URL.set() cannot clear a part (None there means "keep"); the URL is a NamedTuple.
    app = make_url(app_url_for(scratch_database, get_settings()))._replace(username=None, password=None)
    assert app.username is None
    with pytest.raises(ValueError, match="SEAWALL_APP_DATABASE_URL"):
        migrate.upgrade(scratch_database, app.render_as_string(hide_password=False))
    engine = create_engine(scratch_database, poolclass=pool.NullPool)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None
    engine.dispose()


def test_models_and_migrations_agree(database_urls):
    engine = create_engine(database_urls[0], poolclass=pool.NullPool)
    with engine.connect() as conn:
        partitions = set(conn.execute(text("SELECT relname FROM pg_class WHERE relispartition")).scalars())
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    # Partitions are created at run time and library tables (procrastinate) are not our models.
    def runtime_or_library(name: str) -> bool:
        return name in partitions or name.startswith("procrastinate_")

    diff = [d for d in diff if not (d[0] == "remove_table" and runtime_or_library(d[1].name))
            and not (d[0] == "remove_index" and runtime_or_library(d[1].table.name))]
    assert diff == [], f"models and migrations differ: {diff}"


def test_0017_places_siteless_jobs_of_single_site_practices_at_that_site(scratch_database):
    app = app_url_for(scratch_database, get_settings())
    migrate.upgrade(scratch_database, app)
    cfg = migrate.alembic_config(scratch_database)
    command.downgrade(cfg, "0016")
    msp, one_site, two_sites = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    only, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    job_here, job_either, job_placed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    engine = create_engine(scratch_database, poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO msp (id, name, slug) VALUES (:m, 'MSP', :slug)"), {"m": msp, "slug": f"m-{msp.hex[:8]}"})
        for practice in (one_site, two_sites):
            conn.execute(text("INSERT INTO practice (msp_id, id, name, kind, timezone, active) VALUES (:m, :p, :n, 'clinic', 'UTC', true)"),
                         {"m": msp, "p": practice, "n": f"practice {practice.hex[:6]}"})
        for site, practice in ((only, one_site), (first, two_sites), (second, two_sites)):
            conn.execute(text("INSERT INTO site (msp_id, id, practice_id, name) VALUES (:m, :s, :p, :n)"),
                         {"m": msp, "s": site, "p": practice, "n": f"site {site.hex[:4]}"})
        for job, practice, site in ((job_here, one_site, None), (job_either, two_sites, None), (job_placed, two_sites, second)):
            conn.execute(text(
                "INSERT INTO backup_job (msp_id, id, practice_id, site_id, name, location, tool, schedule, expected_interval_minutes,"
                " encrypted, immutable, verifies, provider, baa_on_file)"
                " VALUES (:m, :j, :p, :s, :n, 'onsite', 'restic', '', 1440, true, false, false, '', false)"),
                {"m": msp, "j": job, "p": practice, "s": site, "n": f"job {job.hex[:4]}"})
    migrate.upgrade(scratch_database, app)
    with engine.connect() as conn:
        placed = dict(conn.execute(text("SELECT id, site_id FROM backup_job WHERE msp_id = :m"), {"m": msp}).all())
        forced = conn.execute(text("SELECT bool_and(relforcerowsecurity) FROM pg_class WHERE relname IN ('backup_job', 'site')")).scalar()
    assert placed == {job_here: only, job_either: None, job_placed: second}
    assert forced


def _practice_with_a_job(conn) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    msp, practice, job = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    conn.execute(text("INSERT INTO msp (id, name, slug) VALUES (:m, 'MSP', :slug)"), {"m": msp, "slug": f"m-{msp.hex[:8]}"})
    conn.execute(text("INSERT INTO practice (msp_id, id, name, kind, timezone, active) VALUES (:m, :p, 'Clinic', 'clinic', 'UTC', true)"),
                 {"m": msp, "p": practice})
    conn.execute(text(
        "INSERT INTO backup_job (msp_id, id, practice_id, site_id, name, location, tool, schedule, expected_interval_minutes,"
        " encrypted, immutable, verifies, provider, baa_on_file)"
        " VALUES (:m, :j, :p, NULL, 'nas', 'onsite', 'restic', '', 1440, true, false, false, '', false)"),
        {"m": msp, "j": job, "p": practice})
    return msp, practice, job


def test_downgrading_0016_gives_set_aside_events_back_their_original_type(scratch_database):
    app = app_url_for(scratch_database, get_settings())
    migrate.upgrade(scratch_database, app)
    engine = create_engine(scratch_database, poolclass=pool.NullPool)
    with engine.begin() as conn:
        msp, practice, job = _practice_with_a_job(conn)
        seq = conn.execute(text(
            "INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, site_id, type, occurred_at, payload, processed_at)"
            " VALUES (:m, :j, 'e1', :p, NULL, 'set_aside', now(), '{\"kind\": \"success\"}', now()) RETURNING seq"),
            {"m": msp, "j": job, "p": practice}).scalar()
        conn.execute(text(
            "INSERT INTO telemetry_dead_letter (msp_id, id, practice_id, site_id, event_seq, source_id, event_id, type, occurred_at,"
            " payload, code, reason, failures, replay_count)"
            " VALUES (:m, gen_random_uuid(), :p, NULL, :q, :j, 'e1', 'ping', now(), '{}', 'invalid_payload', 'r', 1, 0)"),
            {"m": msp, "p": practice, "q": seq, "j": job})
    command.downgrade(migrate.alembic_config(scratch_database), "0015")
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT type, processed_at IS NOT NULL FROM telemetry_event WHERE msp_id = :m"), {"m": msp}).all()
        forced = conn.execute(text("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'telemetry_event'")).scalar()
    assert [tuple(r) for r in kept] == [("ping", True)] and forced


def test_downgrading_0020_keeps_a_windows_exit_code_as_the_same_32_bits_read_signed(scratch_database):
    app = app_url_for(scratch_database, get_settings())
    migrate.upgrade(scratch_database, app)
    engine = create_engine(scratch_database, poolclass=pool.NullPool)
    with engine.begin() as conn:
        msp, practice, job = _practice_with_a_job(conn)
        conn.execute(text("INSERT INTO backup_job_state (msp_id, backup_job_id, practice_id, last_exit_code, consecutive_failures)"
                          " VALUES (:m, :j, :p, 3221225477, 1)"), {"m": msp, "j": job, "p": practice})
    command.downgrade(migrate.alembic_config(scratch_database), "0019")
    with engine.connect() as conn:
        code = conn.execute(text("SELECT last_exit_code FROM backup_job_state WHERE msp_id = :m"), {"m": msp}).scalar()
    assert code == -1073741819
    migrate.upgrade(scratch_database, app)


def test_0018_backfills_applied_pings_but_not_finishes_the_old_worker_set_aside_or_unreadable_ones(scratch_database):
    app = app_url_for(scratch_database, get_settings())
    migrate.upgrade(scratch_database, app)
    command.downgrade(migrate.alembic_config(scratch_database), "0017")
    engine = create_engine(scratch_database, poolclass=pool.NullPool)
    with engine.begin() as conn:
        msp, practice, job = _practice_with_a_job(conn)
        when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
        for event_id, payload in (("applied", '{"kind": "success", "body": "ok"}'), ("set-aside", '{"kind": "fail", "body": "x"}'),
                                  ("unreadable", '{"kind": "fail", "exit_code": "boom"}'), ("start", '{"kind": "start"}')):
            conn.execute(text(
                "INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, site_id, type, occurred_at, payload, processed_at)"
                " VALUES (:m, :j, :e, :p, NULL, 'ping', :at, CAST(:pl AS jsonb), now())"),
                {"m": msp, "j": job, "e": event_id, "p": practice, "pl": payload, "at": when})
        conn.execute(text(
            "INSERT INTO backup_run (msp_id, id, run_at, practice_id, backup_job_id, run_key, source, status, finished_at,"
            " report_event_id, reported_at)"
            " VALUES (:m, gen_random_uuid(), :at, :p, :j, 'ping:applied', 'ping', 'success', :at, 'applied', :at)"),
            {"m": msp, "p": practice, "j": job, "at": when})
    migrate.upgrade(scratch_database, app)
    with engine.connect() as conn:
        steps = conn.execute(text("SELECT event_id FROM ping_step WHERE msp_id = :m ORDER BY event_id"), {"m": msp}).scalars().all()
    assert steps == ["applied", "start"]
