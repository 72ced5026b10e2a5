"""python manage.py service_area ORG REGION [--remove]: an org takes cases of a region outside its county."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.centers.models import Org, ServiceArea
from zongzhi.centers.services import service_area_add, service_area_remove
from zongzhi.regions.models import Region


class Command(BaseCommand):
    help = "Let an org (by code) take cases of a region (by code) outside its own county, or stop it (--remove)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("org")
        parser.add_argument("region")
        parser.add_argument("--remove", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Org.objects.filter(code=options["org"]).first()
        if org is None:
            raise CommandError(f"单位代码“{options['org']}”不存在。")
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(f"区划代码“{options['region']}”不存在。")
        if options["remove"]:
            area = ServiceArea.objects.filter(org=org, region=region).first()
            if area is None:
                raise CommandError(f"“{org.name}”没有服务“{region.name}”的设置。")
            service_area_remove(actor=None, area=area)
            self.stdout.write(f"已取消：{org.name} 不再接收 {region.name} 的新案件。")
            return
        try:
            service_area_add(actor=None, org=org, region=region)
        except ValidationError as error:
            raise CommandError("；".join(error.messages)) from error
        self.stdout.write(f"已设置：{org.name} 可接收 {region.name} 的案件。")
