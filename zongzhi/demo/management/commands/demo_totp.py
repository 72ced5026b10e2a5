"""python manage.py demo_totp [USERNAME ...]: the current TOTP codes of demo logins."""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Print the current 6-digit TOTP code of demo-* logins (development only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("usernames", nargs="*", help="default: every demo-* login")
        parser.add_argument("--uri", action="store_true", help="also print the otpauth:// URI to add to a phone app")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PROD:
            raise CommandError("生产环境不提供动态口令。")
        devices = TOTPDevice.objects.filter(confirmed=True).select_related("user").order_by("user__username")
        if options["usernames"]:
            devices = devices.filter(user__username__in=options["usernames"])
        else:
            devices = devices.filter(user__username__startswith="demo-")
        if not devices:
            raise CommandError("没有找到已绑定动态口令的演示账号；请先运行 seed_demo。")
        for device in devices:
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
            totp.time = time.time()
            code = f"{totp.token():0{device.digits}d}"
            line = f"{device.user.username:<16} {code}  (valid {device.step - int(time.time()) % device.step:>2}s)"
            if options["uri"]:
                line += f"  {device.config_url}"
            self.stdout.write(line)
