"""Case pages: work queues, the window intake form, the case page with its timeline and actions."""

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zongzhi import access
from zongzhi.accounts.decorators import acting_user, staff_page
from zongzhi.cases import actions, documents, selectors, services
from zongzhi.cases.catalogue import ACTIONS
from zongzhi.cases.models import (
    Agreement,
    Case,
    Category,
    Party,
    State,
)
from zongzhi.cases.presenters import case_path_prefix, mask_id, overdue_row, schedule_of
from zongzhi.cases.workflow import Conflict
from zongzhi.identity import NATIONALITIES, mask_phone
from zongzhi.regions import codes
from zongzhi.regions.models import Region
from zongzhi.regions.selectors import (
    PICKER_LEVELS,
    picker_children,
    picker_parent,
    picker_search,
    picker_unchosen,
    region_picker,
)

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
    cases = selectors.list_rows(selectors.cases_filtered(cases, filters, user))
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    mine = selectors.queues_of(user)  # the user's own queues, counted (a judge's are not the county's)
    if queue in selectors.QUEUES and queue not in mine:
        mine = [q for q in selectors.QUEUES if q in {*mine, queue}]
    counts = selectors.queue_counts(user, mine)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/list.html",
        {
            "page": page,
            "case_path": case_path_prefix(),
            "queues": [(k, selectors.QUEUES[k], counts[k]) for k in mine],
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


PARTY_ROWS = 3  # applicant, respondent, a third party
PARTY_INPUTS = ("kind", "name", "id", "nationality", "phone", "address")
# The service names a party's fields after PartyInput; the page's inputs are `party<row>_<input>`.
PARTY_FIELD_INPUT = {"kind": "kind", "role": "name", "name": "name", "id_number": "id", "nationality": "nationality"}
PARTY_FIELD_INPUT |= {"phone": "phone", "address": "address"}
ROW_ROLES = ("applicant", "respondent", "third")


def _party_rows(post: Any) -> list[tuple[int, services.PartyInput]]:
    """The party rows something was typed in, with their row on the page (an empty row is no party)."""
    rows = []
    for i in range(PARTY_ROWS):
        typed = {k: post.get(f"party{i}_{k}", "") for k in PARTY_INPUTS}
        if not any(typed[k].strip() for k in ("name", "id", "phone", "address")):
            continue
        rows.append(
            (
                i,
                services.PartyInput(
                    kind=typed["kind"] or "person",
                    role=ROW_ROLES[i],
                    name=typed["name"].strip(),
                    id_number=typed["id"],
                    nationality=typed["nationality"],
                    phone=typed["phone"],
                    address=typed["address"],
                ),
            )
        )
    return rows


def _posted_region(post: Any) -> str:
    """The picker's deepest chosen region (each level inside the one above), or a code posted as `region`."""
    chosen, above = "", ""
    for level in PICKER_LEVELS:
        code = post.get(f"region_{level}", "").strip()
        if not code or not code.startswith(above):
            break  # not chosen, or left from another county or township before the levels above changed
        chosen, above = code, code[: codes.PREFIX_LENGTH[level]]
    return chosen or post.get("region", "").strip()


def _intake_kwargs(request: HttpRequest) -> dict[str, Any]:
    """The service's arguments from the window form; what the form itself cannot read is refused by field."""
    post = request.POST
    errors: dict[str, list[str]] = {}
    typed = _posted_region(post)
    region = Region.objects.filter(code=typed).first() if typed else None
    if region is None:
        errors["region"] = [_("发生地区划代码“%(c)s”不存在。") % {"c": typed[:20]}] if typed else [_("请选择发生地。")]
    elif picker_unchosen(access.scope_of(acting_user(request)), region):
        errors["region"] = [_("请选择发生地（逐级选到苏木乡镇街道、嘎查村社区或网格）。")]
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
    rows = _party_rows(post)
    return {
        "category": category,
        "title": post.get("title", ""),
        "description": post.get("description", ""),
        "region": region,
        "parties": [party for _row, party in rows],
        "amount": post.get("amount") or None,
        "people_involved": people,
        "foreign_related": post.get("foreign_related") == "on",
        "location": post.get("location", ""),
        "occurred_on": occurred_on,
        "risk_level": post.get("risk_level") or None,
        "risk_override_reason": post.get("risk_override_reason", ""),
    }


def _on_the_page(errors: dict[str, list[str]], post: Any) -> dict[str, list[str]]:
    """The service's errors keyed by the page's input ids (`parties.0.phone` → `id_party1_phone` when the
    first party typed is on the second row)."""
    rows = [row for row, _party in _party_rows(post)]
    placed: dict[str, list[str]] = {}
    for key, messages_ in errors.items():
        parts = key.split(".")
        if parts[0] == "parties" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows):
            where = f"id_party{rows[int(parts[1])]}_{PARTY_FIELD_INPUT.get(parts[2], 'name')}"
        elif parts[0] == "parties":
            where = "id_party0_name"
        elif key == "people_involved":
            where = "id_people"
        elif key == "risk_level":
            where = "id_risk"
        elif key == "risk_override_reason":
            where = "id_override"
        elif key in ("__all__", "channel", "lng", "lat"):
            where = ""
        else:
            where = f"id_{key}"
        placed.setdefault(where, []).extend(messages_)
    return placed


@staff_page(access.may_read_business)
def case_new(request: HttpRequest) -> HttpResponse:
    """The window form: everything reachable from the keyboard, in the order a clerk asks.

    After an error every input comes back as it was typed (from this request's POST only: nothing of
    it goes to a URL, a cookie or the session), each wrong one marked where it is and listed on top.
    """
    user = acting_user(request)
    errors: dict[str, list[str]] = {}
    status = 200
    kwargs: dict[str, Any] | None = None
    if request.method == "POST" and "pick" not in request.POST:
        try:
            kwargs = _intake_kwargs(request)
            related = list(selectors.cases_visible(user).filter(number__in=request.POST.getlist("related")))
            case = services.case_intake(actor=user, related=related, **kwargs)
        except ValidationError as error:
            errors = _on_the_page(error.message_dict, request.POST)
            status = 422
        else:
            messages.success(request, _("已登记，案件编号 %(n)s。") % {"n": case.number})
            return redirect("cases:detail", case.number)
    scope = access.scope_of(user)
    post = request.POST if request.method == "POST" else {}
    chosen = Region.objects.filter(code=_posted_region(post)).first() if post else None
    picker = region_picker(scope, chosen)
    first_open = next((f"id_region_{p.level}" for p in picker if not p.fixed), "id_region_grid")
    if "id_region" in errors:
        errors[first_open] = errors.pop("id_region")
    try:
        channel = Case.Channel(services.intake_channel(user)).label
    except PermissionDenied:
        channel = None
    parties = []
    for i in range(PARTY_ROWS):
        values = {k: post.get(f"party{i}_{k}", "") for k in PARTY_INPUTS}
        parties.append(
            {
                "i": i,
                "role": ROW_ROLES[i],
                "values": values,
                "errors": {k: errors.get(f"id_party{i}_{k}", []) for k in PARTY_INPUTS},
            }
        )
    return render(
        request,
        "cases/new.html",
        {
            # After an error the risk check is shown as it stood, not waiting for the next keystroke.
            **(_live_check(user, kwargs, post) if kwargs else {"check": None}),
            "errors": errors,
            "summary": [(where, m) for where, ms in errors.items() for m in ms],
            "invalid": {k.removeprefix("id_"): v for k, v in errors.items()},
            "post": post,
            "categories": Category.objects.filter(active=True),
            "channel": channel,
            "risks": Case.Risk.choices,
            "party_kinds": Party.Kind.choices,
            "nationalities": NATIONALITIES,
            "parties": parties,
            "picker": picker,
            "region_error_id": first_open,
            "region_errors": errors.get(first_open, []),
            "scope": scope,
        },
        status=status,
    )


@staff_page(access.may_read_business)
def region_options(request: HttpRequest) -> HttpResponse:
    """The picker's options below a region (in the user's jurisdiction, or above it on the way down);
    `?q=` the regions whose name has what was typed; `?chosen=` the selects down to one of them."""
    scope = access.scope_of(acting_user(request))
    if "q" in request.GET:  # what the clerk typed: matching regions for the search's list
        matches = picker_search(scope, request.GET["q"])
        return render(request, "cases/_region_matches.html", {"matches": matches})
    if "chosen" in request.GET:  # a region found by name: the selects down to it
        chosen = picker_parent(scope, request.GET["chosen"])
        return render(request, "cases/_region_picker.html", {"picker": region_picker(scope, chosen)})
    parent = picker_parent(scope, request.GET.get("parent", ""))
    return render(request, "cases/_region_options.html", {"options": picker_children(scope, parent)})


@require_POST
@staff_page(access.may_read_business)
def intake_check(request: HttpRequest) -> HttpResponse:
    """htmx: the suggested risk with its reasons, possible repeats and the village's registry, while the clerk types."""
    user = acting_user(request)
    try:
        kwargs = _intake_kwargs(request)
    except ValidationError:
        return render(request, "cases/_check.html", {"check": None})
    return render(request, "cases/_check.html", _live_check(user, kwargs, request.POST))


def _live_check(user: Any, kwargs: dict[str, Any], post: Any) -> dict[str, Any]:
    """The risk check's context: suggestion, repeats the user may open, parties found in the registry."""
    try:
        amount = services._clean_amount(kwargs["amount"])
    except ValidationError:
        return {"check": None}
    if not access.scope_of(user).covers(kwargs["region"].code):
        return {"check": None}
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
        selectors.cases_visible(user).filter(pk__in=[r.case.pk for r in check.repeats]).values_list("pk", flat=True)
    )
    rows = [row for row, _party in _party_rows(post)]
    residents = [(m, Party.Role(ROW_ROLES[rows[m.party]]).label) for m in check.residents]
    return {"check": check, "visible": visible, "residents": residents}


@staff_page(access.may_read_business)
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    user = acting_user(request)
    return _detail(request, selectors.case_get(user, number))


def _detail(
    request: HttpRequest,
    case: Case,
    *,
    status: int = 200,
    failed: str = "",
    errors: dict[str, list[str]] | None = None,
    values: dict[str, Any] | None = None,
    unmasked: dict[str, Any] | None = None,
) -> HttpResponse:
    """The case page; after a refused action, that action's form again with what was typed and why."""
    user = acting_user(request)
    panel: list[dict[str, Any]] = []
    # The usual next step first, then the others, refusals and reversals last (each in catalogue order).
    for name in sorted(access.allowed_actions(user, case), key=lambda n: ACTIONS[n].rank):
        entry = ACTIONS[name]
        mine = name == failed
        fields = actions.form(entry, case, user, values if mine else None)
        mistakes = (errors or {}) if mine else {}
        named = {f.name for f in fields} | {"file"}
        panel.append(
            {
                "entry": entry,
                "fields": fields,
                "errors": mistakes,
                # What no input of the form is named for (the version, the state, the case as a whole).
                "general": [m for k, ms in mistakes.items() if k.split(".")[0] not in named for m in ms],
                "open": mine,
            }
        )
    if not failed:  # the usual next step is open; refusals, returns and escalations wait for a click
        first = next((p for p in panel if p["entry"].primary), None)
        if first is not None:
            first["open"] = True
    shown = {p["entry"].name for p in panel}
    try:
        agreement: Agreement | None = case.agreement
    except Agreement.DoesNotExist:
        agreement = None
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "roles": access.case_roles(user, case),
            "parties": [(p, mask_id(p.kind, p.id_number), mask_phone(p.phone)) for p in case.parties.all()],
            "panel": panel,
            # A refusal for an action whose form is not on the page (not allowed now) is said at the top.
            "refusal": [m for ms in (errors or {}).values() for m in ms] if failed and failed not in shown else [],
            "unmasked": unmasked,
            "today": timezone.localdate(),
            "schedule": schedule_of(agreement, timezone.localdate()) if agreement is not None else None,
        },
        status=status,
    )


@require_POST
@staff_page(access.may_read_business)
def case_do(request: HttpRequest, number: str, what: str) -> HttpResponse:
    """Every form of the action panel posts here: the catalogue's action `what`, as the API runs it."""
    user = acting_user(request)
    case = selectors.case_for_action(user, number)
    entry = ACTIONS.get(what)
    if entry is None:
        raise Http404
    edited = actions.rows_edit(entry, request.POST)
    if edited is not None:  # 增加一行 / 删除 without JavaScript: the form again, nothing run
        fresh = selectors.case_get(user, number)
        return _detail(request, fresh, failed=what, errors={}, values=edited)
    try:
        done = actions.run(
            case=case,
            actor=user,
            name=what,
            data=actions.from_post(entry, request.POST),
            upload=request.FILES.get("file"),
            request=request,
        )
    except Conflict as error:
        status, errors = 409, {"version": [str(error)]}
    except PermissionDenied as error:
        status, errors = 403, {"__all__": [str(error) or _("您无权执行该操作。")]}
    except ValidationError as error:
        status, errors = 422, (error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages})
    else:
        if what == "unmask":
            # Shown once in this response: never in a cookie, the session or a URL.
            fresh = selectors.case_get(user, number)
            return _detail(request, fresh, unmasked={"party": done.kwargs["party"], **done.details})
        messages.success(request, _("已办理：%(a)s。") % {"a": entry.label})
        return redirect("cases:detail", case.number)
    fresh = selectors.case_get(user, number)
    return _detail(
        request, fresh, status=status, failed=what, errors=errors, values=actions.values_of(request.POST, entry)
    )


@staff_page(access.may_read_business)
def instalments_overdue(request: HttpRequest) -> HttpResponse:
    """分期逾期: who owes how much since when, on the user's own cases, the longest overdue first."""
    user = acting_user(request)
    today = timezone.localdate()
    page = Paginator(selectors.instalments_overdue(user, today), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [overdue_row(i, today) for i in page]
    told = selectors.reminded([r.instalment for r in rows])
    for row in rows:
        row.reminded = row.instalment.pk in told
    return render(request, "cases/instalments_overdue.html", {"page": page, "rows": rows, "today": today})


@staff_page(access.may_read_business)
def attachment(request: HttpRequest, number: str, pk: int) -> FileResponse:
    user = acting_user(request)
    case = selectors.case_get(user, number)
    found = get_object_or_404(case.attachments.all(), pk=pk)
    opened = services.attachment_download(case=case, attachment=found, actor=user)
    return FileResponse(opened, content_type=found.content_type, as_attachment=True, filename=found.name)


@staff_page(access.may_read_business)
def print_document(request: HttpRequest, number: str, doc: str) -> HttpResponse:
    """A4 print view of a document (受理登记表, 调解协议书, 司法确认申请书, 督办函, 回访记录).

    `?format=pdf` downloads it, `?lang=mn` in traditional Mongolian, `?lang=bi` Mongolian and Chinese.
    The copy with the parties' full particulars is a POST (CSRF-checked, with a reason), audited as such.
    """
    user = acting_user(request)
    case = selectors.case_get(user, number)
    params = request.POST if request.method == "POST" else request.GET
    lang = params.get("lang", "zh")
    fmt = "pdf" if params.get("format") == "pdf" else "html"
    item = params.get("id")
    full = request.method == "POST"
    reason = params.get("reason", "")
    error = ""
    if full:
        # Who may, and why, before anything with the full particulars is built.
        try:
            services.document_print_unmasked_check(case=case, actor=user, reason=reason)
        except ValidationError as refused:
            full, error, fmt = False, " ".join(refused.messages), "html"
        except PermissionDenied as refused:
            return _print_page(request, case, doc, documents.build(case, doc, item, lang=lang), str(refused), 403)
    built = documents.build(case, doc, item, full=full, lang=lang)
    if full:
        services.document_print_unmasked(
            case=case, doc=doc, actor=user, reason=reason, fmt=fmt, lang=lang, request=request
        )
    else:
        services.document_print(case=case, doc=doc, actor=user, document_id=item, fmt=fmt, lang=lang)
    if fmt == "pdf":
        response = HttpResponse(documents.pdf(built), content_type="application/pdf")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{documents.filename(case, doc, lang)}"
        response["Cache-Control"] = "no-store"
        return response
    return _print_page(request, case, doc, built, error, 422 if error else 200, full=full)


def _print_page(
    request: HttpRequest,
    case: Case,
    doc: str,
    built: list[documents.Document],
    error: str,
    status: int,
    *,
    full: bool = False,
) -> HttpResponse:
    user = acting_user(request)
    deadline = documents.confirmation_deadline(case) if doc == "confirmation" else None
    response = render(
        request,
        "cases/print.html",
        {
            "case": case,
            "documents": built,
            "doc": doc,
            "full": full,
            "error": error,
            "lang": built[0].lang if len(built) == 1 else "bi",
            "item": request.GET.get("id", ""),
            "may_print_full": doc in documents.FULL_COPY_DOCS and services.may_print_unmasked(user, case),
            "prefers_mongolian": documents.prefers_mongolian(case),
            "late": deadline is not None and timezone.localdate() > deadline,
            "deadline": deadline,
        },
        status=status,
    )
    if full:
        response["Cache-Control"] = "no-store"
    return response
