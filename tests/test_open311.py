"""Open311 GeoReport v2 against the live server, as a hotline's client speaks it (real HTTP, no cookie).

The conversation of the specification: discovery → services → POST requests → GET requests (list and
by id), in JSON and in XML; errors as Open311's list of {code, description}; status open/closed.
"""

import json
import urllib.parse
import uuid
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest

from tests.http_client import HttpClient, Response
from tests.test_service_accounts import open_account
from zongzhi.cases.models import Case
from zongzhi.integration.models import ServiceAccount

BASE = "/open311/v2"


@pytest.fixture
def committed(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def hotline(committed: None) -> tuple[ServiceAccount, str]:
    return open_account("cases:read,cases:write", org="152502-D01", region="152502")


def form(client: HttpClient, path: str, fields: dict[str, str]) -> Response:
    return client.request(
        "POST", path, urllib.parse.urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )


def xml(answer: Response) -> ElementTree.Element:
    assert answer.headers["content-type"].startswith("text/xml"), answer.headers
    return ElementTree.fromstring(answer.body)  # noqa: S314 - our own server's answer


def report(key: str, **extra: str) -> dict[str, str]:
    return {
        "api_key": key,
        "service_code": "neighbour",
        "lat": "43.9333",
        "long": "116.0833",
        "address_string": "锡林浩特市宝力根苏木某嘎查",
        "description": f"邻居堆放草料堵住通道，多次协商未果。{uuid.uuid4().hex[:6]}",
        "first_name": "巴特尔",
        "last_name": "王",
        "phone": "13947900012",
        **extra,
    }


def test_a_hotline_conversation_in_json(server: dict[str, str], hotline: tuple[ServiceAccount, str]) -> None:
    account, key = hotline
    client = HttpClient(server["url"])
    found = client.get(f"{BASE}/discovery.json")
    assert found.status == 200
    endpoint = found.json()["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/") and "application/json" in endpoint["formats"]

    services = client.get(f"{BASE}/services.json").json()
    neighbour = next(s for s in services if s["service_code"] == "neighbour")
    assert neighbour["service_name"] and neighbour["metadata"] is False and neighbour["type"] == "realtime"

    posted = form(client, f"{BASE}/requests.json", report(key))
    assert posted.status == 200, posted.text[:500]
    [created] = posted.json()
    number = created["service_request_id"]
    assert "受理" in created["service_notice"]
    case = Case.objects.get(number=number)
    assert case.channel == "hotline" and case.owner_id == account.user_id and case.lat == 43.9333
    assert case.parties.get().name == "王巴特尔"
    assert not client.cookies

    [one] = client.get(f"{BASE}/requests/{number}.json?api_key={key}").json()
    assert one["service_request_id"] == number and one["status"] == "open" and one["service_code"] == "neighbour"
    assert one["status_notes"] == "已登记" and one["address"] == "锡林浩特市宝力根苏木某嘎查"
    assert one["requested_datetime"].endswith("+08:00") and one["long"] == 116.0833
    listed = client.get(f"{BASE}/requests.json?api_key={key}&service_code=neighbour&status=open").json()
    assert number in [r["service_request_id"] for r in listed]
    closed = client.get(f"{BASE}/requests.json?api_key={key}&status=closed").json()
    assert number not in [r["service_request_id"] for r in closed]
    by_ids = client.get(f"{BASE}/requests.json?api_key={key}&service_request_id={number},000000000000000000").json()
    assert [r["service_request_id"] for r in by_ids] == [number]


def test_a_hotline_conversation_in_xml(server: dict[str, str], hotline: tuple[ServiceAccount, str]) -> None:
    _account, key = hotline
    client = HttpClient(server["url"])
    discovery = xml(client.get(f"{BASE}/discovery.xml"))
    assert discovery.tag == "discovery"
    assert discovery.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in discovery.findall("endpoints/endpoint/formats/format")] == [
        "application/json",
        "text/xml",
    ]
    services = xml(client.get(f"{BASE}/services.xml"))
    assert services.tag == "services"
    codes = [s.findtext("service_code") for s in services.findall("service")]
    assert "neighbour" in codes and services.find("service/metadata").text == "false"  # type: ignore[union-attr]

    posted = xml(form(client, f"{BASE}/requests.xml", report(key)))
    assert posted.tag == "service_requests"
    number = posted.findtext("request/service_request_id")
    assert number and Case.objects.filter(number=number, channel="hotline").exists()

    one = xml(client.get(f"{BASE}/requests/{number}.xml?api_key={key}"))
    assert one.findtext("request/service_request_id") == number
    assert one.findtext("request/status") == "open"
    listed = xml(client.get(f"{BASE}/requests.xml?api_key={key}"))
    assert number in [r.findtext("service_request_id") for r in listed.findall("request")]


def test_errors_are_open311_lists(server: dict[str, str], hotline: tuple[ServiceAccount, str]) -> None:
    _account, key = hotline
    client = HttpClient(server["url"])
    before = Case.objects.count()
    missing = form(client, f"{BASE}/requests.json", {**report(key), "api_key": ""})
    assert missing.status == 403
    assert missing.json() == [{"code": 403, "description": "缺少 api_key（服务账号的令牌）。"}]
    wrong = form(client, f"{BASE}/requests.json", report("zzs_not-a-token"))
    assert wrong.status == 403 and wrong.json()[0]["description"] == "api_key 无效、已过期或已吊销。"
    unknown = form(client, f"{BASE}/requests.json", report(key, service_code="nonsense"))
    assert unknown.status == 400
    assert unknown.json() == [{"code": 400, "description": "service_code：未知的服务代码“nonsense”。"}]
    nowhere = form(client, f"{BASE}/requests.json", {**report(key), "lat": "", "address_string": ""})
    assert nowhere.status == 400 and "位置" in nowhere.json()[0]["description"]
    empty = form(client, f"{BASE}/requests.json", report(key, description=""))
    assert empty.status == 400 and empty.json() == [{"code": 400, "description": "description：请填写纠纷情况。"}]
    outside = form(client, f"{BASE}/requests.json", report(key, jurisdiction_id="152531"))
    assert outside.status == 400 and "jurisdiction_id" in outside.json()[0]["description"]
    error = xml(form(client, f"{BASE}/requests.xml", report(key, service_code="nonsense")))
    assert error.tag == "errors" and error.findtext("error/code") == "400"
    assert Case.objects.count() == before
    assert client.get(f"{BASE}/requests/000000000000000000.json?api_key={key}").status == 404
    bad_date = client.get(f"{BASE}/requests.json?api_key={key}&start_date=yesterday")
    assert bad_date.status == 400 and "start_date" in bad_date.json()[0]["description"]


def test_rights_and_jurisdiction_hold(server: dict[str, str], committed: None) -> None:
    _reader, read_only = open_account("cases:read", org="152502-D01", region="152502")
    client = HttpClient(server["url"])
    refused = form(client, f"{BASE}/requests.json", report(read_only))
    assert refused.status == 403 and "cases:write" in refused.json()[0]["description"]
    _hotline, key = open_account("cases:read,cases:write", org="152502-D01", region="152502")
    number = form(client, f"{BASE}/requests.json", report(key)).json()[0]["service_request_id"]
    _duolun, other = open_account("cases:read", org="152531-D01", region="152531")
    assert client.get(f"{BASE}/requests/{number}.json?api_key={other}").status == 404
    assert number not in [r["service_request_id"] for r in client.get(f"{BASE}/requests.json?api_key={other}").json()]


def test_a_civic_app_registers_online_cases_and_closed_cases_say_so(server: dict[str, str], committed: None) -> None:
    from zongzhi.accounts.models import User
    from zongzhi.cases import services

    account, key = open_account("cases:read,cases:write", org="152502-D01", region="152502")
    account.open311_channel = ServiceAccount.Channel.PORTAL
    account.save(update_fields=["open311_channel"])
    client = HttpClient(server["url"])
    number = form(client, f"{BASE}/requests.json", report(key)).json()[0]["service_request_id"]
    case = Case.objects.get(number=number)
    assert case.channel == "portal"
    clerk = User.objects.filter(memberships__role="intake_clerk", memberships__center=case.center).first()
    assert clerk is not None, case.center
    services.case_act(case=case, action="reject", actor=clerk, version=case.version, reason="不属于受理范围")
    [one] = client.get(f"{BASE}/requests/{number}.json?api_key={key}").json()
    assert (one["status"], one["status_notes"]) == ("closed", "不予受理")
    assert json.dumps(one, ensure_ascii=False).count(number) == 1


def test_a_hotline_retry_with_its_idempotency_key_registers_once(
    server: dict[str, str], hotline: tuple[ServiceAccount, str]
) -> None:
    _account, key = hotline
    client = HttpClient(server["url"])
    fields = report(key)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": uuid.uuid4().hex}
    first = client.request("POST", f"{BASE}/requests.json", urllib.parse.urlencode(fields).encode(), headers)
    again = client.request("POST", f"{BASE}/requests.json", urllib.parse.urlencode(fields).encode(), headers)
    assert first.status == again.status == 200 and first.body == again.body
    assert again.headers["idempotent-replayed"] == "true"
    assert Case.objects.filter(description=fields["description"]).count() == 1
