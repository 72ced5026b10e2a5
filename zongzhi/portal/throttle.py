"""Rate limits kept in the database (fixed windows), so they hold across processes and restarts."""

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from zongzhi.crypto import blind_index
from zongzhi.portal.models import ThrottleCounter


@dataclass(frozen=True)
class Limit:
    name: str
    hits: int
    seconds: int


# Codes: one a minute and five an hour per phone; twenty an hour per address.
CODE_PER_PHONE_MINUTE = Limit("code-phone-1m", 1, 60)
CODE_PER_PHONE_HOUR = Limit("code-phone-1h", 5, 3600)
CODE_PER_IP = Limit("code-ip", 20, 3600)
APPLY_PER_PHONE = Limit("apply-phone", 3, 86400)
APPLY_PER_IP = Limit("apply-ip", 10, 86400)
# Receipt lookups: few wrong guesses per address and hour. Codes carry ~60 bits, so this only
# makes guessing pointless faster; the answer is the same for "wrong" and "throttled".
RECEIPT_PER_IP = Limit("receipt-ip", 10, 3600)
BOOK_PER_IP = Limit("book-ip", 10, 86400)


def _key(limit: Limit, who: str) -> str:
    # Keyed hash: the table holds no addresses or phone numbers.
    return f"{limit.name}:{blind_index(who)[:40]}"


def _window(limit: Limit) -> datetime.datetime:
    now = int(timezone.now().timestamp())
    return datetime.datetime.fromtimestamp(now - now % limit.seconds, tz=datetime.UTC)


def hit(limit: Limit, who: str) -> bool:
    """Count one hit for `who`; False when that goes over the limit in the current window."""
    key, start = _key(limit, who), _window(limit)
    with transaction.atomic():
        # The increment is one UPDATE: concurrent hits queue on the row and each sees its own count.
        if not ThrottleCounter.objects.filter(key=key, window_start=start).update(hits=F("hits") + 1):
            try:
                with transaction.atomic():
                    ThrottleCounter.objects.create(key=key, window_start=start, hits=1)
            except IntegrityError:
                ThrottleCounter.objects.filter(key=key, window_start=start).update(hits=F("hits") + 1)
        hits = ThrottleCounter.objects.filter(key=key, window_start=start).values_list("hits", flat=True).get()
    return hits <= limit.hits


def exceeded(limit: Limit, who: str) -> bool:
    """Whether `who` is already over the limit, without counting a hit."""
    row = ThrottleCounter.objects.filter(key=_key(limit, who), window_start=_window(limit)).first()
    return row is not None and row.hits >= limit.hits


def forget_old(before_days: int = 2) -> int:
    """Delete counters of windows long past (run by the portal's services now and then)."""
    cutoff = timezone.now() - datetime.timedelta(days=before_days)
    deleted, _ = ThrottleCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted
