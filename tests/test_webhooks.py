"""Webhooks: a receiver on loopback that drops the connection, times out, answers 500, then recovers.

Bob's department system subscribes by bearer token over HTTP; the task worker (a real `db_worker`
process) publishes and sends after each commit. After dropping repeated delivery ids Bob has every
event exactly once, each case's events in order, every signature valid. A receiver that never recovers
gets a dead letter after the configured attempts.
"""

import collections
from collections.abc import Iterator

import pytest

from tests.service_accounts import bearer, service_account
from tests.task_worker import task_worker, wait_until
from tests.test_case_lifecycle import register, who
from tests.webhook_receiver import receiving
from zongzhi.cases import services
from zongzhi.outbox.models import Delivery, Event, Subscription

SECRET = "bob-shared-secret-0123456789abcdef"


@pytest.fixture
def committed(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        yield


def three_cases(title: str) -> list[str]:
    numbers = []
    for i in range(3):
        case = register(title=f"{title}{i}")
        case = services.case_accept(case=case, actor=who("intake"), version=case.version)
        numbers.append(case.number)
    return numbers


def test_every_event_arrives_once_in_order_signed_through_failures(server: dict[str, str], committed: None) -> None:
    _bob, token = service_account("hook-bob", region="152502000000")
    with receiving(SECRET, ["drop", "slow", "500"], slow_seconds=2.5) as receiver:
        status, created = bearer(
            server["url"],
            token,
            "POST",
            "/api/v1/webhooks",
            {"name": "部门系统", "url": receiver.url, "kinds": ["case.*"], "region_prefix": "152502", "secret": SECRET},
        )
        assert status == 201, created
        assert created["secret"] == SECRET and created["kinds"] == ["case.*"]
        numbers = three_cases("推送测试")
        expected = set(Event.objects.filter(case__number__in=numbers).values_list("pk", flat=True))
        assert len(expected) == 6

        def arrived() -> set[int]:
            return {r.event["id"] for r in receiver.unique().values()} & expected

        with task_worker(server["database_url"]):
            wait_until(lambda: arrived() == expected)
        assert arrived() == expected
        assert receiver.answers[:4] == ["drop", "slow", "500", "ok"]
        assert all(r.valid for r in receiver.received)
        assert len(receiver.received) > len(receiver.unique())  # repeats came, and were dropped by id
        kept = sorted(receiver.unique().values(), key=lambda r: r.at)
        mine = [r for r in kept if r.event["id"] in expected]
        assert collections.Counter(r.event["id"] for r in mine) == dict.fromkeys(expected, 1)
        for number in numbers:
            seqs = [r.event["seq"] for r in mine if r.event["case"] == number]
            kinds = [r.event["kind"] for r in mine if r.event["case"] == number]
            assert seqs == sorted(seqs) and kinds == ["case.intake", "case.accept"]
        subscription = Subscription.objects.get(pk=created["id"])
        first = subscription.deliveries.order_by("seq").first()
        assert first is not None
        answers = [a.status for a in first.attempts_made.order_by("at", "id")]
        assert answers == [None, None, 500, 200]
        assert not subscription.deliveries.filter(status=Delivery.Status.DEAD).exists()
        Subscription.objects.filter(pk=subscription.pk).update(active=False)


def test_a_receiver_that_never_recovers_gets_a_dead_letter(server: dict[str, str], committed: None) -> None:
    _bob, token = service_account("hook-bob", region="152502000000")
    with receiving(SECRET, ["500"] * 50) as receiver:
        status, created = bearer(
            server["url"],
            token,
            "POST",
            "/api/v1/webhooks",
            {"name": "总是失败", "url": receiver.url, "kinds": ["case.accept"], "secret": SECRET, "max_attempts": 3},
        )
        assert status == 201, created
        case = register(title="死信测试")
        case = services.case_accept(case=case, actor=who("intake"), version=case.version)
        subscription = Subscription.objects.get(pk=created["id"])
        with task_worker(server["database_url"]):
            wait_until(lambda: subscription.deliveries.filter(status=Delivery.Status.DEAD).exists())
        delivery = subscription.deliveries.get()
        assert delivery.status == Delivery.Status.DEAD and delivery.attempts == 3
        assert delivery.event.case_number == case.number and delivery.event.kind == "case.accept"
        assert receiver.answers == ["500"] * 3
        Subscription.objects.filter(pk=subscription.pk).update(active=False)


def test_a_subscription_with_a_bad_address_is_refused_naming_the_field(server: dict[str, str], committed: None) -> None:
    _bob, token = service_account("hook-bob", region="152502000000")
    status, answer = bearer(
        server["url"], token, "POST", "/api/v1/webhooks", {"name": "坏地址", "url": "ftp://x", "kinds": ["case.*"]}
    )
    assert status == 422
    assert list(answer["errors"]) == ["url"] and "http://" in answer["errors"]["url"][0]
    status, answer = bearer(
        server["url"],
        token,
        "POST",
        "/api/v1/webhooks",
        {"name": "坏类型", "url": "http://127.0.0.1:9/x", "kinds": ["案件"]},
    )
    assert status == 422 and "kinds" in answer["errors"]


@pytest.mark.django_db
def test_in_production_a_receiver_is_https_and_not_this_network(settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    from zongzhi.outbox.webhooks import subscription_create

    settings.WEBHOOK_PUBLIC_ONLY = True  # as in production
    account, _token = service_account("hook-prod", region="152502000000")
    for url in ("http://example.org/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://localhost/x"):
        with pytest.raises(ValidationError) as refused:
            subscription_create(user=account, actor=account, name="生产", url=url, kinds=[])
        assert "内网" in refused.value.message_dict["url"][0]
    subscription, _secret = subscription_create(
        user=account, actor=account, name="生产", url="https://region.example.org/hook", kinds=[]
    )
    assert subscription.pk
    settings.WEBHOOK_ALLOWED_HOSTS = ["10.1.2.3"]
    assert subscription_create(user=account, actor=account, name="内网平台", url="https://10.1.2.3/hook", kinds=[])


def test_two_workers_at_once_send_each_delivery_once(server: dict[str, str], committed: None) -> None:
    """The subscription's lease and the cursor's conditional update: no delivery goes twice at once."""
    from zongzhi.outbox.tasks import dispatch_task

    _bob, token = service_account("hook-bob", region="152502000000")
    with receiving(SECRET) as receiver:
        status, created = bearer(
            server["url"],
            token,
            "POST",
            "/api/v1/webhooks",
            {"name": "两个进程", "url": receiver.url, "kinds": ["case.*"], "secret": SECRET},
        )
        assert status == 201, created
        numbers = three_cases("并发推送") + three_cases("并发推送乙")
        expected = set(Event.objects.filter(case__number__in=numbers).values_list("pk", flat=True))
        for _n in range(6):
            dispatch_task.enqueue()  # several waiting: both workers take one at the same time
        with task_worker(server["database_url"]), task_worker(server["database_url"]):
            wait_until(lambda: {r.event["id"] for r in receiver.unique().values()} >= expected)
        mine = [r for r in receiver.received if r.event["id"] in expected]
        assert sorted(r.event["id"] for r in mine) == sorted(expected)  # each once, not even a repeat
        Subscription.objects.filter(pk=created["id"]).update(active=False)
