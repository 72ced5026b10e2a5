"""Who sees a case and who may act on it: roles × in/out of jurisdiction × assigned or not.

The case lies in Xilinhot and is pushed to Xilinhot's 司法局 (lead) and, across the county line,
to Duolun's 司法局 (co-handler, configured as serving Xilinhot): Duolun's liaison sees it because it
was assigned to them, Duolun's intake clerk does not; the grid worker's scope is one grid; the
administrators read no cases.
"""

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import XILINHOT, verified_client
from tests.test_case_lifecycle import register, who
from zongzhi.accounts.models import User
from zongzhi.cases import services
from zongzhi.centers.models import Org
from zongzhi.centers.services import service_area_add
from zongzhi.regions.models import Region


def client_for(username: str) -> Client:
    user = User.objects.get(username=username)
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return verified_client(user)


PAGES = ["/staff/cases/{n}/", "/staff/cases/{n}/print/intake/", "/api/v1/cases/{n}"]
SEES = {
    "demo-intake": True,
    "demo-director": True,
    "demo-liaison": True,
    "demo-mediator": True,
    "demo-leader": True,
    "demo-judge": True,
    "demo-league": True,
    "demo-gridworker": False,
    "liaison-152531-D05": True,  # Duolun 司法局: out of jurisdiction, but the case was pushed to it
    "liaison-152531-D06": False,  # Duolun 信访局: out of jurisdiction, not assigned
    "clerk-152531-1": False,  # Duolun intake clerk
}
ADMINS = ["demo-sysadmin", "demo-secadmin", "demo-auditor"]


@pytest.fixture
def number(db) -> str:  # type: ignore[no-untyped-def]
    case = register()
    case = services.case_act(case=case, action="accept", actor=who("intake"), version=case.version)
    partner = Org.objects.get(code="152531-D05")
    service_area_add(actor=None, org=partner, region=Region.objects.get(code=XILINHOT))
    services.case_assign(
        case=case,
        actor=who("director"),
        version=case.version,
        lead=Org.objects.get(code="152502-D05"),
        co=[partner],
    )
    return case.number


@pytest.mark.parametrize("username", list(SEES))
def test_who_sees_the_case(number: str, username: str) -> None:
    client = client_for(username)
    expected = 200 if SEES[username] else 404
    for page in PAGES:
        assert client.get(page.format(n=number)).status_code == expected, (username, page)
    listed = number in [c["number"] for c in client.get("/api/v1/cases", {"page_size": 100}).json()["results"]]
    assert listed == SEES[username]


@pytest.mark.parametrize("username", ADMINS)
def test_administrators_read_no_cases(number: str, username: str) -> None:
    client = client_for(username)
    assert client.get(f"/staff/cases/{number}/").status_code == 403
    assert client.get("/staff/cases/").status_code == 403
    assert client.get(f"/api/v1/cases/{number}").status_code == 403


def test_only_the_assigned_orgs_can_sign_for_it(number: str) -> None:
    url = f"/api/v1/cases/{number}/actions/sign_for"
    version = client_for("demo-intake").get(f"/api/v1/cases/{number}").json()["version"]
    # Those who see the case but hold no assignment are refused; another county's liaison does not see it.
    refused = {"demo-intake": 403, "demo-mediator": 403, "demo-judge": 403, "liaison-152531-D06": 404}
    for username, status in refused.items():
        response = client_for(username).post(url, {"version": version}, content_type="application/json")
        assert response.status_code == status, username
    co = client_for("liaison-152531-D05").post(url, {"version": version}, content_type="application/json")
    assert co.status_code == 200 and co.json()["state"] == "assigned"  # a co-handler's signature moves nothing
    lead = client_for("demo-liaison").post(url, {"version": co.json()["version"]}, content_type="application/json")
    assert lead.status_code == 200 and lead.json()["state"] == "in_progress"


def test_actions_offered_on_the_page_match_the_role(number: str) -> None:
    director = client_for("demo-director").get(f"/staff/cases/{number}/").content.decode()
    assert "转办" in director and 'data-action="sign_for"' not in director
    liaison = client_for("demo-liaison").get(f"/staff/cases/{number}/").content.decode()
    assert 'data-action="sign_for"' in liaison and 'data-action="return"' in liaison and "转办" not in liaison
    leader = client_for("demo-leader").get(f"/staff/cases/{number}/").content.decode()
    assert "督办" in leader and 'data-action="sign_for"' not in leader
