"""Pages of the three separated administrators: accounts (system), security, audit."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from zongzhi import access
from zongzhi.accounts import services
from zongzhi.accounts.decorators import acting_user, staff_page
from zongzhi.accounts.models import BUSINESS_ROLES, Jurisdiction, Membership, Role, User
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_verify
from zongzhi.centers.models import Center, Org
from zongzhi.forms import apply_errors, by_code
from zongzhi.regions.models import Region

BUSINESS_ROLE_CHOICES = [(value, label) for value, label in Role.choices if value in BUSINESS_ROLES]


class UserCreateForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("用户名"), max_length=150)
    full_name = forms.CharField(label=gettext_lazy("姓名"), max_length=50)
    password = forms.CharField(
        label=gettext_lazy("初始密码"),
        widget=forms.PasswordInput,
        strip=False,
        help_text=gettext_lazy("至少 12 位，不能是常见密码或纯数字。"),
    )


class UserEditForm(forms.Form):
    full_name = forms.CharField(label=gettext_lazy("姓名"), max_length=50)
    is_active = forms.BooleanField(label=gettext_lazy("启用"), required=False)


class PasswordSetForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("新密码"), widget=forms.PasswordInput, strip=False)


class MembershipForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("角色"), choices=BUSINESS_ROLE_CHOICES)
    org_code = forms.CharField(label=gettext_lazy("单位代码"), required=False, max_length=30)
    center_code = forms.CharField(label=gettext_lazy("中心编码"), required=False, max_length=20)

    def clean_org_code(self) -> Org | None:
        return by_code(Org, self.cleaned_data["org_code"], _("单位代码"))

    def clean_center_code(self) -> Center | None:
        return by_code(Center, self.cleaned_data["center_code"], _("中心编码"))


class JurisdictionForm(forms.Form):
    region_code = forms.CharField(label=gettext_lazy("辖区区划代码"), max_length=15)

    def clean_region_code(self) -> Region:
        return by_code(Region, self.cleaned_data["region_code"], _("区划代码"))


@staff_page(access.may_manage_accounts)
def user_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    users = User.objects.order_by("username").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.only("role", "user_id"))
    )
    if query:
        users = users.filter(Q(username__icontains=query) | Q(full_name__icontains=query))
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html", {"page": page, "q": query, "now": timezone.now()})


@staff_page(access.may_manage_accounts)
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                actor=acting_user(request),
                username=form.cleaned_data["username"],
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("账号“%(name)s”已创建。请为其授予角色和辖区。") % {"name": user.username})
            return redirect("accounts:user_detail", user.pk)
    return render(request, "accounts/user_form.html", {"form": form})


@staff_page(access.may_manage_accounts)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    actor = acting_user(request)
    edit = UserEditForm(
        request.POST if "edit" in request.POST else None,
        initial={"full_name": user.full_name, "is_active": user.is_active},
    )
    membership = MembershipForm(request.POST if "grant_role" in request.POST else None)
    jurisdiction = JurisdictionForm(request.POST if "grant_region" in request.POST else None)
    password = PasswordSetForm(request.POST if "set_password" in request.POST else None)
    if request.method == "POST":
        try:
            if "edit" in request.POST and edit.is_valid():
                services.user_update(actor=actor, user=user, request=request, **edit.cleaned_data)
                messages.success(request, _("已保存。"))
                return redirect("accounts:user_detail", user.pk)
            if "grant_role" in request.POST and membership.is_valid():
                data = membership.cleaned_data
                services.membership_grant(
                    actor=actor,
                    user=user,
                    role=data["role"],
                    org=data["org_code"],
                    center=data["center_code"],
                    request=request,
                )
                messages.success(request, _("已授予角色。"))
                return redirect("accounts:user_detail", user.pk)
            if "grant_region" in request.POST and jurisdiction.is_valid():
                services.jurisdiction_grant(
                    actor=actor, user=user, region=jurisdiction.cleaned_data["region_code"], request=request
                )
                messages.success(request, _("已授予辖区。"))
                return redirect("accounts:user_detail", user.pk)
            if "set_password" in request.POST and password.is_valid():
                services.user_set_password(
                    actor=actor, user=user, password=password.cleaned_data["password"], request=request
                )
                messages.success(request, _("密码已重置。"))
                return redirect("accounts:user_detail", user.pk)
            if "revoke_role" in request.POST:
                target = get_object_or_404(Membership, pk=request.POST["revoke_role"], user=user)
                services.membership_revoke(actor=actor, membership=target, request=request)
                return redirect("accounts:user_detail", user.pk)
            if "revoke_region" in request.POST:
                region = get_object_or_404(Jurisdiction, pk=request.POST["revoke_region"], user=user)
                services.jurisdiction_revoke(actor=actor, jurisdiction=region, request=request)
                return redirect("accounts:user_detail", user.pk)
            if "reset_totp" in request.POST:
                services.totp_reset(actor=actor, user=user, request=request)
                messages.success(request, _("动态口令已重置，该用户下次登录时重新绑定。"))
                return redirect("accounts:user_detail", user.pk)
        except ValidationError as error:
            for form in (membership, jurisdiction, password, edit):
                if form.is_bound:
                    apply_errors(form, error)
    context = {
        "account": user,
        "memberships": user.memberships.select_related("org", "center"),
        "jurisdictions": user.jurisdictions.select_related("region"),
        "edit": edit,
        "membership_form": membership,
        "jurisdiction_form": jurisdiction,
        "password_form": password,
        "locked": services.is_locked(user),
    }
    return render(request, "accounts/user_detail.html", context)


@staff_page(access.may_manage_security)
def security(request: HttpRequest) -> HttpResponse:
    """Locked accounts and the latest login failures, for the security administrator."""
    locked = User.objects.filter(locked_until__gt=timezone.now()).order_by("locked_until")
    failures = AuditEntry.objects.filter(
        action__in=[AuditEntry.Action.LOGIN_FAILED, AuditEntry.Action.LOCKED, AuditEntry.Action.LOGIN_WHILE_LOCKED]
    )[:50]
    return render(request, "accounts/security.html", {"locked": locked, "failures": failures})


@require_POST
@staff_page(access.may_manage_security)
def unlock(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    services.user_unlock(actor=acting_user(request), user=user, request=request)
    messages.success(request, _("账号“%(name)s”已解锁。") % {"name": user.username})
    return redirect("accounts:security")


@staff_page(access.may_read_audit)
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.all()
    action = request.GET.get("action", "")
    who = request.GET.get("who", "").strip()
    if action:
        entries = entries.filter(action=action)
    if who:
        entries = entries.filter(Q(actor_name=who) | Q(target=who))
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    context = {"page": page, "actions": AuditEntry.Action.choices, "action": action, "who": who}
    if "verify" in request.GET:
        context["chain"] = audit_verify()
    return render(request, "accounts/audit_log.html", context)
