"""python manage.py seed_demo --scale league|small [--seed N] [--living | --residents]"""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.demo.field import seed_field
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
            "--living",
            action="store_true",
            help="a living demo (make run): Xilinhot's ~260,000 residents claimed by their grid workers, "
            "its 乌日特 with circuits and logged stops, yurt stations, open days",
        )
        parser.add_argument(
            "--residents",
            action="store_true",
            help="as --living, with the residents of the whole scale (league: ~1.1 million)",
        )

        parser.add_argument(
            "--residents-grids",
            type=int,
            default=None,
            help="residents of only this many grids, spread evenly over the scale's (quick tests)",
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
        if options["living"] or options["residents"]:
            self._living(options)
        self.stdout.write(f"demo password for every demo-* login: {DEMO_PASSWORD}")

    def _living(self, options: dict[str, Any]) -> None:
        # Households and residents (claimed by their grid workers) of the demo county, or of the whole
        # scale with --residents; then the county's field work, which serves those households.
        started = time.monotonic()
        residents_scale = options["scale"] if options["residents"] else "small"
        added = seed_residents(
            scale=residents_scale, seed_value=options["seed"], limit_grids=options["residents_grids"]
        )
        self.stdout.write(
            f"seed_demo residents ({'Xilinhot' if residents_scale == 'small' else 'league'}): "
            f"inserted {added} in {time.monotonic() - started:.1f}s"
        )
        started = time.monotonic()
        field = seed_field(seed_value=options["seed"])
        detail = ", ".join(f"{k} {v}" for k, v in vars(field).items() if v) or "nothing added"
        self.stdout.write(f"seed_demo field work: {detail} ({time.monotonic() - started:.1f}s)")
