"""Refuses a request with a NUL byte in its parameters before any view or query sees it.

PostgreSQL can neither store nor look up text holding a NUL byte (a server error), and no form
field, query parameter or API body has a use for one. The answer is 422 naming the parameter:
JSON in the API's shape under /api/, a page elsewhere. It runs before the session is read, so
the page is the anonymous one. Services check their text too (`zongzhi.inputs`), for callers
other than HTTP.
"""

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from zongzhi.inputs import NUL, nul_message

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _in_json(value: Any, path: str) -> str | None:
    """The dotted path (`parties.0.name`) of the first string holding a NUL byte, or None."""
    if isinstance(value, str):
        return path if NUL in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if NUL in where:
            return where
        if (found := _in_json(item, where)) is not None:
            return found
    return None


def nul_parameter(request: HttpRequest) -> str | None:
    """The name of the first parameter carrying a NUL byte (the address, a query or form field, a
    file name, a JSON member), or None."""
    if NUL in request.path:
        return _("网址")
    sources = [request.GET]
    if request.method in ("POST", "PUT", "PATCH") and request.content_type in FORMS:
        sources.append(request.POST)
        for name, uploads in request.FILES.lists():
            if any(NUL in (upload.name or "") for upload in uploads):
                return name
    for source in sources:
        for name, values in source.lists():
            if NUL in name or any(NUL in value for value in values):
                return name
    if request.content_type == "application/json" and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            return None  # not JSON at all: the API answers that itself
        return _in_json(body, "")
    return None


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # No session key or other cookie of ours holds one: such a cookie is treated as absent.
        request.COOKIES = {k: v for k, v in request.COOKIES.items() if NUL not in k and NUL not in v}
        name = nul_parameter(request)
        if name is None:
            return self.get_response(request)
        shown = name.replace(NUL, "\\0")
        message = nul_message(_("参数“%(p)s”") % {"p": shown})
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "errors": {shown: [message]}}, status=422)
        return render(request, "422.html", {"reason": message}, status=422)
