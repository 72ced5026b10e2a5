"""Read throughput through the production server: gunicorn (deploy/gunicorn.conf.py) on the bench
database, loaded by keep-alive HTTP clients in threads on the same machine.

Each endpoint's requests per second at a fixed concurrency, against `GET /healthz` (one SELECT 1)
through the same server in the same run: the ratio says how much of the server's capacity an
endpoint leaves, whatever the machine. The client shares the cores with the server, as the issue's
figures did; a ratio, not a number of requests per second, is what compares between runs.
"""

import http.client
import os
import statistics
import threading
import time
from pathlib import Path

from bench.server import serving

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))


def _load(port: int, path: str, cookie: str) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p95 ms) over SECONDS with CONCURRENCY keep-alive clients."""
    samples: list[float] = []
    errors: list[str] = []
    stop = time.perf_counter() + SECONDS
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
    samples.sort()
    return len(samples) / elapsed, statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def measure(session_key: str, paths: list[str]) -> None:
    with serving(server="gunicorn") as url:
        port = int(url.rsplit(":", 1)[1])
        cookie = f"sessionid={session_key}"
        workers = os.environ.get("ZONGZHI_WORKERS", str(2 * (os.cpu_count() or 1) + 1))
        print(f"\ngunicorn, {workers} workers × 4 threads; {CONCURRENCY} keep-alive clients for {SECONDS:.0f} s each")
        _load(port, "/healthz", cookie)  # warm every worker
        floor, floor50, floor95 = _load(port, "/healthz", cookie)
        print(f"{'endpoint':<48} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'x floor':>8}")
        print(f"{'GET /healthz (floor)':<48} {floor:8.0f} {floor50:8.1f} {floor95:8.1f} {1:8.2f}")
        for path in paths:
            rate, p50, p95 = _load(port, path, cookie)
            print(f"{'GET ' + path:<48} {rate:8.0f} {p50:8.1f} {p95:8.1f} {rate / floor:8.2f}")
