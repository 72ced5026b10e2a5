"""The documents of a case as a person sees them: PDFs rendered to PNG (pdftoppm) and read back (pdftotext).

A case mediated by a brand room (lead: 司法局) reaches an agreement with two instalments; its
parties are residents of the population registry (民族, 常用语言 from there). Checked on the
rendered pages: page count, the seal on the page of the last terms, full particulars on the copy the
parties sign and the court receives and masked on every other copy, no number broken across lines,
the 受理登记表's 具体地点 and 发生日期, the 回访记录 dated as the follow-up was made. The Mongolian
agreement is set vertically and shaped: compared with Chromium's rendering of the same words.
"""

import ast
import datetime
import io
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import translation
from fpdf import FPDF
from PIL import Image, ImageChops
from playwright.sync_api import Browser
from pypdf import PdfReader

from tests.browsing import login, shot
from tests.http_client import HttpClient, logged_in
from tests.test_case_lifecycle import who
from zongzhi.accounts.models import User
from zongzhi.audit.models import AuditEntry
from zongzhi.cases import documents, services
from zongzhi.cases.models import Case, Category
from zongzhi.cases.services import InstalmentInput, PartyInput
from zongzhi.centers.models import Org
from zongzhi.documents.pdf import FONT_DIR
from zongzhi.grid import services as grid_services
from zongzhi.grid.models import Resident
from zongzhi.identity import make_resident_id, mask_phone, mask_resident_id
from zongzhi.regions.models import Region

if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:  # pragma: no cover
    raise RuntimeError("poppler-utils (pdftoppm, pdftotext) is required: make system-deps installs it")

PHONES = ("13804790001", "13947912345")
SIGNED = datetime.date(2026, 11, 20)


def residents() -> list[Resident]:
    """Two residents of a Xilinhot grid in the population registry, a Mongolian-speaking herder first."""
    found = list(Resident.objects.filter(household__address="测试文书嘎查").order_by("id"))
    if found:
        return found
    grid = Region.objects.filter(level="grid", code__startswith="152502").order_by("code").first()
    assert grid is not None and grid.parent is not None
    director = who("director")
    household = grid_services.household_register(actor=director, village=grid.parent, grid=grid, address="测试文书嘎查")
    seq = secrets.randbelow(400) + 500
    people = [
        ("敖其尔", "蒙古族", "mn", datetime.date(1979, 4, 12), seq),
        ("王桂兰", "汉族", "zh", datetime.date(1984, 9, 3), seq + 1),
    ]
    return [
        grid_services.resident_add(
            actor=director,
            household=household,
            name=name,
            relation="head" if n == 0 else "spouse",
            ethnicity=ethnicity,
            language=language,
            id_number=make_resident_id("152502", born, number),
        )
        for n, (name, ethnicity, language, born, number) in enumerate(people)
    ]


def agreed_case() -> Case:
    """Intake → accept → assign (lead 司法局, co the brand room) → sessions → agreement with instalments."""
    first, second = residents()
    region = Region.objects.get(code=first.region_code[:12])
    case = services.case_intake(
        actor=who("intake"),
        category=Category.objects.get(code="grassland"),
        title="草场边界纠纷",
        description="两户牧民因冬季草场围栏位置发生争执，要求重新确认边界。" * 3,
        region=region,
        location="图古日格嘎查第三浩特西侧冬营盘",
        occurred_on=datetime.date(2026, 10, 28),
        parties=[
            PartyInput(
                kind="person",
                role="applicant",
                name=first.name,
                id_number=first.id_number,
                phone=PHONES[0],
                address="锡林浩特市朝克乌拉苏木图古日格嘎查一组",
            ),
            PartyInput(
                kind="person",
                role="respondent",
                name=second.name,
                id_number=second.id_number,
                phone=PHONES[1],
                address="锡林浩特市朝克乌拉苏木图古日格嘎查三组",
            ),
            PartyInput(
                kind="organisation", role="third", name="锡林浩特市某牧业合作社", id_number="91152502MA0N1X4G7G"
            ),
        ],
        amount="6000",
        people_involved=2,
    )
    case = services.case_act(case=case, action="accept", actor=who("intake"), version=case.version)
    justice, brand = Org.objects.get(code="152502-D05"), Org.objects.get(code="152502-BR1")
    case = services.case_assign(case=case, actor=who("director"), version=case.version, lead=justice, co=[brand])
    case = services.case_sign_for(case=case, actor=who("liaison"), version=case.version)
    case = services.case_sign_for(case=case, actor=who("mediator"), version=case.version)
    services.session_record(
        case=case,
        actor=who("liaison"),
        held_at=datetime.datetime(2026, 11, 18, 10, tzinfo=datetime.UTC),
        place_kind="station",
        place="图古日格嘎查蒙古包调解驿站",
        mediators="那日苏、王建国",
        record="双方同意按原承包图重新立桩。",
    )
    terms = "\n".join(
        [
            "一、被申请人于二〇二六年十二月二十日前将围栏移回原界，由嘎查委员会现场确认。",
            "二、被申请人补偿申请人草料款人民币陆仟元整（6000 元），分两期支付。",
            "三、双方今后按原承包经营权证确定的界线使用草场，互不越界放牧。",
        ]
        * 3
    )
    return services.case_resolve(
        case=case,
        actor=who("liaison"),
        version=case.version,
        facts="冬季草场围栏越界约 30 米，申请人要求恢复原界并赔偿草场损失。" * 4,
        terms=terms,
        amount="6000",
        performance_method="分两期银行转账至申请人账户",
        performance_due=datetime.date(2027, 1, 31),
        signed_on=SIGNED,
        instalments=[
            InstalmentInput(datetime.date(2026, 12, 31), Decimal("3000")),
            InstalmentInput(datetime.date(2027, 1, 31), Decimal("3000")),
        ],
    )


def pdf_of(case: Case, doc: str, *, full: bool = False, lang: str = "zh") -> bytes:
    return documents.pdf(documents.build(Case.objects.get(pk=case.pk), doc, full=full, lang=lang))


def pages_layout(pdf: bytes) -> list[str]:
    """pdftotext -layout, page by page: the lines as a reader sees them."""
    count = len(PdfReader(io.BytesIO(pdf)).pages)
    out = []
    for n in range(1, count + 1):
        run = subprocess.run(
            ["pdftotext", "-layout", "-f", str(n), "-l", str(n), "-", "-"], input=pdf, capture_output=True, check=True
        )
        out.append(run.stdout.decode())
    return out


def to_png(pdf: bytes, folder: Path, name: str, dpi: int = 60) -> list[Path]:
    """The pages as pdftoppm draws them (look at them: tests/test_documents.py keeps them under tmp)."""
    (folder / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(folder / f"{name}.pdf"), str(folder / name)], check=True)
    pngs = sorted(folder.glob(f"{name}-*.png"))
    assert pngs and all(Image.open(p).size[0] > 100 for p in pngs)
    return pngs


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_unbroken(pages: list[str], numbers: list[str]) -> None:
    """Each number stands whole on one line somewhere (a number split across lines is on none)."""
    lines = [line.replace(" ", "") for page in pages for line in page.splitlines()]
    for number in numbers:
        assert any(number in line for line in lines), f"{number} is broken across lines or missing"


def seal_page(pages: list[str], seal: str) -> int:
    found = [n for n, page in enumerate(pages) if "（盖章）" in page and seal in squash(page)]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.django_db
def test_the_agreement_the_court_receives_and_the_copy_anyone_may_print(tmp_path: Path) -> None:
    case = agreed_case()
    first, second = residents()
    full = pdf_of(case, "agreement", full=True)
    masked = pdf_of(case, "agreement")
    full_pages, masked_pages = pages_layout(full), pages_layout(masked)
    for name, pdf in (("full", full), ("masked", masked)):
        assert len(to_png(pdf, tmp_path, name)) == len(PdfReader(io.BytesIO(pdf)).pages)

    for pages in (full_pages, masked_pages):
        everything = squash("".join(pages))
        # Issued and sealed by the brand room that mediated, not by the lead 司法局.
        assert "锡林浩特市司法局" not in everything
        brand = Org.objects.get(code="152502-BR1").name
        assert everything.startswith(squash(brand)) or squash(brand) in squash(pages[0].split("人民调解协议书")[0])
        assert "人民调解员那日苏、王建国（签名）" in everything
        assert "2026年12月31日" in everything and "3000.00元" in everything  # the instalment schedule
        # The seal block is on the page of the last terms, and that page has more than the signatures.
        last_terms = "当事人可以自协议生效之日起三十日内共同向人民法院申请司法确认。"
        n = seal_page(pages, squash(brand))
        assert last_terms in squash(pages[n])
        assert f"第{n + 1}页共{len(pages)}页" in squash(pages[n])

    court = squash("".join(full_pages))
    for resident in (first, second):
        assert resident.id_number in court
        assert resident.ethnicity in court
    born = first.id_number[6:14]
    assert f"{int(born[:4])}年{int(born[4:6])}月{int(born[6:])}日" in court
    assert all(phone in court for phone in PHONES)
    assert "锡林浩特市朝克乌拉苏木图古日格嘎查一组" in court
    assert_unbroken(full_pages, [first.id_number, second.id_number, *PHONES, "91152502MA0N1X4G7G"])

    copy = squash("".join(masked_pages))
    for resident in (first, second):
        assert resident.id_number not in copy
        assert mask_resident_id(resident.id_number) in copy
    assert not any(phone in copy for phone in PHONES)
    assert all(mask_phone(phone) in copy for phone in PHONES)
    assert f"{int(born[:4])}年{int(born[4:6])}月{int(born[6:])}日" not in copy
    assert "已遮蔽" in copy


@pytest.mark.django_db
def test_the_confirmation_application_goes_to_the_county_court_within_thirty_days() -> None:
    case = agreed_case()
    pages = pages_layout(pdf_of(case, "confirmation", full=True))
    text = squash("".join(pages))
    assert "司法确认申请书" in text
    assert squash(Org.objects.get(code="152502-FTC").name) in text
    assert "2026年12月20日前" in text  # 30 days after the agreement was signed
    assert f"第{case.agreement.number}号人民调解协议有效" in text
    assert all(p.id_number in text for p in case.parties.all())
    masked = squash("".join(pages_layout(pdf_of(case, "confirmation"))))
    assert not any(p.id_number in masked for p in case.parties.filter(kind="person"))


@pytest.mark.django_db
def test_the_intake_form_is_complete_and_keeps_its_seal_with_the_parties(tmp_path: Path) -> None:
    case = agreed_case()
    pdf = pdf_of(case, "intake")
    pages = pages_layout(pdf)
    to_png(pdf, tmp_path, "intake")
    text = squash("".join(pages))
    assert "具体地点图古日格嘎查第三浩特西侧冬营盘" in text
    assert "发生日期2026年10月28日" in text
    n = seal_page(pages, squash(case.center.name))
    assert "91152502MA0N1X4G7G" in pages[n]  # the last row of the parties' table
    assert_unbroken(pages, [case.number, mask_phone(PHONES[0]), "91152502MA0N1X4G7G"])


@pytest.mark.django_db
def test_the_follow_up_record_is_dated_as_the_follow_up_was_made() -> None:
    case = agreed_case()
    case = services.case_close(case=case, actor=who("director"), version=case.version)
    services.follow_up_record(
        case=case, actor=who("intake"), method="电话", performance="partly", satisfaction="basically"
    )
    case.follow_ups.update(at=datetime.datetime(2026, 11, 25, 3, tzinfo=datetime.UTC))  # test data, not a write path
    text = squash("".join(pages_layout(pdf_of(case, "follow_up"))))
    assert text.count("2026年11月25日") == 2  # the row and the signatures' date


@pytest.mark.django_db
def test_the_mongolian_agreement_is_vertical_and_the_bilingual_holds_both(tmp_path: Path) -> None:
    case = agreed_case()
    assert documents.prefers_mongolian(Case.objects.get(pk=case.pk))
    mongolian = pdf_of(case, "agreement", lang="mn")
    pngs = to_png(mongolian, tmp_path, "mn", dpi=50)
    assert len(pngs) >= 2
    mongolian_words = [(w, h) for word, w, h in word_boxes(mongolian) if len(word) >= 9 and is_mongolian(word)]
    assert len(mongolian_words) > 20
    # Set top to bottom, not across: long words are taller than their column is wide.
    assert all(h > 1.2 * w for w, h in mongolian_words), [(w, h) for w, h in mongolian_words if h <= 1.2 * w]
    bilingual = pdf_of(case, "agreement", lang="bi", full=True)
    pages = pages_layout(bilingual)
    assert len(pages) > len(pngs)
    assert "人民调解协议书" in squash("".join(pages))
    assert "fpdf" not in "".join(pages)


def is_mongolian(word: str) -> bool:
    return all(0x1800 <= ord(ch) <= 0x18AF or ch in "\u202f\u200d" for ch in word)


def word_boxes(pdf: bytes) -> list[tuple[str, float, float]]:
    """(word, width, height) of every word pdftotext finds, in points."""
    out = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    found = []
    for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out):
        x0, y0, x1, y1, word = float(m[1]), float(m[2]), float(m[3]), float(m[4]), m[5]
        found.append((word, x1 - x0, y1 - y0))
    return found


def ink(image: Image.Image) -> Image.Image:
    """The inked part of a rendering, black on white, scaled to a fixed box for comparison."""
    grey = image.convert("L").point(lambda v: 255 if v > 160 else 0)
    box = ImageChops.invert(grey).getbbox()
    assert box is not None, "nothing drawn"
    return grey.crop(box).resize((40, 400))


def overlap(a: Image.Image, b: Image.Image) -> float:
    """Intersection over union of the inked pixels."""
    pa = [v == 0 for v in a.tobytes()]
    pb = [v == 0 for v in b.tobytes()]
    both = sum(x and y for x, y in zip(pa, pb, strict=True))
    either = sum(x or y for x, y in zip(pa, pb, strict=True))
    return both / either


@pytest.mark.browser
def test_the_mongolian_words_are_shaped_as_chromium_shapes_them(
    browser: Browser, server: dict[str, str], committed: None, tmp_path: Path
) -> None:
    """The title of the Mongolian agreement, cut from the PDF as pdftoppm draws it, against the same
    words set by Chromium in `writing-mode: vertical-lr` with the same vendored font; the same words
    drawn unshaped (isolated letters, what fpdf2 gives without HarfBuzz) do not match."""
    case = agreed_case()
    pdf = pdf_of(case, "agreement", lang="mn")
    with translation.override("mn"):
        words = documents.title("agreement")
    first = max(re.split("[ \u202f]", words), key=len)  # the longest word of the title: most forms to get right
    boxes = sorted((b for b in word_boxes_at(pdf, page=1) if b[0] == first), key=lambda b: b[3] - b[1])
    assert boxes, "the title's word is not in the PDF text"
    _word, x0, y0, x1, y1 = boxes[-1]  # the title's, set largest
    assert y1 - y0 > 2 * (x1 - x0)  # vertical
    from_pdf = crop_pdf(pdf, tmp_path, (x0, y0, x1, y1))

    page = browser.new_page()
    page.goto(f"{server['url']}/staff/login/")
    page.set_content(
        f'<link rel="stylesheet" href="{server["url"]}/static/vendor/fonts/fonts.css">'
        '<p style="font: 40px \'Zongzhi Mongolian\'; writing-mode: vertical-lr; margin: 20px" id="w">'
        f"{first}</p>"
    )
    page.evaluate("document.fonts.ready")
    page.wait_for_timeout(300)
    from_chromium = Image.open(io.BytesIO(page.locator("#w").screenshot()))
    page.close()

    unshaped = tmp_path / "unshaped.pdf"
    raw = FPDF(unit="mm", format="A4")
    raw.add_page()
    raw.add_font("m", "", str(FONT_DIR / "zongzhi-mongolian-400.ttf"))
    raw.set_font("m", "", 20)
    with raw.rotation(-90, 30, 20):
        raw.set_xy(30, 20)
        raw.cell(text=first)
    unshaped.write_bytes(bytes(raw.output()))
    plain = crop_pdf(unshaped.read_bytes(), tmp_path, None)

    ours, theirs, isolated = ink(from_pdf), ink(from_chromium), ink(plain)
    for name, image in (("pdf", ours), ("chromium", theirs), ("unshaped", isolated)):
        image.save(tmp_path / f"word-{name}.png")
    shaped_match, unshaped_match = overlap(ours, theirs), overlap(isolated, theirs)
    assert shaped_match > 0.55, (shaped_match, unshaped_match)
    assert shaped_match > unshaped_match + 0.3, (shaped_match, unshaped_match)

    # The A4 pages in the browser: the Mongolian one vertical; the full copy printed from its form.
    director = browser.new_context(locale="zh-CN").new_page()
    login(director, server, "demo-director")
    director.goto(f"{server['url']}/staff/cases/{case.number}/print/agreement/?lang=bi")
    articles = director.locator("article.a4")
    assert articles.count() == 2
    assert articles.nth(0).evaluate("a => getComputedStyle(a).writingMode") == "vertical-lr"
    assert articles.nth(1).evaluate("a => getComputedStyle(a).writingMode") == "horizontal-tb"
    ids = [p.id_number for p in case.parties.filter(kind="person")]
    assert not any(i in director.content() for i in ids)
    shot(director, "print-agreement-bilingual")
    director.fill("input[name=reason]", "当事人签署协议")
    director.click("form.full-copy button")
    director.wait_for_selector("text=已记入审计日志")
    assert all(i in director.content() for i in ids)
    shot(director, "print-agreement-full")
    director.context.close()


def word_boxes_at(pdf: bytes, page: int) -> list[tuple[str, float, float, float, float]]:
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [(m[5], float(m[1]), float(m[2]), float(m[3]), float(m[4])) for m in re.finditer(pattern, out)]


def crop_pdf(pdf: bytes, folder: Path, box: tuple[float, float, float, float] | None) -> Image.Image:
    """Page 1 at 200 dpi, cut to `box` (points, as pdftotext gives it; None: the whole page)."""
    path = folder / f"crop-{secrets.token_hex(4)}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-png", str(path), str(path.with_suffix(""))])
    image = Image.open(next(folder.glob(f"{path.stem}-*.png")))
    if box is None:
        return image
    scale = 200 / 72
    x0, y0, x1, y1 = box
    # Exactly the word's box: a margin would take in the tail of the word above it in the column.
    return image.crop((int(x0 * scale), int(y0 * scale), int(x1 * scale) + 1, int(y1 * scale) + 1))


@pytest.fixture
def committed(django_db_blocker, monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The ORM on the committed data the server sees (no test transaction around it). Once a browser
    test ran, Playwright's event loop sits in this thread; the ORM calls here run between page steps."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with django_db_blocker.unblock():
        yield


def test_printing_the_copy_for_the_court_is_a_permitted_audited_act(server: dict[str, str], committed: None) -> None:
    """Through the live server with a real session and CSRF token: the director prints the full copy
    with a reason (one entry of its own, naming who and why); without a reason, without the token or
    without the right, nothing full is shown and nothing of the kind is audited."""
    case = agreed_case()
    ids = [p.id_number for p in case.parties.filter(kind="person")]
    path = f"/staff/cases/{case.number}/print/agreement/"
    director = logged_in(server["url"], "demo-director")

    page = director.get(path)
    assert page.status == 200
    assert not any(i in page.text for i in ids) and mask_resident_id(ids[0]) in page.text
    assert 'name="reason"' in page.text and "csrfmiddlewaretoken" in page.text

    mark = newest_id()
    forged = HttpClient(server["url"], cookies=dict(director.cookies))
    body = urlencode({"reason": "当事人签署协议", "csrfmiddlewaretoken": "forged"}).encode()
    answer = forged.request(
        "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": "forged"}
    )
    assert answer.status == 403
    assert not any(i in answer.text for i in ids)

    answer = director.post_form(path, {"reason": "  ", "format": "html"})
    assert answer.status == 422 and "须说明用途" in answer.text
    assert not any(i in answer.text for i in ids)
    assert not AuditEntry.objects.filter(pk__gt=mark, action=AuditEntry.Action.DOCUMENT_PRINTED_UNMASKED).exists()

    leader = logged_in(server["url"], "demo-leader")  # sees the case, may not unmask its parties
    answer = leader.post_form(path, {"reason": "看看", "format": "html"})
    assert answer.status == 403 and not any(i in answer.text for i in ids)

    answer = director.post_form(path, {"reason": "当事人签署协议", "format": "html"})
    assert answer.status == 200 and all(i in answer.text for i in ids)
    assert answer.headers["cache-control"] == "no-store"
    answer = director.post_form(path, {"reason": "申请司法确认", "format": "pdf", "lang": "bi"})
    assert answer.status == 200 and answer.body.startswith(b"%PDF")
    text = squash(subprocess.run(["pdftotext", "-", "-"], input=answer.body, capture_output=True).stdout.decode())
    assert all(i in text for i in ids)

    entries = list(
        AuditEntry.objects.filter(pk__gt=mark, action=AuditEntry.Action.DOCUMENT_PRINTED_UNMASKED).order_by("id")
    )
    director_id = User.objects.get(username="demo-director").pk
    assert [
        (e.actor_id, e.ip, e.target, e.detail["reason"], e.detail["format"], e.detail["lang"]) for e in entries
    ] == [
        (director_id, "127.0.0.1", f"{case.number}/agreement", "当事人签署协议", "html", "zh"),
        (director_id, "127.0.0.1", f"{case.number}/agreement", "申请司法确认", "pdf", "bi"),
    ]


@pytest.mark.django_db
def test_one_refused_the_full_copy_gets_no_full_copy_built(
    client_as: Callable[[str], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The leader sees the case but may not see its parties unmasked: asking for the full copy is
    refused (403) before anything with the full particulars is made, and no such print is audited;
    the director without a reason is told to give one (422), and nothing full is built either."""
    case = agreed_case()
    ids = [p.id_number for p in case.parties.filter(kind="person")]
    path = f"/staff/cases/{case.number}/print/agreement/"
    built_full: list[str] = []
    build = documents.build

    def spy(case: Case, doc: str, item: str | None = None, *, full: bool = False, lang: str = "zh") -> Any:
        if full:
            built_full.append(doc)
        return build(case, doc, item, full=full, lang=lang)

    monkeypatch.setattr(documents, "build", spy)
    mark = newest_id()
    for name, reason, status in (("leader", "看看", 403), ("leader", "", 403), ("director", "  ", 422)):
        for fmt in ("html", "pdf"):
            answer = client_as(name).post(path, {"reason": reason, "format": fmt})
            assert answer.status_code == status, (name, reason, fmt)
            assert answer["Content-Type"].startswith("text/html")
            assert not any(i in answer.content.decode() for i in ids)
    assert built_full == []
    assert not AuditEntry.objects.filter(pk__gt=mark, action=AuditEntry.Action.DOCUMENT_PRINTED_UNMASKED).exists()

    answer = client_as("director").post(path, {"reason": "当事人签署协议", "format": "html"})
    assert answer.status_code == 200 and all(i in answer.content.decode() for i in ids)
    assert built_full == ["agreement"]


def newest_id() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_every_document_text_has_a_mongolian_translation() -> None:
    """The builders' texts are gettext msgids; a Mongolian document with one left out would show Chinese."""
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "scripts"))
    from compile_messages import parse_po  # a script, not a package: found on its path

    tree = ast.parse((root / "zongzhi/cases/documents.py").read_text(encoding="utf-8"))
    ids = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
        if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
    }
    catalog = parse_po((root / "locale/mn/LC_MESSAGES/django.po").read_text(encoding="utf-8"))
    assert len(ids) > 60
    missing = sorted(i for i in ids if i not in catalog)
    assert missing == [], missing
