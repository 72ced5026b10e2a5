"""The upper-level exchange, receiving side: another Zongzhi instance pushes its major cases and
monthly figures here by webhook (a subscription there, an `ExchangeSource` here: no code on either).

A delivery is accepted when its signature matches the source's secret and its timestamp is within
REPLAY_WINDOW; its delivery id is stored once, so a repeated delivery changes nothing.
"""

import hashlib
import hmac
import json
import time
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from zongzhi.access import Scope
from zongzhi.outbox.models import ExchangeItem, ExchangeSource

REPLAY_WINDOW = 300  # seconds


def source_set(*, name: str, secret: str) -> ExchangeSource:
    """Allow the instance `name` to push here, signing with `secret`."""
    source, _created = ExchangeSource.objects.update_or_create(name=name, defaults={"secret": secret})
    return source


def _signed(secret: str, body: bytes, timestamp: str, signature: str) -> bool:
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > REPLAY_WINDOW:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature, f"v1={expected}")


def receive(*, source: str, body: bytes, delivery: str, timestamp: str, signature: str) -> str:
    """Store one delivery: "stored", "repeated" (already had it), "refused" (signature) or "invalid"."""
    found = ExchangeSource.objects.filter(name=source).first()
    if found is None or not _signed(found.secret, body, timestamp, signature):
        return "refused"
    try:
        payload = json.loads(body)
        event = payload["event"]
        if payload["delivery"] != delivery:
            return "refused"
        fields = {
            "source": found,
            "delivery": delivery,
            "kind": str(event["kind"])[:40],
            "seq": int(event["seq"]),
            "case_number": str(event.get("case") or "")[:18],
            "region_code": str(event["region_code"])[:15],
            "period": str(event.get("data", {}).get("period", ""))[:7],
            "payload": event,
            "received_at": timezone.now(),
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        return "invalid"
    try:
        with transaction.atomic():
            ExchangeItem.objects.create(**fields)
    except IntegrityError:
        return "repeated"
    return "stored"


def major_cases(scope: Scope) -> list[dict[str, Any]]:
    """Each major case told here, as its latest event left it."""
    latest: dict[str, ExchangeItem] = {}
    rows = ExchangeItem.objects.filter(scope.q(), kind__startswith="case.").order_by("seq")
    for item in rows:
        latest[item.case_number] = item
    return [
        {"number": number, "case": item.payload.get("data", {}).get("case", {}), "last": item.payload}
        for number, item in sorted(latest.items())
    ]


def monthly_figures(scope: Scope) -> list[dict[str, Any]]:
    """The monthly figures told here, the newest period first, each region once per period."""
    latest: dict[tuple[str, str], ExchangeItem] = {}
    for item in ExchangeItem.objects.filter(scope.q(), kind="figures.monthly").order_by("seq"):
        latest[(item.period, item.region_code)] = item
    return [
        {
            "period": period,
            "region": region,
            "name": item.payload["data"].get("name", ""),
            **item.payload["data"]["figures"],
        }
        for (period, region), item in sorted(latest.items(), key=lambda kv: (kv[0][0], kv[0][1]), reverse=False)
    ]
