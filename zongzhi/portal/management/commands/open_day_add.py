"""python manage.py open_day_add CENTER_CODE YYYY-MM-DD [--from 09:00] [--to 11:30] [--capacity 30]"""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.centers.models import Center
from zongzhi.portal.openday import open_day_schedule


def _time(value: str) -> datetime.time:
    try:
        return datetime.time.fromisoformat(value)
    except ValueError:
        raise CommandError(f"时间“{value}”应写成 09:00 这样的格式。") from None


class Command(BaseCommand):
    help = "List a day a center opens to visitors (开放日), with the number of places, on the public portal."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("center", help="center code, e.g. ZZ-152502")
        parser.add_argument("day", help="YYYY-MM-DD")
        parser.add_argument("--from", dest="starts", default="09:00")
        parser.add_argument("--to", dest="ends", default="11:30")
        parser.add_argument("--capacity", type=int, default=30)

    def handle(self, *args: Any, **options: Any) -> None:
        center = Center.objects.filter(code=options["center"]).first()
        if center is None:
            raise CommandError(f"中心“{options['center']}”不存在。")
        try:
            day = datetime.date.fromisoformat(options["day"])
        except ValueError:
            raise CommandError(f"日期“{options['day']}”应写成 2026-12-05 这样的格式。") from None
        try:
            open_day = open_day_schedule(
                center=center,
                day=day,
                starts=_time(options["starts"]),
                ends=_time(options["ends"]),
                capacity=options["capacity"],
            )
        except ValidationError as error:
            raise CommandError("；".join(error.messages)) from None
        self.stdout.write(
            f"{center.name} {open_day.day} {open_day.starts:%H:%M}—{open_day.ends:%H:%M}，名额 {open_day.capacity}"
        )
