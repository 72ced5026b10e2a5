"""A webhook receiver on loopback for the tests and the benchmark: checks signatures, keeps what came.

`script` says how it answers the first requests, one word each: "drop" (closes the connection without
an answer), "slow" (answers after `slow_seconds`, past the sender's timeout), "500" (keeps the body,
then answers 500, as a receiver that crashed after storing it), "ok"; after the script, always "ok".
"""

import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    delivery: str
    event: dict[str, Any]
    valid: bool
    at: float  # time.time() on arrival


@dataclass
class Receiver:
    secret: str
    script: list[str] = field(default_factory=list)
    slow_seconds: float = 3.0
    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def valid(self, headers: Any, body: bytes) -> bool:
        timestamp = headers.get("Zongzhi-Timestamp", "")
        signature = headers.get("Zongzhi-Signature", "")
        expected = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300  # replay window
        return fresh and hmac.compare_digest(signature, f"v1={expected}")

    def unique(self) -> dict[str, Received]:
        """What a receiver keeps after dropping repeated delivery ids (first arrival wins)."""
        kept: dict[str, Received] = {}
        with self.lock:
            for item in self.received:
                kept.setdefault(item.delivery, item)
        return kept


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                step = receiver.script.pop(0) if receiver.script else "ok"
                receiver.answers.append(step)
            if step == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if step == "slow":
                time.sleep(receiver.slow_seconds)
            payload = json.loads(body)
            item = Received(
                delivery=self.headers.get("Zongzhi-Delivery", ""),
                event=payload["event"],
                valid=self.valid_for(body) and payload["delivery"] == self.headers.get("Zongzhi-Delivery"),
                at=time.time(),
            )
            if step in ("ok", "500", "slow"):
                with receiver.lock:
                    receiver.received.append(item)
            status = 500 if step == "500" else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            with contextlib.suppress(OSError):  # the sender gave up waiting (the "slow" step)
                self.wfile.write(b"{}")

        def valid_for(self, body: bytes) -> bool:
            return receiver.valid(self.headers, body)

    return Handler


@contextmanager
def receiving(secret: str, script: list[str] | None = None, slow_seconds: float = 3.0) -> Iterator[Receiver]:
    receiver = Receiver(secret=secret, script=list(script or []), slow_seconds=slow_seconds)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    httpd.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        httpd.shutdown()
        httpd.server_close()
