"""Ends a staff session after 30 minutes without a request."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record

LAST_SEEN = "zongzhi_last_seen"
# Writing the session on every request would cost a write per click; a minute's slack is harmless.
TOUCH_EVERY = 60


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_SEEN)
            if last is not None and now - last > settings.IDLE_TIMEOUT_SECONDS:
                audit_record(
                    action=AuditEntry.Action.IDLE_TIMEOUT, actor=user, target=user.get_username(), request=request
                )
                logout(request)
                messages.info(request, _("您已 30 分钟未操作，为保障安全已自动退出，请重新登录。"))
            elif last is None or now - last >= TOUCH_EVERY:
                request.session[LAST_SEEN] = now
        return self.get_response(request)
