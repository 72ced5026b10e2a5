"""manage.py service_account NAME --org ORG --region PREFIX --allow cases:write[,…]: open one, print its token."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.centers.models import Org
from zongzhi.integration.models import ServiceAccount
from zongzhi.integration.services import service_account_create, service_token_issue
from zongzhi.regions import codes
from zongzhi.regions.models import Region


class Command(BaseCommand):
    help = "Create a service account (another system, not a person) and print its first bearer token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--org", required=True, help="code of the org it belongs to (acts as its liaison)")
        parser.add_argument(
            "--region", action="append", required=True, help="region code or code prefix of its jurisdiction"
        )
        parser.add_argument("--allow", default="", help="comma-separated rights, e.g. cases:read,cases:write")
        parser.add_argument("--channel", default=ServiceAccount.Channel.HOTLINE, help="Open311 intake: hotline|portal")
        parser.add_argument("--days", type=int, default=None, help="days the token is valid")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Org.objects.filter(code=options["org"]).first()
        if org is None:
            raise CommandError(f"单位“{options['org']}”不存在。")
        regions = []
        for given in options["region"]:
            region = Region.objects.filter(code=codes.full_code(given.strip())).first()
            if region is None:
                raise CommandError(f"辖区“{given}”不存在。")
            regions.append(region)
        try:
            account = service_account_create(
                actor=None,
                name=options["name"],
                org=org,
                regions=regions,
                permissions=options["allow"].split(","),
                open311_channel=options["channel"],
                cli=True,
            )
            _token, raw = service_token_issue(actor=None, account=account, days=options["days"], cli=True)
        except ValidationError as error:
            raise CommandError("；".join(m for ms in error.message_dict.values() for m in ms)) from error
        self.stdout.write(raw)
