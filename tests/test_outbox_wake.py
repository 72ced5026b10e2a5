"""The outbox's wake-up after a commit: a dispatch is queued unless one is already waiting.

`tasks._waiting` is written in SQL (it runs after every commit that wrote to the outbox); it must say
what django-tasks' own queryset says, for each kind of queued task, on both databases.
"""

import datetime

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from zongzhi.outbox import tasks

pytestmark = pytest.mark.django_db


def _queued() -> int:
    return DBTaskResult.objects.filter(task_path=tasks.dispatch_task.module_path, status="READY").count()


def _orm_waiting(before: datetime.datetime | None = None) -> bool:
    rows = DBTaskResult.objects.filter(task_path=tasks.dispatch_task.module_path, status="READY")
    return (rows.ready() if before is None else rows.filter(run_after__lte=before)).exists()


def test_a_dispatch_is_queued_once_however_many_commits_wake_it() -> None:
    DBTaskResult.objects.all().delete()
    tasks.dispatch_soon()
    tasks.dispatch_soon()
    assert _queued() == 1
    assert tasks._waiting() is True


@pytest.mark.parametrize("shift", [None, -60, 3600])  # as soon as a worker is free; a minute ago; in an hour
def test_the_check_says_what_the_task_queue_says(shift: int | None) -> None:
    DBTaskResult.objects.all().delete()
    now = timezone.now()
    if shift is None:
        tasks.dispatch_task.enqueue()
    else:
        tasks.dispatch_task.using(run_after=now + datetime.timedelta(seconds=shift)).enqueue()
    for before in (None, now, now + datetime.timedelta(hours=2)):
        assert tasks._waiting(before) is _orm_waiting(before), (shift, before)
    assert tasks._waiting() is (shift != 3600)  # a retry due in an hour does not send what is new now


def test_a_retry_waiting_for_later_does_not_hold_back_a_dispatch_now() -> None:
    DBTaskResult.objects.all().delete()
    tasks.dispatch_task.using(run_after=timezone.now() + datetime.timedelta(hours=1)).enqueue()
    tasks.dispatch_soon()
    assert _queued() == 2
