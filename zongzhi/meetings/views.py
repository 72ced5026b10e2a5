"""Joint dispatch meeting pages: the list with a form to convene, the meeting with its agenda."""

import datetime
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zongzhi import access
from zongzhi.accounts.decorators import acting_user, staff_page
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.cases.models import Supervision
from zongzhi.forms import flash_errors
from zongzhi.regions import codes

from . import documents, selectors, services

LIST_SIZE = 50
PACKS = {
    "pdf": ("application/pdf", documents.pack_pdf),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", documents.pack_xlsx),
}


@staff_page(access.may_read_business)
def meeting_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    convene = services.may_convene(user)
    if request.method == "POST" and convene:
        region = selectors.jurisdictions(user).filter(code=request.POST.get("region", "")).first()
        try:
            held_on = datetime.date.fromisoformat(request.POST.get("held_on", ""))
            if region is None:
                raise ValidationError({"region": [_("请选择本辖区的盟、旗县或苏木乡镇。")]})
            meeting = services.meeting_open(
                actor=user, region=region, held_on=held_on, attendees=request.POST.get("attendees", "")
            )
        except ValueError:
            messages.error(request, _("会议日期格式应为 YYYY-MM-DD。"))
        except (ValidationError, PermissionDenied) as error:
            flash_errors(request, error)
        else:
            n = meeting.items.filter(codes.prefix_q((region.prefix,))).count()
            messages.success(request, _("已建立会议，议程汇集了 %(n)d 件案件。") % {"n": n})
            return redirect("meetings:detail", pk=meeting.pk)
    return render(
        request,
        "meetings/list.html",
        {
            "meetings": selectors.meetings_visible(user)[:LIST_SIZE],
            "convene": convene,
            "jurisdictions": selectors.jurisdictions(user) if convene else [],
            "today": timezone.localdate().isoformat(),
        },
    )


@staff_page(access.may_read_business)
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    meeting = selectors.meeting_get(user, pk)
    if request.method == "POST":
        try:
            services.minutes_save(
                meeting=meeting,
                actor=user,
                minutes=request.POST.get("minutes", ""),
                attendees=request.POST.get("attendees", ""),
            )
            if request.POST.get("close"):
                services.meeting_close(meeting=meeting, actor=user)
                messages.success(request, _("会议已归档。"))
            else:
                messages.success(request, _("会议纪要已保存。"))
        except (ValidationError, PermissionDenied) as error:
            flash_errors(request, error)
        return redirect("meetings:detail", pk=meeting.pk)
    saved = request.GET.get("saved", "")
    return _meeting_page(request, meeting, saved=int(saved) if saved.isdigit() else None)


def _meeting_page(
    request: HttpRequest,
    meeting: Any,
    *,
    saved: int | None = None,
    failed: int | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The meeting with its agenda: each item's decision form folded until asked for; after a refused
    decision that item's form open again with what was typed and why."""
    user = acting_user(request)
    return render(
        request,
        "meetings/detail.html",
        {
            "meeting": meeting,
            "editable": meeting.status == meeting.Status.PREPARING and services.may_convene(user),
            "kinds": [(k, label) for k, label in Supervision.Kind.choices if k != Supervision.Kind.FEEDBACK],
            "saved": saved,
            "failed": failed,
            "values": values or {},
            "errors": [m for ms in (errors or {}).values() for m in ms],
        },
        status=status,
    )


@require_POST
@staff_page(access.may_read_business)
def item_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    item = selectors.item_get(user, pk)
    post = request.POST
    try:
        days = int(post.get("days") or 5)
    except ValueError:
        days = 0
    try:
        services.item_decide(
            item=item,
            actor=user,
            decision=post.get("decision", ""),
            discussion=post.get("discussion", ""),
            supervise=post.get("supervise", ""),
            days=days,
        )
    except ValidationError as error:
        values = {k: post.get(k, "") for k in ("decision", "discussion", "supervise", "days")}
        meeting = selectors.meeting_get(user, item.meeting_id)
        return _meeting_page(request, meeting, failed=item.pk, values=values, errors=error.message_dict, status=422)
    except PermissionDenied as error:
        flash_errors(request, error)
        return redirect(f"{reverse('meetings:detail', args=[item.meeting_id])}#item-{item.pk}")
    done = _("第 %(n)d 项的会议决定已保存。") % {"n": item.order}
    if item.supervision is not None:
        done += _("已发出%(k)s %(no)s。") % {"k": item.supervision.get_kind_display(), "no": item.supervision.number}
    messages.success(request, done)
    return redirect(f"{reverse('meetings:detail', args=[item.meeting_id])}?saved={item.pk}#item-{item.pk}")


@staff_page(access.may_read_business)
def meeting_pack(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The meeting pack as PDF or XLSX; every download is written to the audit log."""
    if fmt not in PACKS:
        raise Http404
    user = acting_user(request)
    meeting = selectors.meeting_get(user, pk)
    content_type, build = PACKS[fmt]
    body = build(meeting)
    audit_record(
        action=AuditEntry.Action.DATA_EXPORTED,
        actor=user,
        target=f"meeting:{meeting.pk}",
        request=request,
        detail={"what": "联席调度会议材料", "format": fmt, "items": len(meeting.items.all())},
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{meeting.title}.{fmt}')}"
    return response
