"""Around every API request: `Idempotency-Key` on POSTs, and the audit entry of each service-account call.

The key's row is inserted first, in the transaction the whole request then runs in, so that a
second request with the same key waits for the first (PostgreSQL's unique index; SQLite's write
lock) and answers with its stored response instead of running again. An answer of 500 or more, 401
or 403 is rolled back with everything the request wrote: the key stays free for a retry.
"""

import datetime
import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi.integration import services
from zongzhi.integration.models import IdempotencyKey

HEADER = "Idempotency-Key"
API_PREFIXES = ("/api/", "/open311/")


class _Failed(Exception):
    """A server error inside the request's transaction: roll it back, answer what the view answered."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    if request.content_type == "multipart/form-data":
        # Uploads may exceed what `request.body` holds in memory: hash the parsed fields and files.
        for name, value in sorted(request.POST.lists()):
            digest.update(json.dumps([name, value], ensure_ascii=False).encode())
        for name, uploads in sorted(request.FILES.lists()):
            for upload in uploads:
                digest.update(f"\n{name}:{upload.name}:{upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update((request.content_type or "").encode() + b"\n" + request.body)
    return digest.hexdigest()


def _refusal(request: HttpRequest, message: str, status: int) -> HttpResponse:
    if request.path.startswith("/open311/"):
        return JsonResponse([{"code": status, "description": message}], status=status, safe=False)
    return JsonResponse({"detail": message, "errors": {HEADER: [message]}}, status=status)


def _replay(request: HttpRequest, row: IdempotencyKey, fingerprint: str) -> HttpResponse:
    if row.fingerprint != fingerprint:
        return _refusal(
            request,
            _("Idempotency-Key“%(k)s”已用于另一个请求（地址或内容不同）；新的请求请换一个新的键。") % {"k": row.key},
            422,
        )
    response = HttpResponse(row.body.encode(), status=row.status, content_type=row.content_type or None)
    response["Idempotent-Replayed"] = "true"
    return response


def _idempotent(
    request: HttpRequest, caller_id: int, key: str, get_response: Callable[[HttpRequest], HttpResponse]
) -> HttpResponse:
    fingerprint = _fingerprint(request)
    now = timezone.now()
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    # An expired key not yet swept away is free again.
                    IdempotencyKey.objects.filter(user_id=caller_id, key=key, expires_at__lte=now).delete()
                    row = IdempotencyKey.objects.create(
                        user_id=caller_id,
                        key=key,
                        fingerprint=fingerprint,
                        created_at=now,
                        expires_at=now + datetime.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS),
                    )
            except IntegrityError:
                row = None  # the first request with this key has committed meanwhile (we waited for it)
            if row is None:
                first = IdempotencyKey.objects.get(user_id=caller_id, key=key)
                response = _replay(request, first, fingerprint)
                services.api_call_audit(request, response.status_code, replayed=response.status_code != 422)
                return response
            response = get_response(request)
            # A server error, or a caller not recognised or not allowed (a missing CSRF token, a right
            # not yet granted): nothing is kept, so the retry once that is fixed runs anew.
            if response.status_code >= 500 or response.status_code in (401, 403) or response.streaming:
                raise _Failed(response)
            row.status = response.status_code
            row.content_type = response.get("Content-Type", "")
            row.body = response.content.decode("utf-8")
            row.save(update_fields=["status", "content_type", "body"])
            services.api_call_audit(request, response.status_code)
            return response
    except _Failed as failed:
        services.api_call_audit(request, failed.response.status_code)
        return failed.response


class ApiCallMiddleware:
    """Idempotency for API POSTs; one audit entry per service-account request, whatever the path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is not None and request.method == "POST" and request.path.startswith(API_PREFIXES):
            key = key.strip()
            if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
                return _refusal(request, _("Idempotency-Key 应为 1 到 255 个可打印的 ASCII 字符。"), 422)
            caller = self._caller(request)
            if caller is not None:
                return _idempotent(request, caller, key, self.get_response)
        response = self.get_response(request)
        services.api_call_audit(request, response.status_code)
        return response

    def _caller(self, request: HttpRequest) -> int | None:
        """Who sends the request: the service account a valid token belongs to, or the logged-in person."""
        raw = services.bearer_of(request)
        if raw is None and request.path.startswith("/open311/"):
            raw = request.POST.get("api_key") or request.GET.get("api_key") or None
        if raw is not None:
            token = services.token_authenticate(request, raw)
            return token.account.user_id if token is not None else None
        user = getattr(request, "user", None)
        return user.pk if user is not None and user.is_authenticated else None
