"""The offline field app's sync against the live server through a real HTTP client: records arrive once
however often they are replayed, photos resume at their offsets (after a dropped connection too),
what changed on the server meanwhile comes back as a conflict saying what to do, and the phone gets
only what the masked pages show.

The demo grid worker works in their grid on households made here (committed: the server is another
process); a colleague of the same grid claims one meanwhile.
"""

import datetime
import hashlib
import json
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import field_phone
from tests.field_phone import Phone, World
from tests.http_client import HttpClient, logged_in
from tests.test_service_accounts import bearer, open_account
from zongzhi.cases.models import Case
from zongzhi.field.models import FieldItem, MobileVisit, PhotoUpload, SyncRecord, Visit
from zongzhi.grid import services as grid_services
from zongzhi.grid.models import GridWorker, Household, HouseholdMove, Resident
from zongzhi.identity import mask_resident_id


@pytest.fixture
def committed(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def place(committed: None) -> World:
    return field_phone.world()


@pytest.fixture
def phone(server: dict[str, str], place: World) -> Phone:
    return Phone(logged_in(server["url"], "demo-gridworker"))


def visit_data(home: Household, notes: str, photos: list[str]) -> dict:  # type: ignore[type-arg]
    at = (timezone.now() - datetime.timedelta(hours=2)).isoformat()
    return {"household": home.code, "visited_at": at, "notes": notes, "lat": 43.9, "lng": 116.1, "photos": photos}


def test_a_visit_with_photos_arrives_once_however_often_it_is_replayed(phone: Phone, place: World) -> None:
    pictures = [field_phone.photo(1), field_phone.photo(2)]
    assert all(len(p) > field_phone.CHUNK for p in pictures)  # each goes in more than one chunk
    uploads = [phone.upload(p) for p in pictures]
    client_id, notes = str(uuid.uuid4()), f"同步走访{uuid.uuid4().hex[:6]}"
    data = visit_data(place.homes[0], notes, uploads)
    first = phone.send(client_id, "visit", data)
    assert first.status == 200, first.text
    assert first.json()["status"] == "done" and "照片 2 张" in first.json()["message"]
    before = field_phone.dump()
    again = phone.send(client_id, "visit", data)
    assert again.headers.get("idempotent-replayed") == "true" and again.body == first.body
    # Past the Idempotency-Key (a replay days later, or without one): the client id answers.
    for _ in range(3):
        late = phone.send(client_id, "visit", data, key=None)
        assert late.status == 200 and late.json()["replayed"] is True
        assert late.json()["ref"] == first.json()["ref"]
    assert field_phone.dump() == before
    visit = Visit.objects.get(notes=notes)
    stored = sorted(p.sha256 for p in visit.photos.all())
    assert stored == sorted(hashlib.sha256(p).hexdigest() for p in pictures)
    assert set(PhotoUpload.objects.filter(upload_id__in=uploads).values_list("visit_id", flat=True)) == {visit.pk}
    # A photo taken by one visit is not taken again by another record.
    other = phone.send(str(uuid.uuid4()), "visit", visit_data(place.homes[0], notes + "又", uploads[:1]))
    assert other.status == 422 and "没有上传完" in other.json()["message"]


def test_an_upload_resumes_after_a_dropped_connection(phone: Phone, server: dict[str, str]) -> None:
    data = field_phone.photo(3)
    upload_id = str(uuid.uuid4())
    assert phone.announce(upload_id, data).json()["offset"] == 0
    # The connection drops halfway through a chunk: the server keeps what arrived, no more.
    url = urlsplit(server["url"])
    sent = 100_000
    head = (
        f"POST /api/v1/field/uploads/{upload_id}/chunk HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Cookie: sessionid={phone.client.cookies['sessionid']}; csrftoken={phone.client.cookies['csrftoken']}\r\n"
        f"X-CSRFToken: {phone.client.cookies['csrftoken']}\r\nReferer: {server['url']}/\r\n"
        f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
        f"Content-Length: {field_phone.CHUNK}\r\n\r\n"
    ).encode()
    with socket.create_connection((url.hostname, url.port or 80)) as raw:
        raw.sendall(head + data[:sent])
    status = phone.client.get(f"/api/v1/field/uploads/{upload_id}")
    for _ in range(50):  # the server notices the end of the stream a moment later
        status = phone.client.get(f"/api/v1/field/uploads/{upload_id}")
        if status.json()["offset"]:
            break
    offset = status.json()["offset"]
    assert 0 <= offset <= sent and status.json()["complete"] is False
    print(f"after the dropped connection the server had {offset} of {sent} bytes sent")
    # A chunk past what the server has is refused with where to resume.
    gap = phone.chunk(upload_id, offset + 1000, data[offset + 1000 : offset + 2000])
    assert gap.status == 409 and gap.json()["offset"] == offset and "续传" in gap.json()["detail"]
    # Bytes it has already are skipped: resending from 0 is harmless.
    resent = phone.chunk(upload_id, 0, data[: offset + 10])
    assert resent.status == 200 and resent.json()["offset"] == offset + 10
    assert phone.upload(data, upload_id) == upload_id  # announce again, then resume from the server's offset
    done = PhotoUpload.objects.get(upload_id=upload_id)
    assert done.received == len(data) and done.completed_at is not None


def test_a_photo_that_is_not_what_was_announced_starts_again(phone: Phone) -> None:
    data = field_phone.photo(4)
    upload_id = str(uuid.uuid4())
    phone.announce(upload_id, data)
    spoiled = bytes([data[0] ^ 1]) + data[1:]
    offset = 0
    while offset < len(spoiled):
        answer = phone.chunk(upload_id, offset, spoiled[offset : offset + field_phone.CHUNK])
        if answer.status != 200:
            break
        offset = answer.json()["offset"]
    assert answer.status == 422 and "校验不符" in answer.json()["detail"]
    assert phone.client.get(f"/api/v1/field/uploads/{upload_id}").json()["offset"] == 0


def test_a_claim_made_meanwhile_comes_back_as_a_conflict(phone: Phone, place: World) -> None:
    home = place.homes[1]
    grid_services.household_claim(actor=place.colleague, household=home)  # on the server, while the phone was out
    client_id = str(uuid.uuid4())
    answer = phone.send(client_id, "claim", {"household": home.code, "seen_claimed_by": None})
    assert answer.status == 409, answer.text
    body = answer.json()
    colleague = GridWorker.objects.get(user=place.colleague)
    assert body["status"] == "conflict" and f"由同网格的网格员 {colleague.name} 认领" in body["message"]
    assert "无需再认领" in body["todo"] and body["options"] == ["discard"]
    assert phone.send(client_id, "claim", {"household": home.code, "seen_claimed_by": None}, key=None).body == (
        answer.body.replace(b'"replayed": false', b'"replayed": true')
    )
    assert Household.objects.get(pk=home.pk).claimed_by == colleague
    # An unclaimed one is claimed, once.
    free = place.homes[2]
    client_id = str(uuid.uuid4())
    for _ in range(3):
        done = phone.send(client_id, "claim", {"household": free.code, "seen_claimed_by": None}, key=None)
        assert done.status == 200 and done.json()["status"] == "done"
    assert Household.objects.get(pk=free.pk).claimed_by == GridWorker.objects.get(user=place.worker)


def test_a_household_that_moved_away_is_a_conflict_saying_where(phone: Phone, place: World) -> None:
    home = place.homes[3]
    other = GridWorker.objects.filter(grid__code__startswith=place.grid.code[:12]).exclude(grid=place.grid).first()
    target = other.grid if other is not None else place.grid.parent
    assert target is not None
    # The seasonal switch moved it meanwhile (its history row, as seasons.py writes it).
    Household.objects.filter(pk=home.pk).update(grid=target, region_code=target.code)
    Resident.objects.filter(household=home).update(region_code=target.code)
    HouseholdMove.objects.create(
        household=home,
        season=HouseholdMove.Season.SUMMER,
        from_grid=place.grid,
        to_grid=target,
        day=timezone.localdate(),
        at=timezone.now(),
    )
    answer = phone.send(str(uuid.uuid4()), "visit", visit_data(home, "转场后的走访", []))
    assert answer.status == 409
    assert f"转场到网格“{target.name}”，不再由您负责" in answer.json()["message"]
    assert "转交情况" in answer.json()["todo"]
    assert not Visit.objects.filter(notes="转场后的走访").exists()
    # Nothing kept: once it is back, the same record goes through.


def test_a_dispute_already_reported_asks_what_to_do(phone: Phone, place: World) -> None:
    home = place.homes[0]
    applicant = home.residents.order_by("id").first()
    assert applicant is not None
    data = {
        "household": home.code,
        "category": "grassland",
        "title": "草场围栏纠纷",
        "description": f"邻户挪动围栏占用草场{uuid.uuid4().hex[:6]}。",
        "parties": [{"resident": applicant.pk, "role": "applicant"}, {"role": "respondent", "name": "邻户"}],
        "location": "夏营地",
    }
    first = phone.send(str(uuid.uuid4()), "dispute", data)
    assert first.status == 200, first.text
    number = first.json()["ref"]["case"]
    case = Case.objects.get(number=number)
    assert case.channel == Case.Channel.GRID and case.parties.get(role="applicant").name == applicant.name
    second_id = str(uuid.uuid4())
    again = phone.send(second_id, "dispute", data)
    assert again.status == 409 and number in again.json()["message"]
    assert again.json()["options"] == ["confirm", "discard"] and "仍然上报" in again.json()["todo"]
    confirmed = phone.send(second_id, "dispute", {**data, "confirm_repeat": True}, key=f"{second_id}.1")
    assert confirmed.status == 200 and confirmed.json()["ref"]["case"] != number
    assert Case.objects.filter(title="草场围栏纠纷", parties__name=applicant.name).count() == 2


def test_a_newcomer_registered_in_another_household_is_a_conflict(phone: Phone, place: World) -> None:
    elsewhere = place.homes[1].residents.order_by("id").first()
    assert elsewhere is not None
    data = {
        "household": place.homes[0].code,
        "reason": "newcomer",
        "name": "新来的",
        "relation": "other",
        "ethnicity": "汉族",
        "language": "zh",
        "id_number": elsewhere.id_number,
    }
    answer = phone.send(str(uuid.uuid4()), "resident", data)
    assert answer.status == 409 and f"已登记在户 {place.homes[1].code}" in answer.json()["message"]
    assert "办理迁出" in answer.json()["todo"]
    newborn = {**data, "reason": "newborn", "name": "小巴特尔", "relation": "child"}
    newborn["id_number"] = field_phone.resident_id(place.grid.code[:6])
    client_id = str(uuid.uuid4())
    for _ in range(3):
        done = phone.send(client_id, "resident", newborn, key=None)
        assert done.status == 200 and "新生儿 小巴特尔" in done.json()["message"]
    assert Resident.objects.filter(household=place.homes[0], name="小巴特尔").count() == 1


def test_a_mobile_stop_raises_a_case_and_an_item_once(phone: Phone, place: World) -> None:
    data = {
        "unit": place.unit.pk,
        "visited_on": timezone.localdate().isoformat(),
        "people_served": 12,
        "notes": "夏营地巡回",
        "services": [{"code": "mediation", "count": 2}, {"code": "legal_publicity", "count": 1}],
        "cases": [
            {
                "household": place.homes[0].code,
                "category": "grassland",
                "title": "乌日特现场纠纷",
                "description": f"两户饮水井使用纠纷{uuid.uuid4().hex[:6]}。",
                "parties": [{"role": "applicant", "name": "图雅"}],
            }
        ],
        "items": [{"kind": "safety", "title": "牧道塌方", "household": place.homes[1].code}],
    }
    client_id = str(uuid.uuid4())
    first = phone.send(client_id, "mobile_stop", data)
    assert first.status == 200, first.text
    for _ in range(3):
        assert phone.send(client_id, "mobile_stop", data, key=None).json()["ref"] == first.json()["ref"]
    visit = MobileVisit.objects.get(pk=first.json()["ref"]["mobile_visit"])
    assert visit.unit == place.unit and visit.services.count() == 2
    assert [c.number for c in visit.cases.all()] == first.json()["ref"]["cases"]
    assert FieldItem.objects.filter(mobile_visit=visit).count() == 1
    assert SyncRecord.objects.filter(client_id=client_id).count() == 1


def test_bad_input_is_refused_naming_the_field_and_nothing_is_kept(phone: Phone, place: World) -> None:
    client_id = str(uuid.uuid4())
    answer = phone.send(client_id, "visit", visit_data(place.homes[0], "", []))
    assert answer.status == 422 and answer.json()["errors"]["notes"] == ["请填写走访情况。"]
    assert not SyncRecord.objects.filter(client_id=client_id).exists()
    fixed = phone.send(client_id, "visit", visit_data(place.homes[0], "补写的走访情况", []), key=f"{client_id}.1")
    assert fixed.status == 200
    assert phone.send("x", "visit", {}).json()["errors"] == {"client_id": ["记录编号无效。"]}
    assert phone.send(str(uuid.uuid4()), "weather", {}).status == 422


def test_the_phone_gets_only_my_households_masked(phone: Phone, place: World) -> None:
    answer = phone.client.get("/api/v1/field/offline")
    assert answer.status == 200 and answer.headers["cache-control"] == "no-store"
    data = answer.json()
    codes = {h["code"] for h in data["households"]}
    assert {h.code for h in place.homes} <= codes
    assert all(h["mine"] for h in data["households"])
    mine = Household.objects.filter(region_code=place.grid.code).values_list("code", flat=True)
    assert codes == set(mine)
    for resident in Resident.objects.filter(household__in=place.homes):
        assert resident.id_number not in answer.text and resident.phone not in answer.text
        assert mask_resident_id(resident.id_number) in answer.text
    unit = next(u for u in data["units"] if u["id"] == place.unit.pk)
    assert unit["households"] == sorted(h.code for h in place.homes[:3])
    assert {"mediation", "legal_publicity"} <= {s["code"] for s in data["services"]}


def test_the_sync_is_for_people_in_their_jurisdiction(server: dict[str, str], place: World) -> None:
    auditor = logged_in(server["url"], "demo-auditor")
    assert auditor.get("/api/v1/field/offline").status == 403
    _account, token = open_account("visits:read,visits:write")
    system = bearer(server, token)
    refused = system.post_json("/api/v1/field/sync", {"client_id": str(uuid.uuid4()), "kind": "visit", "data": {}})
    assert refused.status == 403 and "只供登录的工作人员" in refused.json()["detail"]
    assert HttpClient(server["url"]).get("/api/v1/field/offline").status == 401
    # Another grid's worker sends a visit to my household: the same answer as for one that does not exist.
    neighbour = (
        GridWorker.objects.filter(region_code__startswith=place.grid.code[:6], user__isnull=False)
        .exclude(grid=place.grid)
        .exclude(user__username__startswith="colleague-")
        .order_by("code")
        .first()
    )
    assert neighbour is not None and neighbour.user is not None
    TOTPDevice.objects.get_or_create(user=neighbour.user, confirmed=True, defaults={"name": "测试"})
    theirs = Phone(logged_in(server["url"], neighbour.user.username))
    answer = theirs.send(str(uuid.uuid4()), "visit", visit_data(place.homes[0], "越界走访", []))
    missing = theirs.send(str(uuid.uuid4()), "visit", {**visit_data(place.homes[0], "越界走访", []), "household": "H0"})
    assert answer.status == missing.status == 409
    assert answer.json()["message"].replace(place.homes[0].code, "H0") == missing.json()["message"]


def test_logging_out_tells_the_browser_to_clear_what_it_keeps(server: dict[str, str], committed: None) -> None:
    client = logged_in(server["url"], "demo-gridworker")
    answer = client.post_form("/staff/logout/", {})
    assert answer.status == 302 and answer.headers["clear-site-data"] == '"cache", "storage"'


def test_the_app_shell_service_worker_and_manifest(server: dict[str, str], committed: None) -> None:
    client = logged_in(server["url"], "demo-gridworker")
    shell = client.get("/staff/field/app/")
    assert shell.status == 200 and 'rel="manifest"' in shell.text and "fieldapp-strings" in shell.text
    assert "<script>" not in shell.text and "onclick" not in shell.text  # the CSP: no inline script
    worker = HttpClient(server["url"]).get("/staff/field/app/sw.js")
    assert worker.status == 200 and worker.headers["content-type"].startswith("text/javascript")
    assert "/staff/field/app/" in worker.text and "/api/" in worker.text
    manifest = json.loads(HttpClient(server["url"]).get("/staff/field/app/manifest.webmanifest").text)
    assert manifest["start_url"] == "/staff/field/app/" and manifest["display"] == "standalone"
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert HttpClient(server["url"]).get(icon["src"]).status == 200
