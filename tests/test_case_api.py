"""The cases API: intake, list and search, transitions with 409/422/403, bearer tokens, attachments."""

import datetime
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from tests import real_files
from tests.conftest import verified_client
from zongzhi.accounts.models import User
from zongzhi.cases.models import Case
from zongzhi.identity import make_resident_id

ID = make_resident_id("152502", datetime.date(1969, 3, 1), 77)


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": "labour",
        "title": "牧民工资拖欠",
        "description": "某合作社拖欠三名牧工半年工资共计四万元。",
        "region": "152502001001",
        "parties": [
            {"kind": "person", "role": "applicant", "name": "乌力吉", "id_number": ID, "phone": "13947900012"},
            {"kind": "organisation", "role": "respondent", "name": "某牧业合作社", "id_number": "91350100M000100Y43"},
        ],
        "amount": "40000",
        "people_involved": 3,
    }
    data.update(overrides)
    return data


def post(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def clerk(db) -> Client:  # type: ignore[no-untyped-def]
    return verified_client(User.objects.get(username="demo-intake"))


def test_intake_returns_the_case_with_ids_and_phones_masked(clerk: Client) -> None:
    response = post(clerk, "/api/v1/cases", body())
    assert response.status_code == 201, response.content
    case = response.json()
    assert len(case["number"]) == 18 and case["state"] == "registered"
    applicant = case["parties"][0]
    assert applicant["id_number"] == ID[:6] + "********" + ID[-4:]
    assert applicant["phone"] == "139****0012"
    assert ID not in response.content.decode()
    assert case["risk_suggested"] == "yellow" and case["risk_reasons"]
    assert case["allowed_actions"] == ["accept", "reject", "withdraw", "attachment", "link", "unmask"]


def test_bad_intake_is_422_with_field_errors(clerk: Client) -> None:
    before = Case.objects.count()
    response = post(clerk, "/api/v1/cases", body(amount="-1", region="152502999999"))
    assert response.status_code == 422
    response = post(clerk, "/api/v1/cases", body(amount="-1"))
    assert response.status_code == 422
    assert "不能为负数" in response.json()["errors"]["amount"][0]
    assert Case.objects.count() == before


def test_transitions_409_422_403(clerk: Client) -> None:
    case = post(clerk, "/api/v1/cases", body()).json()
    url = f"/api/v1/cases/{case['number']}/actions/"
    accepted = post(clerk, url + "accept", {"version": case["version"]})
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    stale = post(clerk, url + "withdraw", {"version": case["version"], "reason": "申请人撤回"})
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    wrong = post(clerk, url + "close", {"version": accepted.json()["version"]})
    assert wrong.status_code == 403  # closing is the director's, whatever the state
    director = verified_client(User.objects.get(username="demo-director"))
    bad = post(director, url + "reopen", {"version": accepted.json()["version"], "reason": "x"})
    assert bad.status_code == 422 and "不能执行" in bad.json()["detail"]
    liaison = verified_client(User.objects.get(username="demo-liaison"))
    forbidden = post(liaison, url + "assign", {"version": accepted.json()["version"], "lead": "152502-D05"})
    assert forbidden.status_code == 403, forbidden.content.decode()
    unknown = post(director, url + "assign", {"version": accepted.json()["version"], "lead": "152502-NOPE"})
    assert unknown.status_code == 422 and "152502-NOPE" in unknown.json()["errors"]["lead"][0]
    typed = post(director, url + "assign", {"version": "v2", "lead": "152502-D05"})
    assert typed.status_code == 422 and typed.json()["errors"]["version"] == ["版本（您看到的案件版本号）应为整数。"]
    assigned = post(
        director,
        url + "assign",
        {"version": accepted.json()["version"], "lead": "152502-D05", "co": ["152502-BR1"]},
    )
    assert assigned.status_code == 200 and assigned.json()["state"] == "assigned"
    signed = post(liaison, url + "sign_for", {"version": assigned.json()["version"]})
    assert signed.status_code == 200 and signed.json()["state"] == "in_progress"


def test_list_search_and_paging(clerk: Client) -> None:
    number = post(
        clerk, "/api/v1/cases", body(title="额尔敦草场纠纷", description="查干淖尔嘎查两户围栏争议。")
    ).json()["number"]
    for q in ("查干淖尔嘎查", "围栏争", "乌力吉", "额尔"):
        found = clerk.get("/api/v1/cases", {"q": q}).json()
        assert number in [c["number"] for c in found["results"]], q
    assert clerk.get("/api/v1/cases", {"q": "完全不存在的词语"}).json() == {"results": [], "next": None}
    first = clerk.get("/api/v1/cases", {"limit": 1}).json()
    assert len(first["results"]) == 1 and first["next"]
    second = clerk.get("/api/v1/cases", {"limit": 1, "cursor": first["next"]}).json()
    assert len(second["results"]) == 1 and second["results"][0]["number"] != first["results"][0]["number"]


def test_list_queries_do_not_grow_with_page_size(clerk: Client, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for i in range(6):
        post(clerk, "/api/v1/cases", body(title=f"纠纷{i}"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (2, 6):
        with CaptureQueriesContext(connection) as captured:
            assert clerk.get("/api/v1/cases", {"limit": size}).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_out_of_jurisdiction_cases_are_404(clerk: Client) -> None:
    number = post(clerk, "/api/v1/cases", body()).json()["number"]
    duolun = User.objects.filter(jurisdictions__prefix="152531", memberships__role="intake_clerk").first()
    assert duolun is not None
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=duolun, name="phone", confirmed=True)
    other = verified_client(duolun)
    assert other.get(f"/api/v1/cases/{number}").status_code == 404
    assert other.get("/api/v1/cases/152502200001010001").status_code == 404
    assert number not in [c["number"] for c in other.get("/api/v1/cases").json()["results"]]
    admin = verified_client(User.objects.get(username="demo-auditor"))
    assert admin.get("/api/v1/cases").status_code == 403


def test_a_service_account_token_acts_as_its_account(db) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command(
        "service_account",
        "司法局业务系统-api",
        "--org",
        "152502-D05",
        "--region",
        "152502",
        "--allow",
        "cases:read,cases:write",
        stdout=out,
    )
    token = out.getvalue().strip()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    created = post(client, "/api/v1/cases", body())
    assert created.status_code == 201 and created.json()["channel"] == "department"
    assert client.get(f"/api/v1/cases/{created.json()['number']}").status_code == 200
    assert Client(HTTP_AUTHORIZATION="Bearer zz_nonsense").get("/api/v1/cases").status_code == 401


def test_attachments_are_type_checked_and_served_only_to_those_who_see_the_case(clerk: Client) -> None:
    number = post(clerk, "/api/v1/cases", body()).json()["number"]
    png = io.BytesIO(real_files.PNG)
    png.name = "现场照片.png"
    uploaded = clerk.post(f"/api/v1/cases/{number}/actions/attachment", {"file": png})
    assert uploaded.status_code == 200 and uploaded.json()["result"]["content_type"] == "image/png"
    fake = io.BytesIO(b"MZ\x90\x00 this is a windows program")
    fake.name = "合同.pdf"
    refused = clerk.post(f"/api/v1/cases/{number}/actions/attachment", {"file": fake})
    assert refused.status_code == 422 and "类型不允许" in refused.json()["detail"]
    url = f"/api/v1/cases/{number}/attachments/{uploaded.json()['result']['id']}"
    assert clerk.get(url).status_code == 200
    assert verified_client(User.objects.get(username="demo-gridworker")).get(url).status_code == 404


def test_instalments_are_recorded_with_receipts(clerk: Client) -> None:
    from tests.test_case_lifecycle import test_the_whole_lifecycle

    test_the_whole_lifecycle()
    case = Case.objects.filter(agreement__isnull=False).order_by("-id").first()
    assert case is not None
    instalment = case.agreement.instalments.first()
    assert instalment is not None
    url = f"/api/v1/cases/{case.number}/actions/payment"
    pay = {"instalment": instalment.pk, "paid_amount": "3000"}
    future = post(clerk, url, {**pay, "paid_on": "2099-01-01", "receipt": "R1"})
    assert future.status_code == 422 and "晚于今天" in future.json()["detail"]
    today = datetime.date.today().isoformat()
    assert post(clerk, url, {**pay, "paid_on": today, "receipt": "R-0001"}).status_code == 200
    instalment.refresh_from_db()
    assert instalment.paid_amount == 3000 and instalment.receipt_number == "R-0001"
    page = clerk.get(f"/staff/cases/{case.number}/").content.decode()
    assert "R-0001" in page and "调解协议" in page


def test_text_with_html_is_shown_escaped(clerk: Client) -> None:
    number = post(
        clerk, "/api/v1/cases", body(title="<script>alert(1)</script>", description="<b>粗体</b>纠纷")
    ).json()["number"]
    page = clerk.get(f"/staff/cases/{number}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>粗体</b>" not in page


def test_oversized_uploads_are_refused(clerk: Client) -> None:
    number = post(clerk, "/api/v1/cases", body()).json()["number"]
    big = io.BytesIO(b"\xff\xd8\xff" + b"\0" * (20 * 1024 * 1024 + 1))
    big.name = "大照片.jpg"
    response = clerk.post(f"/api/v1/cases/{number}/actions/attachment", {"file": big})
    assert response.status_code == 422 and "超过 20 MB" in response.json()["detail"]
    assert Case.objects.get(number=number).attachments.count() == 0


def test_the_case_list_page_uses_a_fixed_number_of_queries(clerk: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for extra in (1, 8):
        for i in range(extra):
            post(clerk, "/api/v1/cases", body(title=f"列表{extra}-{i}"))
        with CaptureQueriesContext(connection) as captured:
            assert clerk.get("/staff/cases/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_unmasking_needs_the_case_role_and_a_reason_and_is_audited(clerk: Client) -> None:
    from zongzhi.audit.models import AuditEntry
    from zongzhi.cases.models import Party

    number = post(clerk, "/api/v1/cases", body()).json()["number"]
    party = Party.objects.get(case__number=number, role="applicant")
    url = f"/staff/cases/{number}/do/unmask/"
    no_reason = clerk.post(url, {"party": party.pk, "reason": " "})
    assert no_reason.status_code == 422
    assert "须说明用途" in no_reason.content.decode() and ID not in no_reason.content.decode()
    shown = clerk.post(url, {"party": party.pk, "reason": "电话通知调解时间"})
    assert shown.status_code == 200 and ID in shown.content.decode() and "13947900012" in shown.content.decode()
    # Shown once in that response, never kept: no cookie carries it and the page shows it masked again.
    assert not any(ID in morsel.value for morsel in shown.cookies.values())
    assert ID not in clerk.get(f"/staff/cases/{number}/").content.decode()
    entry = AuditEntry.objects.filter(action="unmask").order_by("-id").first()
    assert entry is not None and entry.actor_name == "demo-intake" and entry.detail["reason"] == "电话通知调解时间"
    leader = verified_client(User.objects.get(username="demo-leader"))
    refused = leader.post(url, {"party": party.pk, "reason": "看看"})
    assert refused.status_code == 403
    assert ID not in refused.content.decode() and "您无权对该案件执行“查看完整号码”" in refused.content.decode()
