"""Response hardening: the Content-Security-Policy, `no-store`, and request bodies capped before they are read.

One middleware, placed before anything reads the body (the NUL check, CSRF, the views):

- A request whose declared length (Content-Length) exceeds the cap of its kind is answered 413
  with a Chinese message, its body unread. The caps (settings.BODY_LIMITS) are per kind: API
  JSON small, pages' forms small, uploads larger, imports largest. A body without a declared length
  (chunked) is read up to the cap only where the server hands over a terminated stream
  (`wsgi.input_terminated`); elsewhere it cannot be bounded and is refused with 411.
- Every page gets a per-request nonce (`request.csp_nonce`) and a policy with no inline script
  and no eval: scripts come from our static files (or carry the nonce). See docs/security.md.
- Every answer of our own (static files are served before this runs) carries
  `Cache-Control: no-store`: staff pages, the API and the portal's progress pages carry personal
  data, and nothing else of ours is worth a stale copy.
"""

import io
import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

MB = 1024 * 1024
IMPORT_PATH = "/staff/transfer/import/"


def body_kind(request: HttpRequest) -> str:
    """Which cap applies: import, upload (multipart), api (JSON) or form."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if request.path.startswith(IMPORT_PATH):
        return "import"
    if content_type.startswith("multipart/"):
        return "upload"
    if request.path.startswith("/api/"):
        return "api"
    return "form"


def policy(nonce: str) -> str:
    """The Content-Security-Policy of a page: scripts only from us (or with this answer's nonce)."""
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        # Inline style attributes stay allowed (the charts and htmx set some); they cannot run code.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def _too_large(request: HttpRequest, limit: int, status: int = 413) -> HttpResponse:
    if status == 411:
        message = _("请求内容未声明长度，无法接收。")
    else:
        message = _("请求内容过大：此类提交不能超过 %(n)s MB。") % {"n": f"{limit / MB:g}"}
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=status)
    else:
        response = render(request, "422.html", {"reason": message}, status=status)
    # The client may still be sending: a length lets it read the answer without waiting for the
    # server to end the connection (a WSGI application may not say `Connection: close` itself).
    response.headers["Content-Length"] = str(len(response.content))
    return response


def _bounded(request: HttpRequest, limit: int) -> HttpResponse | None:
    """Refuse a body over `limit` before it is read; None when it may be read."""
    declared = request.META.get("CONTENT_LENGTH")
    if declared:
        try:
            length = int(declared)
        except ValueError:
            return _too_large(request, limit, status=411)
        return _too_large(request, limit) if length > limit else None
    if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None  # no body
    if not request.META.get("wsgi.input_terminated"):
        return _too_large(request, limit, status=411)
    # The server decoded the chunks and ends the stream: read one byte past the cap, no more.
    body = request.META["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        return _too_large(request, limit)
    request.META["CONTENT_LENGTH"] = str(len(body))
    request._stream = io.BytesIO(body)  # type: ignore[attr-defined]  # what Django reads the body from
    return None


class HardeningMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(18)  # type: ignore[attr-defined]
        limit = settings.BODY_LIMITS[body_kind(request)]
        response = _bounded(request, limit) or self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", policy(request.csp_nonce))  # type: ignore[attr-defined]
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
