"""Every catalogue action × every persona, through the case page's form and through the API, over real
HTTP against the live server (session cookie and CSRF token): both answer the same, both agree with
`access.case_may`, and an allowed action writes the same events on both sides, each of them an entry
of the audit chain naming the persona.

For each action two twin cases are prepared (through the services) in a state where the action is
available to someone; each persona then posts the action's form to one twin and its API body to
the other. A refusal must change neither case; an allowed action uses the twins up, so the next
persona gets a fresh pair.
"""

from typing import Any

from tests import real_files
from tests.catalogue_cases import BODIES, PREPARED
from tests.http_client import HttpClient, Response, logged_in
from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.audit.models import AuditEntry
from zongzhi.cases.catalogue import ACTIONS
from zongzhi.cases.models import Case, CaseEvent

PERSONAS = ["intake", "director", "liaison", "mediator", "gridworker", "leader", "judge", "league", "sysadmin"]
PNG = real_files.PNG


def _snapshot(case: Case) -> tuple[str, int, list[tuple[str, str, str]]]:
    fresh = Case.objects.get(pk=case.pk)
    events = list(fresh.events.order_by("id").values_list("kind", "from_state", "to_state"))
    return fresh.state, fresh.version, events


def _page(client: HttpClient, case: Case, name: str, body: dict[str, Any]) -> Response:
    url = f"/staff/cases/{case.number}/do/{name}/"
    files = {"file": ("现场照片.png", PNG)} if ACTIONS[name].upload else None
    return client.post_form(url, body, files)


def _api(client: HttpClient, case: Case, name: str, body: dict[str, Any]) -> Response:
    url = f"/api/v1/cases/{case.number}/actions/{name}"
    if ACTIONS[name].upload:
        return client.post_files(url, {"file": ("现场照片.png", PNG)})
    return client.post_json(url, body)


def _body(name: str, case: Case) -> dict[str, Any]:
    body = BODIES[name](case)
    if ACTIONS[name].versioned:
        body["version"] = Case.objects.get(pk=case.pk).version
    return body


def _last_event() -> int:
    return CaseEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _unaudited(since: int, cases: tuple[Case, Case], user: User) -> list[str]:
    """The events written since `since` on the twins that have no audit entry of `user`."""
    events = list(CaseEvent.objects.filter(case__in=cases, pk__gt=since).values_list("pk", "kind"))
    entries = AuditEntry.objects.filter(
        action=AuditEntry.Action.CASE_ACTION, detail__event_id__in=[e for e, _k in events]
    )
    audited = {entry.detail["event_id"] for entry in entries if entry.actor_id == user.pk}
    return [kind for pk, kind in events if pk not in audited]


def _succeeded(name: str, page: Response) -> bool:
    # A page action redirects back to the case (PRG); unmasking answers with the page showing the numbers once.
    return page.status == 302 or (name == "unmask" and page.status == 200)


def test_every_action_for_every_persona_agrees_on_page_and_api(server, django_db_setup, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    performed: dict[str, list[str]] = {}
    with django_db_blocker.unblock():
        clients = {p: logged_in(server["url"], f"demo-{p}") for p in PERSONAS}
        users = {p: User.objects.get(username=f"demo-{p}") for p in PERSONAS}
        for name in ACTIONS:
            twins: tuple[Case, Case] | None = None
            for persona in PERSONAS:
                if twins is None:
                    twins = (PREPARED[name](), PREPARED[name]())
                on_page, on_api = twins
                user = users[persona]
                for attribute in ("_zongzhi_case_roles", "_zongzhi_held", "_zongzhi_scope", "_zongzhi_reach"):
                    user.__dict__.pop(attribute, None)
                expected = access.case_may(user, Case.objects.get(pk=on_page.pk), name)
                before, since = (_snapshot(on_page), _snapshot(on_api)), _last_event()
                page = _page(clients[persona], on_page, name, _body(name, on_page))
                api = _api(clients[persona], on_api, name, _body(name, on_api))
                after = _snapshot(on_page), _snapshot(on_api)
                where = f"{name} × {persona}: page {page.status}, API {api.status}"
                page_ok, api_ok = _succeeded(name, page), api.status == 200
                if not (page_ok == api_ok == expected):
                    problems.append(f"{where}; case_may says {expected}; API: {api.text[:200]}")
                    twins = None
                    continue
                if page_ok:
                    performed.setdefault(name, []).append(persona)
                    page_new = after[0][2][len(before[0][2]) :]
                    api_new = after[1][2][len(before[1][2]) :]
                    if page_new != api_new or (not page_new and name != "unmask"):
                        problems.append(f"{where}: events {page_new} on the page, {api_new} by the API")
                    if unaudited := _unaudited(since, twins, user):
                        problems.append(f"{where}: events {unaudited} are not in the audit chain")
                    if after[0][0] != after[1][0] or after[0][1] - before[0][1] != after[1][1] - before[1][1]:
                        problems.append(f"{where}: state/version {before} → {after}")
                    twins = None
                    continue
                if page.status != api.status:
                    problems.append(f"{where}: refused with different answers")
                if after != before:
                    problems.append(f"{where}: a refusal changed the case ({before} → {after})")
                # The case's own refusals say why, in the same words (an administrator is turned away before).
                said = api.json()["detail"].split("；")[0] if api.status in (403, 409, 422) else ""
                if said and persona != "sysadmin" and said not in page.text:
                    problems.append(f"{where}: the page does not say “{api.json()['detail']}”")
            if name not in performed:
                problems.append(f"{name}: no persona could perform it on its prepared case")
    assert problems == [], "\n".join(problems)
    # Who performed what is the catalogue's role table at work; a few anchors a person would check.
    assert performed["accept"] == ["intake", "director"]
    assert performed["assign"] == ["director"]
    assert performed["sign_for"] == ["liaison", "mediator"]
    assert performed["part_done"] == ["mediator"]
    assert performed["coordination_reply"] == ["judge"]
    assert performed["court_decision"] == ["judge"]
    assert performed["supervise"] == ["director", "leader", "league"]
    assert "sysadmin" not in {p for names in performed.values() for p in names}


def test_a_stale_version_and_bad_parameters_get_the_same_answer_on_page_and_api(
    server, django_db_setup, django_db_blocker
) -> None:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        director = logged_in(server["url"], "demo-director")
        twins = [PREPARED["assign"](), PREPARED["assign"]()]
        cases = [(c, c.version) for c in twins]
        answers = []
        for body in (
            {"lead": "152502-D05", "version": cases[0][1] - 1},  # stale
            {"lead": "152599-NOPE", "version": cases[0][1]},  # an org that does not exist
            {"lead": "152502-D05", "version": "v2"},  # not a number
            {"lead": "152502-D05", "version": cases[0][1], "handle_days": "五"},
            {"lead": "152502-D05", "version": cases[0][1], "handle_days": "365"},
        ):
            page = _page(director, twins[0], "assign", body)
            api = _api(director, twins[1], "assign", body)
            answers.append((page.status, api.status))
            said = api.json()["detail"].split("；")[0].replace(twins[1].number, twins[0].number)
            assert said in page.text, (body, said)
        assert answers == [(409, 409), (422, 422), (422, 422), (422, 422), (422, 422)]
        assert [_snapshot(c)[1] for c in twins] == [v for _c, v in cases]  # nothing written
        # What was typed stays in the form after the error, marked in place.
        page = _page(director, twins[0], "assign", {"lead": "152502-D05", "version": cases[0][1], "handle_days": "五"})
        assert 'name="handle_days" inputmode="numeric" value="五"' in page.text
        assert 'data-for="handle_days"' in page.text
