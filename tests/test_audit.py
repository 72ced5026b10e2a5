"""The audit log is append-only and hash-chained with SM3; tampering is detected."""

import pytest
from django.db import DatabaseError, connection, transaction

from tests.conftest import verified_client
from zongzhi.accounts.models import User
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record, audit_verify


def test_chain_is_intact_and_breaks_when_a_row_is_altered(db) -> None:  # type: ignore[no-untyped-def]
    first = audit_record(action=AuditEntry.Action.LOGIN, actor_name="alice", target="alice", detail={"n": 1})
    second = audit_record(action=AuditEntry.Action.LOGOUT, actor_name="alice", target="alice")
    assert second.prev_hash == first.hash
    assert audit_verify()[0]
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        # The database refuses; only someone able to bypass its trigger can tamper, and is caught.
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute(f"UPDATE {table} SET target = %s WHERE id = %s", ["mallory", first.pk])
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [first.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute("DROP TRIGGER audit_append_only_update")
        cursor.execute(f"UPDATE {table} SET target = %s WHERE id = %s", ["mallory", first.pk])
    intact, _checked, broken = audit_verify()
    assert not intact and broken == first.pk


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
    assert "哈希链完整" in page and "登录失败" in page
