"""Login (password, then TOTP), enrolment and logout (each role's home page is in `home`)."""

import time
from io import BytesIO
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from zongzhi.accounts import services
from zongzhi.accounts.models import User
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.forms import apply_errors

PENDING_USER = "zongzhi_pending_user"
PENDING_AT = "zongzhi_pending_at"
NEXT = "zongzhi_next"
VERIFIED = "zongzhi_pending_verified"  # both factors passed, a temporary password still to replace


class PasswordForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("用户名"), max_length=150)
    password = forms.CharField(label=gettext_lazy("密码"), widget=forms.PasswordInput, strip=False)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("动态口令"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}),
    )


def _pending_user(request: HttpRequest) -> User | None:
    """The user who passed the password step in this session, within the time allowed."""
    user_id, at = request.session.get(PENDING_USER), request.session.get(PENDING_AT, 0)
    if user_id is None or time.time() - at > settings.LOGIN_PENDING_SECONDS:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


class NewPasswordForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("新密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        help_text=gettext_lazy("至少 12 位，不能是常见密码或纯数字。"),
    )
    again = forms.CharField(
        label=gettext_lazy("再次输入新密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("again") and data["password"] != data["again"]:
            self.add_error("again", gettext("两次输入的新密码不一致。"))
        return data


def _finish_login(request: HttpRequest, user: User) -> HttpResponse:
    """Both factors passed. A temporary password (initial or reset) is replaced before the session opens."""
    if services.password_change_required(user):
        request.session[VERIFIED] = user.pk
        return redirect("accounts:password_change")
    return _open_session(request, user)


def _open_session(request: HttpRequest, user: User) -> HttpResponse:
    next_url = request.session.get(NEXT) or ""
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    device = services.totp_device(user)
    assert device is not None
    otp_login(request, device)
    services.login_succeeded(user=user, request=request)
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    return redirect(next_url or "home")


def login_view(request: HttpRequest) -> HttpResponse:
    form = PasswordForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result = services.login_check_password(
            username=form.cleaned_data["username"], password=form.cleaned_data["password"], request=request
        )
        if result.user is not None:
            request.session.cycle_key()
            request.session[PENDING_USER] = result.user.pk
            request.session[PENDING_AT] = time.time()
            request.session[NEXT] = request.GET.get("next", "")
            if services.totp_device(result.user) is None:
                return redirect("accounts:enrol")
            return redirect("accounts:totp")
        error = result.error
    return render(request, "accounts/login.html", {"form": form, "error": error})


def totp_view(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    form = TokenForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result = services.login_check_totp(user=user, token=form.cleaned_data["token"], request=request)
        if result.user is not None:
            return _finish_login(request, result.user)
        error = result.error
    return render(request, "accounts/totp.html", {"form": form, "error": error, "pending": user})


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def enrol_view(request: HttpRequest) -> HttpResponse:
    """First login: show a locally drawn QR code of a new TOTP secret and confirm it with a code."""
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    if services.totp_device(user) is not None:
        return redirect("accounts:totp")
    device = services.totp_enrolment_device(user)
    form = TokenForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result = services.totp_enrol_confirm(user=user, token=form.cleaned_data["token"], request=request)
        if result.user is not None:
            return _finish_login(request, result.user)
        error = result.error
    secret = device.config_url.split("secret=")[1].split("&")[0]
    qr = mark_safe(_qr_svg(device.config_url))  # noqa: S308 - an SVG we drew ourselves from our own URL
    context = {"form": form, "error": error, "qr": qr, "secret": secret, "pending": user}
    return render(request, "accounts/enrol.html", context)


def password_change_view(request: HttpRequest) -> HttpResponse:
    """After both factors, a temporary password is replaced by the user's own before the session opens."""
    user = _pending_user(request)
    if user is None or request.session.get(VERIFIED) != user.pk or not services.password_change_required(user):
        return redirect("accounts:login")
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(user=user, password=form.cleaned_data["password"], request=request)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            request.session.pop(VERIFIED, None)
            return _open_session(request, user)
    return render(request, "accounts/password_change.html", {"form": form, "pending": user})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(
            action=AuditEntry.Action.LOGOUT, actor=request.user, target=request.user.get_username(), request=request
        )
    logout(request)
    response = redirect("accounts:login")
    # What the offline field app kept on this device goes too: IndexedDB, caches, the service worker.
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response
