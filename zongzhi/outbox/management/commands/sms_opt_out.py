"""python manage.py sms_opt_out [--undo]  (the phone on stdin): a resident's TD reply to the notices."""

import re
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.outbox.services import sms_preference_set


class Command(BaseCommand):
    help = "Stop (or with --undo resume) SMS notices to the phone read from stdin (never from the command line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--undo", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        phone = re.sub(r"[\s-]", "", sys.stdin.readline())
        if not re.fullmatch(r"1\d{10}", phone):
            raise CommandError("手机号应为 11 位数字，以 1 开头。")
        sms_preference_set(phone=phone, opt_out=not options["undo"])
        self.stdout.write("已恢复短信通知。" if options["undo"] else "已退订短信通知。")
