"""The gate every staff page passes: logged in with both factors, and allowed by `access`."""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from zongzhi.accounts.models import User


def acting_user(request: HttpRequest) -> User:
    """The logged-in user of a request that passed `staff_page`."""
    return cast(User, request.user)


def staff_page(allowed: Callable[[Any], bool] | None = None) -> Callable:
    """Require a verified (password + TOTP) login; `allowed(user)` decides the role check (403)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated or not user.is_verified():  # type: ignore[attr-defined]
                return redirect_to_login(request.get_full_path())
            if allowed is not None and not allowed(user):
                return render(request, "403.html", {"reason": _("您的角色无权访问此页面。")}, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
