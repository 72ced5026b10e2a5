"""Backups that restore: `manage.py backup` of the seeded test database, `manage.py restore` into a new
empty database (a real second database: a file on SQLite, a new database on PostgreSQL), then the
counts, the audit chain and the dashboards' tallies checked in the restored copy.
"""

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.apps import apps
from django.conf import settings

from tests.browsing import ROOT, _database_url
from zongzhi.audit import keys as audit_keys


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def source(django_db_setup, django_db_blocker) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The environment of the seeded test database, with its data and audit keys spelled out for the copy."""
    with django_db_blocker.unblock():
        url = _database_url()
    audit_keys.chain_keys(), audit_keys.signing_keys()  # a fresh tree's development keys are made on first use
    keys = {
        variable: os.environ.get(variable) or (Path(settings.VAR_DIR) / file).read_text()
        for variable, file in (
            ("ZONGZHI_DATA_KEY", "data_key"),
            ("ZONGZHI_AUDIT_KEY", "audit_key"),
            ("ZONGZHI_AUDIT_SIGNING_KEY", "audit_signing_key"),
        )
    }
    return {**os.environ, "DATABASE_URL": url, **keys}


@pytest.fixture
def target(source: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    """A new, empty database and var folder for the restore."""
    env = {**source, "ZONGZHI_VAR_DIR": str(tmp_path / "var")}
    (tmp_path / "var").mkdir()
    url = source["DATABASE_URL"]
    if url.startswith("sqlite"):
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        yield env
        return
    name = f"zongzhi_restore_{uuid.uuid4().hex[:8]}"
    server = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = f"{server}/{name}"
    yield env
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _count(url: str, table: str) -> int:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    with psycopg.connect(url) as conn:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # type: ignore[index]


PARTIES_DIGEST = (
    "import hashlib; from zongzhi.cases.models import Party; "
    "rows = [p for p in Party.objects.order_by('pk')[:400] if p.phone]; "
    "print(len(rows), hashlib.sha256('|'.join(p.phone + p.id_number for p in rows).encode()).hexdigest())"
)


def _parties_digest(env: dict[str, str]) -> str:
    """How many parties with a phone, and a digest of their decrypted phones and IDs (never the values)."""
    answer = _manage(env, "shell", "-c", PARTIES_DIGEST)
    assert answer.returncode == 0, answer.stderr
    assert not answer.stdout.startswith("0 ")
    return answer.stdout


def test_backup_then_restore_into_an_empty_database_gives_the_same_platform(
    source: dict[str, str], target: dict[str, str], tmp_path: Path
) -> None:
    media = Path(settings.MEDIA_ROOT) / "backup-test"
    media.mkdir(parents=True, exist_ok=True)
    (media / f"{uuid.uuid4().hex}.txt").write_text("附件内容")
    folder = tmp_path / "backup"

    taken = _manage(source, "backup", str(folder))
    assert taken.returncode == 0, taken.stderr
    assert "备份完成" in taken.stdout
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"]["cases_case"] == _count(source["DATABASE_URL"], "cases_case") > 1000
    assert manifest["counts"]["cases_party"] > 1000 and manifest["audit_head"]["id"]
    assert any(name.startswith("media/backup-test/") for name in manifest["files"])
    assert source["ZONGZHI_DATA_KEY"].strip() not in (folder / "manifest.json").read_text()
    assert oct(folder.stat().st_mode & 0o777) == "0o700"

    restored = _manage(target, "restore", str(folder))
    assert restored.returncode == 0, restored.stderr
    assert "恢复完成并核对无误" in restored.stdout
    for table in ("cases_case", "cases_caseevent", "grid_resident", "audit_auditentry", "accounts_user"):
        assert _count(target["DATABASE_URL"], table) == _count(source["DATABASE_URL"], table)
    # A many-to-many link's own table is counted in the manifest and checked like the others.
    assert manifest["counts"]["centers_org_domains"] == _count(target["DATABASE_URL"], "centers_org_domains") > 0
    assert _parties_digest(target) == _parties_digest(source)  # the encrypted columns decrypt in the copy
    tallies = _manage(target, "rollups", "--verify")
    assert tallies.returncode == 0, tallies.stderr
    copied = Path(target["ZONGZHI_VAR_DIR"]) / "media" / "backup-test"
    assert sorted(p.name for p in copied.iterdir()) == sorted(p.name for p in media.iterdir())

    again = _manage(target, "restore", str(folder))  # the database is no longer empty
    assert again.returncode == 1
    assert "目标数据库不是空的" in again.stderr


def test_restore_refuses_a_changed_backup_and_other_keys(
    source: dict[str, str], target: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "backup"
    assert _manage(source, "backup", str(folder)).returncode == 0
    other_key = {**target, "ZONGZHI_DATA_KEY": "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="}
    refused = _manage(other_key, "restore", str(folder))
    assert refused.returncode == 1
    assert "数据密钥与备份时的不同" in refused.stderr
    other_audit_key = {**target, "ZONGZHI_AUDIT_KEY": "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="}
    refused = _manage(other_audit_key, "restore", str(folder))
    assert refused.returncode == 1
    assert "审计密钥与备份时的不同" in refused.stderr

    database = next(p for p in folder.iterdir() if p.name.startswith("database."))
    with database.open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"\x00tampered")
    changed = _manage(target, "restore", str(folder))
    assert changed.returncode == 1
    assert f"备份文件已被改动（校验和不符）：{database.name}" in changed.stderr
    assert _manage(target, "backup", str(folder)).returncode == 1  # never into a folder that holds something


CASES_DIGEST = (
    "import hashlib; from zongzhi.cases.models import Case; "
    "rows = Case.objects.order_by('pk').values_list('number', 'status', 'created_at', 'version')[:500]; "
    "print(len(rows), hashlib.sha256(repr(list(rows)).encode()).hexdigest())"
)


def test_a_sqlite_pilot_moves_into_a_new_postgresql_database(source: dict[str, str], tmp_path: Path) -> None:
    if not source["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("the move starts from a SQLite pilot: it runs in the SQLite run (PostgreSQL is its target)")
    pg = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/zongzhi").rsplit("/", 1)[0]
    name = f"zongzhi_move_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(f"{pg}/postgres", autocommit=True)
    except psycopg.OperationalError:
        if os.environ.get("ZONGZHI_REQUIRE_PG") == "1":
            raise
        pytest.skip(f"no PostgreSQL answers at {pg} to move the pilot into")
    admin.execute(f'CREATE DATABASE "{name}"')
    target = {**source, "DATABASE_URL": f"{pg}/{name}", "ZONGZHI_VAR_DIR": str(tmp_path)}
    try:
        pilot = source["DATABASE_URL"].removeprefix("sqlite:///")
        moved = _manage(target, "move_to_postgresql", pilot)
        assert moved.returncode == 0, moved.stderr
        assert "迁入完成并核对无误" in moved.stdout
        for table in ("cases_case", "cases_caseevent", "cases_party", "audit_auditentry", "dashboards_casefact"):
            if table != "audit_auditentry":  # the move adds its own entry to the chain
                assert _count(target["DATABASE_URL"], table) == _count(source["DATABASE_URL"], table)
        assert (
            _count(target["DATABASE_URL"], "audit_auditentry") == _count(source["DATABASE_URL"], "audit_auditentry") + 1
        )
        # The many-to-many links' own tables too (an org's domains, a case's related cases, a station's households).
        links = [m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.auto_created]
        moved_links = {t: (_count(source["DATABASE_URL"], t), _count(target["DATABASE_URL"], t)) for t in links}
        assert all(a == b for a, b in moved_links.values()), moved_links
        assert moved_links["centers_org_domains"][0] > 0, "the seeded orgs have their domains"
        assert _parties_digest(target) == _parties_digest(source)
        cases = _manage(target, "shell", "-c", CASES_DIGEST)
        assert cases.stdout == _manage(source, "shell", "-c", CASES_DIGEST).stdout  # times, states, versions
        assert _manage(target, "rollups", "--verify").returncode == 0
        again = _manage(target, "move_to_postgresql", pilot)
        assert again.returncode == 1 and "目标数据库已有数据" in again.stderr
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
