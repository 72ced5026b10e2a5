"""Pages on a slow link: the portal home and the grid worker's home in Chromium on emulated Fast 3G
(1.6 Mbit/s down, 750 kbit/s up, 150 ms latency: Chrome DevTools' preset, set through CDP's
`Network.emulateNetworkConditions`), served by gunicorn (deploy/gunicorn.conf.py) with the static
files collected as production has them: hashed names, compressed copies, cached as immutable.

Each page is loaded twice in one browser context: first with an empty cache, then again (repeat),
when the page itself is sent again (no-store) and the static files come from the cache. Two phones:
one with a CJK system font, as iOS and Android phones have (this machine's Noto Sans CJK SC), and one
without (fontconfig limited to DejaVu and Liberation), which fetches the vendored font slices its
pages need. Each page is loaded in BENCH_SLOW_ROUNDS fresh contexts (3); the round with the median
load time is reported: the load event, first contentful paint, the fonts ready, the time to the
first byte of the page (request sent to answer begun: the server's time plus one round trip), bytes over the wire
(headers included) and requests. The floor: a bare answer (GET /healthz) loaded the same way through
the same link in the same run. Issue 14's targets: first load under 3 s, repeat under 1 s.

    python bench/slow_links.py   # on DATABASE_URL, else a fresh var/bench-slow.sqlite3 seeded first
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FAST_3G = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1.6e6 / 8,  # bytes per second
    "uploadThroughput": 750e3 / 8,
}
NO_CJK_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>/usr/share/fonts/truetype/dejavu</dir>
  <dir>/usr/share/fonts/truetype/liberation</dir>
  <cachedir>{cache}</cachedir>
  <include ignore_missing="yes">/etc/fonts/conf.d</include>
</fontconfig>
"""
TIMINGS = """() => document.fonts.ready.then(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return {load: nav.loadEventEnd, fcp: paint ? paint.startTime : null, fonts: performance.now(),
          server: nav.responseStart - nav.requestStart};
})"""
FIRST_TARGET, REPEAT_TARGET = 3000.0, 1000.0
ROUNDS = int(os.environ.get("BENCH_SLOW_ROUNDS", "3"))


def _median(loads: list[dict[str, float]]) -> float:
    return statistics.median(r["load"] for r in loads)


def _session_for(username: str) -> str:
    """A session key of a login that passed both factors, stored in the database the server reads."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from zongzhi.accounts.models import User

    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session.save()
    return str(client.cookies["sessionid"].value)


def _ensure_grid_households() -> None:
    """The grid worker's home lists their grid's households: seed a sample of Xilinhot's grids (the
    worker's first among them) and its field work when the database has no residents yet."""
    from zongzhi.demo.field import seed_field
    from zongzhi.demo.residents import seed_residents
    from zongzhi.grid.models import GridWorker, Household

    worker = GridWorker.objects.get(user__username="demo-gridworker")
    if not Household.objects.filter(grid_id=worker.grid_id).exists():
        seed_residents(scale="small", seed_value=2025, limit_grids=24)
        seed_field(seed_value=2025)


def _load(page: Any, counters: dict[str, float], url: str) -> dict[str, float]:
    counters.update(bytes=0, requests=0, font_bytes=0)
    page.goto(url, wait_until="load")
    timings = page.evaluate(TIMINGS)  # resolves when the fonts the page asked for have arrived
    page.wait_for_timeout(300)  # the last loadingFinished events
    return {**timings, **counters}


def _phone(playwright: Any, base: str, session: str, fontconfig: str | None) -> list[tuple[str, str, dict[str, float]]]:
    env = {**os.environ, **({"FONTCONFIG_FILE": fontconfig} if fontconfig else {})}
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"], env=env
    )
    results = []
    try:
        for label, path, logged_in in (
            ("GET /healthz (floor)", "/healthz", False),
            ("portal home /", "/", False),
            ("grid worker's home /staff/", "/staff/", True),
            ("grid worker's grid /staff/grid/", "/staff/grid/", True),
        ):
            rounds: dict[str, list[dict[str, float]]] = {"first": [], "repeat": []}
            for _ in range(ROUNDS):  # a fresh context (empty cache) each round; the median is reported
                context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
                context.set_default_timeout(120_000)
                if logged_in:
                    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.emulateNetworkConditions", FAST_3G)
                counters: dict[str, float] = {}
                fonts: set[str] = set()
                cdp.on("Network.responseReceived", lambda e, f=fonts: e["type"] == "Font" and f.add(e["requestId"]))

                def finished(event: dict[str, Any], counters: dict[str, float] = counters, f: set[str] = fonts) -> None:
                    counters["bytes"] += event["encodedDataLength"]
                    counters["requests"] += 1
                    if event["requestId"] in f:
                        counters["font_bytes"] += event["encodedDataLength"]

                cdp.on("Network.loadingFinished", finished)
                for run in ("first", "repeat"):
                    rounds[run].append(_load(page, counters, base + path))
                context.close()
            for run, loads in rounds.items():
                results.append((label, run, min(loads, key=lambda r: abs(r["load"] - _median(loads)))))
    finally:
        browser.close()
    return results


def measure() -> None:
    """Collect the static files, start gunicorn on them and load the pages in both phones."""
    from playwright.sync_api import sync_playwright

    from bench.server import serving

    if not Path(CHROMIUM).exists():
        print("\nslow links: skipped, Debian's chromium is not installed (`make system-deps`)")
        return
    _ensure_grid_households()
    session = _session_for("demo-gridworker")
    with tempfile.TemporaryDirectory(prefix="zongzhi-slow-") as tmp:
        static = {"ZONGZHI_STATIC_MANIFEST": "1", "ZONGZHI_STATIC_ROOT": str(Path(tmp) / "static")}
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
            cwd=ROOT, env={**os.environ, **static}, check=True,
        )  # fmt: skip
        fontconfig = Path(tmp) / "fonts.conf"
        fontconfig.write_text(NO_CJK_FONTS.format(cache=Path(tmp) / "fc-cache"))
        with serving(static, server="gunicorn") as url, sync_playwright() as playwright:
            for path in ("/healthz", "/"):  # each worker's first answers are not timed
                for _ in range(8):
                    urllib.request.urlopen(f"{url}{path}").read()  # noqa: S310 - our own local server
            phones = {
                "phone with a CJK system font": _phone(playwright, url, session, None),
                "phone without a CJK font (vendored slices)": _phone(playwright, url, session, str(fontconfig)),
            }
    print("\nslow links: Chromium on emulated Fast 3G (1.6 Mbit/s, 150 ms), gunicorn, collected static files")
    print(f"each row: the round of {ROUNDS} with the median load time")
    print(f"targets: first load < {FIRST_TARGET / 1000:.0f} s, repeat < {REPEAT_TARGET / 1000:.0f} s")
    for phone, results in phones.items():
        print(f"\n{phone}")
        header = f"{'page':<34} {'load':>6} {'ms':>7} {'FCP ms':>7} {'fonts ms':>9} {'TTFB ms':>8} {'KB':>7}"
        header += f" {'font KB':>8} {'req':>4}"
        print(header + f" {'x floor':>8} {'target':>7}")
        floors = {run: r["load"] for label, run, r in results if label.startswith("GET /healthz")}
        for label, run, r in results:
            target = FIRST_TARGET if run == "first" else REPEAT_TARGET
            verdict = "" if label.startswith("GET /healthz") else ("ok" if r["load"] < target else "MISSED")
            fcp = f"{r['fcp']:7.0f}" if r["fcp"] is not None else f"{'—':>7}"
            print(
                f"{label:<34} {run:>6} {r['load']:7.0f} {fcp} {r['fonts']:9.0f} {r['server']:8.0f}"
                f" {r['bytes'] / 1024:7.1f} {r['font_bytes'] / 1024:8.1f} {r['requests']:4.0f}"
                f" {r['load'] / floors[run]:8.2f} {verdict:>7}"
            )


def main() -> None:
    from bench.server import start

    start(sqlite="bench-slow.sqlite3", scale="small", seeded_user="demo-gridworker")
    measure()


if __name__ == "__main__":
    main()
