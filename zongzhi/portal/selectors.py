"""What the public may read: centers (names, places, hours, who is on duty) and the progress of
one's own application. Nothing here exposes staff, other parties or case content beyond the
applicant's own category and dates."""

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from zongzhi.cases.calendar import add_working_days, is_workday
from zongzhi.cases.models import Agreement, Assignment, Case, CaseEvent, Category, State
from zongzhi.centers.models import Center, Org, Presence, Room
from zongzhi.portal.models import Application, OpenDay
from zongzhi.regions.models import Region

# Timeline entries a citizen sees, in citizen's words. Anything else (supervision, coordination
# between agencies, risk) stays internal.
PUBLIC_EVENTS = {
    "intake": gettext_lazy("已收到申请"),
    "accept": gettext_lazy("综治中心已受理"),
    "reject": gettext_lazy("不予受理"),
    "assign": gettext_lazy("已分流给承办单位"),
    "sign_for": gettext_lazy("承办单位已签收，开始办理"),
    "return": gettext_lazy("重新确定承办单位"),
    "transfer": gettext_lazy("转交其他单位办理"),
    "escalate": gettext_lazy("提交上级综治中心协调"),
    "session": gettext_lazy("组织调解"),
    "resolve": gettext_lazy("纠纷已化解"),
    "fail": gettext_lazy("调解未达成协议"),
    "close": gettext_lazy("已结案"),
    "refer_court": gettext_lazy("转人民法院速裁法庭"),
    "withdraw": gettext_lazy("申请已撤回"),
    "reopen": gettext_lazy("重新办理"),
    "attachment": gettext_lazy("收到材料"),
    "follow_up": gettext_lazy("回访评价"),
}
STATE_LABELS = {
    State.REGISTERED: gettext_lazy("已登记，等待受理"),
    State.ACCEPTED: gettext_lazy("已受理"),
    State.ASSIGNED: gettext_lazy("已分流"),
    State.IN_PROGRESS: gettext_lazy("办理中"),
    State.RESOLVED: gettext_lazy("已化解"),
    State.UNRESOLVED: gettext_lazy("未化解"),
    State.CLOSED: gettext_lazy("已结案"),
    State.REJECTED: gettext_lazy("不予受理"),
    State.WITHDRAWN: gettext_lazy("已撤回"),
}
LEVEL_LABELS = {
    Center.Level.LEAGUE: gettext_lazy("盟级综治中心"),
    Center.Level.COUNTY: gettext_lazy("旗县级综治中心"),
    Center.Level.TOWNSHIP: gettext_lazy("苏木乡镇级综治中心"),
    Center.Level.VILLAGE: gettext_lazy("嘎查村综治工作站"),
}
OPENING_HOURS = gettext_lazy("工作日 8:30—12:00，14:30—18:00")


def mongolian() -> bool:
    return (get_language() or "").startswith("mn")


def center_name(center: Center) -> tuple[str, bool]:
    """The center's name in the visitor's language, and whether it is in that language.

    Data in Chinese only on a Mongolian page is marked lang="zh-Hans" by the templates.
    """
    if not mongolian():
        return center.name, True
    if center.name_mn:
        return center.name_mn, True
    if center.region.name_mn:
        return f"{center.region.name_mn} {LEVEL_LABELS[Center.Level(center.level)]}", True
    return center.name, False


def region_name(region: Region) -> tuple[str, bool]:
    if mongolian() and region.name_mn:
        return region.name_mn, True
    return region.name, not mongolian()


def category_name(category: Category) -> str:
    # The taxonomy is data, but its seeded names are in the catalog like any other text.
    return _(category.name)


def public_categories() -> QuerySet[Category]:
    return Category.objects.filter(active=True, parent__isnull=True).order_by("sort", "code")


def counties() -> QuerySet[Region]:
    return Region.objects.filter(level=Region.Level.COUNTY).order_by("code")


def townships() -> QuerySet[Region]:
    return Region.objects.filter(level=Region.Level.TOWNSHIP).order_by("code")


def townships_by_county() -> dict[str, list[tuple[str, str, str]]]:
    """For the apply form's script: each county's townships as (code, name in the visitor's language,
    "zh-Hans" where a Mongolian page shows the Chinese name)."""
    grouped: dict[str, list[tuple[str, str, str]]] = {}
    for township in Region.objects.filter(level=Region.Level.TOWNSHIP).select_related("parent").order_by("code"):
        if township.parent is not None:
            name, in_language = region_name(township)
            lang = "zh-Hans" if mongolian() and not in_language else ""
            grouped.setdefault(township.parent.code, []).append((township.code, name, lang))
    return grouped


def region_for_application(code: str) -> Region | None:
    """A county or township a citizen may name as the place of the dispute."""
    return Region.objects.filter(code=code, level__in=[Region.Level.COUNTY, Region.Level.TOWNSHIP]).first()


def centers_public() -> list[tuple[Center, list[Center]]]:
    """The league and county centers, each with its township centers: two queries."""
    centers = list(
        Center.objects.exclude(level=Center.Level.VILLAGE).select_related("region").order_by("region_code", "code")
    )
    children: dict[int, list[Center]] = {}
    for center in centers:
        if center.level == Center.Level.TOWNSHIP and center.parent_id is not None:
            children.setdefault(center.parent_id, []).append(center)
    return [(c, children.get(c.pk, [])) for c in centers if c.level in (Center.Level.LEAGUE, Center.Level.COUNTY)]


def center_public(code: str) -> Center:
    centers = Center.objects.select_related("region", "parent").prefetch_related(
        Prefetch("rooms", queryset=Room.objects.select_related("org").order_by("zone", "kind", "name")),
        Prefetch("presences", queryset=Presence.objects.select_related("org").order_by("mode", "org__name")),
    )
    return get_object_or_404(centers, code=code)


@dataclass
class CenterToday:
    open_today: bool
    on_duty: list[Org]
    on_call: list[Org]
    brand_rooms: list[Org]


def center_today(center: Center, day: datetime.date) -> CenterToday:
    """Who staffs a (prefetched) center today, and its brand mediation rooms with their mediators."""
    presences = list(center.presences.all())
    open_today = is_workday(day)
    return CenterToday(
        open_today=open_today,
        on_duty=[p.org for p in presences if open_today and p.on_duty(day)],
        on_call=[p.org for p in presences if p.mode == Presence.Mode.ON_CALL],
        brand_rooms=[p.org for p in presences if p.org.kind == Org.Kind.BRAND_ROOM],
    )


def open_days(center: Center | None = None) -> QuerySet[OpenDay]:
    days = OpenDay.objects.filter(day__gte=timezone.localdate()).select_related("center", "center__region")
    if center is not None:
        days = days.filter(center=center)
    return days.order_by("day", "center__code")


@dataclass
class Progress:
    state: str
    state_label: str
    timeline: list[tuple[datetime.datetime, str]]
    next_step: str
    expected: datetime.datetime | None
    can_add: bool
    can_withdraw: bool
    can_rate: bool
    has_agreement: bool


def _next_step(case: Case, application: Application, last: datetime.datetime) -> tuple[str, datetime.datetime | None]:
    if case.state == State.REGISTERED:
        return _("综治中心将在 1 个工作日内决定是否受理。"), case.due_at or add_working_days(case.registered_at, 1)
    if case.state == State.ACCEPTED:
        return _("综治中心正在确定承办单位。"), add_working_days(last, 1)
    if case.state == State.ASSIGNED:
        due = (
            Assignment.objects.filter(case=case, status=Assignment.Status.PENDING)
            .order_by("sign_for_due")
            .values_list("sign_for_due", flat=True)
            .first()
        )
        return _("等待承办单位签收。"), due
    if case.state == State.IN_PROGRESS:
        return _("承办单位正在调解处理，工作人员可能会与您电话联系。"), case.due_at
    if case.state in (State.RESOLVED, State.UNRESOLVED):
        return _("等待综治中心结案。"), add_working_days(last, 1)
    if case.state == State.CLOSED and application.rated_at is None:
        return _("请对办理结果进行评价。"), None
    if case.state == State.CLOSED:
        return _("办理完毕，感谢您的评价。"), None
    if case.state == State.WITHDRAWN:
        return _("申请已撤回，无需其他操作。"), None
    return _("如有疑问，请到综治中心窗口咨询。"), None


def progress(application: Application) -> Progress:
    """The public view of the applicant's case: state, citizen-facing timeline, next step, expected date."""
    case = application.case
    events = list(
        CaseEvent.objects.filter(case=case, region_code=case.region_code, kind__in=list(PUBLIC_EVENTS))
        .order_by("id")
        .values_list("kind", "at")
    )
    timeline = [(at, str(PUBLIC_EVENTS[kind])) for kind, at in events]
    last = events[-1][1] if events else case.registered_at
    step, expected = _next_step(case, application, last)
    open_now = case.state in (State.REGISTERED, State.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS)
    return Progress(
        state=case.state,
        state_label=str(STATE_LABELS.get(State(case.state), case.state)),
        timeline=timeline,
        next_step=step,
        expected=expected,
        can_add=open_now,
        can_withdraw=open_now,
        can_rate=case.state == State.CLOSED and application.rated_at is None,
        has_agreement=Agreement.objects.filter(case=case, region_code=case.region_code).exists(),
    )
