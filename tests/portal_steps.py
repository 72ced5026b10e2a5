"""Steps a citizen takes on the public portal, shared by the portal tests (test client)."""

import re
from typing import Any

from django.test import Client

from zongzhi.portal.sms import outbox_path

APPLICATION = {
    "category": "grassland",
    "description": "两户牧民因冬季草场围栏位置发生争执，要求重新确认边界。",
    "applicant_name": "巴特尔",
    "other_party": "其其格",
    "county": "152502000000",
    "township": "",
    "place": "白音锡勒牧场三分场",
}


def sms_code(phone: str) -> str:
    """The last code the file SMS gateway delivered to this phone."""
    text = outbox_path(phone).read_text(encoding="utf-8")
    found = re.search(r"(?<!\d)(\d{6})(?!\d)", text.split("\n", 1)[1])
    assert found, text
    return found.group(1)


def verify_phone(client: Client, phone: str, capture: Any) -> None:
    """Ask for a code and type it in (capture = pytest-django's on-commit capture, which sends it)."""
    with capture(execute=True):
        response = client.post("/verify/", {"phone": phone, "step": "send"})
    assert response.status_code == 200
    assert 'name="code"' in response.content.decode()  # the code field appears once sent
    response = client.post("/verify/", {"phone": phone, "step": "check", "code": sms_code(phone), "next": "/apply/"})
    assert response.status_code == 302, response.content.decode()


def apply(client: Client, **changes: Any) -> str:
    """Submit an application; returns the receipt code shown."""
    response = client.post("/apply/", {**APPLICATION, **changes})
    assert response.status_code == 302 and response["Location"] == "/receipt/", response.content.decode()
    page = client.get("/receipt/").content.decode()
    found = re.search(r'id="receipt-code"[^>]*>([^<]+)<', page)
    assert found
    return found.group(1)
