"""Request ids and structured logs: one JSON object a line, each carrying the request it belongs to.

`RequestIdMiddleware` gives every request an id (the proxy's `X-Request-ID` when it is a plain token,
else a new one), answers it in the `X-Request-ID` header and keeps it in a context variable, so every
log record written while the request runs carries it (`RequestIdFilter`). `JsonFormatter` writes the
records; settings switch to it with ZONGZHI_LOG_FORMAT=json (the default in production).

A log line never carries a query string or a body: parameters may hold personal data. Nor a
portal receipt code, which the QR code's address (`/track/<code>/`) carries: it opens the case.
"""

import contextvars
import datetime
import json
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

access_log = logging.getLogger("zongzhi.access")
_RECEIPT_PATH = re.compile(r"^/track/(?!act/|agreement/)[^/]+/")


def logged_path(path: str) -> str:
    """The path as logged: a receipt code in it replaced by `…`."""
    return _RECEIPT_PATH.sub("/track/…/", path)


def request_id_of(request: HttpRequest) -> str:
    offered = request.META.get("HTTP_X_REQUEST_ID", "")
    return offered if _TOKEN.match(offered) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request_id_of(request)
        token = REQUEST_ID.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": logged_path(request.path),  # never the query string, nor a receipt code
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
