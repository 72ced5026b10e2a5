"""Every write on joint dispatch meetings: open with a drawn agenda, decide items, minutes, close.

A center director or a leader over the jurisdiction convenes it. The agenda is every open case
of the jurisdiction that is major (重大疑难), escalated (上提), under supervision (督办) or past its
deadline, each once, the weightiest first. A decision may issue a supervision document through
the case services, so the handling org gets it with a reply deadline like any other 督办, issued
as the meeting's own center.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access, inputs
from zongzhi.accounts.models import Role, User
from zongzhi.cases import services as case_services
from zongzhi.cases.models import OPEN_STATES, Assignment, Case, Supervision
from zongzhi.centers.models import Center
from zongzhi.regions import codes
from zongzhi.regions.models import Region

from .models import LEVELS, AgendaItem, DispatchMeeting

CONVENE_ROLES = frozenset({Role.CENTER_DIRECTOR, Role.LEADER})
R = AgendaItem.Reason
WEIGHT = {R.MAJOR: 0, R.ESCALATED: 1, R.SUPERVISED: 2, R.OVERDUE: 3}
MAX_SUPERVISION_DAYS = case_services.MAX_SUPERVISION_DAYS


def may_convene(user: User) -> bool:
    return bool(access.roles_of(user) & CONVENE_ROLES)


def _may_convene(actor: User, region_code: str) -> None:
    access.require(access.scope_of(actor).covers(region_code))
    if not may_convene(actor) and not access.system_may(actor, "meetings:write"):
        raise PermissionDenied(_("只有中心主任和政法委领导可以召集联席调度会议。"))


def agenda_cases(region: Region, now: datetime.datetime | None = None) -> QuerySet[Case]:
    """The open cases of the jurisdiction that belong on the agenda."""
    now = now or timezone.now()
    within = codes.prefix_q((region.prefix,))
    supervised = Supervision.objects.filter(within, status=Supervision.Status.OPEN).values("case_id")
    return Case.objects.filter(
        within,
        Q(major=True) | Q(escalations__gt=0) | Q(due_at__lt=now) | Q(pk__in=supervised),
        state__in=OPEN_STATES,
    )


def _reasons(case: Case, supervised: set[int], now: datetime.datetime) -> list[str]:
    found = [
        (R.MAJOR, case.major),
        (R.ESCALATED, case.escalations > 0),
        (R.SUPERVISED, case.pk in supervised),
        (R.OVERDUE, case.due_at is not None and case.due_at < now),
    ]
    return [str(reason) for reason, applies in found if applies]


def meeting_open(*, actor: User, region: Region, held_on: datetime.date, attendees: str = "") -> DispatchMeeting:
    """Convene the jurisdiction's meeting of `held_on`'s month and draw its agenda."""
    inputs.check_text(DispatchMeeting, {"attendees": attendees})
    if region.level not in LEVELS:
        raise ValidationError(
            {"region": [_("联席调度会议由盟、旗县或苏木乡镇召开，“%(r)s”不是。") % {"r": region.name}]}
        )
    _may_convene(actor, region.code)
    today = timezone.localdate()
    if held_on > today + datetime.timedelta(days=31):
        raise ValidationError({"held_on": [_("会议日期 %(d)s 太远，请在一个月内安排。") % {"d": held_on}]})
    month = held_on.replace(day=1)
    if DispatchMeeting.objects.filter(region=region, region_code=region.code, month=month).exists():
        raise ValidationError(
            {
                "held_on": [
                    _("%(r)s %(y)d年%(m)d月的联席调度会议已经建立。")
                    % {"r": region.name, "y": month.year, "m": month.month}
                ]
            }
        )
    center = Center.objects.filter(region=region).exclude(level=Center.Level.VILLAGE).order_by("code").first()
    if center is None:
        raise ValidationError({"region": [_("%(r)s没有综治中心，无法召集会议。") % {"r": region.name}]})
    now = timezone.now()
    cases = list(agenda_cases(region, now).select_related("category"))
    within = codes.prefix_q((region.prefix,))  # the agenda's cases' own rows, on their region's shards
    open_ = Supervision.objects.filter(within, case__in=cases, status=Supervision.Status.OPEN)
    supervised = set(open_.values_list("case_id", flat=True))
    leads = dict(
        Assignment.objects.filter(within, case__in=cases, role=Assignment.Role.LEAD)
        .exclude(status=Assignment.Status.RETURNED)
        .order_by("case_id", "id")
        .values_list("case_id", "org__name")
    )
    ranked = sorted(
        ((c, _reasons(c, supervised, now)) for c in cases),
        key=lambda cr: (min(WEIGHT[R(r)] for r in cr[1]), cr[0].due_at or now, cr[0].number),
    )
    with transaction.atomic():
        meeting = DispatchMeeting.objects.create(
            region=region,
            region_code=region.code,
            center=center,
            month=month,
            held_on=held_on,
            title=_("%(y)d年%(m)d月%(r)s矛盾纠纷联席调度会议") % {"y": month.year, "m": month.month, "r": region.name},
            chair=actor,
            attendees=attendees.strip(),
            created_by=actor,
            created_at=now,
        )
        AgendaItem.objects.bulk_create(
            [
                AgendaItem(
                    meeting=meeting,
                    region_code=case.region_code,
                    order=n,
                    case=case,
                    reasons=",".join(reasons),
                    state=case.state,
                    due_at=case.due_at,
                    lead_org=(leads.get(case.pk) or "")[:100],
                )
                for n, (case, reasons) in enumerate(ranked, 1)
            ]
        )
    return meeting


def _save(row: DispatchMeeting | AgendaItem, *fields: str) -> None:
    """Write `fields` of a meeting or an agenda item, the row named by its region code as well as its id."""
    type(row)._default_manager.filter(pk=row.pk, region_code=row.region_code).update(
        **{field: getattr(row, field) for field in fields}
    )


def _open_for_changes(meeting: DispatchMeeting, actor: User) -> None:
    _may_convene(actor, meeting.region_code)
    if meeting.status != DispatchMeeting.Status.PREPARING:
        raise ValidationError({"status": [_("会议已召开并归档，不能再修改。")]})


def item_decide(
    *, item: AgendaItem, actor: User, decision: str, discussion: str = "", supervise: str = "", days: int = 5
) -> AgendaItem:
    """Record the meeting's decision on a case; `supervise` (a 督办 kind) issues that document too."""
    _open_for_changes(item.meeting, actor)
    errors = inputs.text_errors(
        AgendaItem, {"decision": decision, "discussion": discussion}, where=_("第 %(n)d 项") % {"n": item.order}
    )
    if not decision.strip():
        errors["decision"] = [_("第 %(n)d 项：请填写会议决定。") % {"n": item.order}]
    if supervise and supervise not in Supervision.Kind.values:
        errors["supervise"] = [_("第 %(n)d 项：未知督办文书类型。") % {"n": item.order}]
    if supervise and not 1 <= days <= MAX_SUPERVISION_DAYS:
        errors["days"] = [
            _("第 %(n)d 项：反馈期限应为 1 至 %(m)d 个工作日。") % {"n": item.order, "m": MAX_SUPERVISION_DAYS}
        ]
    if supervise and item.supervision_id:
        errors["supervise"] = [_("第 %(n)d 项已经发出督办文书。") % {"n": item.order}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        item.decision = decision.strip()
        item.discussion = discussion.strip()
        item.decided_by = actor
        item.decided_at = timezone.now()
        if supervise:
            # The meeting is the authority: its convener's rights over the jurisdiction were checked above,
            # and the document is numbered and sealed as the meeting's own center.
            # The item's case (read with the item, or by the item's code, which is its case's).
            case = (
                item.case
                if AgendaItem.case.is_cached(item)
                else Case.objects.get(pk=item.case_id, region_code=item.region_code)
            )
            item.supervision = case_services.supervision_send(
                case=case,
                actor=actor,
                kind=supervise,
                reason=_("%(t)s决定：%(d)s") % {"t": item.meeting.title, "d": item.decision},
                days=days,
                issuer_center=item.meeting.center,
            )
        _save(item, "decision", "discussion", "decided_by", "decided_at", "supervision")
    return item


def minutes_save(*, meeting: DispatchMeeting, actor: User, minutes: str, attendees: str) -> DispatchMeeting:
    inputs.check_text(DispatchMeeting, {"minutes": minutes, "attendees": attendees})
    _open_for_changes(meeting, actor)
    meeting.minutes = minutes.strip()
    meeting.attendees = attendees.strip()
    _save(meeting, "minutes", "attendees")
    return meeting


def meeting_close(*, meeting: DispatchMeeting, actor: User) -> DispatchMeeting:
    """The meeting was held: minutes are required; afterwards nothing changes (the pack is the record)."""
    _open_for_changes(meeting, actor)
    if not meeting.minutes.strip():
        raise ValidationError({"minutes": [_("请先填写会议纪要再归档。")]})
    meeting.status = DispatchMeeting.Status.HELD
    meeting.closed_at = timezone.now()
    _save(meeting, "status", "closed_at")
    return meeting
