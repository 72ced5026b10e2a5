"""The services' one time source: the wall clock, or the moment a backfill sets with `clock.as_of`."""

import datetime
import threading

import pytest
from django.utils import timezone

from zongzhi import clock
from zongzhi.cases import services
from zongzhi.cases.models import CaseEvent, State
from zongzhi.cases.services import PartyInput

from .test_case_lifecycle import register, who


def test_outside_as_of_it_is_the_wall_clock() -> None:
    before = timezone.now()
    now = clock.now()
    after = timezone.now()
    assert before <= now <= after
    assert clock.localdate() == timezone.localdate()
    assert not clock.backdated()


def test_as_of_sets_the_moment_and_gives_it_back() -> None:
    outer = timezone.make_aware(datetime.datetime(2025, 3, 3, 9, 30))
    inner = timezone.make_aware(datetime.datetime(2025, 3, 4, 23, 50))
    with clock.as_of(outer):
        assert clock.now() == outer
        assert clock.backdated()
        with clock.as_of(inner):
            assert clock.now() == inner
            assert clock.localdate() == datetime.date(2025, 3, 4)
        assert clock.now() == outer
    assert not clock.backdated()
    with pytest.raises(RuntimeError), clock.as_of(outer):
        raise RuntimeError("a failed step")
    assert not clock.backdated()  # the moment ends with its block, failure or not


def test_the_moment_belongs_to_the_thread_that_set_it() -> None:
    seen: list[bool] = []
    with clock.as_of(timezone.make_aware(datetime.datetime(2025, 3, 3, 9, 30))):
        other = threading.Thread(target=lambda: seen.append(clock.backdated()))
        other.start()
        other.join()
    assert seen == [False]


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError), clock.as_of(datetime.datetime(2025, 3, 3, 9, 30)):
        pass


@pytest.mark.django_db
def test_services_stamp_what_they_write_with_the_set_moment() -> None:
    """A case registered and accepted under `as_of` reads, on its page, as registered and accepted then."""
    day = timezone.localdate() - datetime.timedelta(days=40)
    registered = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 15)))
    accepted = registered + datetime.timedelta(hours=2)
    with clock.as_of(registered):
        case = register(
            occurred_on=day,  # "today" is the set day: not refused as a date in the future
            parties=[PartyInput(kind="person", role="applicant", name="巴特尔", phone="13804790001")],
        )
    # The acceptance deadline counts from the set moment, not from today.
    assert case.due_at == services.acceptance_due(case.category, case.risk_level, registered)
    with clock.as_of(accepted):
        case = services.case_accept(case=case, actor=who("intake"), version=case.version)
    case.refresh_from_db()
    assert case.state == State.ACCEPTED
    assert case.registered_at == registered
    assert case.number[6:14] == f"{day:%Y%m%d}"  # numbered on the day it was registered
    assert list(CaseEvent.objects.filter(case=case).order_by("version").values_list("kind", "at")) == [
        ("intake", registered),
        ("accept", accepted),
    ]


@pytest.mark.django_db
def test_without_as_of_the_services_stamp_the_wall_clock() -> None:
    before = timezone.now()
    case = register()
    assert before <= case.registered_at <= timezone.now()
    assert case.number[6:14] == f"{timezone.localdate():%Y%m%d}"
