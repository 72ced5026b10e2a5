"""The system administrator's configuration page: taxonomy, deadline policies, calendar, document names."""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zongzhi import access
from zongzhi.accounts.decorators import acting_user, staff_page
from zongzhi.cases import config
from zongzhi.cases.models import CalendarDay, Case, Category, DeadlinePolicy, Supervision, SupervisionName
from zongzhi.forms import flash_errors


@staff_page(access.may_manage_accounts)
def config_page(request: HttpRequest) -> HttpResponse:
    names = dict(SupervisionName.objects.values_list("kind", "name"))
    return render(
        request,
        "cases/config.html",
        {
            "categories": Category.objects.select_related("parent").order_by("sort", "code"),
            "policies": DeadlinePolicy.objects.select_related("category"),
            "days": CalendarDay.objects.filter(day__gte=datetime.date.today() - datetime.timedelta(days=30)),
            "names": [(kind, label, names.get(kind, label)) for kind, label in Supervision.Kind.choices],
            "risks": Case.Risk.choices,
            "top": Category.objects.filter(parent__isnull=True),
        },
    )


def _int(value: str, field: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValidationError({field: [_("请填写整数。")]}) from None


@require_POST
@staff_page(access.may_manage_accounts)
def config_save(request: HttpRequest, what: str) -> HttpResponse:
    actor, post = acting_user(request), request.POST
    try:
        if what == "category":
            parent = Category.objects.filter(code=post.get("parent", "")).first()
            config.category_save(
                actor=actor,
                code=post.get("code", ""),
                name=post.get("name", ""),
                parent=parent,
                active=post.get("active", "on") == "on",
            )
        elif what == "policy":
            category = Category.objects.filter(code=post.get("category", "")).first()
            config.policy_save(
                actor=actor,
                name=post.get("name", ""),
                category=category,
                risk_level=post.get("risk_level", ""),
                accept_days=_int(post.get("accept_days") or "1", "accept_days"),
                sign_for_days=_int(post.get("sign_for_days", ""), "sign_for_days"),
                handle_days=_int(post.get("handle_days", ""), "handle_days"),
            )
        elif what == "calendar":
            try:
                day = datetime.date.fromisoformat(post.get("day", ""))
            except ValueError:
                raise ValidationError({"day": [_("日期格式应为 YYYY-MM-DD。")]}) from None
            config.calendar_set(actor=actor, day=day, workday=post.get("workday") == "1", name=post.get("name", ""))
        elif what == "supervision_name":
            config.supervision_rename(actor=actor, kind=post.get("kind", ""), name=post.get("name", ""))
        else:
            raise ValidationError({"": [_("未知配置项。")]})
    except ValidationError as error:
        flash_errors(request, error)
    else:
        messages.success(request, _("配置已保存。"))
    return redirect("cases:config")
