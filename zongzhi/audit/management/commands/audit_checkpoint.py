"""python manage.py audit_checkpoint [--public-key]: write a signed checkpoint of the audit chain now.

`--public-key` prints the checkpoint signer's public key instead, for the receiver (docs/audit.md).
The scheduler (`manage.py scheduler`) queues one on every tick.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zongzhi.audit import checkpoints, keys
from zongzhi.audit.services import audit_checkpoint


class Command(BaseCommand):
    help = "Append a signed checkpoint (head id, head hash, count, time) of the audit chain to the checkpoint files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--public-key", action="store_true", help="print the signer's public key and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["public_key"]:
            signing = keys.signing_keys()
            self.stdout.write(f"{signing.key_id} {keys.public_key_text(signing.private.public_key())}")
            return
        written = audit_checkpoint()
        self.stdout.write(f"已写入{written.describe()}：{checkpoints.directory() / written.source}")
