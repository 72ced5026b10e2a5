"""python manage.py issue_token USERNAME [--name NAME]: a bearer token for a service account."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.accounts.models import User
from zongzhi.accounts.services import token_issue


class Command(BaseCommand):
    help = "Print a new API bearer token for USERNAME (it acts with that user's roles and jurisdiction)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="service", help="what the token is for")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"账号“{options['username']}”不存在或已停用。")
        self.stdout.write(token_issue(user=user, name=options["name"]))
