"""Load test: the personas' day through the production server, from a load generator in its own process.

gunicorn (bench/server.py, deploy/gunicorn.conf.py) serves the league's demo data; a separate Python
process (this file with `--generate`, standard library only: asyncio and raw HTTP/1.1 keep-alive
connections) runs BENCH_LOAD_USERS virtual users (default 200) for BENCH_LOAD_SECONDS (default 300).
Each user is one persona and loops over its script with a think time of BENCH_LOAD_THINK seconds
(uniform, default 2–8) between requests:

- case handling (Xilinhot, township 152502001): a department system registers a case (bearer token),
  the center's director opens it, accepts and assigns it (session + CSRF), the system signs for it;
- lists: the director's case list page, the API's list and a search;
- case pages: the director opens cases of the center;
- dashboards: the county leader's dashboard page, its figures and the staff home;
- grid: the grid worker's page and a search of the registry by name (POST, CSRF);
- portal: an applicant follows a receipt code (the QR code's address and the lookup form), public.

The logins are real sessions written as the login view leaves them (both factors passed) and a real
service account's token; the CSRF token comes from the server's own cookie. One user also asks
`GET /healthz` (one SELECT 1) once a second: the floor's latency under the same load.

Printed: per endpoint the count, p50, p95 and errors (any status but the expected one, or no
answer); requests per second in all and per core; PASS/FAIL against the targets (p95 < 300 ms for
every endpoint, no error). The generator shares the machine's cores with the server.

Alone: `python bench/load.py` (PostgreSQL database BENCH_DB recreated and seeded with the league when
PG_URL answers; or DATABASE_URL as given, seeded if it holds no league). A smoke run:
`BENCH_LOAD_SECONDS=30 BENCH_LOAD_USERS=50 python bench/load.py`.
"""

import asyncio
import contextlib
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "300"))
USERS = int(os.environ.get("BENCH_LOAD_USERS", "200"))
THINK = tuple(float(x) for x in os.environ.get("BENCH_LOAD_THINK", "2-8").split("-"))
P95_TARGET_MS = 300
# Of every 20 users: what each persona's share is.
MIX = {"cases": 3, "lists": 3, "case_pages": 3, "dashboards": 3, "grid": 3, "portal": 5}
TOWNSHIP = "152502001"
LEAD = "152502-D05"
COUNTY = "152502000000"
IDLE_SECONDS = 4.0  # gunicorn closes a keep-alive connection idle for 5 s (deploy/gunicorn.conf.py)


# ---- the parent: data, logins, server ----------------------------------------------------------


def _session(username: str) -> str:
    """A session key of `username` having passed both factors, as the login view leaves it."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from zongzhi.accounts.models import User

    user = User.objects.get(username=username)
    device, _created = TOTPDevice.objects.get_or_create(user=user, confirmed=True, defaults={"name": "bench"})
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return str(client.cookies["sessionid"].value)


def _receipts(count: int) -> list[str]:
    """Portal applications (through the portal's service) and the receipt codes their applicants keep."""
    from zongzhi.cases.models import Category
    from zongzhi.portal.services import ApplicationInput, application_submit
    from zongzhi.regions.models import Region

    category = Category.objects.get(code="neighbour")
    villages = list(Region.objects.filter(level="village", code__startswith=TOWNSHIP)[:10])
    codes = []
    for i in range(count):
        _application, code = application_submit(
            data=ApplicationInput(
                category=category,
                description=f"邻居家的排水沟把我家院子淹了，多次协商未果，第{i}号。",
                applicant_name="乌云",
                other_party="邻居",
                region=villages[i % len(villages)],
                place="嘎查东头",
            ),
            phone=f"139{random.randrange(10**8):08d}",
            ip=f"10.{random.randrange(256)}.{random.randrange(256)}.{i}",  # the portal limits applications per address
            files=[],
            language="zh-hans",
        )
        codes.append(code)
    return codes


def _plan() -> dict[str, Any]:
    """Everything the generator needs: sessions, a token, case numbers, receipts, region codes."""
    from bench.cases import _service_token
    from bench.slow_links import _ensure_grid_households
    from zongzhi.accounts.models import User
    from zongzhi.cases import selectors
    from zongzhi.grid.models import GridWorker, Resident
    from zongzhi.regions.models import Region

    _ensure_grid_households()
    director = f"director-{TOWNSHIP}"
    worker = GridWorker.objects.get(user__username="demo-gridworker")
    names = list(
        Resident.objects.filter(household__grid_id=worker.grid_id).values_list("name", flat=True).distinct()[:40]
    )
    cases = list(
        selectors.cases_visible(User.objects.get(username=director))
        .order_by("-id")
        .values_list("number", flat=True)[:200]
    )
    users = []
    for n in range(USERS):
        persona = _persona(n)
        login = {"cases": director, "lists": director, "case_pages": director, "dashboards": "demo-leader",
                 "grid": "demo-gridworker", "portal": ""}[persona]  # fmt: skip
        users.append({"persona": persona, "session": _session(login) if login else ""})
    return {
        "users": users,
        "token": _service_token(),
        "lead": LEAD,
        "county": COUNTY,
        "villages": list(
            Region.objects.filter(level="village", code__startswith=TOWNSHIP).values_list("code", flat=True)
        ),
        "cases": cases,
        "names": [name[:1] for name in names] + names,  # surnames (prefix search) and full names
        "receipts": _receipts(30),
        "seconds": SECONDS,
        "think": THINK,
    }


def _persona(n: int) -> str:
    slots = [name for name, share in MIX.items() for _ in range(share)]
    return slots[n % len(slots)]


def measure() -> bool:
    """Run the load against a gunicorn on the current database; print the table; True when the targets hold."""
    from django.db import connection

    from bench.server import serving

    plan = _plan()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="zongzhi-load-") as tmp, serving() as url:
        path = Path(tmp) / "plan.json"
        path.write_text(json.dumps(plan))
        load_before = os.getloadavg()
        generator = subprocess.run(
            [sys.executable, str(Path(__file__)), "--generate", str(path), url],
            cwd=ROOT, capture_output=True, text=True, timeout=SECONDS + 600,
        )  # fmt: skip
        load_after = os.getloadavg()
    if generator.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{generator.stderr[-3000:]}")
    result = json.loads(generator.stdout)
    workers = os.environ.get("ZONGZHI_WORKERS", str(2 * cores + 1))
    threads = os.environ.get("ZONGZHI_THREADS", "4")
    print(
        f"\nload: {USERS} virtual users for {result['elapsed']:.0f} s, think {THINK[0]:g}–{THINK[1]:g} s;"
        f" gunicorn {workers} workers × {threads} threads; {connection.vendor}; generator in its own process"
    )
    print(f"  load average {load_before[0]:.1f} before, {load_after[0]:.1f} after ({cores} cores)")
    print(f"  {'endpoint':<48} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
    ok = True
    total = errors = 0
    for name, row in sorted(result["endpoints"].items()):
        samples = sorted(row["ms"])
        p50 = statistics.median(samples) if samples else float("nan")
        p95 = samples[math.ceil(len(samples) * 0.95) - 1] if samples else float("nan")  # nearest rank
        total += row["count"]
        errors += row["errors"]
        floor = name.startswith("GET /healthz")
        mark = "" if floor else (" MISSED" if not p95 < P95_TARGET_MS or row["errors"] else "")
        ok = ok and (floor or (p95 < P95_TARGET_MS and not row["errors"]))
        print(f"  {name:<48} {row['count']:7d} {p50:8.1f} {p95:8.1f} {row['errors']:7d}{mark}")
    rate = total / result["elapsed"]
    print(f"  {total} requests, {errors} errors: {rate:.1f} requests/s, {rate / cores:.1f} per core")
    for sample in result["error_samples"][:5]:
        print(f"  error: {sample}")
    print(f"  targets: p95 < {P95_TARGET_MS} ms on every endpoint, 0 errors: {'PASS' if ok else 'FAIL'}")
    return ok


# ---- the generator (its own process, standard library only) ------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection, reopened when the server closed it or it sat idle."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def _open(self) -> None:
        await self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(self, head: bytes, body: bytes) -> tuple[int, dict[str, str], bytes]:
        fresh = self.writer is None or time.monotonic() - self.used > IDLE_SECONDS
        if fresh:
            await self._open()
        try:
            return await self._exchange(head, body)
        except (ConnectionError, asyncio.IncompleteReadError):
            if fresh:
                raise
            await self._open()  # the server closed the kept connection just before we wrote: once more
            return await self._exchange(head, body)

    async def _exchange(self, head: bytes, body: bytes) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        cookies = []
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "set-cookie":
                cookies.append(value.strip())
            headers[name.lower()] = value.strip()
        headers["set-cookie"] = "\n".join(cookies)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data = bytearray()
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                data += await self.reader.readexactly(size + 2)
                del data[-2:]
            await self.reader.readuntil(b"\r\n")
            payload = bytes(data)
        else:
            payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        self.used = time.monotonic()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, payload


class User:
    """A virtual user: its connection, cookies, and the tally of what it asked."""

    def __init__(self, url: str, plan: dict[str, Any], spec: dict[str, Any], stats: dict[str, Any]) -> None:
        parts = urlsplit(url)
        self.netloc = parts.netloc
        self.connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        self.plan, self.stats = plan, stats
        self.cookies: dict[str, str] = {"sessionid": spec["session"]} if spec["session"] else {}
        self.token = ""

    async def call(
        self, label: str, method: str, path: str, *, json_body: Any = None, form: dict[str, str] | None = None,
        expect: int = 200, bearer: bool = False,
    ) -> tuple[int, bytes]:  # fmt: skip
        body = b""
        headers = {"Host": self.netloc, "Connection": "keep-alive", "Accept-Language": "zh-hans"}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if bearer:
            headers["Authorization"] = f"Bearer {self.plan['token']}"
        else:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if method == "POST" and "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
        headers["Content-Length"] = str(len(body))
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        started = time.perf_counter()
        # The first think time is the ramp (users arriving, workers warming): not counted.
        counted = time.monotonic() >= self.stats["counting_from"]
        scratch: dict[str, Any] = {"count": 0, "errors": 0, "ms": []}
        row = self.stats["endpoints"].setdefault(label, scratch) if counted else scratch
        try:
            status, answer_headers, payload = await self.connection.request(head.encode(), body)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            await self.connection.close()
            row["count"] += 1
            row["errors"] += 1
            if counted:
                self.stats["error_samples"].append(f"{label}: {error!r}")
            return 0, b""
        elapsed = (time.perf_counter() - started) * 1000
        row["count"] += 1
        row["ms"].append(round(elapsed, 2))
        if status != expect:
            row["errors"] += 1
            if counted:
                self.stats["error_samples"].append(f"{label}: {status} {payload[:200].decode('utf-8', 'replace')}")
        if not bearer:
            for cookie in filter(None, answer_headers["set-cookie"].split("\n")):
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
        return status, payload


async def _think(plan: dict[str, Any], stop: float) -> bool:
    low, high = plan["think"]
    await asyncio.sleep(min(random.uniform(low, high), max(0.0, stop - time.monotonic())))
    return time.monotonic() < stop


async def _cases(user: User, plan: dict[str, Any], stop: float) -> None:
    """The department system registers a case; the director opens, accepts, assigns; the system signs."""
    while True:
        body = {
            "category": "neighbour",
            "title": "相邻关系纠纷",
            "description": f"两户因排水沟发生争执，{uuid.uuid4().hex[:8]}。",
            "region": random.choice(plan["villages"]),
            "parties": [
                {"kind": "person", "role": "applicant", "name": "巴特尔"},
                {"kind": "person", "role": "respondent", "name": "其其格"},
            ],
        }
        status, answer = await user.call("POST /api/v1/cases (token)", "POST", "/api/v1/cases", json_body=body,
                                         expect=201, bearer=True)  # fmt: skip
        if status != 201:
            if not await _think(plan, stop):
                return
            continue
        case = json.loads(answer)
        number, version = case["number"], case["version"]
        steps: list[tuple[str, dict[str, Any], bool]] = [
            ("accept", {}, False),
            ("assign", {"lead": plan["lead"]}, False),
            ("sign_for", {}, True),
        ]
        if not await _think(plan, stop):
            return
        await user.call("GET /staff/cases/<number>/", "GET", f"/staff/cases/{number}/")
        for action, extra, bearer in steps:
            if not await _think(plan, stop):
                return
            label = f"POST /api/v1/cases/<n>/actions/{action}" + (" (token)" if bearer else "")
            path = f"/api/v1/cases/{number}/actions/{action}"
            status, answer = await user.call(label, "POST", path, json_body={"version": version, **extra},
                                             bearer=bearer)  # fmt: skip
            if status != 200:
                break
            version = json.loads(answer)["version"]
        if not await _think(plan, stop):
            return


async def _lists(user: User, plan: dict[str, Any], stop: float) -> None:
    pages = [
        ("GET /staff/cases/", "/staff/cases/"),
        ("GET /api/v1/cases?page_size=20", "/api/v1/cases?page_size=20"),
        ("GET /api/v1/cases?q=<2 characters>", "/api/v1/cases?q=" + quote("纠纷")),
        ("GET /staff/cases/?queue=to_accept", "/staff/cases/?queue=to_accept"),
    ]
    while True:
        label, path = random.choice(pages)
        await user.call(label, "GET", path)
        if not await _think(plan, stop):
            return


async def _case_pages(user: User, plan: dict[str, Any], stop: float) -> None:
    while True:
        await user.call("GET /staff/cases/<number>/", "GET", f"/staff/cases/{random.choice(plan['cases'])}/")
        if not await _think(plan, stop):
            return


async def _dashboards(user: User, plan: dict[str, Any], stop: float) -> None:
    county = plan["county"]
    pages = [
        ("GET /staff/dashboards/<county>/", f"/staff/dashboards/{county}/"),
        ("GET /staff/dashboards/<county>/data.json", f"/staff/dashboards/{county}/data.json"),
        ("GET /staff/", "/staff/"),
    ]
    while True:
        label, path = random.choice(pages)
        await user.call(label, "GET", path)
        if not await _think(plan, stop):
            return


async def _grid(user: User, plan: dict[str, Any], stop: float) -> None:
    await user.call("GET /staff/grid/", "GET", "/staff/grid/")  # the CSRF cookie for the search form
    while True:
        if random.random() < 0.5 and plan["names"]:
            name = random.choice(plan["names"])
            await user.call("POST /staff/grid/ (search by name)", "POST", "/staff/grid/", form={"q": name})
        else:
            await user.call("GET /staff/grid/", "GET", "/staff/grid/")
        if not await _think(plan, stop):
            return


async def _portal(user: User, plan: dict[str, Any], stop: float) -> None:
    await user.call("GET /track/", "GET", "/track/")  # the CSRF cookie for the lookup form
    while True:
        code = random.choice(plan["receipts"])
        if random.random() < 0.5:
            await user.call("GET /track/<code>/ (QR code)", "GET", f"/track/{code}/")
        else:
            await user.call("POST /track/ (receipt code)", "POST", "/track/", form={"receipt": code})
        if not await _think(plan, stop):
            return


async def _floor(user: User, stop: float) -> None:
    while time.monotonic() < stop:
        await user.call("GET /healthz (floor, 1/s)", "GET", "/healthz")
        await asyncio.sleep(1)


PERSONAS = {
    "cases": _cases,
    "lists": _lists,
    "case_pages": _case_pages,
    "dashboards": _dashboards,
    "grid": _grid,
    "portal": _portal,
}


async def _generate(plan: dict[str, Any], url: str) -> dict[str, Any]:
    ramp = plan["think"][1]
    began = time.monotonic()
    stats: dict[str, Any] = {"endpoints": {}, "error_samples": [], "counting_from": began + ramp}
    stop = began + ramp + plan["seconds"]

    async def run(spec: dict[str, Any], delay: float) -> None:
        await asyncio.sleep(delay)  # users arrive over the first think time, not all in one instant
        user = User(url, plan, spec, stats)
        try:
            await PERSONAS[spec["persona"]](user, plan, stop)
        finally:
            await user.connection.close()

    tasks = [run(spec, random.uniform(0, ramp)) for spec in plan["users"]]
    floor = User(url, plan, {"session": ""}, stats)
    await asyncio.gather(*tasks, _floor(floor, stop))
    await floor.connection.close()
    return {**stats, "elapsed": time.monotonic() - stats["counting_from"]}


def generate(plan_path: str, url: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    print(json.dumps(asyncio.run(_generate(plan, url))))


def main() -> None:
    from bench.server import start

    start(sqlite=None, scale="league", seeded_user="demo-league")
    measure()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--generate":
        generate(sys.argv[2], sys.argv[3])
    else:
        main()
