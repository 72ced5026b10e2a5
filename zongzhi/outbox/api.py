"""The event feed and webhook subscriptions on the API (/api/v1/events, /api/v1/webhooks)."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from zongzhi import access
from zongzhi.api_access import require_resource
from zongzhi.api_schemas import WRITE
from zongzhi.identity import mask_phone
from zongzhi.outbox import publishing, services, webhooks
from zongzhi.outbox.selectors import event_out, events_archived_upto, events_visible, subscriptions_visible

router = Router(tags=["事件"])
FEED_LIMIT = 500


class EventOut(Schema):
    seq: int
    id: int
    kind: str
    at: str
    case: str | None
    region_code: str
    major: bool
    data: dict[str, Any]


class FeedOut(Schema):
    events: list[EventOut]
    next: str


class ErrorOut(Schema):
    detail: str


class SubscriptionIn(Schema):
    name: str
    url: str
    kinds: list[str] = []
    region_prefix: str = ""
    major_only: bool = False
    secret: str = ""
    max_attempts: int | None = None


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    kinds: list[str]
    region_prefix: str
    major_only: bool
    active: bool


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str


def _cursor(raw: str, field: str) -> int:
    if not raw:
        return 0
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationError({field: [_("游标“%(c)s”无效：应为上一页返回的 next。") % {"c": raw[:20]}]})
    return int(raw)


@router.get("", response={200: FeedOut, 403: ErrorOut, 410: ErrorOut, 422: ErrorOut})
def feed(request: HttpRequest, after: str = "", limit: int = 100) -> Any:
    """The caller's events after the cursor, in publication order; `next` resumes after the last one.

    A cursor older than the archived events (docs/deploy.md) is answered 410: the reader has missed
    events, never silently; it resumes from the cursor the answer names, or from the start (no `after`).
    """
    require_resource(request, "events:read")
    cursor = _cursor(after, "after")
    if not 1 <= limit <= FEED_LIMIT:
        raise ValidationError({"limit": [_("每页条数应在 1 到 %(n)s 之间。") % {"n": FEED_LIMIT}]})
    archived = events_archived_upto()
    if 0 < cursor < archived:
        return Status(
            410,
            {
                "detail": _("游标 %(c)s 之后的部分事件已超过保存期限并归档：请从 %(n)s 继续，或不带 after 从头读取。")
                % {"c": cursor, "n": archived}
            },
        )
    publishing.publish()  # the feed is current even while the worker sleeps
    rows = events_visible(request.user, after=cursor, limit=limit)
    return {"events": [event_out(e) for e in rows], "next": str(rows[-1].seq if rows else cursor)}


def _subscription(row: Any) -> dict[str, Any]:
    return {
        "id": row.pk,
        "name": row.name,
        "url": row.url,
        "kinds": row.kinds,
        "region_prefix": row.region_prefix,
        "major_only": row.major_only,
        "active": row.active,
    }


webhooks_router = Router(tags=["事件推送"])


@webhooks_router.get("", response={200: list[SubscriptionOut], 403: ErrorOut})
def subscriptions(request: HttpRequest) -> list[dict[str, Any]]:
    """The caller's webhook subscriptions."""
    require_resource(request, "webhooks:read")
    return [_subscription(s) for s in subscriptions_visible(request.user).filter(user_id=request.user.pk or 0)]


@webhooks_router.post("", response={201: SubscriptionCreatedOut, 403: ErrorOut, 422: ErrorOut})
def subscribe(request: HttpRequest, body: SubscriptionIn) -> Status:
    """Subscribe the calling account; the signing secret is in this answer only."""
    require_resource(request, "webhooks:write")
    if not access.may_read_business(request.user):
        raise PermissionDenied(_("您的角色无权订阅事件推送。"))
    row, secret = webhooks.subscription_create(
        user=request.user,
        actor=request.user,
        name=body.name,
        url=body.url,
        kinds=body.kinds,
        region_prefix=body.region_prefix,
        major_only=body.major_only,
        secret=body.secret,
        max_attempts=body.max_attempts,
    )
    return Status(201, {**_subscription(row), "secret": secret})


sms_router = Router(tags=["短信"])


class SmsReplyIn(Schema):
    """A reply a party sent to a notice, as the SMS gateway passes it on (`phone` of the sender)."""

    phone: str
    text: str


class SmsReplyOut(Schema):
    phone: str  # masked
    action: str  # opted_out (TD, 退订), opted_in (KT, 恢复) or ignored


@sms_router.post("/inbound", response={200: SmsReplyOut, **WRITE})
def sms_inbound(request: HttpRequest, payload: SmsReplyIn) -> dict[str, Any]:
    """The gateway's callback for replies: `TD`/`退订` stops a phone's notices, `KT`/`恢复` restarts them.

    Only the gateway's service account (granted `sms:write`) calls it; a person is refused (403).
    Any other reply is `ignored` and not kept. Audited with the phone masked.
    """
    require_resource(request, "sms:write")
    if not access.is_service_account(request.user):
        raise PermissionDenied(_("短信回复只由短信网关的服务账号转来。"))
    text = payload.text[:500]
    action = services.sms_reply_handle(phone=payload.phone[:40], text=text, actor=request.user, request=request)
    return {"phone": mask_phone(services.normalized_phone(payload.phone[:40])), "action": action}
