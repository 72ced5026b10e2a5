"""The catalogue of case actions: one entry per action, each with its service and its documented API.

Also joint handling (联合调处) to the end and the asked agency's answer, through the services and the pages.
"""

import inspect

import pytest
from django.test import Client

from tests.catalogue_cases import CO, COURT, LEAD, accepted, in_progress
from tests.conftest import verified_client
from tests.test_case_lifecycle import who
from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.cases import selectors, services
from zongzhi.cases.catalogue import ACTIONS
from zongzhi.cases.models import Assignment, Case, State
from zongzhi.cases.workflow import TRANSITIONS
from zongzhi.centers.models import Org

SERVICE_ONLY = {"case", "actor", "upload", "request", "system"}


def test_every_action_has_one_service_whose_parameters_are_the_schema() -> None:
    assert set(TRANSITIONS) <= set(ACTIONS)
    for name, entry in ACTIONS.items():
        assert entry.service is not None, f"{name} has no service"
        signature = inspect.signature(entry.service)
        accepted = set(signature.parameters) - SERVICE_ONLY
        assert accepted == set(entry.body.model_fields), (name, accepted, set(entry.body.model_fields))
        assert entry.states, name
        assert entry.roles, name


@pytest.mark.django_db
def test_openapi_documents_every_action_its_parameters_and_its_refusals() -> None:
    document = verified_client(User.objects.get(username="demo-director")).get("/api/v1/openapi.json").json()
    for name, entry in ACTIONS.items():
        operation = document["paths"][f"/api/v1/cases/{{number}}/actions/{name}"]["post"]
        assert set(operation["responses"]) == {"200", "401", "403", "404", "409", "422"}, name
        if entry.upload:
            assert "multipart/form-data" in operation["requestBody"]["content"], name
            continue
        if not entry.body.model_fields:
            assert "requestBody" not in operation, name
            continue
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        properties = document["components"]["schemas"][ref]["properties"]
        assert set(properties) == set(entry.body.model_fields), name
        assert all(p.get("title") for p in properties.values()), name  # Chinese titles for every parameter
    supervise = document["paths"]["/api/v1/cases/{number}/actions/supervise"]["post"]
    ref = supervise["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    days = document["components"]["schemas"][ref]["properties"]["days"]
    assert (days["minimum"], days["maximum"]) == (1, 30)


@pytest.mark.django_db
def test_joint_handling_every_co_handler_signs_for_records_its_part_and_finishes() -> None:
    case = accepted()
    case = services.case_assign(case=case, actor=who("director"), version=case.version, lead=_org(LEAD), co=[_org(CO)])
    mediator = who("mediator")
    assert access.allowed_actions(mediator, case)[:2] == ["sign_for", "return"]
    case = services.case_sign_for(case=case, actor=mediator, version=case.version)  # the co-handler first
    assert case.state == State.ASSIGNED  # the lead has not signed for yet
    case = services.case_sign_for(case=case, actor=who("liaison"), version=case.version)
    assert case.state == State.IN_PROGRESS
    mediator = who("mediator")
    assert access.case_may(mediator, case, "part_done")
    services.co_handler_finish(case=case, actor=mediator, part="已到牧户家中做通工作，双方同意分期。")
    co = case.assignments.get(org__code=CO)
    assert co.status == Assignment.Status.DONE and co.part.startswith("已到牧户家中") and co.finished_by == mediator
    assert co.signed_by == who("mediator") and co.signed_at is not None
    assert not access.case_may(who("mediator"), case, "part_done")  # finished once
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["sign_for", "sign_for", "part_done"]
    page = verified_client(who("director")).get(f"/staff/cases/{case.number}/").content.decode()
    assert f'data-org="{CO}" data-status="done"' in page and f'data-org="{LEAD}" data-status="signed"' in page
    assert "已到牧户家中做通工作" in page


@pytest.mark.django_db
def test_the_asked_agency_answers_a_coordination_request_from_its_queue() -> None:
    case = in_progress()
    services.coordination_request(case=case, actor=who("liaison"), to_org=_org(COURT), message="请法官提前释法")
    judge = who("judge")
    assert case.number in selectors.queue(judge, "to_coordinate").values_list("number", flat=True)
    client: Client = verified_client(judge)
    queue = client.get("/staff/cases/?queue=to_coordinate").content.decode()
    assert case.number in queue and "待协调" in queue
    request = case.coordination_requests.get()
    answered = client.post(
        f"/staff/cases/{case.number}/do/coordination_reply/", {"coordination": request.pk, "reply": "同意派员"}
    )
    assert answered.status_code == 302
    request.refresh_from_db()
    assert request.reply == "同意派员" and request.replied_at is not None
    assert case.number not in selectors.queue(who("judge"), "to_coordinate").values_list("number", flat=True)
    again = client.post(
        f"/staff/cases/{case.number}/do/coordination_reply/", {"coordination": request.pk, "reply": "再答"}
    )
    assert again.status_code == 403  # nothing awaits the court's answer any more
    assert Case.objects.get(pk=case.pk).events.filter(kind="coordination_reply").count() == 1


@pytest.mark.django_db
def test_supervision_is_not_offered_or_accepted_on_a_withdrawn_case() -> None:
    case = in_progress()
    case = services.case_withdraw(case=case, actor=who("director"), version=case.version, reason="申请人撤回")
    leader = who("leader")
    assert not access.case_may(leader, case, "supervise")
    response = verified_client(leader).post(
        f"/api/v1/cases/{case.number}/actions/supervise", {"kind": "handover", "reason": "x"}, "application/json"
    )
    assert response.status_code == 422 and "已撤回" in response.json()["detail"]


def _org(code: str) -> Org:
    return Org.objects.get(code=code)
