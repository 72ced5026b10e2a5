"""Every write on cases. Each function is atomic and appends its timeline event.

Validation errors are raised as ValidationError keyed by field, in Chinese; a forbidden action is
PermissionDenied; a stale version is workflow.Conflict.
"""

import datetime
import difflib
import hashlib
import mimetypes
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, DateField, F, Func, IntegerField, Max, Q, QuerySet, Subquery, Value, When
from django.db.models import Case as DbCase
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access, clock, inputs, uploads
from zongzhi.access import Scope
from zongzhi.accounts.models import Role, User
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.cases import catalogue, events, workflow
from zongzhi.cases.calendar import add_working_days, exceptions_for
from zongzhi.cases.models import (
    Agreement,
    Assignment,
    Attachment,
    CalendarDay,
    Case,
    CaseEvent,
    Category,
    CoordinationRequest,
    CourtReferral,
    DeadlinePolicy,
    FollowUp,
    Instalment,
    InstalmentPayment,
    MediationSession,
    Party,
    RoomBooking,
    State,
    Supervision,
    SupervisionName,
)
from zongzhi.cases.numbering import next_case_number
from zongzhi.cases.risk import suggest_risk
from zongzhi.centers.models import Center, Org, Room
from zongzhi.centers.selectors import org_serves
from zongzhi.crypto import blind_index
from zongzhi.grid.selectors import resident_id_index, residents_visible, residents_with_households
from zongzhi.identity import (
    normalize_resident_id,
    normalize_uscc,
    passport_errors,
    resident_id_errors,
    uscc_errors,
)
from zongzhi.regions import codes
from zongzhi.regions.models import Region

MAX_AMOUNT = Decimal("10000000000")  # ten billion yuan: beyond this an amount is a typing error
MAX_PEOPLE = 100_000
MAX_SUPERVISION_DAYS = 30  # working days to answer a 督办 document
REPEAT_WINDOW_DAYS = getattr(settings, "CASE_REPEAT_WINDOW_DAYS", 180)
SIMILAR_DESCRIPTION = 0.85


@dataclass
class PartyInput:
    kind: str
    role: str
    name: str
    id_number: str = ""
    nationality: str = ""
    phone: str = ""
    address: str = ""


@dataclass
class Repeat:
    case: Case
    why: str


@dataclass
class RegistryMatch:
    """A party whose ID matches a resident registered in the case's village (from the grid's registry)."""

    party: int  # index in the parties given
    name: str  # the party's name as typed
    household: str  # the household's code (its page: grid:household)
    same_name: bool  # the registry's name for that ID is the one typed


@dataclass
class IntakeCheck:
    """What the clerk sees before saving: suggested risk with reasons, repeats and near-duplicates,
    the parties found in the village's registry and what does not fit it (more people than live there)."""

    risk_level: str
    risk_reasons: list[str]
    repeats: list[Repeat] = field(default_factory=list)
    residents: list[RegistryMatch] = field(default_factory=list)
    population: int | None = None  # the village's population, when known
    warnings: list[str] = field(default_factory=list)


# ---- helpers ----------------------------------------------------------------------------------


def _lock(case: Case) -> Case:
    """The case as it is now in the database (fresh state and version).

    A case the selectors loaded in this very request is fresh enough: the version-conditional
    update catches anything that changed since.
    """
    if getattr(case, "_loaded_for_action", False):
        return case
    return Case.objects.select_related("center", "category", "region").get(pk=case.pk, region_code=case.region_code)


def _bump(case: Case, version: int, **changes: Any) -> Case:
    """Apply a non-transition change under optimistic concurrency (version must match)."""
    from django.db.models import F

    # The region code names the shard the row lives on at national scale (docs/national.md).
    same = Case.objects.filter(pk=case.pk, region_code=case.region_code)
    if not same.filter(version=version).update(version=F("version") + 1, **changes):
        raise workflow.Conflict(_lock(case))
    case.refresh_from_db(from_queryset=same)
    return case


def _policies(category: Category, risk_level: str) -> QuerySet[DeadlinePolicy]:
    return DeadlinePolicy.objects.filter(
        Q(category=category) | Q(category__isnull=True), Q(risk_level=risk_level) | Q(risk_level="")
    )


def _most_specific(candidates: Iterable[DeadlinePolicy]) -> DeadlinePolicy | None:
    """Category + risk, then category, then risk, then the default."""
    return min(candidates, key=lambda p: (p.category_id is None, p.risk_level == ""), default=None)


def policy_for(category: Category, risk_level: str) -> DeadlinePolicy | None:
    """The most specific deadline policy: category + risk, then category, then risk, then default."""
    return _most_specific(_policies(category, risk_level))


# The calendar's exceptions read with the policy reach this far: as `exceptions_for`, enough for
# (CALENDAR_AHEAD_DAYS - 30) / 3 working days; a policy of more reads its own window again.
CALENDAR_AHEAD_DAYS = 400


def deadline_rules(
    category: Category, risk_level: str, start: datetime.datetime
) -> tuple[DeadlinePolicy | None, Callable[[int], dict[datetime.date, bool]]]:
    """The most specific policy and the calendar's exceptions from `start`, in one statement (intake and
    assignment each set deadlines from both). The second is a function of the working days to count."""
    first = timezone.localtime(start).date()
    calendar = CalendarDay.objects.filter(
        day__gte=first, day__lte=first + datetime.timedelta(days=CALENDAR_AHEAD_DAYS)
    ).values_list(Value("c"), "day", "workday", *[Value(None, output_field=IntegerField())] * 5, Value(""))
    calendar = calendar.order_by()  # a part of a UNION has no order of its own
    policies = (
        _policies(category, risk_level)
        .order_by()
        .values_list(
            Value("p"),
            Value(None, output_field=DateField()),
            Value(None, output_field=BooleanField()),
            "id",
            "category_id",
            "accept_days",
            "sign_for_days",
            "handle_days",
            "risk_level",
        )
    )
    exceptions: dict[datetime.date, bool] = {}
    candidates = []
    for kind, day, workday, pk, category_id, accept, sign, handle, risk in calendar.union(policies, all=True):
        if kind == "c":
            exceptions[day] = workday
        else:
            candidates.append(
                DeadlinePolicy(
                    id=pk,
                    category_id=category_id,
                    risk_level=risk,
                    accept_days=accept,
                    sign_for_days=sign,
                    handle_days=handle,
                )
            )

    def calendar_for(days: int) -> dict[datetime.date, bool]:
        return exceptions if days * 3 + 30 <= CALENDAR_AHEAD_DAYS else exceptions_for(start, days)

    return _most_specific(candidates), calendar_for


def acceptance_due(category: Category, risk_level: str, start: datetime.datetime) -> datetime.datetime:
    """When a registered case must be accepted or rejected: the portal promises one working day."""
    policy, calendar_for = deadline_rules(category, risk_level, start)
    days = policy.accept_days if policy else 1
    return add_working_days(start, days, calendar_for(days))


def _deadlines(
    category: Category, risk_level: str, start: datetime.datetime
) -> tuple[datetime.datetime, datetime.datetime]:
    policy, calendar_for = deadline_rules(category, risk_level, start)
    sign_days, handle_days = (policy.sign_for_days, policy.handle_days) if policy else (1, 30)
    exceptions = calendar_for(max(sign_days, handle_days))
    return add_working_days(start, sign_days, exceptions), add_working_days(start, handle_days, exceptions)


def _finish_assignments(case: Case) -> None:
    """The case left the handlers' hands: their open assignments are done."""
    open_ones = [Assignment.Status.PENDING, Assignment.Status.SIGNED]
    Assignment.objects.filter(case=case, region_code=case.region_code, status__in=open_ones).update(
        status=Assignment.Status.DONE
    )


def supervision_name(kind: str) -> str:
    configured = SupervisionName.objects.filter(kind=kind).values_list("name", flat=True).first()
    return configured or str(Supervision.Kind(kind).label)


def _party_errors(index: int, party: PartyInput) -> dict[str, list[str]]:
    prefix = f"parties.{index}"
    where = _("第 %(n)d 位当事人") % {"n": index + 1}
    errors = inputs.text_errors(Party, party.__dict__, prefix=f"{prefix}.", where=where)
    if party.kind not in Party.Kind.values:
        errors[f"{prefix}.kind"] = [_("%(w)s的类型无效。") % {"w": where}]
    if party.role not in Party.Role.values:
        errors[f"{prefix}.role"] = [_("%(w)s的身份无效。") % {"w": where}]
    if not party.name.strip():
        errors[f"{prefix}.name"] = [_("%(w)s：请填写姓名或名称。") % {"w": where}]
    problems: list[str] = []
    if party.kind == Party.Kind.PERSON and party.id_number:
        problems = resident_id_errors(party.id_number)
    elif party.kind == Party.Kind.ORGANISATION and party.id_number:
        problems = uscc_errors(party.id_number)
    elif party.kind == Party.Kind.FOREIGNER:
        problems = passport_errors(party.id_number, party.nationality)
    if problems:
        errors[f"{prefix}.id_number"] = [f"{where}：{p}" for p in problems]
    phone = party.phone.strip()
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 12):
        errors[f"{prefix}.phone"] = [_("%(w)s：联系电话应为 7–12 位数字。") % {"w": where}]
    return errors


def _normalized_id(party: PartyInput) -> str:
    if party.kind == Party.Kind.PERSON:
        return normalize_resident_id(party.id_number)
    if party.kind == Party.Kind.ORGANISATION:
        return normalize_uscc(party.id_number)
    return party.id_number.strip().upper()


def _id_index(party: PartyInput) -> str:
    number = _normalized_id(party)
    return blind_index(f"{party.kind}:{number}") if number else ""


def intake_channel(actor: User) -> str:
    """The door a staff member registers at on the pages and the API; the channel is never chosen by hand.

    A clerk or director of a center: its window; a grid worker: a grid report; an agency's liaison,
    mediator or judge: a department referral. The portal, the import and a 乌日特 stop are doors of
    their own, whose services name their channel.
    """
    held = access.roles_of(actor)
    if access.center_ids_of(actor, Role.INTAKE_CLERK) or access.center_ids_of(actor, Role.CENTER_DIRECTOR):
        return Case.Channel.WINDOW
    if Role.GRID_WORKER in held:
        return Case.Channel.GRID
    if access.org_ids_of(actor):
        return Case.Channel.DEPARTMENT
    raise PermissionDenied(_("只有中心窗口、网格员和部门可以登记矛盾纠纷。"))


def _live_lead(case: Case) -> Assignment | None:
    return (
        case.assignments.filter(
            region_code=case.region_code,
            role=Assignment.Role.LEAD,
            status__in=[Assignment.Status.PENDING, Assignment.Status.SIGNED],
        )
        .select_related("org")
        .order_by("-id")
        .first()
    )


def case_holder(case: Case) -> tuple[Org | None, Center | None]:
    """Whom the case waits on now: its lead org, or its center (to accept, to assign, after 上提 to decide)."""
    if case.state in (State.ASSIGNED, State.IN_PROGRESS) and not case.awaiting_director:
        lead = _live_lead(case)
        if lead is not None:
            return lead.org, None
    return None, case.center


def _require_serving(case: Case, field: str, title: str, *orgs: Org) -> None:
    """Refuse an org outside the case's county that is not configured as serving it (one check for
    every caller: the catalogue's choices offer only serving orgs, imports and scripts come here too)."""
    for org in orgs:
        if not org_serves(org, case.region_code):
            raise ValidationError(
                {
                    field: [
                        _("%(t)s“%(o)s”不在本案所在旗县，也未设置为服务本旗县，不能接收本案。")
                        % {"t": title, "o": org.name},
                    ]
                }
            )


def _handle_days(handle_days: int | None) -> None:
    if handle_days is not None and not 1 <= handle_days <= 90:
        raise ValidationError({"handle_days": [_("办理时限应在 1 到 90 个工作日之间。")]})


def intake_center_for(actor: User, region: Region) -> Center:
    """The center a case is registered at: the clerk's own, else the nearest center above the region."""
    own = Center.objects.filter(pk__in=access.center_ids_of(actor, "intake_clerk")).first()
    if own is not None:
        return own
    prefixes = [region.code[:n] for n in (12, 9, 6, 4) if n <= len(region.code)]
    centers = (
        Center.objects.filter(region__code__in=[codes.full_code(p) for p in prefixes])
        .exclude(level="village")
        .select_related("region")  # the nearest is chosen by its region: one query, not one per center
    )
    found = max(centers, key=lambda c: len(c.region.prefix), default=None)
    if found is None:
        raise ValidationError({"region": [_("该区划没有可受理的综治中心。")]})
    return found


# ---- intake -----------------------------------------------------------------------------------


def find_repeats(
    *,
    region: Region,
    parties: Sequence[PartyInput],
    description: str,
    category: Category | None = None,
    exclude: int = 0,
) -> list[Repeat]:
    """Earlier cases within the window: same party ID, or a near-identical description in the same village.

    Near-duplicates are looked for among the village's 100 latest cases of the same category.
    """
    since = clock.now() - datetime.timedelta(days=REPEAT_WINDOW_DAYS)
    found: dict[int, Repeat] = {}
    indexes = [i for i in (_id_index(p) for p in parties) if i]
    if indexes:
        same_party = Case.objects.filter(parties__id_index__in=indexes, registered_at__gte=since).distinct()
        for case in same_party.exclude(pk=exclude)[:20]:
            found[case.pk] = Repeat(case, _("同一当事人（证件号相同）"))
    village = region.code[:12]
    # Compare texts only (no model objects), newest first; load the few that match.
    nearby = (
        Case.objects.filter(region_code__gte=village, region_code__lte=village + "999", registered_at__gte=since)
        .filter(**({"category": category} if category is not None else {}))
        .exclude(pk__in=[exclude, *found])
        .order_by("-registered_at")
        .values_list("id", "description")[:100]
    )
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(description)  # the new text is seq2: its index is built once for all candidates
    similar: dict[int, float] = {}
    for pk, text in nearby:
        matcher.set_seq1(text)
        # Cheap upper bounds first: most candidates are ruled out without the full comparison.
        if matcher.real_quick_ratio() < SIMILAR_DESCRIPTION or matcher.quick_ratio() < SIMILAR_DESCRIPTION:
            continue
        ratio = matcher.ratio()
        if ratio >= SIMILAR_DESCRIPTION:
            similar[pk] = ratio
    # the candidates are of the village: its range names their region
    for case in Case.objects.filter(
        pk__in=list(similar)[:20], region_code__gte=village, region_code__lte=village + "999"
    ):
        found[case.pk] = Repeat(
            case, _("同一嘎查村内纠纷描述高度相似（%(p)d%%）") % {"p": round(similar[case.pk] * 100)}
        )
    return list(found.values())


def _clean_amount(amount: Any) -> Decimal | None:
    if amount in (None, ""):
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValidationError({"amount": [_("涉及金额“%(a)s”不是有效的数字。") % {"a": amount}]}) from None
    if value < 0:
        raise ValidationError({"amount": [_("涉及金额不能为负数。")]})
    if value >= MAX_AMOUNT:
        raise ValidationError(
            {"amount": [_("涉及金额 %(a)s 元超出合理范围（应小于 100 亿元），请核对。") % {"a": value}]}
        )
    return value.quantize(Decimal("0.01"))


def intake_check(
    *,
    region: Region,
    parties: Sequence[PartyInput],
    description: str,
    amount: Decimal | None,
    people_involved: int,
    title: str = "",
    category: Category | None = None,
) -> IntakeCheck:
    repeats = find_repeats(region=region, parties=parties, description=description, category=category)
    same_party = sum(1 for r in repeats if r.why.startswith(_("同一当事人")))
    text = f"{title}\n{description}"
    level, reasons = suggest_risk(amount=amount, people_involved=people_involved, text=text, repeats=same_party)
    residents = registry_matches(region=region, parties=parties)
    population = village_population(region)
    warnings = []
    if population is not None and people_involved > population:
        warnings.append(
            _("涉及人数 %(n)d 人，超过本嘎查村社区登记的人口 %(p)d 人，请核对。")
            % {"n": people_involved, "p": population}
        )
    return IntakeCheck(level, reasons, repeats, residents, population, warnings)


def _village(region: Region) -> str | None:
    """The code of the village a region is in (itself, or a grid's village); None above the villages."""
    return region.code[:12] if len(region.prefix) >= codes.PREFIX_LENGTH[codes.VILLAGE] else None


def village_population(region: Region) -> int | None:
    """The village's population: the statistics' figure, else the living residents the registry holds."""
    village = _village(region)
    if village is None:
        return None
    # One statement: the living residents are counted only when the statistics have no figure.
    living = residents_visible(Scope(prefixes=(village,))).filter(living=True).order_by()
    counted = Subquery(living.values(n=Func(F("pk"), function="COUNT")), output_field=IntegerField())
    figure = DbCase(When(population__gt=0, then=F("population")), default=counted, output_field=IntegerField())
    return Region.objects.filter(code=village).values_list(figure, flat=True).first() or None


def registry_matches(*, region: Region, parties: Sequence[PartyInput]) -> list[RegistryMatch]:
    """The parties whose resident ID is registered in the case's village (exact match by blind index)."""
    village = _village(region)
    wanted = {
        i: resident_id_index(p.id_number)
        for i, p in enumerate(parties)
        if p.kind == Party.Kind.PERSON and p.id_number.strip() and not resident_id_errors(p.id_number)
    }
    if village is None or not wanted:
        return []
    in_village = residents_with_households(Scope(prefixes=(village,)))  # the household join names the village too
    found = {r.id_index: r for r in in_village.filter(id_index__in=set(wanted.values()))}
    return [
        RegistryMatch(i, parties[i].name.strip(), found[key].household.code, found[key].name == parties[i].name.strip())
        for i, key in wanted.items()
        if key in found
    ]


def case_intake(
    *,
    actor: User,
    category: Category,
    title: str,
    description: str,
    region: Region,
    parties: Sequence[PartyInput],
    amount: Any = None,
    people_involved: int = 1,
    foreign_related: bool = False,
    location: str = "",
    lng: float | None = None,
    lat: float | None = None,
    occurred_on: datetime.date | None = None,
    risk_level: str | None = None,
    risk_override_reason: str = "",
    major: bool = False,
    related: Iterable[Case] = (),
    center: Center | None = None,
    channel: str | None = None,
) -> Case:
    """Register a dispute. The actor becomes its accountable owner (首问负责).

    The channel follows the door: `intake_channel(actor)` for the staff pages and the API; only the
    services of the other doors (portal, import, grid visit, 乌日特 stop) name theirs. The case is
    due to be accepted within the policy's acceptance days.
    """
    errors = inputs.text_errors(
        Case,
        {
            "title": title,
            "description": description,
            "location": location,
            "risk_override_reason": risk_override_reason,
        },
    )
    channel = channel or intake_channel(actor)
    if channel not in Case.Channel.values:
        errors["channel"] = [_("未知来源渠道“%(c)s”。") % {"c": channel}]
    if not title.strip():
        errors["title"] = [_("请填写事由。")]
    if not description.strip():
        errors["description"] = [_("请填写纠纷情况。")]
    if not access.scope_of(actor).covers(region.code):
        errors["region"] = [_("发生地“%(r)s”不在您的辖区内。") % {"r": region.name}]
    if not 1 <= people_involved <= MAX_PEOPLE:
        errors["people_involved"] = [_("涉及人数应在 1 到 %(m)d 之间。") % {"m": MAX_PEOPLE}]
    today = clock.localdate()
    if occurred_on and occurred_on > today:
        errors["occurred_on"] = [_("发生日期 %(d)s 晚于今天，请核对。") % {"d": occurred_on}]
    if (lng is not None and not 73 <= lng <= 136) or (lat is not None and not 3 <= lat <= 54):
        errors["lng"] = [_("坐标不在中国境内，请核对经纬度。")]
    if not parties:
        errors["parties"] = [_("至少需要一位当事人。")]
    elif not any(p.role == Party.Role.APPLICANT for p in parties):
        errors["parties"] = [_("至少需要一位申请人。")]
    for i, party in enumerate(parties):
        errors.update(_party_errors(i, party))
    try:
        clean_amount = _clean_amount(amount)
    except ValidationError as error:
        errors.update(error.message_dict)
        clean_amount = None
    if risk_level and risk_level not in Case.Risk.values:
        errors["risk_level"] = [_("未知风险等级。")]
    if errors:
        raise ValidationError(errors)
    check = intake_check(
        region=region,
        parties=parties,
        title=title,
        description=description.strip(),
        category=category,
        amount=clean_amount,
        people_involved=people_involved,
    )
    final_risk = risk_level or check.risk_level
    if final_risk != check.risk_level and not risk_override_reason.strip():
        raise ValidationError({"risk_override_reason": [_("调整建议风险等级须说明理由。")]})
    receiving = center or intake_center_for(actor, region)
    now = clock.now()
    with transaction.atomic():
        case = Case.objects.create(
            number=next_case_number(region.code[:6], timezone.localdate(now)),
            channel=channel,
            category=category,
            title=title.strip(),
            description=description.strip(),
            region=region,
            region_code=region.code,
            location=location.strip(),
            lng=lng,
            lat=lat,
            amount=clean_amount,
            people_involved=people_involved,
            foreign_related=foreign_related,
            risk_level=final_risk,
            risk_suggested=check.risk_level,
            risk_reasons=check.risk_reasons,
            risk_override_reason=risk_override_reason.strip() if final_risk != check.risk_level else "",
            major=major or final_risk == Case.Risk.RED,
            center=receiving,
            owner=actor,
            registered_at=now,
            occurred_on=occurred_on,
            due_at=acceptance_due(category, final_risk, now),
        )
        party_rows = Party.objects.bulk_create(_party_rows(case, parties))
        # What follows (the outbox's 重大, the answer's roles and allowed actions) reads what was just
        # written, not the database: the parties, and none of the rows a case gathers later.
        none: list[Any] = []
        access.hold_rows(case, parties=party_rows, supervisions=none, assignments=none, coordination_requests=none)
        links = list(related)
        if links:
            case.related.add(*links)
        events.append(
            case,
            events.Registered(
                channel=channel,
                risk=final_risk,
                due_at=case.due_at,
                risk_reasons=tuple(check.risk_reasons),
                repeats=tuple(r.case.number for r in check.repeats),
                related=tuple(c.number for c in links),
            ),
            actor=actor,
            at=now,
            to_state=case.state,
        )
    case.repeats = [{"number": r.case.number, "title": r.case.title, "why": r.why} for r in check.repeats]  # type: ignore[attr-defined]
    case.warnings = check.warnings  # type: ignore[attr-defined]
    case.registry = [  # type: ignore[attr-defined]
        {"party": m.party, "household": m.household, "same_name": m.same_name} for m in check.residents
    ]
    return case


# ---- transitions ------------------------------------------------------------------------------

SIMPLE_EVENTS: dict[str, type[events.Transition]] = {
    "accept": events.Accepted,
    "reject": events.Rejected,
    "withdraw": events.Withdrawn,
    "reopen": events.Reopened,
}


def case_act(*, case: Case, action: str, actor: User, version: int, reason: str = "") -> Case:
    """The transitions that need nothing but a reason: accept, reject, withdraw, reopen."""
    if action not in SIMPLE_EVENTS:
        raise ValidationError({"action": [_("操作“%(a)s”需要专门的参数。") % {"a": action}]})
    case = _lock(case)
    access.require_case(actor, case, action, version=version)
    changes: dict[str, Any] = {}
    if action == "accept":
        changes = {"due_at": None}  # the acceptance deadline is met; assignment sets the handling one
    if action == "reopen":
        # Back to accepted: no deadline until it is assigned again, so the sweep does not chase the old one.
        changes = {"closed_at": None, "outcome": "", "due_at": None}
    if action in ("reject", "withdraw"):
        changes = {"closed_at": clock.now()}
    with workflow.atomic():
        if action in ("withdraw", "reopen"):
            _finish_assignments(case)
        return workflow.perform(
            case=case, event=SIMPLE_EVENTS[action](reason=reason.strip()), actor=actor, version=version, changes=changes
        )


@catalogue.performs("accept")
def case_accept(*, case: Case, actor: User, version: int) -> Case:
    """受理: the center takes the registered case on."""
    return case_act(case=case, action="accept", actor=actor, version=version)


@catalogue.performs("reject")
def case_reject(*, case: Case, actor: User, version: int, reason: str) -> Case:
    """不予受理, with the reason the applicant is told."""
    return case_act(case=case, action="reject", actor=actor, version=version, reason=reason)


@catalogue.performs("withdraw")
def case_withdraw(*, case: Case, actor: User, version: int, reason: str) -> Case:
    """撤回 at the applicant's request: open assignments end."""
    return case_act(case=case, action="withdraw", actor=actor, version=version, reason=reason)


@catalogue.performs("reopen")
def case_reopen(*, case: Case, actor: User, version: int, reason: str) -> Case:
    """重新办理 a closed case (reason required): back to accepted."""
    return case_act(case=case, action="reopen", actor=actor, version=version, reason=reason)


@dataclass
class CoHandler:
    """A co-handler to assign, with its own handling deadline in working days (None: the lead's)."""

    org: Org
    handle_days: int | None = None


@catalogue.performs("assign")
def case_assign(
    *,
    case: Case,
    actor: User,
    version: int,
    lead: Org,
    co: Sequence[Org | CoHandler] = (),
    handle_days: int | None = None,
) -> Case:
    """分流指派: push the case to a lead org and co-handlers, each with sign-for and handling deadlines.

    `handle_days` is the lead's deadline in working days (by the policy when None); a co-handler given
    as `CoHandler(org, handle_days)` has its own, one given as an org shares the lead's.
    """
    own_days = {c.org.code: c.handle_days for c in co if isinstance(c, CoHandler) and c.handle_days is not None}
    orgs = [c.org if isinstance(c, CoHandler) else c for c in co]
    case = _lock(case)
    access.require_case(actor, case, "assign", version=version)
    _require_serving(case, "lead", _("主办单位"), lead)
    _require_serving(case, "co", _("协办单位"), *orgs)
    if lead in orgs:
        raise ValidationError({"co": [_("主办单位不能同时是协办单位。")]})
    if len(set(orgs)) != len(orgs):
        raise ValidationError({"co": [_("同一协办单位选了两次。")]})
    _handle_days(handle_days)
    for value in own_days.values():
        if not 1 <= value <= 90:
            raise ValidationError({"co": [_("协办时限应在 1 到 90 个工作日之间。")]})
    now = clock.now()
    sign_due, handle_due = _deadlines(case.category, case.risk_level, now)
    if handle_days is not None:
        handle_due = add_working_days(now, handle_days)
    handlers = [(lead, Assignment.Role.LEAD, handle_days, handle_due)]
    for org in orgs:
        days = own_days.get(org.code)
        handlers.append(
            (
                org,
                Assignment.Role.CO,
                days if days is not None else handle_days,
                add_working_days(now, days) if days is not None else handle_due,
            )
        )
    with workflow.atomic():
        Assignment.objects.bulk_create(
            [
                Assignment(
                    case=case,
                    region_code=case.region_code,
                    org=org,
                    role=role,
                    deadline=deadline,
                    handle_days=days,
                    sign_for_due=sign_due,
                    assigned_by=actor,
                    assigned_at=now,
                )
                for org, role, days, deadline in handlers
            ]
        )
        return workflow.perform(
            case=case,
            event=events.Assigned(lead=lead.name, co=tuple(o.name for o in orgs), deadline=handle_due),
            actor=actor,
            version=version,
            changes={"due_at": handle_due, "awaiting_director": False},
        )


def _my_assignment(case: Case, actor: User, org: Org | None, statuses: Sequence[str], role: str = "") -> Assignment:
    held = access.my_assignments(actor, case)  # read with the actor's roles at this version
    if held is not None:
        fitting = [
            a
            for a in held
            if a.status in statuses and (org is None or a.org_id == org.pk) and (not role or a.role == role)
        ]
        if not fitting:
            raise PermissionDenied(_("该案件没有推送给您所在单位的待办事项。"))
        return fitting[0]  # the first by role, as the query below orders them
    mine = Assignment.objects.filter(
        case=case, region_code=case.region_code, org_id__in=access.org_ids_of(actor), status__in=statuses
    )
    if org is not None:
        mine = mine.filter(org=org)
    if role:
        mine = mine.filter(role=role)
    assignment = mine.select_related("org").order_by("role").first()  # lead before co
    if assignment is None:
        raise PermissionDenied(_("该案件没有推送给您所在单位的待办事项。"))
    return assignment


@catalogue.performs("sign_for")
def case_sign_for(*, case: Case, actor: User, version: int, org: Org | None = None) -> Case:
    """签收 by the lead (the case moves to in progress) or by a co-handler (its part starts)."""
    case = _lock(case)
    access.require_case(actor, case, "sign_for", version=version)
    assignment = _my_assignment(case, actor, org, [Assignment.Status.PENDING])
    held = access.my_assignments(actor, case)
    now = clock.now()
    event = events.SignedFor(org=assignment.org.name, role=assignment.role)
    with workflow.atomic():
        Assignment.objects.filter(pk=assignment.pk, region_code=assignment.region_code).update(
            status=Assignment.Status.SIGNED, signed_by=actor, signed_at=now
        )
        assignment.status, assignment.signed_by, assignment.signed_at = Assignment.Status.SIGNED, actor, now
        if assignment.role == Assignment.Role.LEAD:
            case = workflow.perform(case=case, event=event, actor=actor, version=version)
        else:
            case = _bump(case, version)
            events.append(case, event, actor=actor, at=now)
    if held is not None:  # only the actor's assignment changed (and the case's state): the roles follow it
        access.carry_case_roles(actor, case, version, held)
    return case


@catalogue.performs("return")
def case_return(*, case: Case, actor: User, version: int, reason: str, org: Org | None = None) -> Case:
    """退回 to the center with a reason: the lead's return sends the case back for reassignment."""
    inputs.check_text(Assignment, {"reason": reason}, columns={"reason": "return_reason"})
    case = _lock(case)
    access.require_case(actor, case, "return", version=version)
    assignment = _my_assignment(case, actor, org, [Assignment.Status.PENDING, Assignment.Status.SIGNED])
    event = events.Returned(reason=reason.strip(), org=assignment.org.name, role=assignment.role)
    with transaction.atomic():
        if assignment.role == Assignment.Role.LEAD:
            Assignment.objects.filter(
                case=case,
                region_code=case.region_code,
                status__in=[Assignment.Status.PENDING, Assignment.Status.SIGNED],
            ).update(status=Assignment.Status.RETURNED, return_reason=reason)
            return workflow.perform(case=case, event=event, actor=actor, version=version, changes={"due_at": None})
        if not reason.strip():
            raise ValidationError({"reason": [_("退回必须填写理由。")]})
        Assignment.objects.filter(pk=assignment.pk, region_code=case.region_code).update(
            status=Assignment.Status.RETURNED, return_reason=reason
        )
        case = _bump(case, version)
        events.append(case, event, actor=actor, at=clock.now())
        return case


@catalogue.performs("transfer")
def case_transfer(
    *, case: Case, actor: User, version: int, to_org: Org, reason: str, handle_days: int | None = None
) -> Case:
    """转办: the director moves the lead to another org, which must sign for it.

    The handling deadline the director set (`handle_days` at assignment) carries over to the new
    lead; a deadline by the policy starts again from the transfer; `handle_days` here sets a new one.
    """
    inputs.check_text(Assignment, {"reason": reason}, columns={"reason": "return_reason"})
    case = _lock(case)
    access.require_case(actor, case, "transfer", version=version)
    workflow.check(case, "transfer", reason)
    _require_serving(case, "to_org", _("转至单位"), to_org)
    _handle_days(handle_days)
    lead = _live_lead(case)
    if lead is not None and lead.org_id == to_org.pk:
        raise ValidationError({"to_org": [_("案件已由“%(o)s”主办，请选择其他单位。") % {"o": to_org.name}]})
    now = clock.now()
    sign_due, handle_due = _deadlines(case.category, case.risk_level, now)
    kept = handle_days
    if handle_days is not None:
        handle_due = add_working_days(now, handle_days)
    elif lead is not None and lead.handle_days is not None:
        handle_due, kept = lead.deadline, lead.handle_days
    with transaction.atomic():
        if lead is not None:
            Assignment.objects.filter(pk=lead.pk, region_code=lead.region_code).update(
                status=Assignment.Status.TRANSFERRED, return_reason=reason
            )
        Assignment.objects.create(
            case=case,
            region_code=case.region_code,
            org=to_org,
            role=Assignment.Role.LEAD,
            deadline=handle_due,
            handle_days=kept,
            sign_for_due=sign_due,
            assigned_by=actor,
            assigned_at=now,
        )
        return workflow.perform(
            case=case,
            event=events.Transferred(
                reason=reason.strip(), from_org=lead.org.name if lead else "", to=to_org.name, deadline=handle_due
            ),
            actor=actor,
            version=version,
            changes={"due_at": handle_due, "awaiting_director": False},
        )


@catalogue.performs("keep_lead")
def case_lead_keep(*, case: Case, actor: User, version: int, handle_days: int | None = None) -> Case:
    """After 上提 the receiving center's director keeps the lead (optionally with a new deadline).

    To change the lead instead, the director transfers (`case_transfer`); both end the wait.
    """
    case = _lock(case)
    access.require_case(actor, case, "keep_lead", version=version)
    _handle_days(handle_days)
    lead = _live_lead(case)
    if lead is None:
        raise ValidationError({"action": [_("该案件没有主办单位，请分流指派。")]})
    now = clock.now()
    due = add_working_days(now, handle_days) if handle_days is not None else case.due_at
    with transaction.atomic():
        if handle_days is not None:
            Assignment.objects.filter(pk=lead.pk, region_code=case.region_code).update(
                deadline=due, handle_days=handle_days
            )
        case = _bump(case, version, awaiting_director=False, due_at=due)
        events.append(
            case, events.LeadKept(org=lead.org.name, center=case.center.name, deadline=due), actor=actor, at=now
        )
    return case


@catalogue.performs("co_handler")
def co_handler_add(*, case: Case, actor: User, version: int, org: Org, handle_days: int | None = None) -> Case:
    """Add a co-handler (联合调处) to a case already pushed, with its own deadline or the case's."""
    case = _lock(case)
    access.require_case(actor, case, "co_handler", version=version)
    _require_serving(case, "org", _("协办单位"), org)
    _handle_days(handle_days)
    live = [Assignment.Status.PENDING, Assignment.Status.SIGNED]
    if case.assignments.filter(org=org, status__in=live, region_code=case.region_code).exists():
        raise ValidationError({"org": [_("“%(o)s”已在办理本案。") % {"o": org.name}]})
    now = clock.now()
    sign_due, _handle = _deadlines(case.category, case.risk_level, now)
    deadline = add_working_days(now, handle_days) if handle_days is not None else case.due_at or _handle
    with transaction.atomic():
        Assignment.objects.create(
            case=case,
            region_code=case.region_code,
            org=org,
            role=Assignment.Role.CO,
            deadline=deadline,
            handle_days=handle_days,
            sign_for_due=sign_due,
            assigned_by=actor,
            assigned_at=now,
        )
        case = _bump(case, version)
        events.append(case, events.CoHandlerAdded(org=org.name, deadline=deadline), actor=actor, at=now)
    return case


@catalogue.performs("part_done")
def co_handler_finish(*, case: Case, actor: User, part: str, org: Org | None = None) -> Assignment:
    """A co-handler records what it did on the case and finishes its part (联合调处)."""
    inputs.check_text(Assignment, {"part": part})
    case = _lock(case)
    access.require_case(actor, case, "part_done")
    if not part.strip():
        raise ValidationError({"part": [_("请填写本单位的承办情况。")]})
    assignment = _my_assignment(case, actor, org, [Assignment.Status.SIGNED], role=Assignment.Role.CO)
    now = clock.now()
    with transaction.atomic():
        Assignment.objects.filter(
            pk=assignment.pk, region_code=assignment.region_code, status=Assignment.Status.SIGNED
        ).update(status=Assignment.Status.DONE, part=part.strip(), finished_by=actor, finished_at=now)
        events.append(case, events.PartDone(org=assignment.org.name, part=part.strip()), actor=actor, at=now)
    access.forget_case_roles(actor)
    return assignment


@catalogue.performs("coordination")
def coordination_request(*, case: Case, actor: User, to_org: Org, message: str) -> CoordinationRequest:
    """One agency asks another for help on the case (协调联动)."""
    inputs.check_text(CoordinationRequest, {"message": message})
    case = _lock(case)
    access.require_case(actor, case, "coordination")
    if not message.strip():
        raise ValidationError({"message": [_("请填写请求协调的事项。")]})
    _require_serving(case, "to_org", _("请求协调的单位"), to_org)
    mine = access.org_ids_of(actor)
    handling = case.assignments.filter(
        region_code=case.region_code, status__in=[Assignment.Status.PENDING, Assignment.Status.SIGNED]
    )
    from_org = (
        Org.objects.filter(pk__in=handling.filter(org_id__in=mine).values("org_id")).first()
        or Org.objects.filter(pk__in=handling.filter(role=Assignment.Role.LEAD).values("org_id")).first()
    )
    if from_org is None:
        raise ValidationError({"to_org": [_("案件尚无承办单位，无法发起协调。")]})
    if from_org.pk == to_org.pk:
        raise ValidationError({"to_org": [_("不能向本单位请求协调。")]})
    now = clock.now()
    with transaction.atomic():
        request = CoordinationRequest.objects.create(
            case=case,
            region_code=case.region_code,
            from_org=from_org,
            to_org=to_org,
            message=message.strip(),
            requested_by=actor,
            requested_at=now,
        )
        events.append(
            case,
            events.CoordinationRequested(from_org=from_org.name, to=to_org.name, message=message.strip()),
            actor=actor,
            at=now,
        )
    access.forget_case_roles(actor)
    case.__dict__.pop("has_open_coordination", None)  # what the case's own read said of its requests
    return request


@catalogue.performs("coordination_reply")
def coordination_reply(
    *, case: Case, actor: User, coordination: CoordinationRequest, reply: str
) -> CoordinationRequest:
    """The asked agency answers a coordination request (协调答复)."""
    inputs.check_text(CoordinationRequest, {"reply": reply})
    request = coordination
    case = _lock(case)
    access.require_case(actor, case, "coordination_reply")
    if request.case_id != case.pk or request.to_org_id not in access.org_ids_of(actor):
        raise PermissionDenied(_("只有被请求协调的单位可以答复。"))
    if request.replied_at is not None:
        raise ValidationError({"request": [_("该协调请求已答复。")]})
    if not reply.strip():
        raise ValidationError({"reply": [_("请填写答复内容。")]})
    now = clock.now()
    with transaction.atomic():
        if not CoordinationRequest.objects.filter(
            pk=request.pk, region_code=request.region_code, replied_at__isnull=True
        ).update(reply=reply.strip(), replied_at=now):
            raise ValidationError({"request": [_("该协调请求已答复。")]})
        events.append(
            case, events.CoordinationReplied(org=request.to_org.name, reply=reply.strip()), actor=actor, at=now
        )
    access.forget_case_roles(actor)
    case.__dict__.pop("has_open_coordination", None)  # what the case's own read said of its requests
    request.reply, request.replied_at = reply.strip(), now
    return request


def _booking_clash(room: Room, starts_at: datetime.datetime, ends_at: datetime.datetime) -> ValidationError:
    """The Chinese answer to a slot already taken, naming the room and the booking in the way."""
    other = RoomBooking.objects.filter(room=room, starts_at__lt=ends_at, ends_at__gt=starts_at).first()
    a, b = (other.starts_at, other.ends_at) if other is not None else (starts_at, ends_at)
    return ValidationError(
        {
            "starts_at": [
                _("%(room)s 在 %(a)s–%(b)s 已被预约。")
                % {
                    "room": room.name,
                    "a": timezone.localtime(a).strftime("%m-%d %H:%M"),
                    "b": timezone.localtime(b).strftime("%H:%M"),
                }
            ]
        }
    )


@catalogue.performs("booking")
def room_book(
    *, case: Case, actor: User, room: Room, starts_at: datetime.datetime, ends_at: datetime.datetime
) -> RoomBooking:
    """Reserve a center room (mediation room, fast-track court) for a session; no double booking."""
    starts_at, ends_at = inputs.aware(starts_at, "starts_at"), inputs.aware(ends_at, "ends_at")
    case = _lock(case)
    access.require_case(actor, case, "booking")
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": [_("结束时间必须晚于开始时间。")]})
    if starts_at < clock.now() - datetime.timedelta(minutes=5):
        raise ValidationError({"starts_at": [_("不能预约已经过去的时间。")]})
    if not access.scope_of(actor).covers(room.center.region_code) and room.center_id != case.center_id:
        raise ValidationError({"room": [_("只能预约本辖区或本案办理中心的功能室。")]})
    with transaction.atomic():
        # One booking of a room at a time: the second clerk then finds the first one's booking. The
        # exclusion constraint alone lets two inserts wait on each other, which PostgreSQL ends as a deadlock.
        Room.objects.select_for_update().filter(pk=room.pk).values_list("pk", flat=True).first()
        if RoomBooking.objects.filter(room=room, starts_at__lt=ends_at, ends_at__gt=starts_at).exists():
            raise _booking_clash(room, starts_at, ends_at)
        # Two clerks checking an empty slot at once both find it free: the database decides (an
        # exclusion constraint on PostgreSQL, a trigger on SQLite, migration 0005).
        try:
            with transaction.atomic():
                booking = RoomBooking.objects.create(
                    room=room,
                    case=case,
                    region_code=case.region_code,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    booked_by=actor,
                )
        except IntegrityError:
            raise _booking_clash(room, starts_at, ends_at) from None
        events.append(
            case,
            events.RoomBooked(room=f"{room.center.name} {room.name}", starts_at=starts_at, ends_at=ends_at),
            actor=actor,
            at=clock.now(),
        )
    return booking


# ---- mediation, agreement, court, closure, follow-up -------------------------------------------


@catalogue.performs("session")
def session_record(
    *,
    case: Case,
    actor: User,
    held_at: datetime.datetime,
    place_kind: str,
    mediators: str,
    record: str,
    room: Room | None = None,
    place: str = "",
    attendees: str = "",
) -> MediationSession:
    """调解记录: when, where, who mediated and who attended, and what was said."""
    held_at = inputs.aware(held_at, "held_at")
    case = _lock(case)
    access.require_case(actor, case, "session")
    errors = inputs.text_errors(
        MediationSession, {"place": place, "mediators": mediators, "attendees": attendees, "record": record}
    )
    if held_at > clock.now() + datetime.timedelta(minutes=5):
        errors["held_at"] = [_("调解时间不能晚于现在。")]
    if place_kind not in MediationSession.Place.values:
        errors["place_kind"] = [_("请选择调解地点类型。")]
    if place_kind == MediationSession.Place.ROOM and room is None:
        errors["room"] = [_("在中心调解须选择功能室。")]
    if place_kind != MediationSession.Place.ROOM and not place.strip():
        errors["place"] = [_("请填写调解地点（驿站名称或现场地址）。")]
    if not mediators.strip():
        errors["mediators"] = [_("请填写调解员。")]
    if not record.strip():
        errors["record"] = [_("请填写调解记录。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        session = MediationSession.objects.create(
            case=case,
            region_code=case.region_code,
            held_at=held_at,
            place_kind=place_kind,
            room=room,
            place=place.strip() or (room.name if room else ""),
            mediators=mediators.strip(),
            attendees=attendees.strip(),
            record=record.strip(),
            recorded_by=actor,
        )
        events.append(
            case,
            events.SessionHeld(held_at=held_at, place=session.place, mediators=session.mediators),
            actor=actor,
            at=clock.now(),
        )
    return session


@dataclass
class InstalmentInput:
    due_on: datetime.date
    amount: Decimal


def _schedule_errors(
    instalments: Sequence[InstalmentInput], amount: Decimal | None, *, amount_given: bool = True
) -> dict[str, list[str]]:
    """A schedule's mistakes, by row (`instalments.1.amount`) and as a whole (its sum against the amount)."""
    errors: dict[str, list[str]] = {}
    if not instalments:
        return errors
    for n, row in enumerate(instalments):
        if row.amount <= 0:
            errors[f"instalments.{n}.amount"] = [_("分期履行第 %(n)d 行：金额应大于 0。") % {"n": n + 1}]
    if len({i.due_on for i in instalments}) != len(instalments):
        errors.setdefault("instalments", []).append(_("分期履行：两期的应付日期相同，请合并为一期或改期。"))
    total = sum((i.amount for i in instalments), Decimal(0)).quantize(Decimal("0.01"))
    if amount is None:
        if amount_given:
            errors["amount"] = [_("分期履行须填写协议金额（各期合计 %(s)s 元）。") % {"s": total}]
    elif total != amount:
        errors.setdefault("instalments", []).append(
            _("分期履行：各期金额合计 %(s)s 元，与协议金额 %(a)s 元不符（相差 %(d)s 元）。")
            % {"s": total, "a": amount, "d": abs(amount - total)}
        )
    return errors


@catalogue.performs("resolve")
def case_resolve(
    *,
    case: Case,
    actor: User,
    version: int,
    facts: str = "",
    terms: str = "",
    amount: Any = None,
    performance_method: str = "",
    performance_place: str = "",
    performance_due: datetime.date | None = None,
    signed_on: datetime.date | None = None,
    instalments: Sequence[InstalmentInput] = (),
    note: str = "",
) -> Case:
    """化解成功, with the written agreement (调解协议书) when terms are given."""
    case = _lock(case)
    access.require_case(actor, case, "resolve", version=version)
    with_agreement = bool(terms.strip())
    errors = {
        **inputs.text_errors(
            Agreement,
            {
                "facts": facts,
                "terms": terms,
                "performance_method": performance_method,
                "performance_place": performance_place,
            },
        ),
        **inputs.text_errors(Case, {"note": note}, columns={"note": "outcome_note"}),
    }
    clean_amount = None
    if with_agreement:
        if not facts.strip():
            errors["facts"] = [_("请填写纠纷事实。")]
        if not performance_method.strip():
            errors["performance_method"] = [_("请填写履行方式。")]
        if performance_due is None and instalments:
            performance_due = max(i.due_on for i in instalments)  # the schedule's last day
        if performance_due is None:
            errors["performance_due"] = [_("请填写履行期限。")]
        if signed_on is None or signed_on > clock.localdate():
            errors["signed_on"] = [_("签订日期不能为空，也不能晚于今天。")]
        try:
            clean_amount = _clean_amount(amount)
        except ValidationError as error:
            errors.update(error.message_dict)
        errors.update(_schedule_errors(instalments, clean_amount, amount_given="amount" not in errors))
    elif instalments:
        errors["instalments"] = [_("分期履行须写入书面协议：请填写协议内容。")]
    elif not note.strip():
        errors["note"] = [_("未签书面协议时，请说明化解情况。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if with_agreement:
            agreement = Agreement.objects.create(
                case=case,
                region_code=case.region_code,
                number=f"{case.number}-XY",
                facts=facts.strip(),
                terms=terms.strip(),
                amount=clean_amount,
                performance_method=performance_method.strip(),
                performance_place=performance_place.strip(),
                performance_due=performance_due,  # type: ignore[misc]
                signed_on=signed_on,
                recorded_by=actor,  # type: ignore[misc]
            )
            Instalment.objects.bulk_create(
                [
                    Instalment(agreement=agreement, region_code=case.region_code, due_on=i.due_on, amount=i.amount)
                    for i in instalments
                ]
            )
            events.append(
                case,
                events.AgreementSigned(amount=clean_amount, instalments=len(instalments)),
                actor=actor,
                at=clock.now(),
            )
        _finish_assignments(case)
        return workflow.perform(
            case=case,
            event=events.Resolved(agreement=with_agreement),
            actor=actor,
            version=version,
            changes={
                "outcome": Case.Outcome.AGREEMENT if with_agreement else Case.Outcome.RESOLVED_OTHER,
                "outcome_note": note.strip(),
            },
        )


@catalogue.performs("payment")
def instalment_pay(
    *, case: Case, actor: User, instalment: Instalment, paid_on: datetime.date, paid_amount: Any, receipt: str = ""
) -> InstalmentPayment:
    """履行登记: a payment against one instalment, the whole or a part; each is kept with its receipt."""
    inputs.check_text(Instalment, {"receipt": receipt}, columns={"receipt": "receipt_number"})
    case = _lock(case)
    access.require_case(actor, case, "payment")
    # Read again under the case's lock: two clerks registering at once both see the same balance otherwise.
    found = (
        Instalment.objects.select_related("agreement")
        .filter(pk=instalment.pk, region_code=case.region_code, agreement__region_code=case.region_code)
        .filter(agreement__case_id=case.pk)
        .first()
    )
    if found is None:
        raise ValidationError({"instalment": [_("该分期不属于本案。")]})
    instalment = found
    outstanding = instalment.outstanding
    if outstanding == 0:
        raise ValidationError({"instalment": [_("该期已付清。")]})
    if paid_on > clock.localdate():
        raise ValidationError({"paid_on": [_("实付日期不能晚于今天。")]})
    if paid_on < instalment.agreement.signed_on:
        raise ValidationError(
            {"paid_on": [_("实付日期不能早于协议签订日期 %(d)s。") % {"d": instalment.agreement.signed_on}]}
        )
    try:
        amount = _clean_amount(paid_amount)
    except ValidationError:
        raise ValidationError({"paid_amount": [_("实付金额应为不小于 0 的数字。")]}) from None
    if amount is None or amount == 0:
        raise ValidationError({"paid_amount": [_("请填写实付金额。")]})
    if amount > outstanding:
        raise ValidationError(
            {"paid_amount": [_("实付金额 %(a)s 元超过该期未付金额 %(o)s 元。") % {"a": amount, "o": outstanding}]}
        )
    receipt = receipt.strip()
    with transaction.atomic():
        payment = InstalmentPayment.objects.create(
            instalment=instalment,
            region_code=case.region_code,
            paid_on=paid_on,
            amount=amount,
            receipt_number=receipt,
            recorded_by=actor,
            recorded_at=clock.now(),
        )
        total = (instalment.paid_amount or Decimal(0)) + amount
        remaining = instalment.amount - total
        Instalment.objects.filter(pk=instalment.pk, region_code=instalment.region_code).update(
            paid_amount=total, paid_on=paid_on if remaining == 0 else None, receipt_number=receipt
        )
        events.append(
            case,
            events.InstalmentPaid(due_on=instalment.due_on, paid=amount, receipt=receipt, remaining=remaining),
            actor=actor,
            at=clock.now(),
        )
    return payment


GUIDANCE = set(catalogue.GUIDANCE)


@catalogue.performs("fail")
def case_fail(*, case: Case, actor: User, version: int, guidance: str, reason: str) -> Case:
    """化解不成: no agreement; record the guidance given (litigation, arbitration, reconsideration)."""
    case = _lock(case)
    # Before the assignments are closed: the lead acts as lead.
    access.require_case(actor, case, "fail", version=version)
    if guidance not in GUIDANCE:
        raise ValidationError({"guidance": [_("请选择给当事人的引导方式（诉讼、仲裁、行政复议或其他）。")]})
    with transaction.atomic():
        _finish_assignments(case)
        return workflow.perform(
            case=case,
            event=events.Failed(reason=reason.strip(), guidance=guidance),
            actor=actor,
            version=version,
            changes={"outcome": guidance, "outcome_note": reason.strip()},
        )


@catalogue.performs("close")
def case_close(*, case: Case, actor: User, version: int, note: str = "") -> Case:
    """The center closes a resolved or unresolved case with its outcome."""
    inputs.check_text(Case, {"note": note}, columns={"note": "outcome_note"})
    case = _lock(case)
    access.require_case(actor, case, "close", version=version)
    return workflow.perform(
        case=case,
        event=events.Closed(outcome=case.outcome, note=note.strip()),
        actor=actor,
        version=version,
        changes={"closed_at": clock.now(), "outcome_note": note.strip() or case.outcome_note},
    )


def _court_for(case: Case) -> Org:
    court = Org.objects.filter(kind=Org.Kind.COURT, code=f"{case.region_code[:6]}-FTC").first()
    if court is None:
        raise ValidationError({"court": [_("本旗县没有速裁法庭。")]})
    return court


@catalogue.performs("refer_court")
def case_refer_court(*, case: Case, actor: User, version: int, reason: str = "") -> Case:
    """诉调对接: an unresolved case goes to the fast-track court, and is closed here."""
    inputs.check_text(CourtReferral, {"reason": reason}, columns={"reason": "note"}, labels={"reason": _("理由")})
    case = _lock(case)
    access.require_case(actor, case, "refer_court", version=version)
    court = _court_for(case)
    now = clock.now()
    with transaction.atomic():
        CourtReferral.objects.create(
            case=case,
            region_code=case.region_code,
            court=court,
            kind=CourtReferral.Kind.LITIGATION,
            referred_at=now,
            note=reason,
        )
        return workflow.perform(
            case=case,
            event=events.ReferredToCourt(reason=reason.strip(), court=court.name),
            actor=actor,
            version=version,
            changes={"closed_at": now, "outcome": Case.Outcome.COURT},
        )


@catalogue.performs("confirmation")
def confirmation_request(*, case: Case, actor: User) -> CourtReferral:
    """Ask the fast-track court to confirm a written agreement (司法确认)."""
    case = _lock(case)
    access.require_case(actor, case, "confirmation")
    court = _court_for(case)
    now = clock.now()
    with transaction.atomic():
        referral = CourtReferral.objects.create(
            case=case, region_code=case.region_code, court=court, kind=CourtReferral.Kind.CONFIRMATION, referred_at=now
        )
        events.append(case, events.CourtReferred(court=court.name, referral="confirmation"), actor=actor, at=now)
    return referral


@catalogue.performs("court_decision")
def court_decide(*, case: Case, actor: User, referral: CourtReferral, result: str, note: str = "") -> CourtReferral:
    """The judge records the court's decision on a referral."""
    inputs.check_text(CourtReferral, {"note": note})
    case = _lock(case)
    access.require_case(actor, case, "court_decision")
    if referral.case_id != case.pk or referral.court_id not in access.org_ids_of(actor):
        raise PermissionDenied(_("只有受理法院的法官可以登记结果。"))
    if referral.result != CourtReferral.Result.PENDING:
        raise ValidationError({"referral": [_("该事项已登记结果。")]})
    if result not in catalogue.DECISIONS:
        raise ValidationError({"result": [_("请选择审查结果。")]})
    now = clock.now()
    with transaction.atomic():
        CourtReferral.objects.filter(pk=referral.pk, region_code=referral.region_code).update(
            result=result, decided_at=now, note=note
        )
        events.append(
            case,
            events.CourtDecided(result=result, result_label=str(CourtReferral.Result(result).label), note=note),
            actor=actor,
            at=now,
        )
    access.forget_case_roles(actor)
    referral.result, referral.decided_at, referral.note = result, now, note
    return referral


@catalogue.performs("follow_up")
def follow_up_record(
    *, case: Case, actor: User, method: str, performance: str, satisfaction: str, note: str = ""
) -> FollowUp:
    """回访 after closure: performance of the agreement and the parties' satisfaction."""
    case = _lock(case)
    access.require_case(actor, case, "follow_up")
    errors = inputs.text_errors(FollowUp, {"method": method, "note": note})
    if satisfaction not in FollowUp.Satisfaction.values:
        errors["satisfaction"] = [_("请选择满意度。")]
    if performance not in FollowUp.Performance.values:
        errors["performance"] = [_("请选择履行情况。")]
    if not method.strip():
        errors["method"] = [_("请填写回访方式（电话、上门等）。")]
    if errors:
        raise ValidationError(errors)
    now = clock.now()
    with transaction.atomic():
        follow_up = FollowUp.objects.create(
            case=case,
            region_code=case.region_code,
            at=now,
            method=method.strip(),
            performance=performance,
            satisfaction=satisfaction,
            note=note.strip(),
            by=actor,
        )
        events.append(case, events.FollowedUp(satisfaction=satisfaction, performance=performance), actor=actor, at=now)
    return follow_up


# ---- escalation and supervision -----------------------------------------------------------------


@catalogue.performs("escalate")
def case_escalate(*, case: Case, actor: User | None, version: int, reason: str, system: bool = False) -> Case:
    """上提 to the next center up (重大疑难: league-level coordination), with a fresh handling deadline.

    The case passes to the receiving center's director: the assignments stay, but until the
    director keeps the lead (`case_lead_keep`) or transfers it, the case waits on that center.
    """
    case = _lock(case)
    if not system:
        access.require_case(actor, case, "escalate", version=version)
    target = Center.objects.filter(level=Center.Level.LEAGUE).first() if case.major else case.center.parent
    if target is None or target.pk == case.center_id:
        raise ValidationError({"action": [_("案件已在盟级综治中心，无法继续上提。")]})
    _sign_due, due = _deadlines(case.category, case.risk_level, clock.now())
    lead = _live_lead(case)
    return workflow.perform(
        case=case,
        event=events.Escalated(
            reason=reason.strip(),
            from_center=case.center.name,
            to=target.name,
            major=case.major,
            due_at=due,
            lead=lead.org.name if lead else "",
        ),
        actor=actor,
        version=version,
        changes={
            "center": target,
            "escalations": case.escalations + 1,
            "due_at": due,
            "awaiting_director": lead is not None,
        },
    )


def _supervision_number(center: Center, kind: str) -> str:
    """The next document number of the center, kind and year: one more than the highest issued."""
    prefix = f"{center.code}-{kind[:2].upper()}〔{clock.localdate().year}〕"
    last = (
        Supervision.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return f"{prefix}{int(last[len(prefix) :]) + 1 if last else 1:04d}"


def _own_center(actor: User, case: Case) -> Center:
    """The center a director or leader acts for on this case: theirs, the nearest above the case's place."""
    ids = set(access.center_ids_of(actor, Role.CENTER_DIRECTOR))
    if case.center_id in ids:
        return case.center
    centers = Q(pk__in=ids)
    if Role.LEADER in access.roles_of(actor):
        # A leader (政法委) acts for the center of their jurisdiction: the league's, a county's.
        centers |= Q(region__in=actor.jurisdictions.values("region"))
    covering = [
        c
        for c in Center.objects.filter(centers).exclude(level=Center.Level.VILLAGE).select_related("region")
        if case.region_code.startswith(c.region.prefix)
    ]
    if not covering:
        raise PermissionDenied(_("您不属于管辖本案的综治中心，不能以中心名义督办。"))
    return max(covering, key=lambda c: len(c.region.prefix))


def _sweep_issuer(case: Case, kind: str, target_center: Center | None) -> Center:
    """The sweep writes as the center above the handler's; only a reminder to an org comes from its own center."""
    above = case.center.parent or case.center
    if target_center is not None or kind in (Supervision.Kind.SUPERVISION, Supervision.Kind.LETTER):
        return above
    return case.center


def _supervision_days(days: Any) -> int | None:
    """The reply period, or None when it is not 1–30 working days (typed on a page, it may be anything)."""
    try:
        value = int(str(days).strip())
    except ValueError:
        return None
    return value if 1 <= value <= MAX_SUPERVISION_DAYS else None


@catalogue.performs("supervise")
def supervision_issue(
    *,
    case: Case,
    actor: User | None,
    kind: str,
    reason: str,
    target_org: Org | None = None,
    days: int | str = 5,
    system: bool = False,
) -> Supervision:
    """督办 ("三单两函"): issue a document with a reply deadline to whoever holds the case now.

    The issuer is the acting user's own center. Without a target, the document goes to the lead
    org, or to the case's center when no org holds it (to be accepted, or waiting on the director).
    """
    inputs.check_text(Supervision, {"reason": reason})
    case = _lock(case)
    if not system:
        access.require_case(actor, case, "supervise")
    return supervision_send(case=case, actor=actor, kind=kind, reason=reason, target_org=target_org, days=days)


def supervision_send(
    *,
    case: Case,
    actor: User | None,
    kind: str,
    reason: str,
    days: int | str,
    target_org: Org | None = None,
    target_center: Center | None = None,
    issuer_center: Center | None = None,
) -> Supervision:
    """Write a 督办 document whose issuer may act (checked by the caller: the page, the sweep, a meeting).

    The issuer: `issuer_center` (a meeting's), else the actor's own center, else (the sweep, no
    actor) the center above the handler's.
    """
    case = _lock(case)
    errors = inputs.text_errors(Supervision, {"reason": reason})
    if kind not in Supervision.Kind.values:
        errors["kind"] = [_("未知督办文书类型。")]
    if not reason.strip():
        errors["reason"] = [_("请填写督办事由。")]
    reply_days = _supervision_days(days)
    if reply_days is None:
        errors["days"] = [
            _("反馈期限“%(d)s”无效：应为 1 至 %(m)d 个工作日的整数。") % {"d": days, "m": MAX_SUPERVISION_DAYS}
        ]
    if errors:
        raise ValidationError(errors)
    assert reply_days is not None
    if target_org is None and target_center is None:
        target_org, target_center = case_holder(case)
    if issuer_center is None:
        issuer_center = _sweep_issuer(case, kind, target_center) if actor is None else _own_center(actor, case)
    now = clock.now()
    target_name = target_org.name if target_org else target_center.name if target_center else ""
    with transaction.atomic():
        supervision = Supervision.objects.create(
            case=case,
            region_code=case.region_code,
            kind=kind,
            number=_supervision_number(issuer_center, kind),
            issuer=actor,
            issuer_center=issuer_center,
            target_org=target_org,
            target_center=target_center,
            reason=reason.strip(),
            deadline=add_working_days(now, reply_days),
            issued_at=now,
        )
        access.forget_supervisions(case)
        events.append(
            case,
            events.SupervisionIssued(
                document=kind,
                name=supervision_name(kind),
                number=supervision.number,
                target=target_name,
                reason=reason.strip(),
                issuer=issuer_center.name,
            ),
            actor=actor,
            at=now,
        )
    if actor is not None:
        access.forget_case_roles(actor)
    return supervision


@catalogue.performs("supervision_reply")
def supervision_reply(*, case: Case, actor: User, supervision: Supervision, reply: str) -> Supervision:
    """The supervised org answers (反馈); the case's director may answer on its behalf."""
    inputs.check_text(Supervision, {"reply": reply})
    case = _lock(case)
    access.require_case(actor, case, "supervision_reply")
    ours = supervision.target_org_id is not None and supervision.target_org_id in access.org_ids_of(actor)
    # A document to a center (a case to accept, one waiting on its director) is answered by its staff.
    ours = ours or supervision.target_center_id in access.supervised_center_ids(actor)
    if supervision.case_id != case.pk or not (ours or "director" in access.case_roles(actor, case)):
        raise PermissionDenied(_("只有被督办单位可以反馈。"))
    if supervision.status != Supervision.Status.OPEN:
        raise ValidationError({"supervision": [_("该督办事项已反馈。")]})
    if not reply.strip():
        raise ValidationError({"reply": [_("请填写反馈内容。")]})
    now = clock.now()
    with transaction.atomic():
        Supervision.objects.filter(pk=supervision.pk, region_code=supervision.region_code).update(
            status=Supervision.Status.REPLIED, reply=reply.strip(), replied_at=now
        )
        access.forget_supervisions(case)
        events.append(
            case, events.SupervisionReplied(number=supervision.number, reply=reply.strip()), actor=actor, at=now
        )
    access.forget_case_roles(actor)
    supervision.status, supervision.reply, supervision.replied_at = Supervision.Status.REPLIED, reply.strip(), now
    return supervision


@catalogue.performs("supervision_assess")
def supervision_assess(*, case: Case, actor: User, supervision: Supervision, effect: str) -> Supervision:
    """督办问效: the issuing side rates the effect of the supervision."""
    case = _lock(case)
    access.require_case(actor, case, "supervision_assess")
    if supervision.case_id != case.pk:
        raise ValidationError({"supervision": [_("该督办事项不属于本案。")]})
    if effect not in Supervision.Effect.values:
        raise ValidationError({"effect": [_("请选择督办成效。")]})
    if supervision.status != Supervision.Status.REPLIED:
        raise ValidationError({"supervision": [_("被督办单位反馈后才能问效。")]})
    with transaction.atomic():
        Supervision.objects.filter(pk=supervision.pk, region_code=supervision.region_code).update(
            status=Supervision.Status.ASSESSED, effect=effect
        )
        access.forget_supervisions(case)
        events.append(
            case,
            events.SupervisionAssessed(number=supervision.number, effect=effect),
            actor=actor,
            at=clock.now(),
        )
    supervision.status, supervision.effect = Supervision.Status.ASSESSED, effect
    return supervision


# ---- attachments ------------------------------------------------------------------------------

ALLOWED_UPLOADS = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
    "audio/mpeg": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    "audio/mp4": (b"ftyp",),  # at offset 4
    "audio/wav": (b"RIFF",),
}
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _sniff(head: bytes) -> str | None:
    for content_type, signatures in ALLOWED_UPLOADS.items():
        for signature in signatures:
            if content_type == "audio/mp4" and head[4:8] == signature:
                return content_type
            if head.startswith(signature):
                return content_type
    return None


@catalogue.performs("attachment")
def attachment_add(*, case: Case, actor: User, upload: UploadedFile) -> Attachment:
    """Store a photo, signed agreement or recording after checking its real type and size."""
    case = _lock(case)
    access.require_case(actor, case, "attachment")
    name = (upload.name or "file").rsplit("/", 1)[-1][:200]
    inputs.check_text(Attachment, {"file": name}, columns={"file": "name"})
    if upload.size is None or upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": [_("文件“%(n)s”超过 20 MB。") % {"n": name}]})
    head = upload.read(16)
    upload.seek(0)
    content_type = _sniff(head)
    if content_type in (uploads.JPEG, uploads.PNG, uploads.PDF):
        _parsed, found = uploads.problem(uploads.read_all(upload), name, (content_type,), _("附件"))
        if found:
            raise ValidationError({"file": [found]})
    if content_type is None:
        raise ValidationError(
            {"file": [_("文件“%(n)s”的类型不允许：只接受 JPEG、PNG、PDF 和 MP3/M4A/WAV 录音。") % {"n": name}]}
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    extension = mimetypes.guess_extension(content_type) or ""
    with transaction.atomic():
        attachment = Attachment(
            case=case,
            region_code=case.region_code,
            name=name,
            content_type=content_type,
            size=upload.size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
            uploaded_at=clock.now(),
        )
        attachment.file.save(f"{case.number}-{digest.hexdigest()[:12]}{extension}", upload, save=False)
        attachment.save()
        events.append(case, events.AttachmentAdded(name=name, type=content_type), actor=actor, at=clock.now())
    return attachment


@catalogue.performs("link")
def case_link(*, case: Case, other: Case, actor: User) -> Case:
    """Link a case to an earlier related one (a repeat or duplicate found at intake or later)."""
    case = _lock(case)
    access.require_case(actor, case, "link")
    if other.pk == case.pk:
        raise ValidationError({"other": [_("不能把案件关联到它自己。")]})
    if case.related.filter(pk=other.pk, region_code=other.region_code).exists():
        raise ValidationError({"other": [_("已关联案件 %(n)s。") % {"n": other.number}]})
    with transaction.atomic():
        case.related.add(other)
        events.append(case, events.CaseLinked(number=other.number), actor=actor, at=clock.now())
    return other


def attachment_download(*, case: Case, attachment: Attachment, actor: User) -> Any:
    """The attachment's file, open for reading; every download is an audit entry (pages and API alike)."""
    audit_record(
        action=AuditEntry.Action.FILE_DOWNLOADED,
        actor=actor,
        target=f"{case.number}/attachment:{attachment.pk}",
        detail={"what": "案件附件", "case": case.number, "file": attachment.name, "size": attachment.size},
    )
    return attachment.file.open("rb")


def document_print(*, case: Case, doc: str, actor: User, document_id: str | None, fmt: str, lang: str = "zh") -> None:
    """Write the audit entry of a case document shown for printing (`html`) or downloaded as PDF."""
    detail = {"case": case.number, "document": doc, "id": document_id or "", "format": fmt}
    if lang != "zh":
        detail["lang"] = lang
    audit_record(action=AuditEntry.Action.DOCUMENT_PRINTED, actor=actor, target=f"{case.number}/{doc}", detail=detail)


def may_print_unmasked(actor: User, case: Case) -> bool:
    """Who may print the parties' full particulars: whoever may see them unmasked on the case page."""
    return bool(access.case_roles(actor, case) & catalogue.ACTIONS["unmask"].roles)


def document_print_unmasked_check(*, case: Case, actor: User, reason: str) -> None:
    """PermissionDenied for one who may not print the full particulars, ValidationError without a reason:
    asked before the full copy is built, and again by `document_print_unmasked`."""
    inputs.check_text(None, {"reason": reason}, labels={"reason": _("用途")})
    if not may_print_unmasked(actor, case):
        raise PermissionDenied(_("您无权打印含当事人完整信息的文书。"))
    if not reason.strip():
        raise ValidationError({"reason": [_("打印含完整信息的文书须说明用途。")]})


def document_print_unmasked(
    *, case: Case, doc: str, actor: User, reason: str, fmt: str, lang: str = "zh", request: Any = None
) -> None:
    """The copy the parties sign and the court receives, with full IDs and phones: permitted, and audited
    as an act of its own (who, why, which document), like looking at a full number."""
    document_print_unmasked_check(case=case, actor=actor, reason=reason)
    audit_record(
        action=AuditEntry.Action.DOCUMENT_PRINTED_UNMASKED,
        actor=actor,
        target=f"{case.number}/{doc}",
        request=request,
        detail={"case": case.number, "document": doc, "format": fmt, "lang": lang, "reason": reason.strip()},
    )


@catalogue.performs("unmask")
def party_unmask(*, case: Case, actor: User, party: Party, reason: str, request: Any = None) -> tuple[str, str]:
    """The full ID number and phone of a party, for those handling the case; every look is audited."""
    inputs.check_text(None, {"reason": reason}, labels={"reason": _("用途")})
    case = _lock(case)
    access.require_case(actor, case, "unmask")
    if party.case_id != case.pk:
        raise ValidationError({"party": [_("该当事人不属于本案。")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("查看完整号码须说明用途。")]})
    audit_record(
        action=AuditEntry.Action.UNMASK,
        actor=actor,
        target=f"{case.number}/{party.pk}",
        request=request,
        detail={"case": case.number, "party": party.name, "reason": reason.strip()},
    )
    return party.id_number, party.phone


# ---- historical ledgers (the disputes import) ---------------------------------------------------
#
# Not catalogue actions: nobody performs them on a case page. The import checks who may import (the
# upload page and the CLI) and the importer's jurisdiction over every row, then records what the ledger's
# center did, as the deadline sweep records what the system does.

SETTLED = (Case.Outcome.AGREEMENT, Case.Outcome.RESOLVED_OTHER)
# What a re-import may correct (台账更正); anything else the ledger says is written by the transitions.
LEDGER_FIELDS = (
    "category_id",
    "title",
    "description",
    "location",
    "amount",
    "people_involved",
    "risk_level",
    "center_id",
    "outcome_note",
)


@dataclass(frozen=True)
class LedgerCase:
    """A historical case as its ledger (台账) records it."""

    original_number: str
    registered_at: datetime.datetime
    region_id: int
    region_code: str
    center_id: int
    category_id: int
    title: str
    description: str
    location: str
    amount: Decimal | None
    people_involved: int
    risk_level: str
    outcome: str  # "" while the case is open
    closed_at: datetime.datetime | None
    outcome_note: str


def ledger_steps(state: str, outcome: str) -> list[str] | None:
    """The transitions from `state` to what the ledger records; None when no transition leads there.

    The ledger's 受理日期 is its acceptance, so every ledger case is accepted; an open one stays there,
    waiting to be assigned on the platform. A closed one was handled by its center (`ledger_handle`:
    it was never pushed to an org, so no 分流指派 or 签收 is invented), settled (resolve) or not (fail),
    then closed, or referred to the fast-track court (refer_court).
    """
    path = ["accept"]
    if outcome:
        path.append("ledger_handle")
        path.append("resolve" if outcome in SETTLED else "fail")
        path.append("refer_court" if outcome == Case.Outcome.COURT else "close")
    if state == State.REGISTERED:
        return path
    if state == State.ACCEPTED:
        return path[1:]
    return None  # closed: its outcome is written; elsewhere only the platform moves a case


def _party_rows(case: Case, parties: Sequence[PartyInput]) -> list[Party]:
    case.__dict__.pop("has_contact_parties", None)  # what the case's own read said of its parties
    return [
        Party(
            case=case,
            region_code=case.region_code,
            kind=p.kind,
            role=p.role,
            name=p.name.strip(),
            id_number=_normalized_id(p),
            id_index=_id_index(p),
            nationality=p.nationality.strip().upper(),
            phone=p.phone.strip(),
            address=p.address.strip(),
        )
        for p in parties
    ]


def case_import(*, actor: User, ledger: LedgerCase, parties: Sequence[PartyInput]) -> Case:
    """Register a ledger case (channel import) as of its day, with its parties, and walk the history it records.

    The actor becomes its owner (首问负责).
    """
    with transaction.atomic(), events.follow_once():
        case = Case.objects.create(
            number=next_case_number(ledger.region_code[:6], timezone.localdate(ledger.registered_at)),
            channel=Case.Channel.IMPORT,
            original_number=ledger.original_number,
            category_id=ledger.category_id,
            title=ledger.title,
            description=ledger.description,
            region_id=ledger.region_id,
            region_code=ledger.region_code,
            location=ledger.location,
            amount=ledger.amount,
            people_involved=ledger.people_involved,
            risk_level=ledger.risk_level,
            risk_suggested=ledger.risk_level,
            center_id=ledger.center_id,
            owner=actor,
            registered_at=ledger.registered_at,
            outcome_note=ledger.outcome_note,
        )
        Party.objects.bulk_create(_party_rows(case, parties))
        registered = events.Registered(
            channel=Case.Channel.IMPORT,
            risk=ledger.risk_level,
            original_number=ledger.original_number,
            imported=True,
        )
        events.append(case, registered, actor=actor, at=ledger.registered_at, to_state=State.REGISTERED)
        return case_import_history(
            case=case, actor=actor, version=case.version, ledger=ledger, since=case.registered_at
        )


def _ledger_event(action: str, ledger: LedgerCase) -> events.Transition:
    """The event of one step of a ledger's history, marked as the import's."""
    outcome, note = ledger.outcome, ledger.outcome_note.strip()
    if action == "accept":
        return events.Accepted(imported=True)
    if action == "ledger_handle":
        return events.LedgerHandled(imported=True)
    if action == "resolve":
        return events.Resolved(imported=True)
    if action == "fail":  # the reason a transition to 未化解 needs: the ledger's note, else its outcome
        return events.Failed(reason=note or str(Case.Outcome(outcome).label), guidance=outcome, imported=True)
    if action == "close":
        return events.Closed(outcome=outcome, note=note, imported=True)
    return events.ReferredToCourt(imported=True)


def case_import_history(
    *, case: Case, actor: User, version: int, ledger: LedgerCase, since: datetime.datetime | None = None
) -> Case:
    """Take an imported case through the transitions to what its ledger records (`ledger_steps`).

    Each event is dated as the ledger dates its step (acceptance and handling on the day of
    registration, outcome and closure on the day of closing), never before the case's last event
    (`since`, else read): what the platform learns later cannot go back in its timeline.
    """
    steps = ledger_steps(case.state, ledger.outcome)
    if steps is None:
        raise ValidationError(
            {"outcome": [_("案件当前状态为“%(s)s”，台账无法改变它。") % {"s": State(case.state).label}]}
        )
    if since is None:
        since = (
            CaseEvent.objects.filter(case=case, region_code=case.region_code).aggregate(last=Max("at"))["last"]
            or case.registered_at
        )
    closed_at = ledger.closed_at or ledger.registered_at
    with transaction.atomic(), events.follow_once():
        for action in steps:
            at = ledger.registered_at
            changes: dict[str, Any] = {}
            if action in ("resolve", "fail"):
                at, changes = closed_at, {"outcome": ledger.outcome, "outcome_note": ledger.outcome_note.strip()}
            elif action in ("close", "refer_court"):
                at, changes = closed_at, {"closed_at": closed_at}
            since = max(at, since)
            event = _ledger_event(action, ledger)
            case = workflow.perform(case=case, event=event, actor=actor, version=version, changes=changes, at=since)
            version = case.version
    return case


def case_import_parties(*, case: Case, parties: Sequence[PartyInput]) -> None:
    """More parties of a case registered by this same import run (a ledger may list them on rows far apart).

    No event: the case's registration in this run, its intake event, covers them.
    """
    Party.objects.bulk_create(_party_rows(case, parties))


def case_import_correct(
    *,
    case: Case,
    actor: User,
    version: int,
    changes: dict[str, Any],
    new_parties: Sequence[PartyInput] = (),
    changed_parties: Sequence[tuple[Party, PartyInput]] = (),
) -> Case:
    """台账更正: what a re-imported ledger says differently of a case the platform has not handled.

    One version bump and one event for the case's columns and parties together.
    """
    if not set(changes) <= set(LEDGER_FIELDS):
        raise ValueError(f"not a ledger correction: {sorted(set(changes) - set(LEDGER_FIELDS))}")
    columns = {**changes, **({"risk_suggested": changes["risk_level"]} if "risk_level" in changes else {})}
    with transaction.atomic():
        Party.objects.bulk_create(_party_rows(case, new_parties))
        for party, given in changed_parties:
            party.kind, party.name, party.id_number = given.kind, given.name.strip(), _normalized_id(given)
            party.nationality, party.phone, party.address = (
                given.nationality.upper(),
                given.phone.strip(),
                given.address.strip(),
            )
            party.save(update_fields=["kind", "name", "id_number", "nationality", "phone", "address"])
        case = _bump(case, version, **columns)
        corrected = events.LedgerCorrected(
            fields=tuple(str(getattr(Case._meta.get_field(name), "verbose_name", name)) for name in changes),
            parties=len(new_parties) + len(changed_parties),
            imported=True,
        )
        events.append(case, corrected, actor=actor, at=clock.now())
    return case
