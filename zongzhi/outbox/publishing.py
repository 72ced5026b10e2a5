"""Publishing: numbering the committed events of the outbox in the order they became visible."""

from django.db import transaction

from zongzhi.outbox.models import Event, Publisher

PUBLISH_BATCH = 1000


def publish(limit: int = PUBLISH_BATCH) -> int:
    """Number the committed, unpublished events in order; returns how many. One publisher at a time.

    Under the publisher's row lock a fresh statement sees every transaction committed before it; an
    event still uncommitted is invisible and gets a higher number once it commits. So numbers are
    given in the order events became visible, and a reader following `seq` skips none.
    """
    if not Event.objects.filter(seq__isnull=True).exists():
        return 0  # the common case takes no lock (on SQLite no write lock at all)
    published = 0
    while True:
        with transaction.atomic():
            publisher, _created = Publisher.objects.select_for_update().get_or_create(pk=1)
            ids = list(Event.objects.filter(seq__isnull=True).order_by("id").values_list("id", flat=True)[:limit])
            if not ids:
                return published
            rows = [Event(pk=pk, seq=publisher.last_seq + n) for n, pk in enumerate(ids, start=1)]
            Event.objects.bulk_update(rows, ["seq"], batch_size=500)
            Publisher.objects.filter(pk=1).update(last_seq=publisher.last_seq + len(ids))
        published += len(ids)
        if len(ids) < limit:
            return published
