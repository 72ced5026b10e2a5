"""Village risk reviews (研判) and graded handling (分级联动处置).

A director or leader over a village opens a review; its agenda is drawn from the village's open
cases, open field items and recent visits. Each item is decided and graded: the village station,
the township or the county center handles it. A case graded above the center that holds it is
lifted (上提) to that level, so the handling center owns it; that center's staff record how the
item was handled.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access, inputs
from zongzhi.accounts.models import Role, User
from zongzhi.cases import services as case_services
from zongzhi.cases.models import OPEN_STATES, Case, State
from zongzhi.centers.models import Center
from zongzhi.regions import codes
from zongzhi.regions.models import Region

from .models import FieldItem, RiskItem, RiskReview, Visit
from .services import REVIEW_ROLES

RECENT_VISIT_DAYS = 30
CENTER_RANK = {Center.Level.VILLAGE: 0, Center.Level.TOWNSHIP: 1, Center.Level.COUNTY: 2, Center.Level.LEAGUE: 3}
LIFTABLE_STATES = (State.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS)


def _may_review(actor: User, region_code: str) -> None:
    access.require(access.scope_of(actor).covers(region_code))
    if not access.roles_of(actor) & REVIEW_ROLES and not access.system_may(actor, "reviews:write"):
        raise PermissionDenied(_("只有中心主任和政法委领导可以组织风险研判。"))


def risk_review_open(
    *, actor: User, village: Region, held_on: datetime.date, attendees: str = "", chair: User | None = None
) -> RiskReview:
    """Open a village review and draw its agenda: open cases, open items, recent visits of the village."""
    inputs.check_text(RiskReview, {"attendees": attendees})
    if village.level != Region.Level.VILLAGE:
        raise ValidationError({"village": [_("“%(r)s”不是嘎查村社区，研判以嘎查村为单位。") % {"r": village.name}]})
    _may_review(actor, village.code)
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": [_("研判日期 %(d)s 晚于今天，请核对。") % {"d": held_on}]})
    under = codes.prefix_q((village.prefix,))
    since = timezone.now() - datetime.timedelta(days=RECENT_VISIT_DAYS)
    with transaction.atomic():
        review = RiskReview.objects.create(
            village=village,
            region_code=village.code,
            held_on=held_on,
            chair=chair or actor,
            attendees=attendees.strip(),
            created_by=actor,
            created_at=timezone.now(),
        )
        items = [
            RiskItem(review=review, region_code=c.region_code, source=RiskItem.Source.CASE, case=c, summary=_summary(c))
            for c in Case.objects.filter(under, state__in=OPEN_STATES).order_by("registered_at")
        ]
        items += [
            RiskItem(
                review=review,
                region_code=i.region_code,
                source=RiskItem.Source.ITEM,
                field_item=i,
                summary=f"{i.get_kind_display()}：{i.title}"[:200],
            )
            for i in FieldItem.objects.filter(under, status=FieldItem.Status.OPEN).order_by("raised_at")
        ]
        # Visits that already raised a case or an item are on the agenda through those.
        recent = Visit.objects.filter(under, visited_at__gte=since, case__isnull=True, items__isnull=True)
        items += [
            RiskItem(
                review=review,
                region_code=v.region_code,
                source=RiskItem.Source.VISIT,
                visit=v,
                summary=f"{v.household.code}：{v.notes}"[:200],
            )
            for v in recent.select_related("household").order_by("visited_at")
        ]
        RiskItem.objects.bulk_create(items)
    return review


def _summary(case: Case) -> str:
    return f"{case.number} {case.title}（{case.get_state_display()}）"[:200]


def handling_center_for(village_code: str, grade: str) -> Center | None:
    """The center that handles an item of this grade: the village station, the township or county center."""
    level, prefix = {
        RiskItem.Grade.VILLAGE: (Center.Level.VILLAGE, village_code[:12]),
        RiskItem.Grade.TOWNSHIP: (Center.Level.TOWNSHIP, village_code[:9]),
        RiskItem.Grade.COUNTY: (Center.Level.COUNTY, village_code[:6]),
    }[RiskItem.Grade(grade)]
    return Center.objects.filter(level=level, region_code=codes.full_code(prefix)).order_by("code").first()


def risk_item_decide(*, item: RiskItem, actor: User, decision: str, grade: str) -> RiskItem:
    """Record the review's decision on an item and hand it to the center of its grade.

    A case item graded above the center holding the case is lifted there in the same transaction;
    a case still waiting to be accepted cannot be lifted yet, and the item says so.
    """
    review = _review_of(item)
    _may_review(actor, review.region_code)
    errors = inputs.text_errors(RiskItem, {"decision": decision})
    if item.status != RiskItem.Status.PENDING:
        errors["status"] = [_("该事项已研判交办，不能重复交办。")]
    if not decision.strip():
        errors["decision"] = [_("请填写研判意见。")]
    if grade not in RiskItem.Grade.values:
        errors["grade"] = [_("处置层级应为嘎查村、苏木乡镇或旗县。")]
    if errors:
        raise ValidationError(errors)
    center = handling_center_for(review.region_code, grade)
    if center is None:
        raise ValidationError({"grade": [_("没有找到承办“%(g)s”的综治中心。") % {"g": RiskItem.Grade(grade).label}]})
    with transaction.atomic():
        item.decision = decision.strip()
        item.grade = grade
        item.handling_center = center
        item.status = RiskItem.Status.ASSIGNED
        item.decided_by = actor
        item.decided_at = timezone.now()
        _update(item, "decision", "grade", "handling_center", "status", "decided_by", "decided_at")
        if item.case_id is not None:
            _lift(item, item.case_id, center, actor)
    return item


def _review_of(item: RiskItem) -> RiskReview:
    """The item's review, read (unless its caller read it with the item) with its code: a review's code is its
    village's, and every item of it carries a code under that village's 12 digits (`risk_review_open`)."""
    if RiskItem.review.is_cached(item):
        return item.review
    item.review = RiskReview.objects.get(
        pk=item.review_id, region_code=item.region_code[: codes.PREFIX_LENGTH["village"]]
    )
    return item.review


def _update(item: RiskItem, *fields: str) -> None:
    """Write these fields of the item, by its id and its region code."""
    values = {name: getattr(item, name) for name in fields}
    RiskItem.objects.filter(pk=item.pk, region_code=item.region_code).update(**values)


def _lift(item: RiskItem, case_id: int, center: Center, actor: User) -> None:
    """Escalate the item's case one level at a time until a center at the item's grade holds it.

    The case is read with the item's region code: an item drawn from a case carries the case's code."""
    reason = _("%(v)s %(d)s 风险研判：%(g)s。%(decision)s") % {
        "v": item.review.village.name,
        "d": item.review.held_on.isoformat(),
        "g": RiskItem.Grade(item.grade).label,
        "decision": item.decision,
    }
    cases = Case.objects.select_related("center").filter(pk=case_id, region_code=item.region_code)
    case = cases.get()
    while CENTER_RANK[Center.Level(case.center.level)] < CENTER_RANK[Center.Level(center.level)]:
        if case.state not in LIFTABLE_STATES:
            return
        case = case_services.case_escalate(case=case, actor=actor, version=case.version, reason=reason, system=True)
        case = cases.get()


def risk_item_done(*, item: RiskItem, actor: User, note: str) -> RiskItem:
    """The handling center records how an assigned item was dealt with, which closes it."""
    center = item.handling_center
    access.require(center is not None and access.scope_of(actor).covers(center.region_code))
    held = access.roles_of(actor)
    if not held & (REVIEW_ROLES | {Role.INTAKE_CLERK}) and not access.system_may(actor, "reviews:write"):
        raise PermissionDenied(_("只有承办中心的工作人员可以登记办理结果。"))
    errors = inputs.text_errors(RiskItem, {"note": note}, columns={"note": "handled_note"})
    if item.status != RiskItem.Status.ASSIGNED:
        errors["status"] = [_("只有已交办的事项可以办结。")]
    if not note.strip():
        errors["note"] = [_("请填写办理结果。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        item.status = RiskItem.Status.DONE
        item.handled_note = note.strip()
        item.handled_by = actor
        item.handled_at = timezone.now()
        _update(item, "status", "handled_note", "handled_by", "handled_at")
    return item
