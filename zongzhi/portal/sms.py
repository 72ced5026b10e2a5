"""The SMS gateway, chosen in settings (SMS_BACKEND): file (development and tests), console, http.

A backend is a function `send(phone, text)`; it raises `SmsError` when the message did not go out.
"""

import json
import logging
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from zongzhi.crypto import blind_index
from zongzhi.identity import mask_phone

log = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway did not accept the message."""


def outbox_path(phone: str) -> Path:
    """Where the file backend leaves the latest message to `phone`: named by the phone's blind index,
    so var/ holds no phone number."""
    return settings.SMS_DIR / f"{blind_index(phone)[:32]}.txt"


def send_file(phone: str, text: str) -> None:
    """Write the message to `outbox_path(phone)` (the latest message wins), for development and tests."""
    path = outbox_path(phone)
    directory = path.parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = directory / f".{path.stem}.{secrets.token_hex(4)}"
    temporary.write_text(f"{timezone.now().isoformat()}\n{text}\n", encoding="utf-8")
    temporary.replace(path)  # atomic: a reader never sees half a message


# A portal receipt code (12 of the receipt alphabet, grouped by four or not): it opens the case, so
# the console backend's log line hides it like the phone. The one-time codes stay readable there
# (that backend is for development, where the developer types them).
RECEIPT_CODE = re.compile(r"(?<![0-9A-Z])[2-9A-HJ-NP-Z]{4}-?[2-9A-HJ-NP-Z]{4}-?[2-9A-HJ-NP-Z]{4}(?![0-9A-Z])")


def send_console(phone: str, text: str) -> None:
    log.warning("SMS to %s: %s", mask_phone(phone), RECEIPT_CODE.sub("****-****-****", text))


def send_http(phone: str, text: str) -> None:
    """POST {"phone", "text", "signature"} as JSON to SMS_HTTP_URL with a bearer token; 2xx is success."""
    if not settings.SMS_HTTP_URL:
        raise ImproperlyConfigured("ZONGZHI_SMS_URL must be set for the http SMS backend")
    body = json.dumps({"phone": phone, "text": text, "signature": settings.SMS_SIGNATURE}).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's configured gateway
        settings.SMS_HTTP_URL,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise SmsError(f"gateway answered {response.status}")
    except (urllib.error.URLError, TimeoutError) as error:
        raise SmsError(str(error)) from error


BACKENDS: dict[str, Callable[[str, str], None]] = {"file": send_file, "console": send_console, "http": send_http}


def send(phone: str, text: str) -> None:
    """Send through the configured backend."""
    backend = BACKENDS.get(settings.SMS_BACKEND)
    if backend is None:
        raise ImproperlyConfigured(f"unknown SMS_BACKEND {settings.SMS_BACKEND!r}: use one of {sorted(BACKENDS)}")
    backend(phone, text)
