"""python manage.py exchange_source NAME  (the secret on stdin): let a lower instance push here."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.outbox.exchange import source_set


class Command(BaseCommand):
    help = "Let the instance NAME push to /exchange/inbound/NAME, signing with the secret read from stdin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        secret = sys.stdin.readline().strip()
        if len(secret) < 16:
            raise CommandError("签名密钥至少 16 个字符（从标准输入读取）。")
        source_set(name=options["name"], secret=secret)
        self.stdout.write(f"/exchange/inbound/{options['name']}")
