"""Shared machinery for the browser tests: one real server process for the session's test
database, Chromium from Debian's package driven by Playwright, logging in, screenshots.

The fixtures are registered for every test module by conftest.py, so every browser test module
shares one server. Browser tests hold no transaction of their own so that server can write.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, sync_playwright

from zongzhi.demo.plan import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture(scope="session")
def server(django_db_setup, django_db_blocker) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": _database_url(), "ZONGZHI_DEBUG": "0"}
    # Its output (request lines, warnings, errors) is kept: the plaintext scan reads it.
    log = Path(settings.VAR_DIR) / "test-server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):  # a minute: on a loaded machine the system checks alone can take half of it
        try:
            urllib.request.urlopen(f"{url}/staff/login/", timeout=1)  # noqa: S310 - our own local server
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("the test server did not start")
    yield {"url": url, "database_url": env["DATABASE_URL"], "log": str(log)}
    process.terminate()
    process.wait(10)
    with django_db_blocker.unblock():
        _wait_for_server_sessions_to_end()


def _wait_for_server_sessions_to_end() -> None:
    """PostgreSQL ends a closed client's backend a moment later; the test database is dropped after this."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    for _ in range(50):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.1)


@pytest.fixture(scope="module")
def browser(server: dict[str, str]) -> Iterator[Browser]:
    """Module-scoped: Playwright's event loop must be gone before other modules use the ORM."""
    if not Path(CHROMIUM).exists():
        message = "Debian's chromium is not installed (`make system-deps` installs it): browser tests not run"
        if os.environ.get("ZONGZHI_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


def totp(server: dict[str, str], username: str) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", "demo_totp", username],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DATABASE_URL": server["database_url"]},
    ).stdout
    return out.split()[1]


_sessions: dict[str, list] = {}


def login(page: Page, server: dict[str, str], username: str) -> None:
    """Log in through the two forms; later tests reuse the session (a TOTP code works only once)."""
    if username in _sessions:
        page.context.add_cookies(_sessions[username])
        page.goto(f"{server['url']}/staff/")
        return
    page.goto(f"{server['url']}/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/login/totp/")
    page.fill("#id_token", totp(server, username))
    page.click("button[type=submit]")
    page.wait_for_url(f"{server['url']}/staff/")
    _sessions[username] = page.context.cookies()


@dataclass
class Answer:
    status: int
    headers: Any
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class _Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer to look at, not to follow


class Http:
    """A staff session over plain HTTP against the live server: cookies kept, the CSRF token sent.

    Shares `login`'s sessions both ways (a TOTP code works only once), so a persona logged in by a
    browser test is reused here and the other way round.
    """

    def __init__(self, server: dict[str, str], username: str | None) -> None:
        """Logged in as `username`, or a visitor of the public pages when None."""
        self.url = server["url"]
        self.opener = urllib.request.build_opener(_Stay)
        self.cookies: dict[str, str] = {c["name"]: c["value"] for c in _sessions.get(username or "", [])}
        if username is not None and not self.cookies:
            self._login(server, username)
            _sessions[username] = [
                {"name": k, "value": v, "domain": "127.0.0.1", "path": "/"} for k, v in self.cookies.items()
            ]

    def _login(self, server: dict[str, str], username: str) -> None:
        self.form("/staff/login/", {"username": username, "password": DEMO_PASSWORD})
        answer = self.form("/staff/login/totp/", {"token": totp(server, username)})
        assert answer.status == 302 and answer.headers["Location"] == "/staff/", answer.text[:500]

    def send(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> Answer:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)  # noqa: S310
        try:
            response = self.opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx and 5xx are answers too
            response = error
        with response:
            answer = Answer(response.status, response.headers, response.read().decode())
        for header in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return answer

    def get(self, path: str) -> Answer:
        return self.send("GET", path)

    def post_json(self, path: str, payload: Any) -> Answer:
        return self.send("POST", path, json.dumps(payload).encode(), "application/json")

    def form(self, path: str, fields: dict[str, str]) -> Answer:
        """Post a form as a browser would; the CSRF token goes in the header (first visit: get the page)."""
        if "csrftoken" not in self.cookies:
            self.get(path)
        return self.send("POST", path, urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded")


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def page(server: dict[str, str], browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    requested: list[str] = []
    tab = context.new_page()
    tab.on("request", lambda request: requested.append(request.url))
    yield tab
    context.close()
    foreign = [u for u in requested if not u.startswith(server["url"]) and not u.startswith("data:")]
    assert not foreign, f"the page loaded from outside the platform: {foreign}"


def open_action(page: Page, action: str) -> None:
    """Open an action's form on the case page (its <details>), whether or not it is the one shown open."""
    page.locator(f"form[data-action={action}]").evaluate("form => { form.closest('details').open = true; }")
