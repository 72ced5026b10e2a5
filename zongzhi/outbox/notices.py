"""SMS notices to the parties of a case, read from the outbox and sent through the portal's gateway.

Each party gets their own message about their own case: the case number, the center and its phone,
a time and place, an amount and a date; never another party's name or number. Phones and texts stay
encrypted in `SmsMessage`; the plain phone goes only to the gateway (`zongzhi.portal.sms.send`).
Quiet hours, a per-phone hourly limit, opt-out and retries are applied when a message is sent.
"""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zongzhi.cases.models import Case, Party
from zongzhi.crypto import blind_index
from zongzhi.outbox.models import Cursor, Event, SmsMessage, SmsPreference, SmsReceipt
from zongzhi.portal import sms
from zongzhi.portal.models import Application

CURSOR = "sms"
BATCH = 200


def phone_index(phone: str) -> str:
    """The portal's keyed hash of a phone, so a preference set on the portal applies here too."""
    return blind_index(f"phone:{phone}")


def _when(value: str) -> str:
    moment = timezone.localtime(datetime.datetime.fromisoformat(value))
    return moment.strftime("%Y-%m-%d %H:%M")


def _contact(case: Case) -> str:
    if case.center.phone:
        return _("咨询电话：%(phone)s。") % {"phone": case.center.phone}
    return _("咨询请联系%(center)s。") % {"center": case.center.name}


def _received(case: Case, event: Event, receipt: str) -> str:
    shown = "-".join(receipt[i : i + 4] for i in range(0, len(receipt), 4))
    text = _("您的网上调解申请已提交，回执码 %(code)s，凭此码可在网上查询办理进度，请妥善保管。") % {"code": shown}
    return text + _contact(case)


def _accepted(case: Case, event: Event, receipt: str) -> str:
    text = _("您的纠纷已受理，案件编号 %(number)s。") % {"number": case.number}
    if receipt:
        text += _("回执码 %(code)s，请妥善保管。") % {"code": receipt}
    return text + _contact(case)


def _session(case: Case, event: Event, receipt: str) -> str:
    detail = event.data.get("detail", {})
    text = _("您的案件 %(number)s 定于 %(time)s 在%(room)s调解，请准时参加。") % {
        "number": case.number,
        "time": _when(detail.get("starts_at", event.at.isoformat())),
        "room": detail.get("room", ""),
    }
    return text + _contact(case)


def _agreement(case: Case, event: Event, receipt: str) -> str:
    return _("您的案件 %(number)s 已达成调解协议，请按协议约定履行。") % {"number": case.number} + _contact(case)


def _instalment_due(case: Case, event: Event, receipt: str) -> str:
    return _("提醒：案件 %(number)s 调解协议约定的一期款项 %(amount)s 元应于 %(date)s 前履行。") % {
        "number": case.number,
        "amount": event.data.get("amount", ""),
        "date": event.data.get("due_on", ""),
    }


def _instalment_overdue(case: Case, event: Event, receipt: str) -> str:
    text = _("案件 %(number)s 调解协议约定 %(date)s 履行的款项 %(amount)s 元已逾期，请尽快履行。") % {
        "number": case.number,
        "amount": event.data.get("amount", ""),
        "date": event.data.get("due_on", ""),
    }
    return text + _contact(case)


def _closed(case: Case, event: Event, receipt: str) -> str:
    return _("您的案件 %(number)s 已结案。感谢您的配合，欢迎对办理情况作出评价。") % {"number": case.number}


def _follow_up(case: Case, event: Event, receipt: str) -> str:
    text = _("%(center)s已就案件 %(number)s 完成回访，感谢您的配合。") % {
        "number": case.number,
        "center": case.center.name,
    }
    return text + _contact(case)


# The outbox kinds a party is told of, and how.
NOTICES: dict[str, tuple[str, Callable[[Case, Event, str], str]]] = {
    "case.intake": ("received", _received),  # portal applications only: the receipt code, to the applicant
    "case.accept": ("accepted", _accepted),
    "case.booking": ("session", _session),
    "case.agreement": ("agreement", _agreement),
    "case.instalment_due": ("instalment_due", _instalment_due),
    "case.instalment_overdue": ("instalment_overdue", _instalment_overdue),
    "case.close": ("closed", _closed),
    "case.follow_up": ("follow_up", _follow_up),
}


# The notices that may carry a portal case's receipt code: 'received' as soon as the application is
# in; 'accepted' for an application made before there was a 'received' notice. The first carries it
# and the kept copy is dropped.
RECEIPT_NOTICES = ("received", "accepted")


def _language(index: str, preferences: dict[str, SmsPreference], application: Application | None) -> str:
    wanted = ""
    if index in preferences and preferences[index].language:
        wanted = preferences[index].language
    elif application is not None and application.phone_index == index:
        wanted = application.language
    if wanted == "mn" and settings.SMS_MONGOLIAN:
        return "mn"
    return "zh-hans"


def _messages_of(event: Event, now: datetime.datetime, carried: set[int]) -> list[SmsMessage]:
    """The messages of one event; a receipt code goes out once (`carried`: the cases whose code this
    window has already put in a message)."""
    notice, compose = NOTICES[event.kind]
    # A case's event carries its region code: the case and its parties are read on its shard.
    case = Case.objects.select_related("center").filter(pk=event.case_id or 0, region_code=event.region_code).first()
    if case is None:
        return []
    persons = Party.objects.filter(case=case, region_code=case.region_code, kind=Party.Kind.PERSON)
    parties = [p for p in persons.order_by("id") if p.phone]
    if not parties:
        return []
    application = Application.objects.filter(case=case).first()
    receipt_row = None
    if notice in RECEIPT_NOTICES and case.pk not in carried:
        receipt_row = SmsReceipt.objects.filter(case=case).first()
    if notice == "received":
        if application is None or receipt_row is None:
            return []  # registered at a window or imported: the party hears when it is accepted
        parties = [p for p in parties if phone_index(p.phone) == application.phone_index]
    indexes = {p.pk: phone_index(p.phone) for p in parties}
    preferences = {p.phone_index: p for p in SmsPreference.objects.filter(phone_index__in=indexes.values())}
    messages = []
    for party in parties:
        index = indexes[party.pk]
        # The receipt code opens the case on the portal: only the phone that applied receives it.
        receipt = receipt_row.code if receipt_row and application and application.phone_index == index else ""
        if receipt:
            carried.add(case.pk)
        language = _language(index, preferences, application)
        with translation.override(language):
            text = compose(case, event, receipt) + _("回复TD退订。")
        messages.append(
            SmsMessage(
                event=event,
                case=case,
                party=party,
                region_code=case.region_code,
                notice=notice,
                language=language,
                phone=party.phone,
                phone_index=index,
                text=text,
                next_attempt_at=now,
            )
        )
    return messages


def _told(event: Event) -> bool:
    """A party hears of what happens on the platform; an imported ledger's history is not news to them."""
    detail = event.data.get("detail") or {}
    return event.kind in NOTICES and bool(event.case_id) and not detail.get("imported")


def fan_out(*, windows: int = 20) -> int:
    """Turn the published events since the SMS cursor into messages; returns how many were queued."""
    queued = 0
    for _window in range(windows):
        done, count = _fan_out_window()
        queued += count
        if done:
            break
    return queued


def _fan_out_window() -> tuple[bool, int]:
    cursor, _created = Cursor.objects.get_or_create(name=CURSOR)
    window = list(Event.objects.filter(seq__gt=cursor.seq).order_by("seq")[:BATCH])
    if not window:
        return True, 0
    now = timezone.now()
    carried: set[int] = set()
    messages = [m for e in window if _told(e) for m in _messages_of(e, now, carried)]
    with transaction.atomic():
        if not Cursor.objects.filter(pk=cursor.pk, seq=cursor.seq).update(seq=window[-1].seq):
            return True, 0  # another worker took this window
        SmsMessage.objects.bulk_create(messages, ignore_conflicts=True)
        SmsReceipt.objects.filter(case_id__in=carried).delete()  # told once; no copy kept
    return len(window) < BATCH, len(messages)


def _quiet_until(now: datetime.datetime) -> datetime.datetime | None:
    """The end of the quiet hours when `now` falls in them (SMS_QUIET_HOURS = (start hour, end hour))."""
    start, end = settings.SMS_QUIET_HOURS
    if start == end:
        return None
    local = timezone.localtime(now)
    hour = local.hour
    quiet = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if not quiet:
        return None
    day = local.date() if hour < end else local.date() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(end)))


def _throttled_until(message: SmsMessage, now: datetime.datetime) -> datetime.datetime | None:
    hour_ago = now - datetime.timedelta(hours=1)
    sent = list(
        SmsMessage.objects.filter(phone_index=message.phone_index, status=SmsMessage.Status.SENT, sent_at__gt=hour_ago)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
    )
    if len(sent) < settings.SMS_PER_PHONE_PER_HOUR or sent[0] is None:
        return None
    return sent[0] + datetime.timedelta(hours=1)


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(settings.SMS_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), 6 * 3600))


def send_due(*, budget: int = 100, now: datetime.datetime | None = None) -> dict[str, int]:
    """Send the messages due at `now`, oldest first; each is claimed before the gateway is called."""
    counts = {"sent": 0, "deferred": 0, "failed": 0, "opted_out": 0}
    now = now or timezone.now()
    due = list(
        SmsMessage.objects.filter(status=SmsMessage.Status.QUEUED, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "id"
        )[:budget]
    )
    quiet = _quiet_until(now)
    for message in due:
        if SmsPreference.objects.filter(phone_index=message.phone_index, opted_out_at__isnull=False).exists():
            SmsMessage.objects.filter(pk=message.pk).update(status=SmsMessage.Status.OPTED_OUT)
            counts["opted_out"] += 1
            continue
        later = quiet or _throttled_until(message, now)
        if later is not None:
            SmsMessage.objects.filter(pk=message.pk, status=SmsMessage.Status.QUEUED).update(next_attempt_at=later)
            counts["deferred"] += 1
            continue
        # Claimed: a second worker finds it not due for a while.
        claimed = SmsMessage.objects.filter(pk=message.pk, attempts=message.attempts, status="queued").update(
            next_attempt_at=now + datetime.timedelta(minutes=5)
        )
        if not claimed:
            continue
        attempts = message.attempts + 1
        try:
            sms.send(message.phone, message.text)
        except sms.SmsError as error:
            dead = attempts >= settings.SMS_MAX_ATTEMPTS
            SmsMessage.objects.filter(pk=message.pk).update(
                attempts=attempts,
                error=str(error)[:300],
                status=SmsMessage.Status.DEAD if dead else SmsMessage.Status.QUEUED,
                next_attempt_at=now + _backoff(attempts),
            )
            counts["failed"] += 1
            continue
        SmsMessage.objects.filter(pk=message.pk).update(
            attempts=attempts, status=SmsMessage.Status.SENT, sent_at=timezone.now(), error=""
        )
        counts["sent"] += 1
    return counts


def next_due() -> datetime.datetime | None:
    return (
        SmsMessage.objects.filter(status=SmsMessage.Status.QUEUED)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
