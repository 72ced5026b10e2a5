"""The reminder of overdue instalments: a scheduled task (settings.SCHEDULED_TASKS) that tells each
party of an instalment past due, however old, once by SMS through the outbox, with what is still owed.

Bater (the applicant, with a phone) agreed to be paid in two instalments; the first is 14 months
overdue and half paid. Every tick of the scheduler runs the task; he hears of it exactly once.
"""

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.test_case_handling import in_progress
from tests.test_case_lifecycle import who
from zongzhi.cases import services
from zongzhi.cases.models import Instalment
from zongzhi.cases.services import InstalmentInput
from zongzhi.outbox import notices
from zongzhi.outbox.clock import instalment_reminders_task
from zongzhi.outbox.models import SmsMessage
from zongzhi.outbox.publishing import publish


@pytest.fixture(autouse=True)
def gateway(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.SMS_BACKEND = "file"
    settings.SMS_DIR = tmp_path
    settings.SMS_QUIET_HOURS = (0, 0)
    return tmp_path


@pytest.mark.django_db
def test_an_overdue_instalment_is_told_once_however_often_the_task_runs(client_as) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    long_ago = today - datetime.timedelta(days=430)
    case = in_progress()
    case = services.case_resolve(
        case=case,
        actor=who("liaison"),
        version=case.version,
        facts="拖欠草料款。",
        terms="被申请人分两期支付 5000 元。",
        amount="5000",
        performance_method="分两期转账",
        signed_on=long_ago - datetime.timedelta(days=30),
        instalments=[InstalmentInput(long_ago, Decimal("2000")), InstalmentInput(today, Decimal("3000"))],
    )
    late = Instalment.objects.get(agreement__case=case, due_on=long_ago)
    services.instalment_pay(case=case, actor=who("director"), instalment=late, paid_on=today, paid_amount="1000")
    page = client_as("director").get("/staff/cases/instalments/overdue/").content.decode()
    assert f'data-instalment="{late.pk}"' in page

    # The seeded history has overdue instalments too (a tick tells 500, the oldest first): run until
    # all are told, then tick twice more.
    assert "zongzhi.outbox.clock.instalment_reminders_task" in settings.SCHEDULED_TASKS
    while instalment_reminders_task.call()["reminded"]:
        pass
    for _tick in range(2):
        assert instalment_reminders_task.call() == {"reminded": 0}
    publish()
    notices.fan_out()
    told = SmsMessage.objects.filter(case=case, notice="instalment_overdue")
    assert told.count() == 1  # one party has a phone: told once
    assert "1000.00 元已逾期" in told.get().text
    assert not SmsMessage.objects.filter(case=case, notice="instalment_due").exists()  # the other is not late
    page = client_as("director").get("/staff/cases/instalments/overdue/").content.decode()
    row = page[page.index(f'data-instalment="{late.pk}"') :]
    assert "已提醒" in row[: row.index("</tr>")]


@pytest.mark.django_db
def test_the_scheduler_queues_the_reminder() -> None:
    call_command("scheduler", "--once", stdout=io.StringIO())
    assert DBTaskResult.objects.filter(task_path=instalment_reminders_task.module_path).exists()
