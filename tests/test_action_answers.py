"""An action's answer tells what the actor may do next; it must be what a fresh read of the case says.

The answer is built from what the action already read and wrote (the case's own read says whether it
has contactable parties, supervisions and open coordination requests; sign-for carries the actor's
roles forward to the new version). Each step below compares the answer's `allowed_actions` with
`access.allowed_actions` of the same user read anew, on the case as its page reads it.
"""

import json
from typing import Any

import pytest
from django.test import Client

from tests.catalogue_cases import CO, LEAD
from tests.conftest import verified_client
from tests.test_case_lifecycle import register, who
from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.cases import selectors
from zongzhi.cases.models import Case, CoordinationRequest, Supervision
from zongzhi.cases.services import PartyInput

pytestmark = pytest.mark.django_db


def _act(name: str, number: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    client: Client = verified_client(who(name))
    answer = client.post(f"/api/v1/cases/{number}/actions/{action}", json.dumps(body), content_type="application/json")
    assert answer.status_code == 200, (action, answer.status_code, answer.content[:300])
    return answer.json()  # type: ignore[no-any-return]


def _afresh(name: str, number: str) -> list[str]:
    user = User.objects.get(pk=who(name).pk)  # no roles or memberships held over from the request
    return access.allowed_actions(user, selectors.case_get(user, number))


def _step(name: str, number: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = _act(name, number, action, body)
    assert answer["allowed_actions"] == _afresh(name, number), (name, action)
    return answer


def test_every_answer_on_the_way_says_what_a_fresh_read_says() -> None:
    case = register()
    n = case.number

    def version() -> int:
        return Case.objects.get(pk=case.pk).version

    _step("intake", n, "accept", {"version": case.version})
    assert "unmask" in _afresh("intake", n)  # the applicant has a phone and an ID number
    _step("director", n, "assign", {"version": version(), "lead": LEAD, "co": [CO]})
    answer = _step("liaison", n, "sign_for", {"version": version()})  # the lead: the case moves on
    assert "sign_for" not in answer["allowed_actions"] and "resolve" in answer["allowed_actions"]
    _step("liaison", n, "coordination", {"to_org": CO, "message": "请协助核实草场边界。"})
    answer = _step("mediator", n, "sign_for", {"version": version()})  # a co-handler, and the asked org
    assert "coordination_reply" in answer["allowed_actions"]
    asked = CoordinationRequest.objects.get(case=case)
    answer = _step("mediator", n, "coordination_reply", {"coordination": asked.pk, "reply": "已核实。"})
    assert "coordination_reply" not in answer["allowed_actions"]
    _step("director", n, "supervise", {"kind": "supervision", "reason": "请加快办理。", "days": 5})
    assert "supervision_reply" in _afresh("liaison", n)
    issued = Supervision.objects.get(case=case)
    answer = _step("liaison", n, "supervision_reply", {"supervision": issued.pk, "reply": "正在调解。"})
    assert "supervision_reply" not in answer["allowed_actions"]


def test_a_case_without_contact_details_offers_no_unmasking_in_its_answer() -> None:
    case = register(
        parties=[
            PartyInput(kind="person", role="applicant", name="巴特尔"),
            PartyInput(kind="person", role="respondent", name="其其格"),
        ]
    )
    answer = _step("intake", case.number, "accept", {"version": case.version})
    assert "unmask" not in answer["allowed_actions"]
    assert "unmask" in _step("intake", register().number, "accept", {"version": 1})["allowed_actions"]
