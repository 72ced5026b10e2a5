"""Pages of the three separated administrators: accounts (system), security, audit."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
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
from zongzhi.accounts.models import BUSINESS_ROLES, CredentialReset, Jurisdiction, Membership, Role, User
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
    password = forms.CharField(label=gettext_lazy("初始密码"), widget=forms.PasswordInput, strip=False)


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
            messages.success(request, _("账号“%(name)s”已创建。角色和辖区由安全管理员授予。") % {"name": user.username})
            return redirect("accounts:user_detail", user.pk)
    return render(request, "accounts/user_form.html", {"form": form})


def _refused_page(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    return render(request, "403.html", {"reason": str(error)}, status=403)


def _rights_post(
    request: HttpRequest, user: User, membership: "MembershipForm", jurisdiction: "JurisdictionForm", back: str
) -> HttpResponse | None:
    """Grant or revoke a role or a jurisdiction as posted (the services decide who may: 三员分立)."""
    actor = acting_user(request)
    if "grant_role" in request.POST and membership.is_valid():
        data = membership.cleaned_data
        services.membership_grant(
            actor=actor, user=user, role=data["role"], org=data["org_code"], center=data["center_code"], request=request
        )
        messages.success(request, _("已授予角色。"))
        return redirect(back, user.pk)
    if "grant_region" in request.POST and jurisdiction.is_valid():
        region = jurisdiction.cleaned_data["region_code"]
        services.jurisdiction_grant(actor=actor, user=user, region=region, request=request)
        messages.success(request, _("已授予辖区。"))
        return redirect(back, user.pk)
    if "revoke_role" in request.POST:
        target = get_object_or_404(Membership, pk=_pk(request.POST["revoke_role"]), user=user)
        services.membership_revoke(actor=actor, membership=target, request=request)
        messages.success(request, _("已撤销角色。"))
        return redirect(back, user.pk)
    if "revoke_region" in request.POST:
        region = get_object_or_404(Jurisdiction, pk=_pk(request.POST["revoke_region"]), user=user)
        services.jurisdiction_revoke(actor=actor, jurisdiction=region, request=request)
        messages.success(request, _("已撤销辖区。"))
        return redirect(back, user.pk)
    return None


def _pk(raw: str) -> int:
    return int(raw) if raw.isdigit() else 0


@staff_page(access.may_manage_accounts)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The system administrator's page of an account: name, active, initial password. Rights are shown, not edited."""
    user = get_object_or_404(User, pk=pk)
    actor = acting_user(request)
    edit = UserEditForm(
        request.POST if "edit" in request.POST else None,
        initial={"full_name": user.full_name, "is_active": user.is_active},
    )
    password = PasswordSetForm(request.POST if "set_password" in request.POST else None)
    # Rights are the security administrator's: posted here anyway, the services refuse and audit it.
    membership = MembershipForm(request.POST if "grant_role" in request.POST else None)
    jurisdiction = JurisdictionForm(request.POST if "grant_region" in request.POST else None)
    if request.method == "POST":
        try:
            if "edit" in request.POST and edit.is_valid():
                services.user_update(actor=actor, user=user, request=request, **edit.cleaned_data)
                messages.success(request, _("已保存。"))
                return redirect("accounts:user_detail", user.pk)
            if "set_password" in request.POST and password.is_valid():
                services.user_set_password(
                    actor=actor, user=user, password=password.cleaned_data["password"], request=request
                )
                messages.success(request, _("初始密码已设置，该用户首次登录时须修改。"))
                return redirect("accounts:user_detail", user.pk)
            if "reset_totp" in request.POST:
                services.totp_reset(actor=actor, user=user, request=request)
            done = _rights_post(request, user, membership, jurisdiction, "accounts:user_detail")
            if done is not None:
                return done
        except PermissionDenied as refused:
            return _refused_page(request, refused)
        except ValidationError as error:
            for form in (password, edit):
                if form.is_bound:
                    apply_errors(form, error)
    context = {
        "account": user,
        "memberships": user.memberships.select_related("org", "center"),
        "jurisdictions": user.jurisdictions.select_related("region"),
        "edit": edit,
        "password_form": password,
        "password_refusal": services.initial_password_refusal(actor, user),
        "resets": user.credential_resets.select_related("requested_by", "decided_by")[:10],
        "locked": services.is_locked(user),
    }
    return render(request, "accounts/user_detail.html", context)


@staff_page(access.may_manage_security)
def security(request: HttpRequest) -> HttpResponse:
    """Locked accounts, the latest login failures and finding an account to grant rights to."""
    locked = User.objects.filter(locked_until__gt=timezone.now()).order_by("locked_until")
    failures = AuditEntry.objects.filter(
        action__in=[AuditEntry.Action.LOGIN_FAILED, AuditEntry.Action.LOCKED, AuditEntry.Action.LOGIN_WHILE_LOCKED]
    )[:50]
    query = request.GET.get("q", "").strip()
    found = (
        User.objects.filter(Q(username__icontains=query) | Q(full_name__icontains=query)).order_by("username")[:50]
        if query
        else []
    )
    context = {"locked": locked, "failures": failures, "q": query, "found": found}
    return render(request, "accounts/security.html", context)


@staff_page(access.may_grant_rights)
def rights(request: HttpRequest, pk: int) -> HttpResponse:
    """The security administrator's page of an account: its roles and jurisdictions."""
    user = get_object_or_404(User, pk=pk)
    membership = MembershipForm(request.POST if "grant_role" in request.POST else None)
    jurisdiction = JurisdictionForm(request.POST if "grant_region" in request.POST else None)
    if request.method == "POST":
        try:
            done = _rights_post(request, user, membership, jurisdiction, "accounts:rights")
            if done is not None:
                return done
        except PermissionDenied as refused:
            return _refused_page(request, refused)
        except ValidationError as error:
            for form in (membership, jurisdiction):
                if form.is_bound:
                    apply_errors(form, error)
    context = {
        "account": user,
        "memberships": user.memberships.select_related("org", "center"),
        "jurisdictions": user.jurisdictions.select_related("region"),
        "membership_form": membership,
        "jurisdiction_form": jurisdiction,
        "admin_account": access.holds_admin_role(user),
        "locked": services.is_locked(user),
    }
    return render(request, "accounts/rights.html", context)


@require_POST
@staff_page(access.may_manage_security)
def unlock(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    try:
        services.user_unlock(actor=acting_user(request), user=user, request=request)
    except PermissionDenied as refused:
        return _refused_page(request, refused)
    messages.success(request, _("账号“%(name)s”已解锁。") % {"name": user.username})
    return redirect("accounts:security")


# ---- two-person credential reset ---------------------------------------------------------------


class ResetRequestForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("账号（用户名）"), max_length=150)
    kind = forms.ChoiceField(label=gettext_lazy("重置内容"), choices=CredentialReset.Kind.choices)
    reason = forms.CharField(label=gettext_lazy("理由"), max_length=200)

    def clean_username(self) -> User:
        return by_code(User, self.cleaned_data["username"], _("账号"), field="username")


@staff_page(access.may_handle_credential_resets)
def resets(request: HttpRequest) -> HttpResponse:
    """Credential resets: request one; the requests waiting for a second administrator; the latest done."""
    initial = {"username": request.GET.get("username", "")}
    form = ResetRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            reset = services.credential_reset_request(
                actor=acting_user(request),
                target=form.cleaned_data["username"],
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except PermissionDenied as refused:
            return _refused_page(request, refused)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("已提交申请，须由另一名管理员在 24 小时内复核。"))
            return redirect("accounts:reset", reset.pk)
    now = timezone.now()
    listed = CredentialReset.objects.select_related("target", "requested_by", "decided_by")
    context = {
        "form": form,
        "pending": listed.filter(status=CredentialReset.Status.PENDING, expires_at__gt=now),
        "recent": listed.exclude(status=CredentialReset.Status.PENDING, expires_at__gt=now)[:30],
    }
    return render(request, "accounts/resets.html", context, status=422 if form.errors else 200)


@staff_page(access.may_handle_credential_resets)
def reset(request: HttpRequest, pk: int) -> HttpResponse:
    """One request: a second administrator confirms it (the temporary password is shown once) or turns it down."""
    found = get_object_or_404(CredentialReset.objects.select_related("target", "requested_by", "decided_by"), pk=pk)
    temporary = None
    if request.method == "POST":
        actor = acting_user(request)
        try:
            if "confirm" in request.POST:
                temporary = services.credential_reset_confirm(actor=actor, reset=found, request=request)
                if temporary is None:
                    messages.success(request, _("已重置动态口令，该用户下次登录时重新绑定。"))
                    return redirect("accounts:reset", found.pk)
            elif "cancel" in request.POST:
                services.credential_reset_cancel(actor=actor, reset=found, request=request)
                messages.success(request, _("申请已撤销。"))
                return redirect("accounts:reset", found.pk)
        except PermissionDenied as refused:
            return _refused_page(request, refused)
    me = acting_user(request).pk
    waiting = found.status == CredentialReset.Status.PENDING and not found.is_expired(timezone.now())
    context = {
        "reset": found,
        "temporary": temporary,
        "waiting": waiting,
        # The service decides; the page offers only what this administrator may do.
        "may_confirm": waiting and me not in (found.requested_by_id, found.target_id),
        "may_cancel": waiting and (me == found.requested_by_id or me != found.target_id),
    }
    response = render(request, "accounts/reset.html", context)
    if temporary is not None:
        response["Cache-Control"] = "no-store"  # the temporary password is on this page, once
    return response


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
    context: dict[str, object] = {"page": page, "actions": AuditEntry.Action.choices, "action": action, "who": who}
    if "verify" in request.GET:
        context["chain"] = audit_verify()
    return render(request, "accounts/audit_log.html", context)
