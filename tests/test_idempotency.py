"""Idempotency-Key on API POSTs, against the live server through a real HTTP client.

A replay gives the first answer (status and body) and writes nothing; the same key with another body
is a 422; concurrent requests with one key run once (real connections: the server's threads); keys
of different callers never meet; an expired key is forgotten by the periodic task and is free again.
"""

import datetime
import threading
import uuid
from collections.abc import Iterator

import pytest
from django.utils import timezone

from tests.http_client import HttpClient, Response, logged_in
from tests.test_case_api import body
from tests.test_deadlines import restore_signals  # noqa: F401
from tests.test_service_accounts import bearer, open_account
from zongzhi.audit.models import AuditEntry
from zongzhi.cases.models import Case
from zongzhi.integration.models import IdempotencyKey
from zongzhi.integration.tasks import idempotency_keys_expire, idempotency_keys_expire_task


@pytest.fixture
def committed(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def system(server: dict[str, str], committed: None) -> HttpClient:
    _account, token = open_account("cases:read,cases:write")
    return bearer(server, token)


def post(client: HttpClient, key: str, data: dict) -> Response:  # type: ignore[type-arg]
    import json

    return client.request(
        "POST",
        "/api/v1/cases",
        json.dumps(data).encode(),
        {"Content-Type": "application/json", "Idempotency-Key": key},
    )


def test_a_replay_returns_the_first_answer_and_writes_nothing(system: HttpClient) -> None:
    key, title = uuid.uuid4().hex, f"幂等登记{uuid.uuid4().hex[:6]}"
    first = post(system, key, body(title=title))
    assert first.status == 201, first.text[:300]
    again = post(system, key, body(title=title))
    assert (again.status, again.body) == (first.status, first.body)
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert again.headers["content-type"] == first.headers["content-type"]
    assert Case.objects.filter(title=title).count() == 1
    calls = AuditEntry.objects.filter(action="api_call", target="POST /api/v1/cases", detail__replayed=True)
    assert calls.filter(at__gte=timezone.now() - datetime.timedelta(minutes=1)).exists()


def test_a_refusal_is_replayed_too(system: HttpClient) -> None:
    key = uuid.uuid4().hex
    first = post(system, key, body(amount="-1"))
    assert first.status == 422
    again = post(system, key, body(amount="-1"))
    assert (again.status, again.body) == (422, first.body)


def test_a_refused_caller_keeps_the_key_free(server: dict[str, str], committed: None) -> None:
    """A session POST without its CSRF token (403) is not remembered: sent again with it, it runs."""
    key, title = uuid.uuid4().hex, f"先缺CSRF{uuid.uuid4().hex[:6]}"
    with_csrf = logged_in(server["url"], "demo-intake")
    without = HttpClient(server["url"], cookies={"sessionid": with_csrf.cookies["sessionid"]})
    assert post(without, key, body(title=title)).status == 403
    again = post(with_csrf, key, body(title=title))
    assert again.status == 201 and "idempotent-replayed" not in again.headers
    assert Case.objects.filter(title=title).count() == 1


def test_the_same_key_with_another_body_is_a_422(system: HttpClient) -> None:
    key, title = uuid.uuid4().hex, f"幂等冲突{uuid.uuid4().hex[:6]}"
    assert post(system, key, body(title=title)).status == 201
    other = post(system, key, body(title=title + "（改）"))
    assert other.status == 422
    assert other.json()["detail"] == (
        f"Idempotency-Key“{key}”已用于另一个请求（地址或内容不同）；新的请求请换一个新的键。"
    )
    assert "Idempotency-Key" in other.json()["errors"]
    assert not Case.objects.filter(title=title + "（改）").exists()


def test_a_key_that_is_no_key_is_refused(system: HttpClient) -> None:
    for bad in ("k" * 256, "clé"):
        answer = post(system, bad, body(title="坏的幂等键"))
        assert answer.status == 422 and "可打印的 ASCII" in answer.json()["detail"], bad
    assert not Case.objects.filter(title="坏的幂等键").exists()


def test_each_caller_has_keys_of_its_own(server: dict[str, str], system: HttpClient) -> None:
    key, title = uuid.uuid4().hex, f"两个调用方{uuid.uuid4().hex[:6]}"
    _other, token = open_account("cases:write")
    assert post(system, key, body(title=title)).status == 201
    assert post(bearer(server, token), key, body(title=title)).status == 201
    clerk = logged_in(server["url"], "demo-intake")  # a person's session, with its CSRF token
    assert post(clerk, key, body(title=title)).status == 201
    assert post(clerk, key, body(title=title)).headers.get("idempotent-replayed") == "true"
    assert Case.objects.filter(title=title).count() == 3


def test_concurrent_requests_with_one_key_run_once(system: HttpClient) -> None:
    key, title = uuid.uuid4().hex, f"并发幂等{uuid.uuid4().hex[:6]}"
    n = 6
    barrier = threading.Barrier(n)
    answers: list[Response] = []

    def send() -> None:
        barrier.wait()
        answers.append(post(system, key, body(title=title)))

    threads = [threading.Thread(target=send) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Case.objects.filter(title=title).count() == 1
    assert {(a.status, a.body) for a in answers} == {(201, answers[0].body)}
    assert sum(1 for a in answers if a.headers.get("idempotent-replayed") == "true") == n - 1


def test_keys_expire_and_are_forgotten_by_the_periodic_task(system: HttpClient) -> None:
    key, title = uuid.uuid4().hex, f"过期键{uuid.uuid4().hex[:6]}"
    assert post(system, key, body(title=title)).status == 201
    row = IdempotencyKey.objects.get(key=key)
    assert row.expires_at - row.created_at == datetime.timedelta(hours=24)
    assert title not in row.body or row.body.startswith("{")  # decrypted on read
    IdempotencyKey.objects.filter(pk=row.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert idempotency_keys_expire() >= 1
    assert not IdempotencyKey.objects.filter(key=key).exists()
    assert post(system, key, body(title=title)).status == 201  # free again: a new request
    assert Case.objects.filter(title=title).count() == 2
    assert idempotency_keys_expire_task.module_path == "zongzhi.integration.tasks.idempotency_keys_expire_task"


def test_the_stored_answer_is_encrypted_at_rest(system: HttpClient) -> None:
    from django.db import connection

    key = uuid.uuid4().hex
    assert post(system, key, body(title="加密存储检查")).status == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM integration_idempotencykey WHERE key = %s", [key])
        stored = cursor.fetchone()[0]
    assert "加密存储检查" not in stored and stored.count(":") >= 2


@pytest.mark.usefixtures("restore_signals")
def test_the_scheduler_queues_the_expiry(
    db: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    # The worker recycles connections between tasks; here the connection holds the test's transaction.
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)

    DBTaskResult.objects.filter(task_path=idempotency_keys_expire_task.module_path).delete()
    call_command("scheduler", "--once")
    assert "定期任务已排队：zongzhi.integration.tasks.idempotency_keys_expire_task" in capsys.readouterr().out
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    done = DBTaskResult.objects.filter(task_path=idempotency_keys_expire_task.module_path).get()
    assert done.status == "SUCCESSFUL" and done.return_value == {"expired": 0}
