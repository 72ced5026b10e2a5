"""python manage.py seed_demo --scale league|small [--seed N]"""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.demo.plan import DEMO_PASSWORD
from zongzhi.demo.residents import seed_residents
from zongzhi.demo.seed import seed


class Command(BaseCommand):
    help = "Build the Xilingol League demo data (idempotent: a second run adds nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            choices=["league", "small"],
            default="league",
            help="league: all 13 county-level units; small: Xilinhot only, for quick tests",
        )
        parser.add_argument("--seed", type=int, default=2025, help="random seed for generated names and figures")
        parser.add_argument(
            "--residents",
            action="store_true",
            help="also ~1.1 million residents in households (league) with a claim rate near 90%%",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PROD:
            raise CommandError("演示数据不能写入生产环境（ZONGZHI_ENV=prod）。")
        started = time.monotonic()
        report = seed(scale=options["scale"], seed_value=options["seed"])
        elapsed = time.monotonic() - started
        if report.total:
            detail = ", ".join(f"{k} {v}" for k, v in report.inserted.items() if v)
            self.stdout.write(f"seed_demo --scale {options['scale']}: inserted {detail} in {elapsed:.1f}s")
        else:
            self.stdout.write(f"seed_demo --scale {options['scale']}: already complete, nothing added ({elapsed:.1f}s)")
        if options["residents"]:
            started = time.monotonic()
            added = seed_residents(scale=options["scale"], seed_value=options["seed"])
            self.stdout.write(f"seed_demo --residents: inserted {added} residents in {time.monotonic() - started:.1f}s")
        self.stdout.write(f"demo password for every demo-* login: {DEMO_PASSWORD}")
