"""The security administrator's pages for service accounts: create, grant, issue, rotate and revoke tokens.

A new token is shown once, in the answer to the POST that made it (never in a message, the session or
a URL); afterwards only its prefix is known.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from zongzhi import access
from zongzhi.accounts.decorators import acting_user, staff_page
from zongzhi.api_access import PERMISSIONS, permission_label
from zongzhi.centers.models import Org
from zongzhi.forms import apply_errors, by_code
from zongzhi.integration import selectors, services
from zongzhi.integration.models import ServiceAccount, ServiceToken
from zongzhi.regions import codes
from zongzhi.regions.models import Region

manager_page = staff_page(access.may_manage_service_accounts)


class AccountForm(forms.Form):
    org_code = forms.CharField(label=gettext_lazy("所属单位代码"), max_length=30)
    region_codes = forms.CharField(
        label=gettext_lazy("辖区区划代码"),
        max_length=500,
        help_text=gettext_lazy("一个或多个区划代码，用空格或逗号分隔，如 152502（锡林浩特市）。"),
    )
    permissions = forms.MultipleChoiceField(
        label=gettext_lazy("接口权限"),
        choices=lambda: [(p, f"{permission_label(p)} · {p}") for p in PERMISSIONS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    open311_channel = forms.ChoiceField(label=gettext_lazy("Open311 登记渠道"), choices=ServiceAccount.Channel.choices)

    def clean_org_code(self) -> Org | None:
        return by_code(Org, self.cleaned_data["org_code"], _("单位代码"))

    def clean_region_codes(self) -> list[Region]:
        found = []
        for raw in self.cleaned_data["region_codes"].replace("，", ",").replace(",", " ").split():
            region = Region.objects.filter(code=codes.full_code(raw)).first() if raw.isdigit() else None
            if region is None:
                raise ValidationError(_("区划代码“%(c)s”不存在。") % {"c": raw})
            found.append(region)
        return found


class NewAccountForm(AccountForm):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100, help_text=gettext_lazy("如 锡林浩特市12345热线"))
    field_order = ["name"]


class EditAccountForm(AccountForm):
    active = forms.BooleanField(label=gettext_lazy("启用"), required=False)


class TokenForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("有效期（天）"), min_value=1, max_value=366, initial=90)


def _status(token: ServiceToken) -> str:
    now = timezone.now()
    if token.revoked_at is not None:
        return str(_("已吊销"))
    if token.expires_at <= now:
        return str(_("已过期"))
    return str(_("有效"))


@manager_page
def account_list(request: HttpRequest) -> HttpResponse:
    rows = []
    for account in selectors.service_accounts(acting_user(request)):
        tokens = list(account.tokens.all())
        used = [t.last_used_at for t in tokens if t.last_used_at]
        rows.append(
            {
                "account": account,
                "regions": [j.region for j in account.user.jurisdictions.all()],
                "live_tokens": sum(1 for t in tokens if t.usable()),
                "last_used": max(used) if used else None,
            }
        )
    return render(request, "integration/account_list.html", {"rows": rows})


@manager_page
def account_new(request: HttpRequest) -> HttpResponse:
    form = NewAccountForm(request.POST or None, initial={"open311_channel": ServiceAccount.Channel.HOTLINE})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = services.service_account_create(
                actor=acting_user(request),
                name=data["name"],
                org=data["org_code"],
                regions=data["region_codes"],
                permissions=data["permissions"],
                open311_channel=data["open311_channel"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("服务账号“%(n)s”已创建，请签发令牌。") % {"n": account.name})
            return redirect("integration:account", account.pk)
    return render(request, "integration/account_form.html", {"form": form})


def _detail(request: HttpRequest, account: ServiceAccount, **extra: Any) -> HttpResponse:
    regions = [j.region for j in account.user.jurisdictions.all()]
    edit = extra.pop("edit", None) or EditAccountForm(
        initial={
            "org_code": account.org.code,
            "region_codes": " ".join(r.code for r in regions),
            "permissions": account.permissions,
            "open311_channel": account.open311_channel,
            "active": account.active,
        }
    )
    tokens = [{"token": t, "status": _status(t), "usable": t.usable()} for t in account.tokens.all()]
    context = {
        "account": account,
        "regions": regions,
        "permissions": [(p, permission_label(p)) for p in account.permissions],
        "edit": edit,
        "token_form": extra.pop("token_form", None) or TokenForm(),
        "tokens": tokens,
        **extra,
    }
    return render(request, "integration/account_detail.html", context)


@manager_page
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_user(request)
    account = selectors.service_account_get(actor, pk)
    if request.method != "POST":
        return _detail(request, account)
    edit = EditAccountForm(request.POST)
    if edit.is_valid():
        data = edit.cleaned_data
        try:
            services.service_account_update(
                actor=actor,
                account=account,
                org=data["org_code"],
                regions=data["region_codes"],
                permissions=data["permissions"],
                open311_channel=data["open311_channel"],
                active=data["active"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(edit, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("integration:account", account.pk)
    return _detail(request, account, edit=edit)


@require_POST
@manager_page
def token_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_user(request)
    account = selectors.service_account_get(actor, pk)
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _detail(request, account, token_form=form)
    try:
        token, raw = services.service_token_issue(
            actor=actor, account=account, days=form.cleaned_data["days"], request=request
        )
    except ValidationError as error:
        apply_errors(form, error)
        return _detail(request, account, token_form=form)
    return _detail(request, selectors.service_account_get(actor, pk), new_token=raw, new=token)


def _token(request: HttpRequest, pk: int) -> ServiceToken:
    return selectors.service_token_get(acting_user(request), pk)


@require_POST
@manager_page
def token_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    old = _token(request, pk)
    actor = acting_user(request)
    try:
        token, raw = services.service_token_rotate(actor=actor, token=old, request=request)
    except ValidationError as error:
        messages.error(request, "；".join(m for ms in error.message_dict.values() for m in ms))
        return redirect("integration:account", old.account_id)
    account = selectors.service_account_get(actor, old.account_id)
    return _detail(request, account, new_token=raw, new=token, rotated=old)


@require_POST
@manager_page
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = _token(request, pk)
    services.service_token_revoke(actor=acting_user(request), token=token, request=request)
    messages.success(request, _("令牌 %(p)s… 已吊销，立即失效。") % {"p": token.prefix})
    return redirect("integration:account", token.account_id)
