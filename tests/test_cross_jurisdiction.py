"""Cross-jurisdiction work is explicit: a case goes outside its county only to orgs serving it.

A Xilinhot case is assigned or coordinated to the orgs of Xilinhot, to the league's departments
(seeded as serving the whole league) and to a listed partner (a `ServiceArea`: here Duolun's
司法局 for Xilinhot). Any other org of another county is a 422 naming the field, on the case page
and in the API, and nothing is written. The partner's liaison, whose own jurisdiction is Duolun,
reads that case and gets 404 for every other case of Xilinhot.

The page and API tests run through a real HTTP client (session + CSRF) against the live server,
on committed data; each partner area they add is removed again.
"""

import uuid
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Q
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import DUOLUN, XILINHOT
from tests.http_client import HttpClient, logged_in
from tests.test_case_handling import in_progress
from tests.test_case_lifecycle import register, who
from zongzhi import access
from zongzhi.accounts import services as accounts
from zongzhi.accounts.models import Role, User
from zongzhi.audit.models import AuditEntry
from zongzhi.cases import services
from zongzhi.cases.actions import ref_choices
from zongzhi.cases.models import Assignment, Case, CoordinationRequest, State
from zongzhi.centers.models import Org, ServiceArea
from zongzhi.centers.services import service_area_add, service_area_remove
from zongzhi.regions import codes
from zongzhi.regions.models import Region

LEAGUE_DEPT = "1525-D05"
PARTNER = "152531-D05"  # Duolun 司法局, listed as serving Xilinhot while a test runs
HELPER = "152531-D06"  # another Duolun department, listed for the coordination test
REACHED = "152531-D08"  # another Duolun department, listed and taken off again by one test
OTHER = "152531-D07"  # another Duolun department, never serving Xilinhot


@pytest.fixture
def base(server: dict[str, str], django_db_blocker) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The live server's address, with the ORM on the committed data it sees."""
    with django_db_blocker.unblock():
        yield server["url"]


def listed(code: str) -> Iterator[Org]:
    """The org listed as serving Xilinhot while the test runs (each test its own, so it receives one case)."""
    org = Org.objects.get(code=code)
    area = service_area_add(actor=None, org=org, region=Region.objects.get(code=XILINHOT))
    yield org
    service_area_remove(actor=None, area=area)


@pytest.fixture
def partner(base: str) -> Iterator[Org]:
    yield from listed(PARTNER)


@pytest.fixture
def helper(base: str) -> Iterator[Org]:
    yield from listed(HELPER)


def liaison_of(org: Org) -> User:
    """A new liaison of `org`, whose own jurisdiction is Duolun, with an enrolled second factor."""
    user = accounts.user_create(
        actor=None, username=f"t-liaison-{uuid.uuid4().hex[:6]}", full_name="联络员", password=None
    )
    accounts.membership_grant(actor=None, user=user, role=Role.DEPT_LIAISON, org=org, cli=True)
    accounts.jurisdiction_grant(actor=None, user=user, region=Region.objects.get(code=DUOLUN))
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def accepted() -> Case:
    case = register()
    return services.case_act(case=case, action="accept", actor=who("intake"), version=case.version)


def another_xilinhot_case(case: Case) -> str:
    found = Case.objects.filter(region_code__startswith="152502").exclude(pk=case.pk).order_by("pk").first()
    assert found is not None
    return found.number


def refusal(org: Org, title: str) -> str:
    return f"{title}“{org.name}”不在本案所在旗县，也未设置为服务本旗县"


def sees_only(client: HttpClient, number: str, other: str) -> None:
    """The receiving liaison reads the case, and nothing else of its county (404 as for a missing one)."""
    assert client.get(f"/staff/cases/{number}/").status == 200
    assert client.get(f"/api/v1/cases/{number}").status == 200
    assert client.get(f"/staff/cases/{other}/").status == 404
    assert client.get(f"/api/v1/cases/{other}").status == 404
    listed = client.get("/api/v1/cases?region=152502&page_size=100").json()
    assert [c["number"] for c in listed["results"]] == [number]
    assert client.get(f"/staff/regions/{XILINHOT}/").status == 404
    assert client.get("/staff/centers/ZZ-152502/").status == 404


def test_an_org_of_another_county_not_serving_it_is_refused_on_the_page_and_in_the_api(base: str) -> None:
    case = accepted()
    director = logged_in(base, "demo-director")
    other = Org.objects.get(code=PARTNER)  # not listed in this test
    page = director.get(f"/staff/cases/{case.number}/").text
    assert f'value="{LEAGUE_DEPT}"' in page and 'value="152502-D05"' in page
    assert f'value="{PARTNER}"' not in page
    answer = director.post_form(f"/staff/cases/{case.number}/do/assign/", {"lead": PARTNER, "version": case.version})
    assert answer.status == 422 and refusal(other, "主办单位") in answer.text, answer.text[:500]
    api = director.post_json(f"/api/v1/cases/{case.number}/actions/assign", {"lead": PARTNER, "version": case.version})
    assert api.status == 422 and list(api.json()["errors"]) == ["lead"]
    assert api.json()["errors"]["lead"][0].startswith(refusal(other, "主办单位"))
    co = director.post_json(
        f"/api/v1/cases/{case.number}/actions/assign",
        {"lead": "152502-D05", "co": [PARTNER], "version": case.version},
    )
    assert co.status == 422 and co.json()["errors"]["co.0.org"][0].startswith(refusal(other, "协办单位"))
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.state == State.ACCEPTED and fresh.version == case.version
    assert not Assignment.objects.filter(case=case).exists()


def test_the_service_refuses_it_too_whoever_calls(base: str) -> None:
    case = accepted()
    other = Org.objects.get(code=OTHER)
    with pytest.raises(ValidationError) as error:
        services.case_assign(case=case, actor=who("director"), version=case.version, lead=other)
    assert error.value.message_dict == {"lead": [refusal(other, "主办单位") + "，不能接收本案。"]}
    assert not Assignment.objects.filter(case=case).exists()


def test_a_listed_partner_receives_the_case_and_sees_nothing_else_of_the_county(base: str, partner: Org) -> None:
    case = accepted()
    director = logged_in(base, "demo-director")
    assert f'value="{PARTNER}"' in director.get(f"/staff/cases/{case.number}/").text
    answer = director.post_form(f"/staff/cases/{case.number}/do/assign/", {"lead": PARTNER, "version": case.version})
    assert answer.status == 302, answer.text[:500]
    liaison = logged_in(base, liaison_of(partner).username)
    sees_only(liaison, case.number, another_xilinhot_case(case))
    version = liaison.get(f"/api/v1/cases/{case.number}").json()["version"]
    signed = liaison.post_json(f"/api/v1/cases/{case.number}/actions/sign_for", {"version": version})
    assert signed.status == 200 and signed.json()["state"] == "in_progress", signed.text[:500]


def test_a_partner_keeps_reading_its_case_after_its_service_area_is_taken_off(base: str) -> None:
    """Its reach (the codes its cases may lie in, named by every read of its users) is widened when an
    area is listed and never narrowed: the case pushed to it while listed stays its to read and handle."""
    org = Org.objects.get(code=REACHED)
    area = service_area_add(actor=None, org=org, region=Region.objects.get(code=XILINHOT))
    org.refresh_from_db()
    assert org.reach_from <= "152502" and org.reach_to >= "152502999999999"
    case = accepted()
    director = logged_in(base, "demo-director")
    pushed = director.post_json(
        f"/api/v1/cases/{case.number}/actions/assign", {"lead": REACHED, "version": case.version}
    )
    assert pushed.status == 200, pushed.text[:500]
    service_area_remove(actor=None, area=area)
    org.refresh_from_db()
    assert org.reach_from <= "152502" and org.reach_to >= "152502999999999"
    liaison = logged_in(base, liaison_of(org).username)
    sees_only(liaison, case.number, another_xilinhot_case(case))
    queue = liaison.get("/api/v1/cases?queue=to_sign&region=152502&page_size=100").json()
    assert [c["number"] for c in queue["results"]] == [case.number]
    version = liaison.get(f"/api/v1/cases/{case.number}").json()["version"]
    signed = liaison.post_json(f"/api/v1/cases/{case.number}/actions/sign_for", {"version": version})
    assert signed.status == 200 and signed.json()["state"] == "in_progress", signed.text[:500]


def test_the_league_departments_take_a_case_through_the_api(base: str) -> None:
    case = accepted()
    director = logged_in(base, "demo-director")
    api = director.post_json(
        f"/api/v1/cases/{case.number}/actions/assign", {"lead": LEAGUE_DEPT, "version": case.version}
    )
    assert api.status == 200 and api.json()["state"] == "assigned", api.text[:500]
    assert Assignment.objects.get(case=case).org.code == LEAGUE_DEPT


def test_coordination_outside_the_county_only_with_serving_orgs(base: str, helper: Org) -> None:
    case = in_progress()  # led by Xilinhot's 司法局 (demo-liaison)
    lead, director = logged_in(base, "demo-liaison"), logged_in(base, "demo-director")
    other = Org.objects.get(code=OTHER)
    message = {"to_org": OTHER, "message": "请协助核实当事人在多伦县的草场承包情况。"}
    api = lead.post_json(f"/api/v1/cases/{case.number}/actions/coordination", message)
    assert api.status == 422 and api.json()["errors"]["to_org"][0].startswith(refusal(other, "请求协调的单位"))
    page = director.post_form(f"/staff/cases/{case.number}/do/coordination/", message)
    assert page.status == 422 and refusal(other, "请求协调的单位") in page.text
    assert not CoordinationRequest.objects.filter(case=case).exists()
    asked = lead.post_json(f"/api/v1/cases/{case.number}/actions/coordination", {**message, "to_org": HELPER})
    assert asked.status == 200, asked.text[:500]
    by_page = director.post_form(f"/staff/cases/{case.number}/do/coordination/", {**message, "to_org": LEAGUE_DEPT})
    assert by_page.status == 302, by_page.text[:500]
    liaison = logged_in(base, liaison_of(helper).username)
    sees_only(liaison, case.number, another_xilinhot_case(case))
    request = CoordinationRequest.objects.get(case=case, to_org=helper)
    reply = liaison.post_json(
        f"/api/v1/cases/{case.number}/actions/coordination_reply",
        {"coordination": request.pk, "reply": "经核实，该草场承包在多伦县无登记。"},
    )
    assert reply.status == 200, reply.text[:500]


def test_the_system_administrator_lists_a_partner_on_its_page_and_takes_it_off(base: str) -> None:
    sysadmin = logged_in(base, "demo-sysadmin")
    page = sysadmin.get("/staff/centers/service-areas/")
    assert page.status == 200 and "盟司法局" in page.text
    add = {"add": "1", "org_code": HELPER, "region_code": XILINHOT}
    missing = sysadmin.post_form("/staff/centers/service-areas/", {**add, "org_code": "152531-D99"})
    assert missing.status == 422 and "单位代码：单位代码“152531-D99”不存在。" in missing.text
    own = sysadmin.post_form("/staff/centers/service-areas/", {**add, "org_code": "152502-D05"})
    assert own.status == 422 and "服务区划“锡林浩特市”在" in own.text and "本旗县之内，无需设置" in own.text
    refused = logged_in(base, "demo-director").post_form("/staff/centers/service-areas/", add)
    assert refused.status == 403
    assert not ServiceArea.objects.filter(org__code=HELPER).exists()
    assert sysadmin.post_form("/staff/centers/service-areas/", add).status == 302
    area = ServiceArea.objects.get(org__code=HELPER, region__code=XILINHOT)
    case = accepted()
    assert f'value="{HELPER}"' in logged_in(base, "demo-director").get(f"/staff/cases/{case.number}/").text
    assert sysadmin.post_form("/staff/centers/service-areas/", {"remove": str(area.pk)}).status == 302
    assert not ServiceArea.objects.filter(org__code=HELPER).exists()
    assert f'value="{HELPER}"' not in logged_in(base, "demo-director").get(f"/staff/cases/{case.number}/").text
    trail = AuditEntry.objects.filter(target=HELPER, actor_name="demo-sysadmin").order_by("id")
    assert list(trail.values_list("action", flat=True)) == ["service_area_added", "service_area_removed"]


@pytest.mark.django_db
def test_league_departments_are_seeded_to_serve_every_county_and_the_choices_offer_only_serving_orgs() -> None:
    league = Region.objects.get(level="league")
    departments = Org.objects.filter(kind=Org.Kind.DEPARTMENT, region=league)
    assert departments.count() >= 5
    areas = ServiceArea.objects.filter(org__in=departments, region=league, prefix="1525")
    assert areas.count() == departments.count()
    seeded = AuditEntry.objects.filter(action="service_area_added", actor_name="cli")
    assert set(seeded.values_list("target", flat=True)) >= set(departments.values_list("code", flat=True))
    duolun_case = Case.objects.filter(region_code__startswith="152531").order_by("pk").first()
    assert duolun_case is not None
    offered = {code for code, _name in ref_choices("org", duolun_case, who("director"))}
    county = Org.objects.filter(region_code__startswith="152531").exclude(kind=Org.Kind.MEDIATION_COMMITTEE)
    # Of the people's mediation committees, only the case's own: stationed at its center, or of its
    # township or village (a township center or a village station hands a case to its committee).
    code = duolun_case.region_code
    own = Org.objects.filter(kind=Org.Kind.MEDIATION_COMMITTEE).filter(
        Q(presences__center=duolun_case.center) | Q(region_code__in=[f"{code[:9]}000", code[:12]])
    )
    assert offered == set(county.values_list("code", flat=True)) | set(
        departments.values_list("code", flat=True)
    ) | set(own.values_list("code", flat=True))
    assert not offered & set(
        Org.objects.filter(kind=Org.Kind.MEDIATION_COMMITTEE, region_code__startswith="152531")
        .exclude(pk__in=own)
        .values_list("code", flat=True)
    )


@pytest.mark.django_db
def test_an_orgs_reach_is_its_county_and_its_service_areas() -> None:
    """Every read of an org's user names one range of region codes: here the league for a league
    department (serving the whole league), Duolun for a Duolun department, with their own jurisdiction."""
    league = liaison_of(Org.objects.get(code=LEAGUE_DEPT))
    assert access.reach_of(league) == ("1525", "152599999999999")
    duolun = liaison_of(Org.objects.get(code=OTHER))
    assert access.reach_of(duolun) == ("152531", "152531999999999")
    leader = User.objects.get(username="demo-leader")
    assert access.reach_of(leader) == codes.span(access.scope_of(leader).prefixes)
    assert access.reach_of(User.objects.get(username="demo-sysadmin")) is None


@pytest.mark.django_db
def test_the_command_lists_a_partner_and_takes_it_off_again(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("service_area", PARTNER, XILINHOT)
    assert ServiceArea.objects.filter(org__code=PARTNER, region__code=XILINHOT, prefix="152502").exists()
    call_command("service_area", PARTNER, XILINHOT, "--remove")
    assert not ServiceArea.objects.filter(org__code=PARTNER).exists()
    assert "已设置" in capsys.readouterr().out
    assert list(
        AuditEntry.objects.filter(target=PARTNER, action__startswith="service_area").values_list("action", flat=True)
    ) == ["service_area_removed", "service_area_added"]
