"""On PostgreSQL the application's own role cannot change the audit log, even with its triggers turned off.

`manage.py audit_db_role` makes the role (docs/deploy.md); this test connects as it over a real
connection: it reads and appends to the log, works on the business tables, and is refused UPDATE,
DELETE and TRUNCATE of the log by its privileges while the owner has disabled every trigger on it.
"""

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.browsing import _database_url
from zongzhi.audit.models import AuditEntry

ROOT = Path(__file__).resolve().parents[1]
TABLE = AuditEntry._meta.db_table


@pytest.fixture
def app_role(django_db_setup, django_db_blocker) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no database roles (its triggers are tested in test_audit_tamper.py)")
    role = f"zongzhi_app_{secrets.token_hex(4)}"
    made = subprocess.run(
        [sys.executable, "manage.py", "audit_db_role", role, "--execute"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": _database_url()},
    )
    assert made.returncode == 0, made.stderr
    assert f"角色 {role} 已就绪" in made.stdout
    try:
        yield role
    finally:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER ALL")
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


def test_the_application_role_only_reads_and_appends_to_the_audit_log(app_role: str, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    settings = connection.settings_dict
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # The owner (the migrations' role) turns the triggers off: now only privileges stand in the way.
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL")
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        before = cursor.fetchone()[0]
        cursor.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass", [TABLE])
        partitions = [row[0] for row in cursor.fetchall()]
        assert partitions  # the migrations made the log a partitioned table (zongzhi/ops/partitions.py)
    app = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, dbname=settings["NAME"], user=app_role
    )
    try:
        with app.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (app_role,)
            cursor.execute(f"SELECT count(*) FROM {TABLE}")
            assert cursor.fetchone() == (before,)
            cursor.execute(
                f"INSERT INTO {TABLE} (at, actor_name, action, target, detail, prev_hash, hash, key_id)"
                " VALUES (now(), 'app', 'login', '', '{}', %s, %s, 'a1') RETURNING id",
                ["0" * 64, secrets.token_hex(32)],
            )
            assert cursor.fetchone() is not None
            cursor.execute("UPDATE cases_case SET title = title WHERE id = (SELECT min(id) FROM cases_case)")
            assert cursor.rowcount == 1  # the business tables are the application's to change
        app.rollback()  # the probe entry is not kept
        for statement in (
            f"UPDATE {TABLE} SET target = 'mallory'",
            f"DELETE FROM {TABLE}",
            f"TRUNCATE {TABLE}",
            f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL",
            # PostgreSQL: the log's monthly partitions are tables too, refused the same when named directly.
            *(
                statement.format(partition)
                for partition in partitions
                for statement in ("UPDATE {} SET target = 'mallory'", "DELETE FROM {}", "TRUNCATE {}")
            ),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), app.cursor() as cursor:
                cursor.execute(statement)
            app.rollback()
        with app.cursor() as cursor, pytest.raises(psycopg.errors.InsufficientPrivilege):
            cursor.execute("SET session_replication_role = replica")  # superusers only
        app.rollback()
    finally:
        app.close()
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        assert cursor.fetchone()[0] == before


def test_the_role_script_is_printed_for_the_database_administrator(django_db_setup, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        refused = subprocess.run(
            [sys.executable, "manage.py", "audit_db_role", "zongzhi_app"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "DATABASE_URL": _database_url()},
        )
        assert refused.returncode == 1 and "仅适用于 PostgreSQL" in refused.stderr
        return
    printed = subprocess.run(
        [sys.executable, "manage.py", "audit_db_role", "zongzhi_app", "--password-env", "APP_DB_PASSWORD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": _database_url(), "APP_DB_PASSWORD": "it's secret"},
    )
    assert printed.returncode == 0, printed.stderr
    assert f'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {TABLE} FROM "zongzhi_app";' in printed.stdout
    assert "PASSWORD 'it''s secret'" in printed.stdout
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'zongzhi_app'")
        assert cursor.fetchone() == (0,)  # printed, not run
