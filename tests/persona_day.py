"""Steps of a working day driven through real HTTP clients against the live server, shared by the
plaintext scan and the formula-injection test: intake, resident registration, unmasking, exports,
a meeting pack, an import with rejects, the dashboard report, a portal application.

Every step returns what it downloaded, so the tests can look inside each file."""

import datetime
import io
import itertools
import os
import random
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook

from tests.browsing import ROOT
from tests.http_client import HttpClient, Response
from zongzhi import sheets
from zongzhi.identity import make_resident_id

VILLAGE = "152502001001"  # in Xilinhot, where demo-intake and demo-director work
XILINHOT = "152502000000"
_serial = itertools.count(random.SystemRandom().randrange(100, 900))


def fresh_id() -> str:
    """A valid resident ID no other test enters (a random birth day and sequence)."""
    chooser = random.SystemRandom()
    birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=chooser.randrange(20000))
    return make_resident_id("152502", birth, next(_serial) % 1000)


def fresh_phone() -> str:
    return "139" + "".join(random.SystemRandom().choice("0123456789") for _ in range(8))


@dataclass
class Day:
    """What was typed in (to be found nowhere in plaintext) and what came back."""

    ids: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    downloads: dict[str, bytes] = field(default_factory=dict)
    answers: list[tuple[str, Response]] = field(default_factory=list)  # every answer, by step
    unmasked: list[Response] = field(default_factory=list)  # the answers that may show the numbers

    def keep(self, step: str, answer: Response) -> Response:
        self.answers.append((step, answer))
        return answer

    def download(self, client: HttpClient, name: str, path: str) -> bytes:
        answer = self.keep(name, client.get(path))
        assert answer.status == 200, (name, path, answer.status, answer.text[:300])
        self.downloads[name] = answer.body
        return answer.body


def intake(day: Day, clerk: HttpClient, title: str, party: str, **extra: Any) -> str:
    """Register a case with a person party (ID and phone) and another; returns its number."""
    ids, phones = [fresh_id(), fresh_id()], [fresh_phone(), fresh_phone()]
    day.ids += ids
    day.phones += phones
    body = {
        "category": "labour",
        "title": title,
        "description": "合作社拖欠牧工工资，双方对金额有争议。",
        "region": VILLAGE,
        "parties": [
            {"kind": "person", "role": "applicant", "name": party, "id_number": ids[0], "phone": phones[0]},
            {"kind": "person", "role": "respondent", "name": "巴图", "id_number": ids[1], "phone": phones[1]},
        ],
        "amount": "12000",
        "people_involved": 2,
        **extra,
    }
    created = day.keep("intake", clerk.post_json("/api/v1/cases", body))
    assert created.status == 201, created.text
    return str(created.json()["number"])


def household(day: Day, worker: HttpClient, grid: str, address: str) -> str:
    """Register a household in the grid worker's grid through the page; returns its code."""
    made = day.keep("household", worker.post_form("/staff/grid/households/new/", {"grid": grid, "address": address}))
    assert made.status == 302, made.text[:500]
    return made.headers["location"].rstrip("/").rsplit("/", 1)[-1]


def resident(day: Day, worker: HttpClient, code: str, name: str) -> None:
    number, phone = fresh_id(), fresh_phone()
    day.ids.append(number)
    day.phones.append(phone)
    fields = {
        "name": name,
        "relation": "head",
        "ethnicity": "蒙古族",
        "language": "mn",
        "id_number": number,
        "phone": phone,
        "registered": "on",
        "living": "on",
    }
    added = day.keep("resident", worker.post_form(f"/staff/grid/households/{code}/residents/", fields))
    assert added.status == 302, added.text[:500]


def meeting_pack(day: Day, director: HttpClient) -> bytes:
    """Convene a Xilinhot meeting (its agenda: the major open cases now) and get its pack.

    One meeting a month: the first month, from next month back, that has none yet in this run."""
    today = datetime.date.today()
    for months_back in range(-1, 24):
        held_on = (today.replace(day=1) - datetime.timedelta(days=28 * months_back)).replace(day=1)
        opened = day.keep(
            "meeting", director.post_form("/staff/meetings/", {"region": XILINHOT, "held_on": held_on.isoformat()})
        )
        if opened.status == 302:
            pk = opened.headers["location"].rstrip("/").rsplit("/", 1)[-1]
            return day.download(director, "meeting-pack.xlsx", f"/staff/meetings/{pk}/pack.xlsx")
        assert "联席调度会议已经建立" in opened.text, opened.text[:500]
    raise AssertionError("no month left for a meeting")


def import_with_rejects(day: Day, director: HttpClient, grid: str, names: list[str], server: dict[str, str]) -> bytes:
    """Upload a residents file whose every other row is rejected, let the task worker run it (a real
    `manage.py db_worker` on the server's database), and download the rejects file."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号", "联系电话", "住址"])
    for n, name in enumerate(names):
        number, phone = fresh_id(), fresh_phone()
        day.ids.append(number)
        day.phones.append(phone)
        # Odd rows are refused: an unknown relation; the row keeps a valid ID and phone.
        relation = "户主" if n % 2 == 0 else "远房亲戚"
        # Typed as text (as a clerk's spreadsheet holds it), not as a formula of the test's own making.
        sheets.append(sheet, [f"IMP-{number[-6:]}", grid, name, relation, "蒙古族", number, phone, f"{name}的住址"])
    out = io.BytesIO()
    book.save(out)
    upload = day.keep(
        "import",
        director.post_form(
            "/staff/transfer/import/",
            {"kind": "residents", "accept_valid": "on"},
            {"file": ("居民.xlsx", out.getvalue())},
        ),
    )
    assert upload.status == 302, upload.text[:500]
    job = int(upload.headers["location"].rstrip("/").rsplit("/", 1)[-1])
    subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": server["database_url"]},
        capture_output=True,
        check=True,
        timeout=300,
    )
    report = day.keep("import-report", director.get(f"/staff/transfer/import/jobs/{job}/progress/")).text
    rejected, inserted = len(names) // 2, len(names) - len(names) // 2
    assert f'id="rejected">{rejected}<' in report and f'id="inserted">{inserted}<' in report, report[:2000]
    return day.download(director, "rejects.xlsx", f"/staff/transfer/import/jobs/{job}/rejects.xlsx")


def staff(server: dict[str, str], username: str) -> HttpClient:
    """A staff session logged in through the two real login forms (password, then TOTP), shared with
    the browser tests' sessions; nothing is written from this process's own database connection."""
    from tests.browsing import Http

    return HttpClient(server["url"], cookies=dict(Http(server, username).cookies))


def service_token(server: dict[str, str], name: str, org: str = "152502-D05", region: str = "152502000000") -> str:
    """A new service account's first bearer token (a department system, its org's liaison over the
    region, reading and writing cases), made by the operator's command against the server's database."""
    out = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "service_account",
            f"{name}-{uuid.uuid4().hex[:6]}",
            "--org",
            org,
            "--region",
            region,
            "--allow",
            "cases:read,cases:write",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": server["database_url"]},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()
