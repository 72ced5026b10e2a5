"""The window intake forgives, through a real HTTP client against the live server.

After an error everything typed comes back (parties included) from that answer alone, never from a
cookie, a URL or a session row; each wrong field is marked where it is and listed on top with a link.
The region is picked county → township → village → grid inside the clerk's jurisdiction (with and
without script), parties are checked against the village's registry in the page and the API alike,
and the director gives each handler a deadline of its own. These tests hold no transaction (the
server writes), so what they set up through the services stays committed, like the browser tests'.
"""

import datetime
import html
import random
import re
from collections.abc import Iterator

import pytest
from django.contrib.sessions.models import Session

from tests.browsing import Http
from tests.catalogue_cases import CO, LEAD, accepted
from tests.test_case_api import body
from zongzhi.accounts.models import User
from zongzhi.cases.models import Assignment, Case
from zongzhi.grid import services as grid_services
from zongzhi.grid.models import GridWorker
from zongzhi.identity import make_resident_id

XILINHOT = "152502000000"
TOWNSHIP = "152502001000"  # 希日塔拉街道
VILLAGE = "152502001001"  # 白马社区


@pytest.fixture
def committed(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The ORM on the committed data the server sees (no test transaction around it)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="module")
def clerk(server: dict[str, str]) -> Http:
    return Http(server, "demo-intake")


def fresh_id() -> str:
    """A valid resident ID no earlier run of this test has used."""
    birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=random.randrange(20_000))
    return make_resident_id("152502", birth, random.randrange(1000))


def value_of(page: str, element_id: str) -> str:
    """The value an input of the answer carries (its `value` attribute, or a select's selected option)."""
    tag = re.search(rf'<(input|select|textarea)[^>]*\bid="{element_id}"[^>]*>', page)
    assert tag, element_id
    if tag.group(1) == "input":
        found = re.search(r'\bvalue="([^"]*)"', tag.group(0))
        return html.unescape(found.group(1)) if found else ""
    rest = page[tag.end() :]
    if tag.group(1) == "textarea":
        return html.unescape(rest[: rest.index("</textarea>")])
    options = rest[: rest.index("</select>")]
    chosen = re.search(r'<option value="([^"]*)" selected>', options)
    return chosen.group(1) if chosen else ""


def test_an_error_keeps_everything_typed_and_marks_each_wrong_field(clerk: Http, committed: None) -> None:
    applicant_id, respondent_id = fresh_id(), fresh_id()
    typed = {
        "category": "neighbour",
        "region_county": XILINHOT,
        "region_township": TOWNSHIP,
        "region_village": VILLAGE,
        "location": "白马社区 3 号楼后",
        "title": "",  # wrong: the title is required
        "description": "宽容测试：楼上漏水，楼下要求赔偿装修损失。",
        "amount": "5000",
        "people_involved": "2",
        "party0_kind": "person",
        "party0_name": "其其格",
        "party0_id": applicant_id,
        "party0_phone": "13904790001",
        "party0_address": "白马社区 3 号楼 201",
        "party1_kind": "person",
        "party1_name": "巴特尔",
        "party1_id": respondent_id,
        "party1_phone": "139",  # wrong: too short
        "party1_address": "白马社区 3 号楼 301",
    }
    answer = clerk.form("/staff/cases/new/", typed)
    assert answer.status == 422, answer.text[:500]
    page = answer.text
    ids = {
        "category": "id_category",
        "region_township": "id_region_township",
        "region_village": "id_region_village",
        "location": "id_location",
        "description": "id_description",
        "amount": "id_amount",
        "people_involved": "id_people",
    }
    ids |= {f"party{i}_{k}": f"id_party{i}_{k}" for i in (0, 1) for k in ("kind", "name", "id", "phone", "address")}
    for name, element in ids.items():
        assert value_of(page, element) == typed[name], name
    # Each wrong field is marked in place, its message next to it, and listed on top with a link to it.
    for element, message in (("id_title", "请填写事由。"), ("id_party1_phone", "联系电话应为 7–12 位数字")):
        tag = re.search(rf'<input[^>]*\bid="{element}"[^>]*>', page)
        assert tag and 'aria-invalid="true"' in tag.group(0), element
        assert f'aria-describedby="{element}_error"' in tag.group(0)
        assert re.search(rf'id="{element}_error">[^<]*{message}', page), element
        assert f'<a href="#{element}" data-field="{element}">' in page
    assert page.count('aria-invalid="true"') == 2
    assert 'id="error-summary" role="alert"' in page
    # Nothing typed went anywhere but into this answer.
    assert not Case.objects.filter(description=typed["description"]).exists()
    assert "Location" not in answer.headers
    for header in answer.headers.get_all("Set-Cookie") or []:
        assert applicant_id not in header and "13904790001" not in header and "其其格" not in header
    for session in Session.objects.all():
        kept = str(session.get_decoded())
        assert applicant_id not in kept and "13904790001" not in kept and "其其格" not in kept

    # Fixed, the same answer registers the case with both parties as typed.
    fixed = clerk.form("/staff/cases/new/", {**typed, "title": "漏水纠纷", "party1_phone": "13904790002"})
    assert fixed.status == 302, fixed.text[:800]
    case = Case.objects.get(description=typed["description"])
    assert case.region_code == VILLAGE
    parties = {p.name: p for p in case.parties.all()}
    assert parties["其其格"].id_number == applicant_id and parties["其其格"].address == "白马社区 3 号楼 201"
    assert parties["巴特尔"].phone == "13904790002" and parties["巴特尔"].role == "respondent"


def test_the_region_is_picked_level_by_level_inside_the_jurisdiction(clerk: Http, committed: None) -> None:
    page = clerk.get("/staff/cases/new/").text
    assert value_of(page, "id_region_county") == XILINHOT  # the clerk's county: the only one there is
    assert value_of(page, "id_region_township") == ""  # nothing chosen for the clerk
    assert re.search(r'<select id="id_region_village"[^>]*disabled', page)
    villages = clerk.get(f"/staff/cases/new/regions/?parent={TOWNSHIP}")
    assert villages.status == 200 and f'<option value="{VILLAGE}">白马社区</option>' in villages.text
    # Another county, or a code that is no region: the same 404.
    assert clerk.get("/staff/cases/new/regions/?parent=152531000000").status == 404
    assert clerk.get("/staff/cases/new/regions/?parent=152599999999").status == 404
    # Without script the form posts itself back to list the next level, keeping what was typed.
    listed = clerk.form(
        "/staff/cases/new/",
        {"region_county": XILINHOT, "region_township": TOWNSHIP, "title": "无脚本选区划", "pick": "1"},
    )
    assert listed.status == 200 and f'<option value="{VILLAGE}">白马社区</option>' in listed.text
    assert value_of(listed.text, "id_title") == "无脚本选区划" and "error-summary" not in listed.text
    # A township left over from before the county changed is not taken; choosing nothing is said so.
    stale = clerk.form(
        "/staff/cases/new/",
        {"category": "neighbour", "region_county": XILINHOT, "region_township": "152531100000", "title": "x"},
    )
    assert stale.status == 422
    assert re.search(
        r'<select id="id_region_township"[^>]*aria-invalid="true"[^>]*aria-describedby="region_error"', stale.text
    )
    assert "请选择发生地" in stale.text and '<a href="#id_region_township"' in stale.text


def test_parties_are_checked_against_the_villages_registry_on_the_page_and_in_the_api(
    clerk: Http, committed: None
) -> None:
    gao = User.objects.get(username="demo-gridworker")
    grid = GridWorker.objects.filter(user=gao).select_related("grid__parent").first().grid  # type: ignore[union-attr]
    village = grid.parent
    assert village is not None and village.code.startswith("152502")
    number = fresh_id()
    household = grid_services.household_register(actor=gao, village=village, grid=grid, address="登记测试 1 号")
    grid_services.resident_add(
        actor=gao,
        household=household,
        name="阿拉坦",
        relation="head",
        ethnicity="蒙古族",
        language="mn",
        id_number=number,
    )
    payload = body(region=village.code, description="登记核对测试：草场围栏纠纷。")
    payload["parties"][0] |= {"name": "阿拉坦", "id_number": number}
    check = clerk.form(
        "/staff/cases/new/check/",
        {
            "category": "labour",
            "region": village.code,
            "description": payload["description"],
            "people_involved": "100000",
            "party0_name": "阿拉坦",
            "party0_id": number,
        },
    )
    assert check.status == 200
    assert "申请人 阿拉坦：证件号与本村登记居民一致" in check.text
    assert f'href="/staff/grid/households/{household.code}/"' in check.text
    assert "超过本嘎查村社区登记的人口" in check.text
    # The API registers through the same service and says the same.
    living = int(re.search(r"登记的人口 (\d+) 人", check.text).group(1))  # type: ignore[union-attr]
    answer = clerk.post_json("/api/v1/cases", {**payload, "people_involved": living + 1})
    assert answer.status == 201, answer.text
    case = answer.json()
    assert case["registry"] == [{"party": 0, "household": household.code, "same_name": True}]
    assert case["warnings"] == [f"涉及人数 {living + 1} 人，超过本嘎查村社区登记的人口 {living} 人，请核对。"]
    quiet = clerk.post_json("/api/v1/cases", body(region=village.code, people_involved=1, description="核对测试二"))
    assert quiet.status == 201 and quiet.json()["warnings"] == [] and quiet.json()["registry"] == []


def test_each_handler_gets_its_own_deadline_and_no_lead_is_chosen_for_the_director(
    server: dict[str, str], committed: None
) -> None:
    director = Http(server, "demo-director")
    case = accepted()
    page = director.get(f"/staff/cases/{case.number}/").text
    form = page[page.index('data-action="assign"') : page.index("</form>", page.index('data-action="assign"'))]
    lead = re.search(r'<select name="lead" required>(.*?)</select>', form, re.S)
    assert lead and lead.group(1).startswith('<option value="">') and " selected" not in lead.group(1)
    assert 'name="co.0.org"' in form and 'name="co.0.handle_days"' in form
    answer = director.post_json(
        f"/api/v1/cases/{case.number}/actions/assign",
        {"version": case.version, "lead": LEAD, "handle_days": 20, "co": [{"org": CO, "handle_days": 5}]},
    )
    assert answer.status == 200, answer.text
    deadlines = {a.org.code: a for a in Assignment.objects.filter(case=case).select_related("org")}
    assert deadlines[LEAD].handle_days == 20 and deadlines[CO].handle_days == 5
    assert deadlines[CO].deadline < deadlines[LEAD].deadline
    # The page's rows post the same; a deadline without an org is refused in its row.
    other = accepted()
    refused = director.form(
        f"/staff/cases/{other.number}/do/assign/",
        {"version": str(other.version), "lead": LEAD, "co.0.org": "", "co.0.handle_days": "5"},
    )
    assert refused.status == 422 and "填写了协办时限，请选择协办单位。" in refused.text
    done = director.form(
        f"/staff/cases/{other.number}/do/assign/",
        {"version": str(other.version), "lead": LEAD, "co.0.org": CO, "co.0.handle_days": "3"},
    )
    assert done.status == 302
    co = Assignment.objects.get(case=other, org__code=CO)
    assert co.handle_days == 3 and Assignment.objects.get(case=other, org__code=LEAD).handle_days is None
    # A co-handler added later gets its own deadline too.
    version = Case.objects.get(pk=other.pk).version
    added = director.post_json(
        f"/api/v1/cases/{other.number}/actions/co_handler", {"version": version, "org": "152502-D08", "handle_days": 7}
    )
    assert added.status == 200, added.text
    assert Assignment.objects.get(case=other, org__code="152502-D08").handle_days == 7
