"""The field app's sync: a phone's queue of 100 records with 20 photos through a real server.

The queue: 40 visits (20 with a photo of about 330 KB, sent in 256 KB chunks at offsets), 20 disputes,
20 newborns, 10 claims and 10 乌日特 stops (five of them raising a case), as the app sends them:
for each record its photos (announce, chunks), then the record with its client id and
Idempotency-Key, one request at a time on a new connection, a grid worker's session + CSRF.

The floor, in the same run and interleaved record by record: bare endpoints behind the same server
and session (bench/urls.py) that take the same requests and bodies, append the chunks to a file
and insert one row per record, without services, checks or image parsing. Then the whole queue is
replayed (answers from the Idempotency-Key, then from the client ids alone): nothing is written.
"""

import datetime
import json
import random
import time
import uuid
from typing import Any

from bench.server import SERVER, serving
from tests import field_phone
from tests.field_phone import Phone
from tests.http_client import HttpClient, logged_in

RECORDS, PHOTOS = 100, 20
CHARS = "草场围栏水井牧道羊群牛马冬营地夏营地邻户边界补偿承包流转租赁转场道路修缮饮水轮换时间争执赔偿损失"


def _text(rng: random.Random, n: int = 40) -> str:
    return "".join(rng.choice(CHARS) for _ in range(n))


def _queue(place: field_phone.World, rng: random.Random) -> list[tuple[str, str, dict[str, Any], bytes | None]]:
    """(client id, kind, data, photo or None) × 100."""
    homes, at = place.homes, (datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=3)).isoformat()
    queue: list[tuple[str, str, dict[str, Any], bytes | None]] = []
    for i in range(40):
        data: dict[str, Any] = {"household": homes[i % len(homes)].code, "visited_at": at, "notes": _text(rng, 30)}
        queue.append((str(uuid.uuid4()), "visit", data, field_phone.photo(500 + i) if i < PHOTOS else None))
    for i in range(20):
        data = {
            "household": homes[i % len(homes)].code,
            "category": "grassland",
            "title": f"草场纠纷{i}",
            "description": _text(rng),
            "parties": [{"role": "applicant", "name": f"申请人{i}"}, {"role": "respondent", "name": f"对方{i}"}],
        }
        queue.append((str(uuid.uuid4()), "dispute", data, None))
    for i in range(20):
        data = {
            "household": homes[i % len(homes)].code,
            "reason": "newborn",
            "name": f"新生儿{i}",
            "relation": "child",
            "ethnicity": "蒙古族",
            "language": "mn",
            "id_number": field_phone.resident_id(place.grid.code[:6]),
        }
        queue.append((str(uuid.uuid4()), "resident", data, None))
    for i in range(10):
        queue.append((str(uuid.uuid4()), "claim", {"household": homes[20 + i].code, "seen_claimed_by": None}, None))
    for i in range(10):
        data = {
            "unit": place.unit.pk,
            "visited_on": datetime.date.today().isoformat(),
            "people_served": 5 + i,
            "services": [{"code": "mediation", "count": 1}, {"code": "legal_publicity", "count": 2}],
            "cases": [],
        }
        if i % 2 == 0:
            data["cases"] = [
                {
                    "household": homes[i % 3].code,  # one of the unit's households
                    "category": "grassland",
                    "title": f"乌日特纠纷{i}",
                    "description": _text(rng),
                    "parties": [{"role": "applicant", "name": f"牧民{i}"}],
                }
            ]
        queue.append((str(uuid.uuid4()), "mobile_stop", data, None))
    assert len(queue) == RECORDS and sum(p is not None for *_r, p in queue) == PHOTOS
    return queue


def _platform(phone: Phone, client_id: str, kind: str, data: dict[str, Any], photo: bytes | None) -> dict[str, Any]:
    """Send one record as the app does; the data as sent (with its photo's upload id)."""
    if photo is not None:
        data = {**data, "photos": [phone.upload(photo)]}
    answer = phone.send(client_id, kind, data)
    assert answer.status == 200, answer.text[:300]
    return data


def _bare(client: HttpClient, client_id: str, kind: str, data: dict[str, Any], photo: bytes | None) -> None:
    if photo is not None:
        upload_id = str(uuid.uuid4())
        body = json.dumps({"upload_id": upload_id, "size": len(photo)}).encode()
        assert (
            client.request("POST", "/bench/bare/field/uploads", body, {"Content-Type": "application/json"}).status
            == 200
        )
        for offset in range(0, len(photo), field_phone.CHUNK):
            headers = {"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}
            chunk = photo[offset : offset + field_phone.CHUNK]
            answer = client.request("POST", f"/bench/bare/field/uploads/{upload_id}/chunk", chunk, headers)
            assert answer.status == 200, answer.text[:300]
        data = {**data, "photos": [upload_id]}
    body = json.dumps({"client_id": client_id, "kind": kind, "data": data}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": f"{client_id}.0"}
    assert client.request("POST", "/bench/bare/field/sync", body, headers).status == 200


def measure() -> None:
    rng = random.Random(uuid.uuid4().int)  # texts unlike those of an earlier run on the same database
    place = field_phone.world(homes=30)
    queue = _queue(place, rng)
    floor_queue = [(str(uuid.uuid4()), kind, data, photo) for _c, kind, data, photo in queue]
    with serving() as url:
        phone = Phone(logged_in(url, "demo-gridworker"))
        bare = logged_in(url, "demo-gridworker")
        warm = field_phone.household(place.grid)
        at = datetime.datetime.now(datetime.UTC).isoformat()
        for _ in range(3):  # every worker's imports and caches
            _platform(
                phone, str(uuid.uuid4()), "visit", {"household": warm.code, "visited_at": at, "notes": "预热"}, None
            )
            _bare(bare, str(uuid.uuid4()), "visit", {"household": warm.code}, None)
        elapsed = {"bare": 0.0, "platform": 0.0}
        sent: list[tuple[str, str, dict[str, Any]]] = []
        # Interleaved record by record: a shared machine's drifting load falls on both alike.
        for (cid, kind, data, photo), floor in zip(queue, floor_queue, strict=True):
            started = time.perf_counter()
            _bare(bare, *floor)
            elapsed["bare"] += time.perf_counter() - started
            started = time.perf_counter()
            sent.append((cid, kind, _platform(phone, cid, kind, data, photo)))
            elapsed["platform"] += time.perf_counter() - started
        before = field_phone.dump()
        replays = {}
        for label, key in (("replay (Idempotency-Key)", ""), ("replay (client id only)", None)):
            started = time.perf_counter()
            for cid, kind, data in sent:
                answer = phone.send(cid, kind, data, key=key)
                replayed = answer.headers.get("idempotent-replayed") == "true" or answer.json()["replayed"]
                assert answer.status == 200 and replayed, answer.text[:300]
            replays[label] = time.perf_counter() - started
        assert field_phone.dump() == before
        # Reported before the server stops: on a busy machine its shutdown may outlast the wait for it.
        megabytes = sum(len(p) for *_r, p in queue if p is not None) / 1e6
        print(
            f"\nfield app sync through a real server, {SERVER}: {RECORDS} records, {PHOTOS} photos ({megabytes:.1f} MB)"
        )
        print(f"  {'run':<28} {'seconds':>8} {'records/s':>10} {'ratio':>6}")
        for label in ("bare", "platform"):
            ratio = elapsed["bare"] / elapsed[label]
            print(f"  {label:<28} {elapsed[label]:8.2f} {RECORDS / elapsed[label]:10.1f} {ratio:6.2f}")
        for label, seconds in replays.items():
            print(f"  {label:<28} {seconds:8.2f} {'':>10} {elapsed['bare'] / seconds:6.2f}")
        print(
            "  ratio = bare seconds ÷ run seconds (1 = as fast as the floor); replays wrote nothing (tables compared)"
        )
