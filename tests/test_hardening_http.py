"""Hardened answers over real HTTP against the live server: the Content-Security-Policy and
`no-store` on pages, the API and the portal; bodies over their cap refused with 413 before they are
read (a declared 200 MB, a body without a length); the API docs behind the login in production."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from tests import persona_day
from tests.browsing import ROOT
from tests.http_client import HttpClient
from zongzhi.hardening import HardeningMiddleware

MB = 1024 * 1024


@pytest.fixture(scope="module")
def director(server: dict[str, str], django_db_blocker) -> HttpClient:  # type: ignore[no-untyped-def]
    return persona_day.staff(server, "demo-director")


def script_src(policy: str) -> str:
    return next(d for d in policy.split(";") if d.strip().startswith("script-src")).strip()


def test_pages_api_and_portal_carry_the_policy_and_no_store(server: dict[str, str], director: HttpClient) -> None:
    nonces = set()
    for path in ("/staff/", "/staff/cases/", "/staff/grid/", "/api/v1/cases", "/staff/login/"):
        answer = director.get(path)
        assert answer.status == 200, (path, answer.status)
        policy = answer.headers["content-security-policy"]
        src = script_src(policy)
        assert src.startswith("script-src 'self' 'nonce-") and "unsafe-inline" not in src and "unsafe-eval" not in src
        assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert answer.headers["cache-control"] == "no-store", path
        nonces.add(src)
    assert len(nonces) == 5  # a fresh nonce for every answer
    visitor = HttpClient(server["url"])
    for path in ("/", "/track/", "/apply/"):
        answer = visitor.get(path)
        assert answer.headers["cache-control"] == "no-store" and "content-security-policy" in answer.headers, path
    # Our pages have no inline script left, with or without the nonce.
    page = director.get("/staff/").text
    assert "<script>" not in page and " onclick=" not in page


def _declared(base: str, path: str, length: int, content_type: str, sent: int = 64 * 1024) -> tuple[int, str]:
    """Declare `length` bytes, send only `sent` of them, and read the answer (it must come anyway)."""
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", content_type)
    connection.putheader("Content-Length", str(length))
    connection.endheaders()
    connection.send(b"x" * sent)
    answer = connection.getresponse()
    text = answer.read().decode()
    connection.close()
    return answer.status, text


def test_a_200_mb_body_is_refused_from_its_declared_length(server: dict[str, str]) -> None:
    base = server["url"]
    status, text = _declared(base, "/api/v1/cases", 200 * MB, "application/json")
    assert status == 413 and json.loads(text)["detail"] == "请求内容过大：此类提交不能超过 1 MB。"
    status, text = _declared(base, "/staff/cases/new/", 200 * MB, "application/x-www-form-urlencoded")
    assert status == 413 and "请求内容过大：此类提交不能超过 2.5 MB。" in text
    status, text = _declared(base, "/staff/cases/1/do/attachment/", 200 * MB, "multipart/form-data; boundary=b")
    assert status == 413 and "不能超过 100 MB" in text
    status, text = _declared(base, "/staff/transfer/import/", 202 * MB, "multipart/form-data; boundary=b")
    assert status == 413 and "不能超过 201 MB" in text
    # Under its cap a body goes on to the usual checks: here the CSRF check of a visitor's POST.
    status, text = _declared(base, "/api/v1/cases", 1000, "application/json", sent=1000)
    assert status == 403 and "请求内容" not in text


def test_a_body_without_a_length_is_not_read_by_the_development_server(server: dict[str, str]) -> None:
    url = urlsplit(server["url"])
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    connection.putrequest("POST", "/api/v1/cases")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    connection.send(b"10000\r\n" + b"x" * 0x10000 + b"\r\n")
    answer = connection.getresponse()
    assert answer.status == 411 and json.loads(answer.read())["detail"] == "请求内容未声明长度，无法接收。"
    connection.close()


def _chunked(body: bytes) -> WSGIRequest:
    """A request as a server that decodes chunked bodies hands it over (wsgi.input_terminated)."""
    environ = RequestFactory()._base_environ(  # type: ignore[attr-defined]
        PATH_INFO="/api/v1/echo",
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = BytesIO(body)
    environ["wsgi.input_terminated"] = True
    return WSGIRequest(environ)


@override_settings(BODY_LIMITS={**settings.BODY_LIMITS, "api": 1000})
def test_a_chunked_body_is_cut_off_at_the_cap() -> None:
    def echo(request: HttpRequest) -> HttpResponse:
        return HttpResponse(request.body)

    middleware = HardeningMiddleware(echo)
    assert middleware(_chunked(b"a" * 1000)).content == b"a" * 1000  # at the cap: read whole
    stream = BytesIO(b"b" * 5000)
    request = _chunked(b"")
    request.META["wsgi.input"] = stream
    refused = middleware(request)
    assert refused.status_code == 413 and stream.tell() == 1001  # one byte past the cap, no further


@pytest.fixture(scope="module")
def production(server: dict[str, str]) -> Iterator[str]:
    """A second server on the same database with ZONGZHI_ENV=prod (plain HTTP: no TLS redirect)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "ZONGZHI_ENV": "prod",
        "SECRET_KEY": "a-test-only-production-key-" + "x" * 30,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "ZONGZHI_DATA_KEY": (Path(settings.VAR_DIR) / "data_key").read_text().strip(),
        "DATABASE_URL": server["database_url"],
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)  # noqa: S310 - our own local server
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("the production test server did not start")
    yield url
    process.terminate()
    process.wait(10)


def test_the_api_docs_need_a_login_in_production(server: dict[str, str], production: str) -> None:
    visitor = HttpClient(production)
    for path in ("/api/v1/docs", "/api/v1/openapi.json"):
        answer = visitor.get(path)
        assert answer.status == 302 and answer.headers["location"].startswith("/staff/login/?next=/api/v1/"), path
    # In development they stay open, for the people building against the API.
    assert HttpClient(server["url"]).get("/api/v1/openapi.json").status == 200
