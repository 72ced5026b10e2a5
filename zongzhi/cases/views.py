"""Case pages: work queues, the window intake form, the case page with its timeline and actions."""

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zongzhi import access
from zongzhi.accounts.decorators import acting_user, staff_page
from zongzhi.cases import actions, documents, selectors, services
from zongzhi.cases.models import (
    Case,
    Category,
    CourtReferral,
    FollowUp,
    Instalment,
    MediationSession,
    Party,
    State,
    Supervision,
)
from zongzhi.cases.presenters import mask_id
from zongzhi.cases.workflow import TRANSITIONS, Conflict, allowed_actions
from zongzhi.centers.models import Org, Room
from zongzhi.forms import flash_errors
from zongzhi.identity import NATIONALITIES, mask_phone
from zongzhi.regions.models import Region

PAGE_SIZE = 25


@staff_page(access.may_read_business)
def case_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    queue = request.GET.get("queue", "")
    filters = selectors.Filters(
        q=request.GET.get("q", ""),
        state=request.GET.get("state", ""),
        category=request.GET.get("category", ""),
        risk=request.GET.get("risk", ""),
        channel=request.GET.get("channel", ""),
        region=request.GET.get("region", ""),
    )
    cases = selectors.queue(user, queue) if queue in selectors.QUEUES else selectors.cases_visible(user)
    cases = selectors.for_list(selectors.cases_filtered(cases, filters))
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = {name: selectors.queue(user, name).count() for name in selectors.QUEUES}
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/list.html",
        {
            "page": page,
            "queues": [(k, v, counts[k]) for k, v in selectors.QUEUES.items()],
            "queue": queue,
            "filters": filters,
            "states": State.choices,
            "categories": Category.objects.filter(parent__isnull=True),
            "risks": Case.Risk.choices,
            "channels": Case.Channel.choices,
            "query": query.urlencode(),
            "may_intake": bool(
                access.roles_of(user) & {"intake_clerk", "center_director", "grid_worker", "dept_liaison"}
            ),
        },
    )


def _parties_from(post: Any) -> list[services.PartyInput]:
    parties = []
    for i in range(3):
        name = post.get(f"party{i}_name", "").strip()
        if not name:
            continue
        parties.append(
            services.PartyInput(
                kind=post.get(f"party{i}_kind", "person"),
                role=post.get(f"party{i}_role", "applicant"),
                name=name,
                id_number=post.get(f"party{i}_id", ""),
                nationality=post.get(f"party{i}_nationality", ""),
                phone=post.get(f"party{i}_phone", ""),
                address=post.get(f"party{i}_address", ""),
            )
        )
    return parties


def _intake_kwargs(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    errors: dict[str, list[str]] = {}
    region = Region.objects.filter(code=post.get("region", "").strip()).first()
    if region is None:
        errors["region"] = [_("发生地区划代码“%(c)s”不存在。") % {"c": post.get("region", "")}]
    category = Category.objects.filter(code=post.get("category", "")).first()
    if category is None:
        errors["category"] = [_("请选择纠纷类别。")]
    occurred_on = None
    if post.get("occurred_on"):
        try:
            occurred_on = datetime.date.fromisoformat(post["occurred_on"])
        except ValueError:
            errors["occurred_on"] = [_("发生日期格式应为 YYYY-MM-DD。")]
    try:
        people = int(post.get("people_involved") or 1)
    except ValueError:
        errors["people_involved"] = [_("涉及人数应为整数。")]
        people = 1
    if errors:
        raise ValidationError(errors)
    return {
        "category": category,
        "title": post.get("title", ""),
        "description": post.get("description", ""),
        "region": region,
        "parties": _parties_from(post),
        "amount": post.get("amount") or None,
        "people_involved": people,
        "foreign_related": post.get("foreign_related") == "on",
        "location": post.get("location", ""),
        "occurred_on": occurred_on,
        "risk_level": post.get("risk_level") or None,
        "risk_override_reason": post.get("risk_override_reason", ""),
    }


@staff_page(access.may_read_business)
def case_new(request: HttpRequest) -> HttpResponse:
    """The window form: everything reachable from the keyboard, in the order a clerk asks."""
    user = acting_user(request)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            kwargs = _intake_kwargs(request)
            related = list(selectors.cases_visible(user).filter(number__in=request.POST.getlist("related")))
            case = services.case_intake(actor=user, related=related, **kwargs)
        except ValidationError as error:
            errors = error.message_dict
        else:
            messages.success(request, _("已登记，案件编号 %(n)s。") % {"n": case.number})
            return redirect("cases:detail", case.number)
    scope = access.scope_of(user)
    default_region = next((j.region.code for j in user.jurisdictions.select_related("region")), "")
    try:
        channel = Case.Channel(services.intake_channel(user)).label
    except PermissionDenied:
        channel = None
    return render(
        request,
        "cases/new.html",
        {
            "errors": errors,
            "post": request.POST,
            "categories": Category.objects.filter(active=True),
            "channel": channel,
            "risks": Case.Risk.choices,
            "party_kinds": Party.Kind.choices,
            "party_roles": Party.Role.choices,
            "nationalities": NATIONALITIES,
            "default_region": default_region,
            "rows": range(3),
            "scope": scope,
        },
    )


@require_POST
@staff_page(access.may_read_business)
def intake_check(request: HttpRequest) -> HttpResponse:
    """htmx: the suggested risk with its reasons and possible repeats, while the clerk types."""
    try:
        kwargs = _intake_kwargs(request)
        amount = services._clean_amount(kwargs["amount"])
    except ValidationError:
        return render(request, "cases/_check.html", {"check": None})
    check = services.intake_check(
        region=kwargs["region"],
        parties=kwargs["parties"],
        title=kwargs["title"],
        description=kwargs["description"],
        category=kwargs["category"],
        amount=amount,
        people_involved=kwargs["people_involved"],
    )
    visible = set(
        selectors.cases_visible(acting_user(request))
        .filter(pk__in=[r.case.pk for r in check.repeats])
        .values_list("pk", flat=True)
    )
    return render(request, "cases/_check.html", {"check": check, "visible": visible})


def _extra_actions(case: Case, roles: set[str]) -> list[str]:
    """Actions that are not a plain state transition but belong on the action panel."""
    extra = []
    if "director" in roles and case.state in (State.ASSIGNED, State.IN_PROGRESS):
        extra += ["transfer", "co_handler"]
    if roles & {"lead", "handler", "director"} and case.state == State.IN_PROGRESS:
        extra += ["session", "coordination", "booking"]
    if roles & {"intake", "director"} and case.state == State.CLOSED:
        extra.append("follow_up")
    if roles & {"director", "leader"} and case.is_open:
        extra.append("supervise")
    if roles & {"director", "lead", "intake"} and hasattr(case, "agreement"):
        extra.append("confirmation")
    if roles & {"intake", "director", "handler", "lead"}:
        extra.append("attachment")
    return extra


@staff_page(access.may_read_business)
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    user = acting_user(request)
    case = selectors.case_get(user, number)
    roles = access.case_roles(user, case)
    my_orgs = access.org_ids_of(user)
    transitions = [t for t in allowed_actions(case, roles) if t.action != "transfer"]  # 转办 has its own form
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "roles": roles,
            "parties": [(p, mask_id(p.kind, p.id_number), mask_phone(p.phone)) for p in case.parties.all()],
            "transitions": transitions,
            "extra": _extra_actions(case, roles),
            "orgs": Org.objects.filter(region_code__startswith=case.region_code[:6])
            .exclude(kind="mediation_committee")
            .order_by("kind", "code")[:200]
            if "director" in roles
            else [],
            "rooms": Room.objects.filter(center=case.center).exclude(kind__in=["window", "dispatch_hall"]),
            "guidance": [(k, v) for k, v in Case.Outcome.choices if k in services.GUIDANCE],
            "satisfactions": FollowUp.Satisfaction.choices,
            "performances": FollowUp.Performance.choices,
            "places": MediationSession.Place.choices,
            "supervision_kinds": Supervision.Kind.choices,
            "effects": Supervision.Effect.choices,
            "results": CourtReferral.Result.choices,
            "my_orgs": my_orgs,
            "may_unmask": bool(roles & {"intake", "director", "lead"}),
            "is_judge": "judge" in access.roles_of(user),
            "labels": TRANSITIONS,
            "today": timezone.localdate(),
        },
    )


def _datetime(value: str, field: str) -> datetime.datetime:
    parsed = parse_datetime(value or "")
    if parsed is None:
        raise ValidationError({field: [_("时间格式不对。")]})
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@require_POST
@staff_page(access.may_read_business)
def case_do(request: HttpRequest, number: str, what: str) -> HttpResponse:
    """Every form on the case page posts here; the same services as the API do the work."""
    user = acting_user(request)
    case = selectors.case_get(user, number)
    post = request.POST
    try:
        if what == "transition":
            params: dict[str, Any] = {
                k: v for k, v in post.items() if k not in ("csrfmiddlewaretoken", "action", "version")
            }
            params["co"] = post.getlist("co")
            actions.run_action(
                case=case, actor=user, action=post.get("action", ""), version=int(post.get("version", 0)), params=params
            )
        elif what == "session":
            room = Room.objects.filter(pk=post["room"]).first() if post.get("room") else None
            services.session_record(
                case=case,
                actor=user,
                held_at=_datetime(post.get("held_at", ""), "held_at"),
                place_kind=post.get("place_kind", ""),
                mediators=post.get("mediators", ""),
                record=post.get("record", ""),
                room=room,
                place=post.get("place", ""),
                attendees=post.get("attendees", ""),
            )
        elif what == "follow_up":
            services.follow_up_record(
                case=case,
                actor=user,
                method=post.get("method", ""),
                performance=post.get("performance", ""),
                satisfaction=post.get("satisfaction", ""),
                note=post.get("note", ""),
            )
        elif what == "supervise":
            target = Org.objects.filter(code=post.get("target_org", "")).first()
            services.supervision_issue(
                case=case,
                actor=user,
                kind=post.get("kind", ""),
                reason=post.get("reason", ""),
                target_org=target,
                days=post.get("days") or 5,
            )
        elif what == "supervision_reply":
            supervision = get_object_or_404(Supervision, pk=post.get("supervision"), case=case)
            services.supervision_reply(supervision=supervision, actor=user, reply=post.get("reply", ""))
        elif what == "supervision_assess":
            supervision = get_object_or_404(Supervision, pk=post.get("supervision"), case=case)
            services.supervision_assess(supervision=supervision, actor=user, effect=post.get("effect", ""))
        elif what == "coordination":
            to_org = Org.objects.filter(code=post.get("to_org", "")).first()
            if to_org is None:
                raise ValidationError({"to_org": [_("单位代码不存在。")]})
            services.coordination_request(case=case, actor=user, to_org=to_org, message=post.get("message", ""))
        elif what == "co_handler":
            org = Org.objects.filter(code=post.get("org", "")).first()
            if org is None:
                raise ValidationError({"org": [_("单位代码不存在。")]})
            services.co_handler_add(case=case, actor=user, version=int(post.get("version", 0)), org=org)
        elif what == "booking":
            room = get_object_or_404(Room, pk=post.get("room"))
            services.room_book(
                case=case,
                actor=user,
                room=room,
                starts_at=_datetime(post.get("starts_at", ""), "starts_at"),
                ends_at=_datetime(post.get("ends_at", ""), "ends_at"),
            )
        elif what == "unmask":
            party = get_object_or_404(Party, pk=post.get("party"), case=case)
            id_number, phone = services.party_unmask(
                party=party, actor=user, reason=post.get("reason", ""), request=request
            )
            messages.info(
                request,
                _("%(name)s：证件号 %(id)s，电话 %(phone)s（本次查看已记入审计日志）")
                % {"name": party.name, "id": id_number or "—", "phone": phone or "—"},
            )
            return redirect("cases:detail", case.number)
        elif what == "instalment":
            instalment = get_object_or_404(Instalment, pk=post.get("instalment"), agreement__case=case)
            try:
                paid_on = datetime.date.fromisoformat(post.get("paid_on", ""))
            except ValueError:
                raise ValidationError({"paid_on": [_("实付日期格式应为 YYYY-MM-DD。")]}) from None
            services.instalment_pay(
                instalment=instalment,
                actor=user,
                paid_on=paid_on,
                paid_amount=post.get("paid_amount"),
                receipt=post.get("receipt", ""),
            )
        elif what == "confirmation":
            services.confirmation_request(case=case, actor=user)
        elif what == "court_decision":
            referral = get_object_or_404(CourtReferral, pk=post.get("referral"), case=case)
            services.court_decide(
                referral=referral, actor=user, result=post.get("result", ""), note=post.get("note", "")
            )
        elif what == "attachment":
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationError({"file": [_("请选择文件。")]})
            services.attachment_add(case=case, actor=user, upload=upload)
        else:
            raise ValidationError({"": [_("未知操作。")]})
    except Conflict as error:
        messages.error(request, str(error))
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
    else:
        messages.success(request, _("已保存。"))
    return redirect("cases:detail", case.number)


@staff_page(access.may_read_business)
def attachment(request: HttpRequest, number: str, pk: int) -> FileResponse:
    case = selectors.case_get(acting_user(request), number)
    found = get_object_or_404(case.attachments.all(), pk=pk)
    return FileResponse(found.file.open("rb"), content_type=found.content_type, as_attachment=True, filename=found.name)


@staff_page(access.may_read_business)
def print_document(request: HttpRequest, number: str, doc: str) -> HttpResponse:
    """A4 print view of a document (受理登记表, 调解协议书, 督办函, 回访记录); `?format=pdf` downloads it."""
    case = selectors.case_get(acting_user(request), number)
    document = documents.build(case, doc, request.GET.get("id"))
    if request.GET.get("format") == "pdf":
        response = HttpResponse(documents.pdf(document), content_type="application/pdf")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{documents.filename(case, doc)}"
        return response
    return render(request, "cases/print.html", {"case": case, "document": document, "doc": doc})
