"""No resident ID or phone that was typed in appears in plaintext anywhere it could be read later.

A working day through real HTTP clients against the live server: intake of cases with the parties'
IDs and phones, unmasking on the case page and on the household page, a search by full ID, the
list exports, the intake PDF, the meeting pack, an import with rejected rows, a portal application
with its SMS code. Then every place is searched for every number typed in: the database (SQLite:
the file and its WAL, raw bytes; PostgreSQL: every table read as text), the session rows decoded,
every cookie decoded, the live server's log (request lines with their URLs, warnings, errors),
every file under var/ (archives opened, PDFs' text extracted), every downloaded file and every
answer — except the two unmask answers, which the permitted user asked for.
"""

import base64
import binascii
import contextlib
import io
import json
import re
import shutil
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests import persona_day
from tests.http_client import HttpClient, Response
from tests.portal_steps import APPLICATION
from zongzhi.portal.sms import outbox_path


def readable(content: bytes) -> list[bytes]:
    """The bytes and what a reader gets out of them: an archive's members, a PDF's text and streams."""
    out = [content]
    if content.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            out += [archive.read(name) for name in archive.namelist()]
    if content.startswith(b"%PDF-"):
        for stream in re.findall(rb"stream\r?\n(.*?)endstream", content, re.DOTALL):
            try:
                out.append(zlib.decompress(stream))
            except zlib.error:
                continue
        if shutil.which("pdftotext"):
            # A damaged PDF (tests upload some) gives no text, which is fine: its bytes were searched.
            text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=False).stdout
            out.append(text)
        else:
            print("pdftotext is not installed: PDFs are searched in their raw and inflated streams only")
    return out


def decoded_cookie(value: str) -> list[bytes]:
    """A cookie value and every base64 (Django's signed, maybe compressed, payloads) part of it, decoded."""
    out = [value.encode()]
    for part in re.split(r"[:.]", value.strip('"')):
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            continue
        out.append(raw)
        with contextlib.suppress(zlib.error):
            out.append(zlib.decompress(raw))
    return out


def set_cookies(answer: Response) -> list[bytes]:
    return [b for k, v in answer.headers.items() if k == "set-cookie" for b in decoded_cookie(v)]


def needles(values: list[str]) -> list[bytes]:
    out = []
    for value in values:
        out += [value.encode(), value.lower().encode(), value.encode("utf-16-le")]
    return list(dict.fromkeys(out))


class Scan:
    def __init__(self, values: list[str]) -> None:
        self.needles = needles(values)
        self.found: list[str] = []
        self.places = 0

    def look(self, where: str, contents: list[bytes]) -> None:
        self.places += 1
        for content in contents:
            for needle in self.needles:
                if needle in content:
                    self.found.append(f"{where}: {needle!r}")


def _sqlite_files() -> set[Path]:
    """The SQLite test database's files (the database, its WAL, its shared-memory index, a journal)."""
    if connection.vendor != "sqlite":
        return set()
    name = Path(connection.settings_dict["NAME"]).resolve()
    return {name.with_name(name.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")}


def read_from_elsewhere(path: Path) -> bytes:
    """A file's bytes, read by another process when it is one of SQLite's files.

    SQLite's locks are POSIX advisory locks, which belong to the process: closing *any* descriptor
    of the file in this process drops every lock this process's connections hold on it. Reading
    the database, its WAL or its -shm here with `open()`/`close()` would silently release them; a
    server process then takes itself for the last connection, checkpoints and removes the WAL, and
    this process goes on reading through a stale shared-memory index (rows committed later missing,
    then "disk I/O error"). `cat` opens and closes them in its own process, which holds no lock.
    """
    if path.resolve() in _sqlite_files():
        return subprocess.run(["cat", str(path)], capture_output=True, check=True).stdout
    return path.read_bytes()


def database_contents() -> list[tuple[str, list[bytes]]]:
    """The database as stored: SQLite's file and WAL as raw bytes; on PostgreSQL every row as text."""
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        files = [name, name.with_name(name.name + "-wal"), name.with_name(name.name + "-journal")]
        assert name.is_file()
        return [(str(f), [read_from_elsewhere(f)]) for f in files if f.is_file()]
    out = []
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            cursor.execute(f'SELECT CAST(t AS text) FROM "{table}" t')
            out.append((f"table {table}", ["\n".join(row[0] for row in cursor.fetchall()).encode()]))
    return out


def session_rows() -> list[bytes]:
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    store = SessionStore()
    rows = []
    for session in Session.objects.all():
        rows.append(session.session_data.encode())
        rows.append(json.dumps(store.decode(session.session_data), ensure_ascii=False, default=str).encode())
    return rows


def portal_application(day: persona_day.Day, base: str) -> HttpClient:
    visitor = HttpClient(base)
    phone = persona_day.fresh_phone()
    day.phones.append(phone)
    day.keep("portal", visitor.get("/verify/"))
    sent = visitor.post_form("/verify/", {"phone": phone, "step": "send"})
    assert sent.status == 200 and 'name="code"' in sent.text, sent.text[:500]
    # The code form gives the visitor back the phone they just typed, in its field and nowhere else.
    assert sent.text.count(phone) == 1 and f'value="{phone}"' in sent.text
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", outbox_path(phone).read_text(encoding="utf-8").split("\n", 1)[1])
    assert code
    checked = visitor.post_form("/verify/", {"phone": phone, "step": "check", "code": code.group(1), "next": "/apply/"})
    assert day.keep("portal", checked).status == 302, checked.text[:500]
    applied = day.keep("portal", visitor.post_form("/apply/", APPLICATION))
    assert applied.status == 302 and applied.headers["location"] == "/receipt/", applied.text[:500]
    receipt = day.keep("portal", visitor.get("/receipt/"))
    found = re.search(r'id="receipt-code"[^>]*>([^<]+)<', receipt.text)
    assert found
    progress = day.keep("portal", visitor.post_form("/track/", {"receipt": found.group(1)}))
    assert progress.status == 200 and progress.headers["cache-control"] == "no-store", progress.text[:500]
    return visitor


@pytest.fixture(scope="module")
def people(server: dict[str, str], django_db_blocker) -> dict[str, HttpClient]:  # type: ignore[no-untyped-def]
    return {p: persona_day.staff(server, f"demo-{p}") for p in ("intake", "director", "gridworker")}


def test_a_day_leaves_no_number_in_plaintext(  # type: ignore[no-untyped-def]
    server: dict[str, str], people: dict[str, HttpClient], django_db_blocker
) -> None:
    from zongzhi.cases.models import Party
    from zongzhi.grid.models import GridWorker, Resident

    day = persona_day.Day()
    clerk, director, worker = people["intake"], people["director"], people["gridworker"]

    # Intake, then the clerk unmasks the applicant: the numbers are in that answer and nowhere else.
    number = persona_day.intake(day, clerk, title="草场承包费纠纷", party="乌力吉")
    persona_day.intake(day, clerk, title="牧工工资纠纷", party="其其格")
    with django_db_blocker.unblock():
        party = Party.objects.get(case__number=number, role="applicant")
    unmask = clerk.post_form(f"/staff/cases/{number}/do/unmask/", {"party": party.pk, "reason": "电话通知当事人"})
    assert unmask.status == 200 and day.ids[0] in unmask.text and day.phones[0] in unmask.text
    assert "messages" not in unmask.headers.get("set-cookie", "")  # no messages cookie
    day.unmasked.append(unmask)
    day.keep("case page", clerk.get(f"/staff/cases/{number}/"))
    day.download(clerk, "intake.pdf", f"/staff/cases/{number}/print/intake/?format=pdf")

    # The grid worker registers a resident, unmasks them, and finds them by full ID (a POST).
    with django_db_blocker.unblock():
        grid = GridWorker.objects.get(user__username="demo-gridworker").grid.code
    code = persona_day.household(day, worker, grid, "白音锡勒嘎查 3 号")
    persona_day.resident(day, worker, code, "巴雅尔")
    with django_db_blocker.unblock():
        person = Resident.objects.get(household__code=code, name="巴雅尔")
    shown = worker.post_form(f"/staff/grid/residents/{person.pk}/unmask/", {"reason": "办理低保"})
    assert shown.status == 200 and day.ids[-1] in shown.text and "messages" not in shown.headers.get("set-cookie", "")
    day.unmasked.append(shown)
    found = day.keep("grid search", worker.post_form("/staff/grid/", {"q": day.ids[-1]}))
    assert found.status == 200 and "巴雅尔" in found.text
    day.keep("household page", worker.get(f"/staff/grid/households/{code}/"))

    # The director exports, convenes the monthly meeting, imports residents with rejected rows.
    village = persona_day.VILLAGE
    for fmt in ("xlsx", "csv"):
        day.download(director, f"cases.{fmt}", f"/staff/transfer/export/cases.{fmt}?region={village}")
        day.download(director, f"residents.{fmt}", f"/staff/transfer/export/residents.{fmt}?region={grid}")
    persona_day.meeting_pack(day, director)
    persona_day.import_with_rejects(day, director, grid, ["那仁", "琪琪格", "苏和", "敖登"], server)

    # A citizen applies on the portal with a phone confirmed by SMS.
    visitor = portal_application(day, server["url"])

    scan = Scan(day.ids + day.phones)
    with django_db_blocker.unblock():
        for where, contents in database_contents():
            scan.look(where, contents)
        scan.look("session rows", session_rows())
    for who, client in {**people, "portal visitor": visitor}.items():
        scan.look(f"cookies of {who}", [b for v in client.cookies.values() for b in decoded_cookie(v)])
    for step, answer in day.answers:
        scan.look(f"answer to {step}", [answer.body, *set_cookies(answer)])
    for answer in day.unmasked:  # its page shows the numbers; its cookies and address may not
        scan.look("unmask answer's cookies and headers", [*set_cookies(answer), json.dumps(answer.headers).encode()])
    for name, content in day.downloads.items():
        scan.look(f"download {name}", readable(content))
    log = Path(server["log"])
    assert b"/staff/grid/" in log.read_bytes()  # the log holds the day's request lines
    scan.look("server log", [log.read_bytes()])
    var = Path(settings.VAR_DIR)
    for path in sorted(p for p in var.rglob("*") if p.is_file()):
        scan.look(f"var/{path.relative_to(var)}", readable(read_from_elsewhere(path)))
    imports = var / "imports"
    assert imports.stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in imports.iterdir())

    # The scan sees what it looks for: the unmask answers hold the numbers, and it finds them.
    control = Scan(day.ids[:1])
    control.look("unmask answer", [unmask.body])
    assert control.found, "the scan could not find a number where it is"
    assert len(day.ids) >= 9 and len(day.phones) >= 10 and scan.places > 30
    assert scan.found == [], "\n".join(scan.found)
