"""python manage.py demo_logins: who the demo-* logins are and how to sign in with them."""

from typing import Any

from django.core.management.base import BaseCommand

from zongzhi.accounts.models import User
from zongzhi.demo.plan import DEMO_PASSWORD


class Command(BaseCommand):
    help = "List the demo logins with their roles and places, and explain the TOTP step."

    def handle(self, *args: Any, **options: Any) -> None:
        users = (
            User.objects.filter(username__startswith="demo-")
            .prefetch_related("memberships__org", "memberships__center", "jurisdictions__region")
            .order_by("username")
        )
        self.stdout.write("\n演示账号 demo logins  (http://127.0.0.1:8000/staff/login/)")
        self.stdout.write(f"password for all: {DEMO_PASSWORD}\n")
        for user in users:
            # One role held at several centers (demo-township directs every township center) reads once.
            roles = "、".join(dict.fromkeys(str(m.get_role_display()) for m in user.memberships.all()))
            places = "、".join(j.region.name for j in user.jurisdictions.all()) or "—"
            self.stdout.write(f"  {user.username:<16} {roles:<10} {places}")
        self.stdout.write(
            "\nSecond factor (TOTP): run `.venv/bin/python manage.py demo_totp` in another terminal for the"
            "\ncurrent 6-digit codes, or `demo_totp --uri demo-leader` to add the account to a phone app.\n"
        )
