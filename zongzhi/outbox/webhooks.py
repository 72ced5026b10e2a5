"""Webhooks: fan the published events out to subscriptions, send them signed, retry, dead-letter.

Each subscription gets its events in `seq` order: a delivery is sent only when every earlier one of
that subscription is delivered or dead, so a receiver sees each case's events in order. No database
transaction is held while a receiver answers: a lease on the subscription row keeps a second worker
from sending the same deliveries at once.
"""

import datetime
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import inputs
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.outbox.models import Attempt, Delivery, Event, Subscription
from zongzhi.outbox.selectors import event_out, events_q

FAN_OUT_BATCH = 500
SEND_BATCH = 50  # deliveries read at once; the lease is renewed after each batch
LEASE = datetime.timedelta(minutes=2)
SIGNATURE_HEADER = "Zongzhi-Signature"
TIMESTAMP_HEADER = "Zongzhi-Timestamp"
DELIVERY_HEADER = "Zongzhi-Delivery"
EVENT_HEADER = "Zongzhi-Event"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>." + body, hex: what a receiver recomputes (docs/integration.md)."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _check_kinds(kinds: list[str]) -> list[str]:
    cleaned = []
    for kind in kinds:
        kind = kind.strip()
        if not kind:
            continue
        if len(kind) > 40 or not all(c.isascii() and (c.isalnum() or c in "._*") for c in kind):
            raise ValidationError(
                {"kinds": [_("事件类型“%(k)s”无效：只能含字母、数字、点、下划线和 *。") % {"k": kind[:40]}]}
            )
        cleaned.append(kind)
    return cleaned


def subscription_create(
    *,
    user: Any,
    actor: Any,
    name: str,
    url: str,
    kinds: list[str],
    region_prefix: str = "",
    major_only: bool = False,
    secret: str = "",
    max_attempts: int | None = None,
) -> tuple[Subscription, str]:
    """Subscribe `user` (a service account) to its events at `url`; returns it and the signing secret."""
    errors: dict[str, list[str]] = inputs.text_errors(Subscription, {"name": name, "region_prefix": region_prefix})
    if not name.strip():
        errors["name"] = [_("请填写订阅名称。")]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        errors["url"] = [_("接收地址应为 http:// 或 https:// 开头的完整网址。")]
    elif settings.WEBHOOK_PUBLIC_ONLY and not _public(parts.scheme, parts.hostname):
        errors["url"] = [_("接收地址应为 https:// 开头的外部地址，不能是本机或内网地址。")]
    if region_prefix and not region_prefix.isdigit():
        errors["region_prefix"] = [_("辖区代码前缀只能是数字。")]
    if max_attempts is not None and not 1 <= max_attempts <= 50:
        errors["max_attempts"] = [_("最多投递次数应在 1 到 50 之间。")]
    if secret and len(secret) < 16:
        errors["secret"] = [_("签名密钥至少 16 个字符。")]
    try:
        kinds = _check_kinds(kinds)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    secret = secret or secrets.token_urlsafe(32)
    with transaction.atomic():
        # Starts at the present: a new receiver is not flooded with the whole history.
        cursor = Event.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", flat=True).first() or 0
        subscription = Subscription.objects.create(
            user=user,
            owner=actor if getattr(actor, "pk", None) and actor.pk != user.pk else None,
            name=name.strip(),
            url=url,
            secret=secret,
            kinds=kinds,
            region_prefix=region_prefix,
            major_only=major_only,
            max_attempts=max_attempts,
            cursor=cursor,
        )
        audit_record(
            action=AuditEntry.Action.WEBHOOK_SUBSCRIBED,
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=getattr(actor, "username", "cli"),
            target=user.username,
            detail={"subscription": subscription.pk, "url": url, "kinds": kinds},
        )
    return subscription, secret


def _public(scheme: str, host: str) -> bool:
    """In production a receiver is reached over https, never at this machine or a private address
    (a subscription must not make the server call its own network); WEBHOOK_ALLOWED_HOSTS may name exceptions."""
    if host in settings.WEBHOOK_ALLOWED_HOSTS:
        return True
    if scheme != "https" or host == "localhost":
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name: resolved by the receiver's DNS, checked by the operator who grants the right
    return address.is_global


def _kinds_q(kinds: list[str]) -> Q:
    if not kinds:
        return Q()
    q = Q(pk__in=[])
    for kind in kinds:
        q |= Q(kind__startswith=kind[:-1]) if kind.endswith("*") else Q(kind=kind)
    return q


def fan_out(subscription: Subscription) -> int:
    """Create the deliveries of the events published since the subscription's cursor; returns how many."""
    window = list(
        Event.objects.filter(seq__gt=subscription.cursor).order_by("seq").values_list("seq", flat=True)[:FAN_OUT_BATCH]
    )
    if not window:
        return 0
    upto = window[-1] or 0
    matching = Event.objects.filter(
        events_q(subscription.user),
        _kinds_q(subscription.kinds),
        seq__gt=subscription.cursor,
        seq__lte=upto,
        region_code__startswith=subscription.region_prefix,
    )
    if subscription.major_only:
        matching = matching.filter(Q(major=True) | Q(case__isnull=True))
    now = timezone.now()
    with transaction.atomic():
        # Another worker that fanned out the same window first wins; this one writes nothing.
        if not Subscription.objects.filter(pk=subscription.pk, cursor=subscription.cursor).update(cursor=upto):
            return 0
        rows = [
            Delivery(subscription=subscription, event_id=pk, seq=seq or 0, next_attempt_at=now)
            for pk, seq in matching.order_by("seq").values_list("pk", "seq")
        ]
        Delivery.objects.bulk_create(rows)
    subscription.cursor = upto
    return len(rows)


def _max_attempts(subscription: Subscription) -> int:
    return subscription.max_attempts or settings.WEBHOOK_MAX_ATTEMPTS


def backoff(attempts: int) -> datetime.timedelta:
    """Exponential: base × 2^(attempts − 1), at most WEBHOOK_BACKOFF_MAX seconds."""
    seconds = min(settings.WEBHOOK_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), settings.WEBHOOK_BACKOFF_MAX)
    return datetime.timedelta(seconds=seconds)


def body_of(delivery: Delivery) -> bytes:
    return json.dumps(
        {"delivery": str(delivery.pk), "event": event_out(delivery.event)}, ensure_ascii=False, separators=(",", ":")
    ).encode()


def _post(subscription: Subscription, delivery: Delivery) -> tuple[int | None, str]:
    """One HTTP POST; (status, error): status None when no answer came."""
    body = body_of(delivery)
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - the subscriber's own configured address
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Zongzhi-Webhooks/1",
            DELIVERY_HEADER: str(delivery.pk),
            EVENT_HEADER: delivery.event.kind,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: "v1=" + sign(subscription.secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            response.read(1024)
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, f"{type(reason).__name__}: {reason}"[:300]


def _claim(subscription: Subscription) -> bool:
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return bool(Subscription.objects.filter(free, pk=subscription.pk).update(lease_until=now + LEASE))


def deliver(subscription: Subscription, *, budget: int = 1000) -> dict[str, int]:
    """Send the subscription's due deliveries in order, stopping at the first failure (it waits its backoff)."""
    counts = {"delivered": 0, "failed": 0, "dead": 0}
    if not _claim(subscription):
        return counts
    try:
        sent = 0
        while sent < budget:
            batch = list(
                Delivery.objects.select_related("event")
                .filter(subscription=subscription, status=Delivery.Status.PENDING)
                .order_by("seq")[:SEND_BATCH]
            )
            if not batch:
                break
            for delivery in batch:
                if delivery.next_attempt_at > timezone.now():
                    return counts  # the head waits for its retry, and everything behind it
                started = time.monotonic()
                status, error = _post(subscription, delivery)
                outcome = _record(subscription, delivery, status, error, int((time.monotonic() - started) * 1000))
                counts[outcome] += 1
                sent += 1
                if outcome == "failed":
                    return counts
            Subscription.objects.filter(pk=subscription.pk).update(lease_until=timezone.now() + LEASE)
    finally:
        Subscription.objects.filter(pk=subscription.pk).update(lease_until=None)
    return counts


def _record(subscription: Subscription, delivery: Delivery, status: int | None, error: str, ms: int) -> str:
    now = timezone.now()
    ok = status is not None and 200 <= status < 300
    attempts = delivery.attempts + 1
    if ok:
        outcome, changes = "delivered", {"status": Delivery.Status.DELIVERED, "delivered_at": now, "last_error": ""}
    elif attempts >= _max_attempts(subscription):
        outcome, changes = "dead", {"status": Delivery.Status.DEAD, "last_error": error or f"HTTP {status}"}
    else:
        outcome = "failed"
        changes = {"next_attempt_at": now + backoff(attempts), "last_error": error or f"HTTP {status}"}
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(attempts=attempts, last_status=status, **changes)
        Attempt.objects.create(delivery=delivery, at=now, status=status, error=error[:300], milliseconds=ms)
    return outcome


def next_due() -> datetime.datetime | None:
    """When the earliest waiting retry is due (the worker schedules itself for then)."""
    return (
        Delivery.objects.filter(status=Delivery.Status.PENDING, subscription__active=True)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
