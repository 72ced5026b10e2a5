"""Reading the outbox: the events an actor may see, in publication order (the feed, the webhooks)."""

from typing import Any

from django.db.models import Q, QuerySet

from zongzhi import access
from zongzhi.cases.models import Case
from zongzhi.outbox.models import Delivery, Event, Publisher, Subscription


def events_q(user: Any) -> Q:
    """Case events of the cases the user may see; other events (visits, figures …) by jurisdiction; all
    within the user's reach (`access.reach_q`), so the feed's read names the region code it is
    distributed on."""
    visible_cases = Case.objects.filter(access.cases_q(user)).values("pk")
    mine = Q(case__isnull=False, case__in=visible_cases) | (Q(case__isnull=True) & access.scope_of(user).q())
    return access.reach_q(user) & mine


def events_visible(user: Any, *, after: int, limit: int) -> list[Event]:
    """The user's published events after the cursor `after`, in publication order."""
    if access.scope_of(user).is_empty and not access.org_ids_of(user):
        return []
    return list(Event.objects.filter(events_q(user), seq__gt=after).order_by("seq")[:limit])


def events_archived_upto() -> int:
    """The newest seq archived out of the database (0 when none was): a cursor below it has missed events."""
    return Publisher.objects.filter(pk=1).values_list("archived_seq", flat=True).first() or 0


def event_out(event: Event) -> dict[str, Any]:
    """An event as the feed and the webhooks send it."""
    return {
        "seq": event.seq,
        "id": event.pk,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "case": event.case_number or None,
        "region_code": event.region_code,
        "major": event.major,
        "data": event.data,
    }


def subscriptions_visible(user: Any) -> QuerySet[Subscription]:
    """The security administrator sees every subscription; an account's owner (or the account) its own."""
    rows = Subscription.objects.select_related("user", "owner").order_by("id")
    if access.may_manage_security(user):
        return rows
    return rows.filter(Q(owner_id=user.pk) | Q(user_id=user.pk))


def subscription_get(user: Any, pk: int) -> Subscription:
    found = subscriptions_visible(user).filter(pk=pk).first()
    access.require(found is not None)
    assert found is not None
    return found


def deliveries_of(subscription: Subscription, *, status: str = "") -> QuerySet[Delivery]:
    rows = subscription.deliveries.select_related("event").order_by("-seq")
    return rows.filter(status=status) if status else rows
