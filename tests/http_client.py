"""A plain HTTP client for the live test server: a real session cookie, a real CSRF token, no shortcuts.

Django's test client skips the CSRF check and the server; this goes through both, the way a browser
form or a department system does.
"""

import http.client
import json
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from zongzhi.accounts.models import User


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpClient:
    """One user's session against the server at `base` (no redirects followed)."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # sent with every request (a bearer token)

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Response:
        url = urlsplit(self.base)
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
        sent = {"Host": url.netloc, **self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST" and "csrftoken" in self.cookies:
            sent.setdefault("X-CSRFToken", self.cookies["csrftoken"])
            sent.setdefault("Referer", self.base + "/")
        connection.request(method, path, body=body, headers=sent)
        raw = connection.getresponse()
        response = Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, raw.read())
        for header, value in raw.getheaders():
            if header.lower() == "set-cookie":
                for name, morsel in SimpleCookie(value).items():
                    self.cookies[name] = morsel.value
        connection.close()
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(
        self, path: str, fields: dict[str, Any], files: dict[str, tuple[str, bytes]] | None = None
    ) -> Response:
        pairs = [(k, str(item)) for k, v in fields.items() for item in (v if isinstance(v, list) else [v])]
        pairs.append(("csrfmiddlewaretoken", self.cookies.get("csrftoken", "")))
        if not files:
            return self.request(
                "POST", path, urlencode(pairs).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
            )
        return self._multipart(path, pairs, files)

    def get_json(self, path: str, **query: Any) -> Response:
        return self.request("GET", f"{path}?{urlencode(query)}" if query else path)

    def post_json(self, path: str, data: dict[str, Any]) -> Response:
        return self.request("POST", path, json.dumps(data).encode(), {"Content-Type": "application/json"})

    def post_files(
        self, path: str, files: dict[str, tuple[str, bytes]], fields: dict[str, str] | None = None
    ) -> Response:
        return self._multipart(path, list((fields or {}).items()), files)

    def _multipart(self, path: str, pairs: list[tuple[str, str]], files: dict[str, tuple[str, bytes]]) -> Response:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in pairs:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, content) in files.items():
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            )
            parts.append(head.encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(
            "POST", path, b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )


def logged_in(base: str, username: str) -> HttpClient:
    """A client holding a verified session of `username` (both factors passed) and a CSRF cookie.

    The session is written the way the login view leaves it (as tests/conftest.verified_client does);
    the CSRF cookie comes from the server's own login form.
    """
    from django.test import Client

    client = HttpClient(base)
    client.get("/staff/login/")  # the server sets csrftoken
    assert "csrftoken" in client.cookies, "the login page set no CSRF cookie"
    user = User.objects.get(username=username)
    django_client = Client()
    django_client.force_login(user)
    session = django_client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session.save()
    client.cookies["sessionid"] = django_client.cookies["sessionid"].value
    return client
