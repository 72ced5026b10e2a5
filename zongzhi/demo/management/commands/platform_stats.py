"""python manage.py platform_stats [--json] [--region CODE]"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from zongzhi.access import Scope
from zongzhi.regions.selectors import region_get
from zongzhi.stats import platform_stats


class Command(BaseCommand):
    help = "Print the platform's counts (regions by level, centers, orgs, accounts, grid people)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="one JSON object")
        parser.add_argument("--region", help="only under this region code")

    def handle(self, *args: Any, **options: Any) -> None:
        scope = Scope.everything()
        if options["region"]:
            try:
                region = region_get(scope, options["region"])
            except Http404 as exc:
                raise CommandError(f"区划代码“{options['region']}”不存在。") from exc
            scope = Scope.of_region(region.code, region.level)
        stats = platform_stats(scope)
        if options["json"]:
            self.stdout.write(json.dumps(stats, ensure_ascii=False))
            return
        for key, value in stats.items():
            self.stdout.write(f"{key}: {value}")
