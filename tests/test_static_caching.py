"""Static files for slow links, as production serves them: collected with hashed names and gzip copies,
sent by gunicorn as immutable for ten years; the pages themselves stay no-store. The fonts: the
device's own CJK font first, the vendored slices only as a fallback, every face swapping.
"""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browsing import ROOT, _database_url
from tests.http_client import HttpClient

HASHED = r"\.[0-9a-f]{12}\."
FAR_FUTURE = "max-age=315360000"


@pytest.fixture(scope="module")
def served(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[HttpClient]:  # type: ignore[no-untyped-def]
    """collectstatic into a directory of the module's, then gunicorn on it (ZONGZHI_STATIC_MANIFEST=1)."""
    static = tmp_path_factory.mktemp("static")
    with django_db_blocker.unblock():
        database_url = _database_url()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ZONGZHI_STATIC_MANIFEST": "1",
        "ZONGZHI_STATIC_ROOT": str(static),
        "ZONGZHI_BIND": f"127.0.0.1:{port}",
        "ZONGZHI_WORKERS": "1",
        "ZONGZHI_DEBUG": "0",
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "--config", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = HttpClient(f"http://127.0.0.1:{port}")
    for _ in range(150):
        try:
            if client.request("GET", "/healthz").status == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("gunicorn did not start")
    yield client
    process.terminate()
    process.wait(30)


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_link_hashed_files_that_are_cached_for_ten_years(served: HttpClient) -> None:
    for path in ("/", "/staff/login/"):
        page = served.get(path)
        assert page.status == 200
        assert page.headers["cache-control"] == "no-store"  # the page itself: personal data, never kept
        assets = _assets(page.text)
        assert any("vendor/fonts/fonts." in a for a in assets), assets
        assert assets and all(re.search(HASHED, a) for a in assets), assets
        for asset in assets:
            answer = served.request("GET", asset, headers={"Accept-Encoding": "gzip"})
            assert answer.status == 200, asset
            assert FAR_FUTURE in answer.headers["cache-control"] and "immutable" in answer.headers["cache-control"]
            if asset.endswith((".css", ".js")):
                assert answer.headers.get("content-encoding") == "gzip", asset


def test_an_edit_gets_a_new_name_and_an_unhashed_name_is_not_kept_long(served: HttpClient) -> None:
    """An unhashed URL (an old bookmark, a service worker's own name) is revalidated, not frozen."""
    plain = served.get("/static/css/app.css")
    assert plain.status == 200 and "immutable" not in plain.headers.get("cache-control", "")


def test_fonts_css_points_at_hashed_slices_with_local_fonts_first_and_swap(served: HttpClient) -> None:
    (fonts,) = [a for a in _assets(served.get("/").text) if "vendor/fonts/fonts." in a]
    css = served.get(fonts).text
    faces = re.findall(r"@font-face\s*{[^}]*}", css)
    sans = [f for f in faces if '"Zongzhi Sans"' in f]
    assert len(sans) > 20 and any('"Zongzhi Mongolian"' in f for f in faces)
    for face in faces:
        assert "font-display: swap" in face and "unicode-range:" in face
        assert face.index("local(") < face.index("url(")  # the device's own copy before any download
    slices = re.findall(r'url\("([^"]+\.woff2)"\)', css)
    assert slices and all(re.search(HASHED, s) for s in slices)
    platform = [s for s in slices if "zongzhi-sans-sc-400-p" in s]  # the pages' own words, small files
    assert platform
    answer = served.get(f"/static/vendor/fonts/{platform[-1]}")
    assert answer.status == 200 and answer.headers["content-type"] == "font/woff2"
    assert "immutable" in answer.headers["cache-control"] and len(answer.body) < 60_000


def test_css_names_the_system_cjk_fonts_before_the_vendored_one(served: HttpClient) -> None:
    html = served.get("/").text
    (portal,) = [a for a in _assets(html) if "portal/portal." in a]
    stack = re.search(r"--cjk:([^;]+);", served.get(portal).text)
    assert stack is not None
    names = [n.strip().strip('"') for n in stack.group(1).split(",")]
    assert names.index("PingFang SC") < names.index("Noto Sans CJK SC") < names.index("Zongzhi Sans")
    assert names[-1] == "sans-serif"
