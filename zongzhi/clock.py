"""The one time source of the case services: the wall clock, or a moment a backfill sets.

`now()` and `localdate()` are `timezone.now()` and `timezone.localdate()` except inside
`as_of(moment)`, where they answer `moment` (and its local day). A backfill that writes a past
history through the services (a ledger import, the demo seeder) runs each step under the moment
it happened, so what the services stamp (events, deadlines, document numbers, receipts) and keep
(rollups, facts) is what they would have written then. The moment is a context variable: it
belongs to the thread or task that set it and ends with the `with` block, nested blocks included.
"""

import contextvars
import datetime
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

_moment: contextvars.ContextVar[datetime.datetime | None] = contextvars.ContextVar("zongzhi_clock", default=None)


def now() -> datetime.datetime:
    """The current moment: the one `as_of` set, else the wall clock (`timezone.now()`)."""
    moment = _moment.get()
    return timezone.now() if moment is None else moment


def localdate() -> datetime.date:
    """The current local day (the project's time zone) of `now()`."""
    return timezone.localdate(now())


def backdated() -> bool:
    """Whether an `as_of` block is in force (the clock answers a set moment, not the wall clock)."""
    return _moment.get() is not None


@contextmanager
def as_of(moment: datetime.datetime) -> Iterator[datetime.datetime]:
    """Within the block `now()` is `moment` (an aware datetime); afterwards what it was before."""
    if timezone.is_naive(moment):
        raise ValueError("clock.as_of needs an aware datetime")
    token = _moment.set(moment)
    try:
        yield moment
    finally:
        _moment.reset(token)
