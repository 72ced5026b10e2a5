"""python manage.py webhook_subscribe USERNAME URL [--kinds K,…] [--region PREFIX] [--major-only] [--owner USER]"""

import sys
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.accounts.models import User
from zongzhi.outbox.webhooks import subscription_create


class Command(BaseCommand):
    help = "Subscribe a service account to its events by webhook; prints the signing secret (once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the service account's user")
        parser.add_argument("url", help="where the events are POSTed")
        parser.add_argument("--name", default="", help="a name for the subscription (default: the URL's host)")
        parser.add_argument("--kinds", default="", help="comma-separated event kinds, e.g. case.*,figures.monthly")
        parser.add_argument("--region", default="", help="only events under this region-code prefix")
        parser.add_argument("--major-only", action="store_true", help="case events of major cases only")
        parser.add_argument("--owner", default="", help="the person answerable (sees the delivery log)")
        parser.add_argument("--max-attempts", type=int, default=None, help="attempts before the dead letter")
        parser.add_argument("--secret-stdin", action="store_true", help="read the signing secret from stdin")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"没有账号“{options['username']}”。")
        owner = None
        if options["owner"]:
            owner = User.objects.filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"没有账号“{options['owner']}”。")
        secret = sys.stdin.readline().strip() if options["secret_stdin"] else ""
        try:
            subscription, secret = subscription_create(
                user=user,
                actor=owner or user,
                name=options["name"] or urlsplit(options["url"]).hostname or options["url"],
                url=options["url"],
                kinds=[k for k in options["kinds"].split(",") if k],
                region_prefix=options["region"],
                major_only=options["major_only"],
                secret=secret,
                max_attempts=options["max_attempts"],
            )
        except ValidationError as error:
            raise CommandError("；".join(m for ms in error.message_dict.values() for m in ms)) from error
        self.stdout.write(f"{subscription.pk} {secret}")
