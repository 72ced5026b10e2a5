"""The staff UI in a real headless Chromium (Debian's package, driven by Playwright).

A real server process serves the session's test database; these tests hold no transaction of
their own so that server can write (sessions, audit entries). Screenshots go to test-artifacts/.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.browser


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture(scope="session")
def server(django_db_setup) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": _database_url(), "ZONGZHI_DEBUG": "0"}
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
            urllib.request.urlopen(f"{url}/staff/login/", timeout=1)  # noqa: S310 - our own local server
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("the test server did not start")
    yield {"url": url, "database_url": env["DATABASE_URL"]}
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def browser(server: dict[str, str]) -> Iterator[Browser]:
    """Module-scoped: Playwright's event loop must be gone before other modules use the ORM."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
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


def test_league_leader_logs_in_and_walks_the_tree(page: Page, server: dict[str, str]) -> None:
    login(page, server, "demo-league")
    assert page.locator("#overview .figures").inner_text().count("3555") == 1
    page.click("text=浏览 锡林郭勒盟 区划树")
    page.wait_for_url("**/staff/regions/152500000000/")
    rows = page.locator("table.tree tbody tr")
    assert rows.count() == 13
    xilinhot = page.locator("tr[data-code='152502000000']")
    xilinhot.locator("button.toggle").click()
    page.wait_for_function("document.querySelectorAll('table.tree tbody tr').length > 13")
    expanded = rows.count()
    assert expanded == 13 + 10  # Xilinhot's ten townships appear under it, in place
    assert page.locator("tr[data-code='152502001000']").is_visible()
    shot(page, "region-tree-league")


def test_fonts_are_vendored_and_render_chinese_and_mongolian(page: Page, server: dict[str, str]) -> None:
    login(page, server, "demo-league")
    page.goto(f"{server['url']}/staff/regions/152500000000/")
    page.evaluate("document.fonts.ready")
    loaded = page.evaluate(
        "Array.from(document.fonts).filter(f => f.status === 'loaded').map(f => f.family.replaceAll('\"', ''))"
    )
    assert "Zongzhi Sans" in loaded and "Zongzhi Mongolian" in loaded, loaded
    # Without the webfont the glyphs would fall back to a box; measure that they differ from it.
    widths = page.evaluate(
        """() => {
        const c = document.createElement('canvas').getContext('2d');
        c.font = '20px "Zongzhi Sans"'; const zh = c.measureText('锡林郭勒').width;
        c.font = '20px "Zongzhi Mongolian"'; const mn = c.measureText('ᠰᠢᠯᠢ ᠶᠢᠨ ᠭᠣᠣᠯ').width;
        return [zh, mn];
    }"""
    )
    assert widths[0] > 60 and widths[1] > 40, widths
    shot(page, "fonts-league-page")


def test_center_page_shows_zones_rooms_and_todays_agencies(page: Page, server: dict[str, str]) -> None:
    login(page, server, "demo-director")
    page.goto(f"{server['url']}/staff/centers/ZZ-152502/")
    zones = page.locator("section.zone h2").all_inner_texts()
    assert zones == ["引导受理区", "多元化解区", "指挥调度区"]
    assert page.locator("text=速裁法庭").first.is_visible()
    on_duty = page.locator("#on-duty").inner_text()
    assert "今日在岗入驻单位" in on_duty and "随驻单位" in on_duty
    shot(page, "center-xilinhot")


def test_grid_worker_sees_their_grid_and_not_the_county(page: Page, server: dict[str, str]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, server, "demo-gridworker")
    page.click("section:has-text('我的网格') a")
    assert page.locator("h2:has-text('网格员')").is_visible()
    shot(page, "gridworker-phone")
    response = page.goto(f"{server['url']}/staff/regions/152502000000/")
    assert response is not None and response.status == 404
    assert "不在您的辖区内" in page.content()
