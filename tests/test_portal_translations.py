"""Every public page in Mongolian shows no untranslated text: outside what is marked as Chinese
data (lang="zh-Hans": names of agencies, what staff wrote), no Chinese character remains.
And the catalog is complete and compiled."""

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.portal_steps import APPLICATION, apply, sms_code, verify_phone
from tests.test_portal_open_days import schedule
from tests.test_portal_progress import handle_to_closure
from zongzhi.portal.models import Application, ThrottleCounter

ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3001-\u3011“”]+")
PHONE = "13704790020"


class VisibleText(HTMLParser):
    """The text a reader sees, minus elements marked lang="zh-Hans" (data) and <title>/<style>."""

    VOID = {"input", "br", "meta", "link", "img", "hr", "path"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        lang = (dict(attrs).get("lang") or "").lower()
        # <textarea> holds what the visitor typed: their text, not ours.
        self.stack.append(lang.startswith("zh") or tag in ("script", "style", "title", "svg", "textarea"))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.stack):
            self.text.append(data)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass


def untranslated(page: str) -> list[str]:
    assert '<html lang="mn-Mong"' in page
    parser = VisibleText()
    parser.feed(page)
    return HAN.findall(" ".join(parser.text))


def mongolian_client() -> Client:
    client = Client()
    client.cookies["django_language"] = "mn"
    return client


@pytest.mark.django_db
def test_no_public_page_in_mongolian_shows_an_untranslated_string(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    visitor = mongolian_client()
    pages: dict[str, str] = {}
    open_day = schedule(capacity=3)
    for url in [
        "/",
        "/centers/",
        "/centers/ZZ-152502/",
        "/centers/ZZ-152502001/",
        "/track/",
        "/open-days/",
        "/verify/",
    ]:
        pages[url] = visitor.get(url).content.decode()
    pages["wrong phone"] = visitor.post("/verify/", {"phone": "123", "step": "send"}).content.decode()
    pages["not found"] = visitor.post("/track/", {"receipt": "nothing"}).content.decode()
    pages["booking refused"] = visitor.post(f"/open-days/{open_day.pk}/book/", {"people": 1}).content.decode()
    verify_phone(visitor, PHONE, django_capture_on_commit_callbacks)
    pages["apply"] = visitor.get("/apply/").content.decode()
    pages["apply errors"] = visitor.post(
        "/apply/",
        {
            "description": "短",
            "county": "152502000000",
            "township": "152531100000",
            "files": SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream"),
        },
    ).content.decode()
    pages["open days verified"] = visitor.get("/open-days/").content.decode()
    pages["booked"] = visitor.post(f"/open-days/{open_day.pk}/book/", {"name": "乌兰", "people": 2}).content.decode()
    pages["overbooked"] = visitor.post(
        f"/open-days/{open_day.pk}/book/", {"name": "乌兰", "people": 2}
    ).content.decode()
    receipt = apply(visitor)
    pages["receipt"] = visitor.get("/receipt/").content.decode()
    pages["progress"] = visitor.post("/track/", {"receipt": receipt}).content.decode()
    pages["progress, a stranger"] = mongolian_client().post("/track/", {"receipt": receipt}).content.decode()
    pages["add nothing"] = visitor.post("/track/act/", {"receipt": receipt, "action": "add"}).content.decode()
    ThrottleCounter.objects.all().delete()  # later on: a new code may be sent
    with django_capture_on_commit_callbacks(execute=True):
        pages["code sent"] = visitor.post("/track/act/", {"receipt": receipt, "action": "send_code"}).content.decode()
    pages["code wrong"] = visitor.post(
        "/track/act/", {"receipt": receipt, "action": "verify", "code": "x"}
    ).content.decode()
    visitor.post("/track/act/", {"receipt": receipt, "action": "verify", "code": sms_code(PHONE)})
    handle_to_closure(Application.objects.get().case)
    pages["closed"] = visitor.post("/track/", {"receipt": receipt}).content.decode()
    pages["rating refused"] = visitor.post("/track/act/", {"receipt": receipt, "action": "rate"}).content.decode()
    pages["rated"] = visitor.post(
        "/track/act/", {"receipt": receipt, "action": "rate", "satisfaction": "satisfied", "performance": "na"}
    ).content.decode()
    pages["agreement"] = visitor.post("/track/agreement/", {"receipt": receipt}).content.decode()
    assert "ᠡᠪᠯᠡᠷᠡᠭᠦᠯᠦᠯ" in pages["agreement"] and "apply errors" in pages

    leftovers = {name: found for name, page in pages.items() if (found := untranslated(page))}
    assert leftovers == {}, leftovers
    # The data marked as Chinese is really there (the test would be hollow otherwise).
    assert "调解工作室" in pages["/centers/ZZ-152502/"] and "一、三十日内将围栏移回原界。" in pages["agreement"]
    assert APPLICATION["other_party"] not in pages["progress"]


def _catalog() -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from compile_messages import parse_po

    return parse_po((ROOT / "locale/mn/LC_MESSAGES/django.po").read_text(encoding="utf-8"))


def test_every_portal_message_has_a_mongolian_translation() -> None:
    ids: set[str] = set()
    portal = ROOT / "zongzhi/portal"
    for template in portal.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        ids |= set(re.findall(r'\{%\s*translate\s+"([^"]+)"', text))
        for block in re.findall(r"\{%\s*blocktranslate[^%]*%\}(.*?)\{%\s*endblocktranslate\s*%\}", text, re.S):
            ids.add(re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", block))
    for module in portal.rglob("*.py"):
        if "management" not in module.parts:  # commands speak to operators, in Chinese
            ids |= set(re.findall(r'(?<![\w.])(?:_|gettext_lazy|gettext)\(\s*"((?:[^"\\]|\\.)*)"', module.read_text()))
    catalog = _catalog()
    missing = sorted(i for i in ids if i not in catalog)
    assert missing == [], missing
    assert len(ids) > 150
    for msgid, msgstr in catalog.items():
        if msgid:
            assert re.findall(r"%\(\w+\)[sd]", msgid) == re.findall(r"%\(\w+\)[sd]", msgstr), msgid
            assert re.search(r"[\u1800-\u18af]", msgstr) or msgstr == msgid, msgid


def test_the_compiled_catalog_matches_its_source() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/compile_messages.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
