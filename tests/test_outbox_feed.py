"""The event feed: every change writes its outbox event in its own transaction, and
`GET /api/v1/events?after=` gives each caller their visible events in publication order, resumable.

Bob is a department system over Xilinhot (152502); Charlie's system covers Duolun (152531) and sees
none of Xilinhot's events. The feed is read through a real HTTP client with a bearer token.
"""

import threading
from collections.abc import Iterator

import pytest
from django.db import connection, connections, transaction

from tests.service_accounts import bearer, feed_all, service_account
from tests.test_case_lifecycle import register, who
from zongzhi.cases import services
from zongzhi.outbox.models import Event
from zongzhi.outbox.publishing import publish
from zongzhi.outbox.services import event_record


@pytest.fixture
def committed(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The ORM on the committed data the server sees (no test transaction around it)."""
    with django_db_blocker.unblock():
        yield


@pytest.mark.django_db
def test_each_case_event_writes_its_outbox_event_in_the_same_transaction() -> None:
    before = Event.objects.count()
    case = register()
    case = services.case_accept(case=case, actor=who("intake"), version=case.version)
    kinds = list(Event.objects.filter(case=case).order_by("id").values_list("kind", flat=True))
    assert kinds == ["case.intake", "case.accept"]
    accepted = Event.objects.get(case=case, kind="case.accept")
    assert accepted.data["case"]["number"] == case.number and accepted.data["to_state"] == "accepted"
    assert "13804790001" not in str(accepted.data)  # no party's phone (nor name) in the event
    assert "巴特尔" not in str(accepted.data)
    with pytest.raises(RuntimeError), transaction.atomic():
        register(title="撤销的登记")
        raise RuntimeError("undone")
    assert Event.objects.count() == before + 2


@pytest.mark.django_db
def test_publishing_numbers_the_committed_events_in_order() -> None:
    publish()
    first = event_record(kind="test.one", region_code="152502001001", data={})
    second = event_record(kind="test.two", region_code="152502001001", data={})
    assert first is not None and second is not None
    assert publish() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.seq is not None and second.seq == first.seq + 1
    assert publish() == 0


def test_the_feed_by_bearer_token_is_scoped_ordered_and_resumable(server: dict[str, str], committed: None) -> None:
    _bob, bob = service_account("feed-bob", region="152502000000")
    _charlie, charlie = service_account("feed-charlie", region="152531000000")
    _events, start = feed_all(server["url"], bob)
    _events, charlie_start = feed_all(server["url"], charlie)
    case = register(title="事件流测试纠纷")
    case = services.case_accept(case=case, actor=who("intake"), version=case.version)
    events, cursor = feed_all(server["url"], bob, start)
    mine = [e for e in events if e["case"] == case.number]
    assert [e["kind"] for e in mine] == ["case.intake", "case.accept"]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert mine[1]["data"]["case"]["title"] == "事件流测试纠纷"
    assert feed_all(server["url"], bob, cursor)[0] == []  # resumed: nothing twice
    theirs, _cursor = feed_all(server["url"], charlie, charlie_start)
    assert case.number not in {e["case"] for e in theirs}


def test_a_bad_cursor_is_a_422_naming_it(server: dict[str, str], committed: None) -> None:
    _bob, bob = service_account("feed-bob", region="152502000000")
    status, answer = bearer(server["url"], bob, "GET", "/api/v1/events?after=abc")
    assert status == 422
    assert "游标" in answer["errors"]["after"][0]
    status, answer = bearer(server["url"], bob, "GET", "/api/v1/events?limit=0")
    assert status == 422 and "limit" in answer["errors"]


def test_no_token_no_feed(server: dict[str, str], committed: None) -> None:
    status, _answer = bearer(server["url"], "zz_not-a-token", "GET", "/api/v1/events")
    assert status == 401


def test_an_event_committed_late_with_an_earlier_id_is_not_skipped(server: dict[str, str], committed: None) -> None:
    """A transaction writes its event and stays open while a later one commits; the reader, having
    read the later one, still gets the first once it commits (PostgreSQL, two real connections)."""
    if connection.vendor != "postgresql":
        print("SQLite serialises writers (BEGIN IMMEDIATE): no later transaction can commit before an open one")
        pytest.skip("the late commit needs concurrent writers: PostgreSQL only")
    _bob, bob = service_account("feed-bob", region="152502000000")
    _events, cursor = feed_all(server["url"], bob)
    written, release = threading.Event(), threading.Event()
    early_id: list[int] = []

    def early() -> None:
        try:
            with transaction.atomic():
                event = event_record(kind="test.early", region_code="152502001001", data={"n": 1})
                assert event is not None
                early_id.append(event.pk)
                written.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=early)
    thread.start()
    assert written.wait(30)
    late = event_record(kind="test.late", region_code="152502001001", data={"n": 2})  # committed (autocommit)
    assert late is not None and late.pk > early_id[0]
    seen, cursor = feed_all(server["url"], bob, cursor)
    assert [e["kind"] for e in seen if e["kind"].startswith("test.")] == ["test.late"]
    release.set()
    thread.join(30)
    after, _cursor = feed_all(server["url"], bob, cursor)
    assert [e["kind"] for e in after if e["kind"].startswith("test.")] == ["test.early"]
    assert [e["id"] for e in after if e["kind"] == "test.early"] == early_id


@pytest.mark.django_db
def test_visits_and_claims_write_their_events_without_personal_data() -> None:
    from tests.test_field import record
    from tests.test_grid_registry import add_person, new_household
    from zongzhi.accounts.models import User
    from zongzhi.grid import services as grid_services

    gao = User.objects.get(username="demo-gridworker")
    household = new_household(gao, gao.grid_worker.grid)
    person = add_person(gao, household, 21)
    grid_services.household_claim(actor=gao, household=household)
    claimed = Event.objects.get(kind="claim.made", data__household=household.code)
    assert claimed.region_code == household.region_code and claimed.case is None
    visit = record(gao, household)
    visited = Event.objects.get(kind="visit.recorded", data__visit=visit.pk)
    assert visited.region_code == household.region_code
    for event in (claimed, visited):
        assert person.id_number not in str(event.data) and person.name not in str(event.data)


def test_the_feed_with_a_session_is_the_persons_scope(server: dict[str, str], committed: None) -> None:
    """A person (the Xilinhot leader's session, not a token) reads the same feed within their jurisdiction."""
    from tests.browsing import Http

    case = register(title="会话读取事件流")
    leader = Http(server, "demo-leader")
    seen: list[dict[str, object]] = []
    after = "0"
    while True:
        answer = leader.get(f"/api/v1/events?after={after}&limit=500")
        assert answer.status == 200, answer.text[:300]
        page = answer.json()
        seen += page["events"]
        if page["next"] == after:
            break
        after = page["next"]
    assert case.number in {e["case"] for e in seen}
    assert all(str(e["region_code"]).startswith("152502") or e["case"] for e in seen)
