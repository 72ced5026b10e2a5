"""python manage.py audit_verify [--checkpoints DIR]: check the audit chain and its checkpoints.

Exits 0 and says how many entries and which checkpoint when everything agrees; exits 1 and says where
(entry id, kind of break) otherwise. `--checkpoints` compares with another copy of the checkpoint files,
such as the receiver's (docs/audit.md).
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zongzhi.audit.services import audit_verify


class Command(BaseCommand):
    help = "Verify the audit log's HMAC-SM3 chain against its signed checkpoints; exit 1 on any break."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--checkpoints", type=Path, help="a directory of checkpoint files (default: the setting)")

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify(options["checkpoints"])
        out = self.stdout if result.intact else self.stderr
        for line in result.lines():
            out.write(line)
        if not result.intact:
            raise SystemExit(1)
