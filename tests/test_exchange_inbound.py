"""The regional platform's receiving end refuses a forged or replayed delivery and keeps each once."""

import json
import time
from typing import Any

import pytest

from zongzhi.outbox import exchange
from zongzhi.outbox.models import ExchangeItem
from zongzhi.outbox.webhooks import sign

SECRET = "inbound-secret-0123456789abcdef"


def delivery(delivery_id: str = "6f1c1b1e-0000-4000-8000-000000000001") -> bytes:
    event = {"seq": 7, "id": 70, "kind": "case.escalate", "case": "152502202612010001", "region_code": "152502001001"}
    return json.dumps({"delivery": delivery_id, "event": {**event, "data": {}}}).encode()


@pytest.mark.django_db
def test_signed_fresh_deliveries_are_kept_once_and_others_refused() -> None:
    exchange.source_set(name="xilingol", secret=SECRET)
    body, now = delivery(), int(time.time())
    args: dict[str, Any] = {"source": "xilingol", "body": body, "delivery": "6f1c1b1e-0000-4000-8000-000000000001"}
    assert exchange.receive(**args, timestamp=str(now), signature="v1=" + sign(SECRET, now, body)) == "stored"
    assert exchange.receive(**args, timestamp=str(now), signature="v1=" + sign(SECRET, now, body)) == "repeated"
    assert exchange.receive(
        **args, timestamp=str(now), signature="v1=" + sign("another-secret-xxxxxxxx", now, body)
    ) == ("refused")
    stale = now - exchange.REPLAY_WINDOW - 5
    assert exchange.receive(**args, timestamp=str(stale), signature="v1=" + sign(SECRET, stale, body)) == "refused"
    assert exchange.receive(**{**args, "source": "nobody"}, timestamp=str(now), signature="v1=x") == "refused"
    assert ExchangeItem.objects.count() == 1
