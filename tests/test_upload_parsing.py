"""Uploads are typed by parsing them, with real crafted files over real HTTP: a PNG/PDF polyglot, a
PDF with /JavaScript (plain, #-escaped, inside a compressed object stream), a PDF with a launch
action or an embedded file, a truncated image. Case attachments through the API (bearer token and
session + CSRF) and the case page; field photos through the visit form; portal materials and
import files through their services."""

import datetime
import io
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from tests import persona_day, real_files
from tests.http_client import HttpClient
from zongzhi import uploads
from zongzhi.accounts.models import User
from zongzhi.identity import make_resident_id
from zongzhi.portal.services import check_files

BAD = {
    "polyglot.png": (real_files.POLYGLOT, "在图片之外还夹带了其他内容"),
    "截断.png": (real_files.TRUNCATED_PNG, "无法作为图片打开"),
    "截断.jpg": (real_files.JPEG[: len(real_files.JPEG) // 2], "无法作为图片打开"),
    "脚本.pdf": (real_files.JAVASCRIPT_PDF, "/JS、/JavaScript"),
    "转义.pdf": (real_files.pdf_with(b"/OpenAction << /S /J#61vaScript /J#53 (x) >>"), "/JS、/JavaScript"),
    "压缩.pdf": (real_files.pdf_with(b"/AA << /O << /S /JavaScript /JS (x) >> >>", compressed=True), "/JavaScript"),
    "启动.pdf": (real_files.pdf_with(b"/OpenAction << /S /Launch /F (cmd.exe) >>"), "/Launch"),
    "附带.pdf": (real_files.pdf_with(b"/Names << /EmbeddedFiles << /Names [] >> >>"), "/EmbeddedFiles"),
    "半截.pdf": (real_files.PDF[:40], "不是完整的 PDF"),
}


def case_body() -> dict[str, Any]:
    return {
        "category": "labour",
        "title": "工资纠纷（上传检查）",
        "description": "合作社拖欠牧工工资，当事人提交材料。",
        "region": "152502001001",
        "parties": [
            {
                "kind": "person",
                "role": "applicant",
                "name": "乌力吉",
                "id_number": make_resident_id("152502", datetime.date(1971, 5, 2), 31),
                "phone": "13947900031",
            }
        ],
        "amount": "1000",
        "people_involved": 1,
    }


@pytest.fixture(scope="module")
def clients(server: dict[str, str], django_db_blocker) -> dict[str, HttpClient]:  # type: ignore[no-untyped-def]
    session = persona_day.staff(server, "demo-intake")
    token = persona_day.service_token(server, "upload-test")
    bearer = HttpClient(server["url"])
    bearer_headers = {"Authorization": f"Bearer {token}"}
    original = bearer.request

    def with_token(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
        return original(method, path, body, {**bearer_headers, **(headers or {})})

    bearer.request = with_token  # type: ignore[method-assign]
    return {"session": session, "bearer": bearer, "director": persona_day.staff(server, "demo-director")}


def _version(client: HttpClient, number: str) -> int:
    return int(client.get(f"/api/v1/cases/{number}").json()["version"])


def handled_by_the_department(clients: dict[str, HttpClient]) -> str:
    """A case the clerk registers and accepts and the director assigns to the 司法局, whose system (the
    service account, its liaison) signs for it: then it may add attachments like any handler."""
    session, director, system = clients["session"], clients["director"], clients["bearer"]
    created = session.post_json("/api/v1/cases", {**case_body(), "region": "152502000000"})
    assert created.status == 201, created.text
    number = created.json()["number"]
    for client, action, extra in (
        (session, "accept", {}),
        (director, "assign", {"lead": "152502-D05"}),
        (system, "sign_for", {}),
    ):
        done = client.post_json(
            f"/api/v1/cases/{number}/actions/{action}", {**extra, "version": _version(session, number)}
        )
        assert done.status == 200, (action, done.text)
    return number


@pytest.mark.parametrize("how", ["session", "bearer"])
def test_case_attachments_are_parsed(clients: dict[str, HttpClient], how: str, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    client = clients[how]
    if how == "bearer":
        number = handled_by_the_department(clients)
    else:
        created = client.post_json("/api/v1/cases", case_body())
        assert created.status == 201, created.text
        number = created.json()["number"]
    url = f"/api/v1/cases/{number}/actions/attachment"
    for name, (content, said) in BAD.items():
        refused = client.post_files(url, {"file": (name, content)})
        assert refused.status == 422, (name, refused.text)
        detail = refused.json()["detail"]
        assert detail.startswith(f"附件：文件“{name}”") and said in detail, (name, detail)
    stored = []
    for name, content, kind in (
        ("照片.png", real_files.PNG, "image/png"),
        ("照片.jpg", real_files.JPEG, "image/jpeg"),
        ("协议.pdf", real_files.PDF, "application/pdf"),
    ):
        accepted = client.post_files(url, {"file": (name, content)})
        assert accepted.status == 200 and accepted.json()["result"]["content_type"] == kind, accepted.text
        stored.append(accepted.json()["result"]["id"])
    # Nothing of the refused ones was kept: the case page lists exactly the three accepted files.
    page = clients["session"].get(f"/staff/cases/{number}/").text
    listed = set(re.findall(rf"/staff/cases/{number}/attachments/(\d+)/", page))
    assert listed == {str(i) for i in stored}, (listed, stored)


def test_the_case_page_names_the_field(clients: dict[str, HttpClient]) -> None:
    client = clients["session"]
    number = client.post_json("/api/v1/cases", case_body()).json()["number"]
    page = client.post_form(
        f"/staff/cases/{number}/do/attachment/", {}, {"file": ("脚本.pdf", real_files.JAVASCRIPT_PDF)}
    )
    assert page.status == 422 and "附件：文件“脚本.pdf”含有脚本" in page.text


def test_field_photos_are_decoded(server: dict[str, str], django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    from zongzhi.grid.models import GridWorker

    worker = persona_day.staff(server, "demo-gridworker")
    with django_db_blocker.unblock():
        grid = GridWorker.objects.get(user__username="demo-gridworker").grid
    code = persona_day.household(persona_day.Day(), worker, grid.code, "上传检查嘎查 7 号")
    fields = {"household": code, "kind": "routine", "visited_at": "2026-11-30T10:00", "notes": "入户走访。"}
    page = worker.post_form("/staff/field/visits/new/", fields, {"photos": ("围栏.png", real_files.POLYGLOT)})
    assert "照片：文件“围栏.png”在图片之外还夹带了其他内容" in page.text, page.text[:2000]


@translation.override("zh-hans")
def test_portal_materials_and_import_files_are_parsed() -> None:
    for name, (content, said) in BAD.items():
        with pytest.raises(ValidationError) as refused:
            check_files([SimpleUploadedFile(name, content)])
        assert said in refused.value.message_dict["files"][0] and "材料：" in refused.value.message_dict["files"][0]
    check_files([SimpleUploadedFile("照片.png", real_files.PNG), SimpleUploadedFile("协议.pdf", real_files.PDF)])


@pytest.mark.django_db
@translation.override("zh-hans")
def test_an_import_file_must_open_as_what_its_name_says() -> None:
    from zongzhi.transfer.jobs import job_create

    director = User.objects.get(username="demo-director")
    for name, content, said in (
        ("居民.xlsx", real_files.PDF, "不是 XLSX 工作簿"),
        ("居民.xlsx", b"PK\x03\x04" + b"\0" * 40, "不是 XLSX 工作簿"),
        ("居民.csv", real_files.PNG, "不是 CSV 文本文件"),
    ):
        with pytest.raises(ValidationError) as refused:
            job_create(
                actor=director,
                kind="residents",
                upload=SimpleUploadedFile(name, content),
                dry_run=True,
                accept_valid=False,
            )
        assert said in refused.value.message_dict["file"][0]


def test_the_parser_itself() -> None:
    assert uploads.problem(real_files.PNG, "a.png", (uploads.PNG,), "附件") == (uploads.PNG, None)
    assert uploads.problem(real_files.PNG, "a.png", (uploads.PDF,), "附件") == (None, None)  # not an allowed type
    bomb = io.BytesIO()
    from PIL import Image

    Image.new("1", (15000, 15000)).save(bomb, "PNG")  # 225 megapixels in a few KB: refused before decoding
    kind, found = uploads.problem(bomb.getvalue(), "大.png", (uploads.PNG,), "照片")
    assert kind is None and found and "无法作为图片打开" in found
