"""Read throughput through the production server: each read endpoint against a bare endpoint doing
the same queries, through gunicorn (deploy/gunicorn.conf.py) on the bench database, loaded by
keep-alive HTTP clients in threads on the same machine.

The bare endpoint of a page is its own SQL replayed (bench/replay.py): recorded once in this
process, then `GET /bench/bare/replay/<name>` behind the same server, middleware and verified
session runs the same statements on a raw cursor and answers the rows as JSON. Platform and bare
are measured in alternating slices (BENCH_SLICES of each, the order swapped every slice), so the
load other sessions put on the machine falls on both alike; the ratio platform/bare is what
compares between runs. `GET /healthz` (one SELECT 1) is printed as the server's floor.

Alone: `python bench/serving.py` (on DATABASE_URL, else the bench database; seeded with the league
if it has none).
"""

import http.client
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import serving  # noqa: E402

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))  # per endpoint and side
SLICES = int(os.environ.get("BENCH_SLICES", "4"))

# name (of the bare replay) → the platform's read endpoint
PATHS = {
    "cases": "/api/v1/cases?page_size=20",
    "search": "/api/v1/cases?q=%E7%BA%A0%E7%BA%B7",  # a 2-character search
    "stats": "/api/v1/stats",
    "children": "/api/v1/regions/152500000000/children",
    "staff-cases": "/staff/cases/",
    "staff-home": "/staff/",
}


def _load(port: int, path: str, cookie: str, seconds: float) -> tuple[int, float, list[float]]:
    """(requests, elapsed s, latencies ms) over `seconds` with CONCURRENCY keep-alive clients."""
    samples: list[float] = []
    errors: list[str] = []
    stop = time.perf_counter() + seconds
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < stop:
            started = time.perf_counter()
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"{path}: {response.status}")
                break
            mine.append((time.perf_counter() - started) * 1000)
        connection.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CONCURRENCY)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise RuntimeError(errors[0])
    return len(samples), elapsed, samples


class _Side:
    def __init__(self) -> None:
        self.count = 0
        self.elapsed = 0.0
        self.samples: list[float] = []

    def add(self, measured: tuple[int, float, list[float]]) -> None:
        self.count += measured[0]
        self.elapsed += measured[1]
        self.samples.extend(measured[2])

    def figures(self) -> tuple[float, float, float]:
        """(requests/s, p50 ms, p95 ms)"""
        self.samples.sort()
        p95 = self.samples[max(int(len(self.samples) * 0.95) - 1, 0)]
        return self.count / self.elapsed, statistics.median(self.samples), p95


def measure(session_key: str, paths: dict[str, str] = PATHS) -> dict[str, tuple[float, float]]:
    """Print and return, per endpoint, (platform requests/s, bare requests/s)."""
    from bench import replay

    recordings = replay.record(session_key, paths)
    cookie = f"sessionid={session_key}"
    results: dict[str, tuple[float, float]] = {}
    with serving({"BENCH_REPLAY_FILE": str(replay.FILE)}, server="gunicorn") as url:
        port = int(url.rsplit(":", 1)[1])
        workers = os.environ.get("ZONGZHI_WORKERS", str(2 * (os.cpu_count() or 1) + 1))
        load = os.getloadavg()
        print(
            f"\ngunicorn, {workers} workers × 4 threads; {CONCURRENCY} keep-alive clients, {SECONDS:.0f} s per "
            f"endpoint and side in {SLICES} alternating slices; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
        )
        _load(port, "/healthz", cookie, 2)  # warm every worker
        for name, path in paths.items():  # and every worker's caches of every endpoint
            _load(port, path, cookie, 1)
            _load(port, f"/bench/bare/replay/{name}", cookie, 1)
        floor = _Side()
        floor.add(_load(port, "/healthz", cookie, SECONDS / 2))
        rate, p50, p95 = floor.figures()
        head = f"{'SQL':>4} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}   {'bare':>7} {'p50 ms':>7} {'p95 ms':>7}"
        print(f"{'endpoint':<42} {head} {'ratio':>6}")
        print(f"{'GET /healthz (floor)':<42} {1:4d} {rate:7.0f} {p50:7.1f} {p95:7.1f}")
        for name, path in paths.items():
            platform, bare = _Side(), _Side()
            for index in range(SLICES):
                sides = [(platform, path), (bare, f"/bench/bare/replay/{name}")]
                for side, target in sides if index % 2 == 0 else reversed(sides):
                    side.add(_load(port, target, cookie, SECONDS / SLICES))
            rate, p50, p95 = platform.figures()
            bare_rate, bare50, bare95 = bare.figures()
            written = " (writes)" if replay.writes(recordings[name]) else ""
            print(
                f"{'GET ' + path + written:<42} {len(recordings[name]):4d} {rate:7.0f} {p50:7.1f} {p95:7.1f}   "
                f"{bare_rate:7.0f} {bare50:7.1f} {bare95:7.1f} {rate / bare_rate:6.2f}"
            )
            results[name] = (rate, bare_rate)
        load = os.getloadavg()
        print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    return results


def main() -> None:
    from bench.load import _session
    from bench.server import start

    start(sqlite=None, scale="league", seeded_user="demo-league")
    measure(_session("demo-league"))


if __name__ == "__main__":
    main()
