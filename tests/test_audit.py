"""The audit log: append-only, chained by HMAC-SM3 under a key outside the database, anchored by signed
checkpoints; retention of at least 180 days. Tampering from outside: test_audit_tamper.py."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import DatabaseError, connection, transaction
from django_tasks_db.models import DBTaskResult

from tests.conftest import verified_client
from tests.test_settings import manage
from zongzhi.accounts.models import User
from zongzhi.audit import checkpoints, keys
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_checkpoint, audit_record, audit_verify
from zongzhi.audit.tasks import audit_checkpoint_task

ROOT = Path(__file__).resolve().parents[1]


def test_chain_is_intact_and_breaks_when_a_row_is_altered(db) -> None:  # type: ignore[no-untyped-def]
    first = audit_record(action=AuditEntry.Action.LOGIN, actor_name="alice", target="alice", detail={"n": 1})
    second = audit_record(action=AuditEntry.Action.LOGOUT, actor_name="alice", target="alice")
    assert second.prev_hash == first.hash and first.key_id == keys.chain_keys().current
    assert audit_verify().intact
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        # The database refuses; only someone able to bypass its trigger can tamper, and is caught.
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute(f"UPDATE {table} SET target = %s WHERE id = %s", ["mallory", first.pk])
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [first.pk])
        if connection.vendor == "postgresql":  # TRUNCATE refused: test_audit_tamper.py (outside a transaction)
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute("DROP TRIGGER audit_append_only_update")
        cursor.execute(f"UPDATE {table} SET target = %s WHERE id = %s", ["mallory", first.pk])
    result = audit_verify()
    assert not result.intact
    assert [(b.kind, b.entry_id) for b in result.breaks] == [("edited", first.pk)]


def test_the_hash_depends_on_the_key(db, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The same entry chained under another key verifies as edited: without the key, no valid chain."""
    entry = audit_record(action=AuditEntry.Action.LOGIN, actor_name="alice", target="alice")
    monkeypatch.setenv("ZONGZHI_AUDIT_KEY", "A" * 43 + "=")
    other = keys.chain_keys().keys[entry.key_id]
    (mismatch,) = [b for b in audit_verify().breaks if b.kind == "key_mismatch"]
    assert (
        f"带密钥“{entry.key_id}”的全部" in mismatch.message
        and "本服务器配置的不是写入这些记录的密钥" in mismatch.message
    )
    monkeypatch.delenv("ZONGZHI_AUDIT_KEY")
    assert keys.chain_keys().keys[entry.key_id] != other and audit_verify().intact


def test_keys_rotate_and_old_entries_still_verify(db, monkeypatch: pytest.MonkeyPatch, settings) -> None:  # type: ignore[no-untyped-def]
    first = audit_record(action=AuditEntry.Action.LOGIN, actor_name="alice")
    old_key = (Path(settings.VAR_DIR) / "audit_key").read_text().strip()
    new_key = "B" * 43 + "="
    monkeypatch.setenv("ZONGZHI_AUDIT_KEY", new_key)
    monkeypatch.setenv("ZONGZHI_AUDIT_KEY_ID", "a2")
    monkeypatch.setenv("ZONGZHI_AUDIT_KEYS_RETIRED", f"{first.key_id}={old_key}")
    second = audit_record(action=AuditEntry.Action.LOGOUT, actor_name="alice")
    assert (first.key_id, second.key_id) == ("a1", "a2")
    assert audit_verify().intact
    monkeypatch.setenv("ZONGZHI_AUDIT_KEYS_RETIRED", "")  # the retired key dropped too early
    unknown = [b for b in audit_verify().breaks if b.kind == "unknown_key"]
    assert unknown and unknown[0].message.startswith("第 ") and "未知密钥“a1”" in unknown[0].message


def test_entries_cannot_be_changed_or_deleted_through_the_model(db) -> None:  # type: ignore[no-untyped-def]
    entry = audit_record(action=AuditEntry.Action.LOGIN, actor_name="alice")
    entry.target = "someone else"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_auditor_sees_the_log_and_verifies_the_chain(db) -> None:  # type: ignore[no-untyped-def]
    audit_record(action=AuditEntry.Action.LOGIN_FAILED, actor_name="bob", target="bob")
    client = verified_client(User.objects.get(username="demo-auditor"))
    page = client.get("/staff/audit/", {"verify": "1", "who": "bob"}).content.decode()
    assert "审计链完整" in page and "登录失败" in page


def test_a_checkpoint_is_signed_and_only_written_for_committed_entries(db, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    audit_record(action=AuditEntry.Action.LOGIN, actor_name="alice")
    with pytest.raises(RuntimeError, match="committed entries only"):
        audit_checkpoint()  # inside the test's transaction: the entry might still be rolled back
    assert not list(tmp_path.iterdir())


def test_checkpoints_chain_and_verify_by_their_public_key(
    django_db_setup, django_db_blocker, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    with django_db_blocker.unblock():
        first = audit_checkpoint()
        second = audit_checkpoint()
        assert (first.seq, second.seq) == (1, 2) and second.prev == first.digest
        assert second.head_id == AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
        assert second.count == AuditEntry.objects.count()
        (path,) = tmp_path.glob("checkpoints-*.jsonl")
        assert path.stat().st_mode & 0o777 == 0o600
        line = json.loads(path.read_text().splitlines()[0])
        assert set(line) == {"v", "seq", "at", "head_id", "head_hash", "count", "prev", "signer", "sig", "lanes"}
        result = audit_verify()
        assert result.intact and result.newest == second and result.checkpoints == 2

        # A receiver checks them with the public key alone; a line taken out of the middle shows.
        out = subprocess.run(
            [sys.executable, "manage.py", "audit_checkpoint", "--public-key"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert out[0] == line["signer"] and len(out[1]) == 44
        audit_checkpoint()
        lines = path.read_text().splitlines()
        path.write_text("\n".join([lines[0], lines[2]]) + "\n")
        problems = [b for b in audit_verify().breaks if b.kind == "checkpoint_sequence"]
        assert problems and "#3" in problems[0].message and "之前的检查点被删除或改动" in problems[0].message


def test_the_scheduler_queues_a_checkpoint_and_the_worker_writes_it(
    django_db_setup, django_db_blocker, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    env = {"ZONGZHI_AUDIT_CHECKPOINT_DIR": str(tmp_path)}
    with django_db_blocker.unblock():
        from tests.browsing import _database_url

        env["DATABASE_URL"] = _database_url()
        DBTaskResult.objects.filter(task_path=audit_checkpoint_task.module_path).delete()
    ticked = manage(env, "scheduler", "--once")
    assert ticked.returncode == 0 and "审计检查点已排队" in ticked.stdout, ticked.stderr
    with django_db_blocker.unblock():
        # Only the checkpoint runs here: the sweep the tick queued would change the shared test data.
        from zongzhi.cases.tasks import sweep_deadlines_task

        DBTaskResult.objects.filter(task_path=sweep_deadlines_task.module_path).ready().delete()
    worked = manage(env, "db_worker", "--batch", "--no-startup-delay", "--no-reload")
    assert worked.returncode == 0, worked.stderr
    (path,) = tmp_path.glob("checkpoints-*.jsonl")
    assert json.loads(path.read_text())["seq"] == 1
    verified = manage(env, "audit_verify")
    assert verified.returncode == 0 and "最新检查点 #1（" in verified.stdout, verified.stderr


def test_on_demand_checkpoint_command(django_db_setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.browsing import _database_url

    env = {"ZONGZHI_AUDIT_CHECKPOINT_DIR": str(tmp_path), "DATABASE_URL": _database_url()}
    written = manage(env, "audit_checkpoint")
    assert written.returncode == 0 and "已写入检查点 #1（" in written.stdout, written.stderr


def test_retention_below_180_days_is_refused_at_start(tmp_path: Path) -> None:
    refused = manage({"ZONGZHI_VAR_DIR": str(tmp_path), "ZONGZHI_AUDIT_RETENTION_DAYS": "90"}, "check")
    assert refused.returncode != 0 and "ZONGZHI_AUDIT_RETENTION_DAYS must be at least 180" in refused.stderr
    garbled = manage({"ZONGZHI_VAR_DIR": str(tmp_path), "ZONGZHI_AUDIT_RETENTION_DAYS": "half a year"}, "check")
    assert garbled.returncode != 0 and "whole number of days" in garbled.stderr
    accepted = manage({"ZONGZHI_VAR_DIR": str(tmp_path), "ZONGZHI_AUDIT_RETENTION_DAYS": "365"}, "check")
    assert accepted.returncode == 0, accepted.stderr


def test_dev_audit_keys_are_kept_outside_the_code_and_database(tmp_path: Path) -> None:
    result = manage(
        {"ZONGZHI_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}"},
        "audit_checkpoint",
        "--public-key",
    )
    assert result.returncode == 0, result.stderr
    for name in ("audit_key", "audit_signing_key"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "audit_key").read_text() != (tmp_path / "audit_signing_key").read_text()


def test_prod_refuses_to_run_without_the_audit_keys(tmp_path: Path) -> None:
    import base64
    import secrets

    env = {
        "ZONGZHI_ENV": "prod",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "zongzhi.example.cn",
        "ZONGZHI_VAR_DIR": str(tmp_path),
        "ZONGZHI_DATA_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ZONGZHI_AUDIT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0 and "ZONGZHI_AUDIT_KEY must be set" in result.stderr + result.stdout
    assert not (tmp_path / "audit_key").exists()


def test_the_receiver_checks_checkpoints_with_the_public_key_alone(
    django_db_setup, django_db_blocker, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    server_dir, received = tmp_path / "server", tmp_path / "received"
    settings.AUDIT_CHECKPOINT_DIR = server_dir
    with django_db_blocker.unblock():
        audit_checkpoint()
        audit_checkpoint()
    public = f"{keys.public_key_text(keys.signing_keys().private.public_key())}"
    shutil.copytree(server_dir, received)

    def receiver(*args: str) -> subprocess.CompletedProcess[str]:
        # No DATABASE_URL, no key of the server: only what the receiver holds.
        env = {"PATH": "/usr/bin:/bin"}
        return subprocess.run(
            [sys.executable, "scripts/audit_receiver.py", *args], cwd=ROOT, capture_output=True, text=True, env=env
        )

    ok = receiver(public, str(received), str(server_dir))
    assert ok.returncode == 0 and "检查点完好：共 2 个，最新为检查点 #2（" in ok.stdout, ok.stderr
    stranger = keys.public_key_text(Ed25519PrivateKey.generate().public_key())
    assert "由未知的签名密钥" in receiver(stranger, str(received)).stderr

    # Someone with the server's signing key rewrites its history: the receiver's copy tells.
    for path in server_dir.glob("checkpoints-*.jsonl"):
        path.unlink()
    with django_db_blocker.unblock():
        checkpoints.write(head_id=1, head_hash="0" * 64, count=1)
    rewritten = receiver(public, str(received), str(server_dir))
    assert rewritten.returncode == 1
    assert "新副本中的检查点 #1" in rewritten.stderr and "服务器上的检查点被改写" in rewritten.stderr
    assert "少于已接收的 2 个：服务器上的检查点被删除" in rewritten.stderr


LEGACY_ROWS = """
import datetime
from django.db import connection
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import GENESIS, _legacy_digest
prev = GENESIS
for n in range(3):  # as the version before the keyed chain wrote them: plain SM3, no key_id column yet
    at = datetime.datetime(2026, 11, 30, 8, n, tzinfo=datetime.UTC)
    entry = AuditEntry(at=at, actor_name="alice", action="login", target="alice", detail={"n": n})
    entry.hash = _legacy_digest(prev, entry)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditentry (at, actor_name, action, target, detail, prev_hash, hash)"
            " VALUES (%s, 'alice', 'login', 'alice', %s, %s, %s)",
            [at, '{"n": ' + str(n) + '}', prev, entry.hash],
        )
    prev = entry.hash
"""


def test_a_log_written_before_the_key_still_verifies_after_the_upgrade(tmp_path: Path) -> None:
    """Migrated to the previous schema, written the previous way, then migrated on: nothing rewritten, all verifies."""
    env = {
        "ZONGZHI_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'old.sqlite3'}",
        "ZONGZHI_AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
    }
    assert manage(env, "migrate", "audit", "0006", "-v0").returncode == 0
    written = manage(env, "shell", "-c", LEGACY_ROWS)
    assert written.returncode == 0, written.stderr
    upgraded = manage(env, "migrate", "-v0")
    assert upgraded.returncode == 0, upgraded.stderr
    before = manage(env, "audit_verify")
    assert (
        before.returncode == 0 and "共 3 条记录" in before.stdout and "最早的 3 条为启用密钥前的记录" in before.stdout
    )
    appended = manage(
        env,
        "shell",
        "-c",
        "from zongzhi.audit.services import audit_record; audit_record(action='logout', actor_name='alice')",
    )
    assert appended.returncode == 0, appended.stderr
    assert manage(env, "audit_checkpoint").returncode == 0
    after = manage(env, "audit_verify")
    assert after.returncode == 0 and "共 4 条记录" in after.stdout and "最新检查点 #1（" in after.stdout, after.stderr
    # The database still refuses to change them after the table was rebuilt for the new column.
    changed = manage(
        env,
        "shell",
        "-c",
        "from django.db import connection; connection.cursor().execute(\"UPDATE audit_auditentry SET target = 'x'\")",
    )
    assert changed.returncode != 0 and "append-only" in changed.stderr


def test_entries_carry_the_visitors_address_behind_the_proxy(db, settings) -> None:  # type: ignore[no-untyped-def]
    from django.test import RequestFactory

    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    behind = RequestFactory().get("/", HTTP_X_REAL_IP="10.1.2.3", REMOTE_ADDR="127.0.0.1")
    assert audit_record(action=AuditEntry.Action.LOGIN, actor_name="a", request=behind).ip == "10.1.2.3"
    garbled = RequestFactory().get("/", HTTP_X_REAL_IP="not an address")
    assert audit_record(action=AuditEntry.Action.LOGIN, actor_name="a", request=garbled).ip is None
    settings.CLIENT_IP_HEADER = ""
    direct = RequestFactory().get("/", HTTP_X_REAL_IP="10.1.2.3", REMOTE_ADDR="192.0.2.7")
    assert audit_record(action=AuditEntry.Action.LOGIN, actor_name="a", request=direct).ip == "192.0.2.7"
    assert audit_verify().intact
