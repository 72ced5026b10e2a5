"""Consistent backups and their restore: the database, the attachments and a manifest.

A backup folder holds `database.sqlite3` (SQLite's online backup API) or `database.dump`
(`pg_dump` custom format, taken in an exported snapshot), `media/` (attachments and uploads),
and `manifest.json`: the row count of every table and the audit head, both read in the same
snapshot as the dump, the data keys' fingerprints (never the keys), and a SHA-256 of every file.
`restore` refuses a database or media folder that is not empty, a folder whose files do not match
the manifest, and a server whose keys are not the backup's; after restoring it recounts every
table and checks the audit chain and the dashboards' tallies.
"""

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.apps import apps
from django.conf import settings
from django.db import connection
from psycopg import sql

from zongzhi import crypto
from zongzhi.audit import keys as audit_keys
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_verify
from zongzhi.dashboards import rollups

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE, PG_FILE, MEDIA = "database.sqlite3", "database.dump", "media"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in Chinese."""


@dataclass(frozen=True)
class Restored:
    counts: dict[str, int]
    audit_entries: int
    problems: list[str]


def _tables() -> list[str]:
    """Every table of the platform, the many-to-many links' own tables included."""
    models = apps.get_models(include_auto_created=True)
    return sorted({m._meta.db_table for m in models if m._meta.managed and not m._meta.proxy})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(root: Path) -> Iterator[Path]:
    return (p for p in sorted(root.rglob("*")) if p.is_file())


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def _pg_env() -> dict[str, str]:
    s = connection.settings_dict
    env = {**os.environ, "PGHOST": s["HOST"] or "127.0.0.1", "PGPORT": str(s["PORT"] or 5432)}
    env["PGUSER"], env["PGDATABASE"] = s["USER"] or "postgres", s["NAME"]
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    return env


def _pg_connect() -> psycopg.Connection[Any]:
    env = _pg_env()
    return psycopg.connect(
        host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"], dbname=env["PGDATABASE"],
        password=env.get("PGPASSWORD"),
    )  # fmt: skip


def _counts(cursor: Any, tables: list[str], identifier: Any) -> dict[str, int]:
    found = {}
    for table in tables:
        cursor.execute(identifier(table))
        found[table] = cursor.fetchone()[0]
    return found


def _audit_head(cursor: Any) -> dict[str, Any]:
    table = AuditEntry._meta.db_table
    cursor.execute(f'SELECT id, hash FROM "{table}" ORDER BY id DESC LIMIT 1')  # noqa: S608 - our own table name
    row = cursor.fetchone()
    return {"id": row[0], "hash": row[1]} if row else {"id": None, "hash": None}


def _sqlite_count(table: str) -> str:
    return f'SELECT count(*) FROM "{table}"'  # noqa: S608 - a table name of our own models


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"找不到 {name}：请安装 PostgreSQL 客户端（Debian 软件包 postgresql-client）。")
    return found


def _backup_sqlite(target: Path, tables: list[str]) -> tuple[dict[str, int], dict[str, Any]]:
    source = sqlite3.connect(connection.settings_dict["NAME"])
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # page by page, consistent, while the platform goes on writing
        cursor = copy.cursor()
        return _counts(cursor, tables, _sqlite_count), _audit_head(cursor)
    finally:
        copy.close()
        source.close()


def _backup_postgresql(target: Path, tables: list[str]) -> tuple[dict[str, int], dict[str, Any]]:
    with _pg_connect() as conn, conn.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]  # type: ignore[index]
        counts = _counts(cursor, tables, lambda t: sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t)))
        head = _audit_head(cursor)
        dumped = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [_program("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--no-owner", "--file", str(target)],
            env=_pg_env(),
            capture_output=True,
            text=True,
        )
        conn.rollback()
    if dumped.returncode != 0:
        raise BackupError(f"pg_dump 失败：{dumped.stderr.strip()}")
    return counts, head


def backup(folder: Path) -> dict[str, Any]:
    """Write a backup into `folder` (new or empty); returns the manifest."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"备份目录 {folder} 不是空的。")
    _private_dir(folder)
    os.umask(0o077)
    tables = _tables()
    vendor = connection.vendor
    database = folder / (SQLITE_FILE if vendor == "sqlite" else PG_FILE)
    if vendor == "sqlite":
        counts, head = _backup_sqlite(database, tables)
    elif vendor == "postgresql":
        counts, head = _backup_postgresql(database, tables)
    else:
        raise BackupError(f"不支持的数据库：{vendor}")
    media = Path(settings.MEDIA_ROOT)
    if media.exists():  # after the database: every attachment a row names is already on disk
        shutil.copytree(media, folder / MEDIA)
    files = {str(p.relative_to(folder)): _sha256(p) for p in _files(folder)}
    manifest = {
        "format": FORMAT,
        "taken_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "vendor": vendor,
        "counts": counts,
        "audit_head": head,
        "key_fingerprints": crypto.key_fingerprints(),
        "audit_key_fingerprints": audit_keys.fingerprints(),
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} 中没有 {MANIFEST}：不是一个备份目录。") from None
    except ValueError as error:
        raise BackupError(f"{MANIFEST} 已损坏：{error}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')} 不受支持（应为 {FORMAT}）。")
    return manifest


def _check_folder(folder: Path, manifest: dict[str, Any]) -> None:
    listed = manifest["files"]
    present = {str(p.relative_to(folder)) for p in _files(folder)} - {MANIFEST}
    if missing := sorted(set(listed) - present):
        raise BackupError(f"备份缺少文件：{'、'.join(missing[:5])}")
    if extra := sorted(present - set(listed)):
        raise BackupError(f"备份中有清单之外的文件：{'、'.join(extra[:5])}")
    if changed := [name for name, digest in listed.items() if _sha256(folder / name) != digest]:
        raise BackupError(f"备份文件已被改动（校验和不符）：{'、'.join(changed[:5])}")


def _database_is_empty() -> bool:
    return not connection.introspection.table_names()


def restore(folder: Path) -> Restored:
    """Restore the backup in `folder` into this server's empty database and media folder."""
    manifest = read_manifest(folder)
    _check_folder(folder, manifest)
    if manifest["vendor"] != connection.vendor:
        raise BackupError(f"这是 {manifest['vendor']} 的备份，当前数据库是 {connection.vendor}。")
    if manifest["key_fingerprints"] != crypto.key_fingerprints():
        raise BackupError("本服务器的数据密钥与备份时的不同：恢复后个人信息将无法解密。请先配置备份时的密钥。")
    if manifest.get("audit_key_fingerprints", audit_keys.fingerprints()) != audit_keys.fingerprints():
        raise BackupError(
            "本服务器的审计密钥与备份时的不同：恢复后审计日志无法校验。请先配置备份时的审计密钥（含已停用的）。"
        )
    if sorted(manifest["counts"]) != _tables():
        unknown = sorted(set(manifest["counts"]) ^ set(_tables()))
        raise BackupError(f"备份的表与本版本的不同（{'、'.join(unknown[:5])}）：请用备份时的版本恢复。")
    if not _database_is_empty():
        raise BackupError("目标数据库不是空的：只能恢复到新建的空数据库。")
    media = Path(settings.MEDIA_ROOT)
    if media.exists() and any(media.iterdir()):
        raise BackupError(f"附件目录 {media} 不是空的。")
    if connection.vendor == "sqlite":
        connection.close()
        source = sqlite3.connect(folder / SQLITE_FILE)
        target = sqlite3.connect(connection.settings_dict["NAME"])
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        connection.close()
        restored = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [
                _program("pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                _pg_env()["PGDATABASE"],
                str(folder / PG_FILE),
            ],
            env=_pg_env(),
            capture_output=True,
            text=True,
        )
        if restored.returncode != 0:
            raise BackupError(f"pg_restore 失败：{restored.stderr.strip()}")
    if (folder / MEDIA).exists():
        media.parent.mkdir(parents=True, exist_ok=True)
        if media.exists():
            media.rmdir()
        shutil.copytree(folder / MEDIA, media)
    return check_restored(manifest)


def check_restored(manifest: dict[str, Any]) -> Restored:
    """Recount every table against the manifest, then verify the audit chain and the tallies."""
    problems = []
    tables = _tables()
    if sorted(manifest["counts"]) != tables:
        unknown = sorted(set(manifest["counts"]) ^ set(tables))
        raise BackupError(f"备份的表与本版本的不同（{'、'.join(unknown[:5])}）：请用备份时的版本恢复。")
    with connection.cursor() as cursor:
        quote = connection.ops.quote_name
        counts = _counts(cursor, tables, lambda t: f"SELECT count(*) FROM {quote(t)}")  # noqa: S608 - our tables
        head = _audit_head(cursor)
    for table, expected in manifest["counts"].items():
        if counts[table] != expected:
            problems.append(f"表 {table}：备份时 {expected} 行，恢复后 {counts[table]} 行")
    if head != manifest["audit_head"]:
        problems.append(f"审计日志末条不符：备份时 {manifest['audit_head']}，恢复后 {head}")
    # The chain itself; the checkpoints describe the live log, which may have grown since the backup.
    verified = audit_verify()
    problems.extend(f"审计日志：{b.message}" for b in verified.chain_breaks)
    problems.extend(rollups.verify())
    return Restored(counts, verified.checked, problems)
