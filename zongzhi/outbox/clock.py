"""Events raised by the calendar rather than by a change: each one is told once (its outbox `key`).

- an agreement's instalment due within SMS_INSTALMENT_NOTICE_DAYS, and one overdue (still unpaid);
- the reminder (催告) of every instalment overdue, however old (`instalment_reminders_task`, a task of
  settings.SCHEDULED_TASKS): the same outbox key as the overdue notice, so a party hears of it once;
- the previous month's figures of the league and of each county (the upper-level exchange).
`manage.py scheduler` queues `clock_task` on every tick; a tick that finds nothing new writes nothing.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Sum, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django_tasks import task

from zongzhi.cases.models import Instalment, State
from zongzhi.dashboards.models import Tally
from zongzhi.outbox.models import Event
from zongzhi.outbox.services import event_record
from zongzhi.regions.models import Region

OVERDUE_WINDOW = datetime.timedelta(days=7)
FIGURES = (
    "cases",
    "closed",
    "settled",
    "failed",
    "major",
    "escalated",
    "overdue",
    "supervised",
    "agreements",
    "satisfied",
    "basically",
    "dissatisfied",
    "amount_involved",
    "amount_agreed",
)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value or 0


def instalment_events(today: datetime.date) -> int:
    """The unpaid instalments coming due soon or overdue, each told once of each."""
    told = 0
    soon = today + datetime.timedelta(days=settings.SMS_INSTALMENT_NOTICE_DAYS)
    # Overdue for a week at most: a first tick on old data does not tell of years-old instalments.
    rows = Instalment.objects.filter(
        paid_on__isnull=True, due_on__lte=soon, due_on__gte=today - OVERDUE_WINDOW
    ).select_related("agreement__case")
    for instalment in rows.order_by("due_on", "id")[:5000]:
        case = instalment.agreement.case
        overdue = instalment.due_on < today
        kind = "instalment_overdue" if overdue else "instalment_due"
        with transaction.atomic():
            told += bool(
                event_record(
                    kind=f"case.{kind}",
                    case=case,
                    region_code=case.region_code,
                    key=f"{kind}:{instalment.pk}",  # the overdue one: `reminder_key`
                    data={"due_on": instalment.due_on.isoformat(), "amount": str(instalment.amount)},
                )
            )
    return told


REMINDERS_PER_TICK = 500


def reminder_key(instalment_pk: int) -> str:
    """The outbox key of an instalment's overdue notice: shared with `instalment_events`, so told once."""
    return f"instalment_overdue:{instalment_pk}"


def instalment_reminders(today: datetime.date) -> int:
    """催告: each instalment past due and not paid in full, however long ago, reminds its case's parties
    once (the `case.instalment_overdue` SMS notice, with what is still owed). A tick takes the oldest
    REMINDERS_PER_TICK not yet told, so a first run on old data spreads over a few ticks."""
    told_already = Event.objects.filter(
        key=Concat(Value("instalment_overdue:"), Cast(OuterRef("pk"), output_field=CharField()))
    )
    rows = (
        Instalment.objects.filter(paid_on__isnull=True, due_on__lt=today)
        .exclude(agreement__case__state=State.WITHDRAWN)
        .exclude(Exists(told_already))
        .select_related("agreement__case")
        .order_by("due_on", "id")[:REMINDERS_PER_TICK]
    )
    told = 0
    for instalment in rows:
        case = instalment.agreement.case
        with transaction.atomic():
            told += bool(
                event_record(
                    kind="case.instalment_overdue",
                    case=case,
                    region_code=case.region_code,
                    key=reminder_key(instalment.pk),
                    data={
                        "due_on": instalment.due_on.isoformat(),
                        "amount": str(instalment.outstanding),
                        "days_overdue": (today - instalment.due_on).days,
                    },
                )
            )
    return told


@task()
def instalment_reminders_task() -> dict[str, int]:
    """The reminders of overdue instalments (settings.SCHEDULED_TASKS queues it on every tick)."""
    return {"reminded": instalment_reminders(timezone.localdate())}


def month_figures(region: Region, month: datetime.date) -> dict[str, Any]:
    """The figures of the cases registered in `month` under `region`, from the dashboards' tallies."""
    totals = Tally.objects.filter(node=region.code, month=month).aggregate(**{f: Sum(f) for f in FIGURES})
    return {name: _plain(value) for name, value in totals.items()}


def figures_events(today: datetime.date) -> int:
    """Last month's figures of the league and each county, once per region and month."""
    month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    period = f"{month:%Y-%m}"
    told = 0
    for region in Region.objects.filter(level__in=(Region.Level.LEAGUE, Region.Level.COUNTY)).order_by("code"):
        with transaction.atomic():
            told += bool(
                event_record(
                    kind="figures.monthly",
                    region_code=region.code,
                    key=f"figures:{region.code}:{period}",
                    data={
                        "period": period,
                        "region": region.code,
                        "name": region.name,
                        "figures": month_figures(region, month),
                    },
                )
            )
    return told


def clock_events(today: datetime.date) -> dict[str, int]:
    return {"instalments": instalment_events(today), "figures": figures_events(today)}


@task()
def clock_task() -> dict[str, int]:
    """The calendar's events for today (instalments, last month's figures)."""
    return clock_events(timezone.localdate())
