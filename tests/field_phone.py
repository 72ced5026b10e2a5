"""What the offline field app does over HTTP, for the sync tests and the benchmark: households of the
demo grid worker's grid (committed, with codes and IDs of their own), a 乌日特 unit the worker rides
with, a colleague in the same grid, photos sent in chunks, records sent with their client ids, and a
dump of the tables a sync writes to compare databases."""

import datetime
import hashlib
import io
import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection
from PIL import Image

from tests.http_client import HttpClient, Response
from zongzhi.accounts.models import User
from zongzhi.crypto import blind_index
from zongzhi.field import services as field_services
from zongzhi.field.models import MobileUnit
from zongzhi.grid.models import GridWorker, Household, Resident
from zongzhi.identity import make_resident_id
from zongzhi.regions.models import Region

CHUNK = 256 * 1024
SYNC_TABLES = (
    "field_visit",
    "field_visitphoto",
    "field_fielditem",
    "field_mobilevisit",
    "field_mobilevisitservice",
    "field_mobilevisit_cases",
    "field_syncrecord",
    "field_photoupload",
    "cases_case",
    "cases_party",
    "cases_caseevent",
    "grid_household",
    "grid_resident",
    "grid_claimconflict",
)


def resident_id(region6: str) -> str:
    """A valid resident ID nobody holds yet (a random birth day and sequence)."""
    while True:
        born = datetime.date(1950, 1, 1) + datetime.timedelta(days=random.randrange(20000))
        number = make_resident_id(region6, born, random.randrange(1, 999))
        if not Resident.objects.filter(id_index=blind_index(number)).exists():
            return number


def household(grid: Region, *, people: int = 2) -> Household:
    """A herder household of `grid` with its residents (committed by the caller's context)."""
    village = grid.parent
    assert village is not None
    code = f"P{grid.code}{uuid.uuid4().hex[:6]}"
    found = Household.objects.create(
        code=code, village=village, grid=grid, region_code=grid.code, address=f"测试牧点{code[-4:]}", herder=True
    )
    for n in range(people):
        number = resident_id(grid.code[:6])
        Resident.objects.create(
            household=found,
            region_code=grid.code,
            name=["巴特尔", "其其格", "乌云"][n % 3] + code[-3:],
            relation=Resident.Relation.HEAD if n == 0 else Resident.Relation.SPOUSE,
            ethnicity="蒙古族",
            language=Resident.Language.MONGOLIAN,
            id_number=number,
            id_index=blind_index(number),
            phone=f"139{random.randrange(10**8):08d}",
        )
    return found


@dataclass
class World:
    worker: User
    grid: Region
    homes: list[Household]
    unit: MobileUnit
    colleague: User


def world(homes: int = 4) -> World:
    """The demo grid worker's grid with fresh households, a unit they ride with, and a colleague in the grid."""
    worker = User.objects.get(username="demo-gridworker")
    grid = GridWorker.objects.get(user=worker).grid
    made = [household(grid) for _ in range(homes)]
    director = User.objects.get(username="demo-director")
    county = Region.objects.get(code=grid.code[:6] + "000000")
    unit = field_services.mobile_unit_create(
        actor=director, name=f"测试乌日特{uuid.uuid4().hex[:6]}", county=county, households=made[:3], members=[worker]
    )
    tag = uuid.uuid4().hex[:6]
    colleague = User.objects.create(username=f"colleague-{tag}", full_name=f"同事{tag}")
    GridWorker.objects.create(
        code=f"GWC-{tag}", user=colleague, grid=grid, region_code=grid.code, name=f"同事{tag}", duties=["grid"]
    )
    return World(worker, grid, made, unit, colleague)


def photo(seed: int, size: tuple[int, int] = (400, 300)) -> bytes:
    """A real PNG of noise (so it does not compress to nothing): a few hundred KB, more than one chunk."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class Phone:
    """The app's requests: announce a photo, its chunks at offsets, each record with its client id."""

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    def announce(self, upload_id: str, data: bytes, name: str = "photo.png") -> Response:
        body = {
            "upload_id": upload_id,
            "name": name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "content_type": "image/png",
        }
        return self.client.post_json("/api/v1/field/uploads", body)

    def chunk(self, upload_id: str, offset: int, data: bytes) -> Response:
        return self.client.request(
            "POST",
            f"/api/v1/field/uploads/{upload_id}/chunk",
            data,
            {"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)},
        )

    def upload(self, data: bytes, upload_id: str = "") -> str:
        upload_id = upload_id or str(uuid.uuid4())
        answer = self.announce(upload_id, data)
        assert answer.status == 200, answer.text
        offset = answer.json()["offset"]
        while offset < len(data):
            answer = self.chunk(upload_id, offset, data[offset : offset + CHUNK])
            assert answer.status == 200, answer.text
            offset = answer.json()["offset"]
        assert answer.json()["complete"] is True
        return upload_id

    def send(self, client_id: str, kind: str, data: dict[str, Any], key: str | None = "") -> Response:
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key or f"{client_id}.0"
        body = json.dumps({"client_id": client_id, "kind": kind, "data": data}, ensure_ascii=False).encode()
        return self.client.request("POST", "/api/v1/field/sync", body, headers)


def dump() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a sync writes, in id order: two equal dumps are the same database there."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with connection.cursor() as cursor:
        for table in SYNC_TABLES:
            cursor.execute(f"SELECT * FROM {table} ORDER BY 1")
            tables[table] = [tuple(row) for row in cursor.fetchall()]
    return tables
