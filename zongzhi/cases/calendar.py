"""Working days: Monday to Friday, except configured holidays and weekend working days (调休)."""

import datetime

from django.utils import timezone

from zongzhi.cases.models import CalendarDay


def _exceptions(start: datetime.date, span_days: int) -> dict[datetime.date, bool]:
    end = start + datetime.timedelta(days=span_days)
    return dict(CalendarDay.objects.filter(day__gte=start, day__lte=end).values_list("day", "workday"))


def exceptions_for(start: datetime.datetime, days: int) -> dict[datetime.date, bool]:
    """The calendar exceptions that can matter for `days` working days from `start`, in one query."""
    # A generous window: even a run of long holidays cannot stretch n working days past 3n + 30.
    return _exceptions(timezone.localtime(start).date(), days * 3 + 30)


def is_workday(day: datetime.date, exceptions: dict[datetime.date, bool] | None = None) -> bool:
    if exceptions is None:
        exceptions = _exceptions(day, 0)
    return exceptions.get(day, day.isoweekday() <= 5)


def add_working_days(
    start: datetime.datetime, days: int, exceptions: dict[datetime.date, bool] | None = None
) -> datetime.datetime:
    """The end of the `days`-th working day after `start` (local time, 23:59:59)."""
    local = timezone.localtime(start)
    if exceptions is None:
        exceptions = exceptions_for(start, days)
    day, counted = local.date(), 0
    while counted < days:
        day += datetime.timedelta(days=1)
        if is_workday(day, exceptions):
            counted += 1
    end = datetime.datetime.combine(day, datetime.time(23, 59, 59))
    return timezone.make_aware(end, timezone.get_current_timezone())


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    if end <= start:
        return 0
    exceptions = _exceptions(start, (end - start).days)
    day, counted = start, 0
    while day < end:
        day += datetime.timedelta(days=1)
        counted += is_workday(day, exceptions)
    return counted
