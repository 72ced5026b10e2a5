"""What goes into the audit chain: every change to a case, every document printed, every file downloaded.

Through the live server over real HTTP (a session with its CSRF token, and a bearer token for the API):
each request leaves exactly one entry naming who, from which address, and what. A case change and its
entry are one transaction: when the entry cannot be written, the change is not made either.
"""

import datetime
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.http_client import HttpClient, logged_in
from tests.messy_files import person_id, write_xlsx
from tests.test_case_api import body
from tests.test_case_lifecycle import register, who
from tests.test_field import PNG, household_in, record
from zongzhi.accounts.models import User
from zongzhi.audit.models import AuditEntry
from zongzhi.cases import services as case_services
from zongzhi.cases.models import Case, CaseEvent
from zongzhi.grid.models import GridWorker
from zongzhi.meetings import services as meeting_services
from zongzhi.regions.models import Region
from zongzhi.transfer.jobs import job_create, job_run

Action = AuditEntry.Action
IMPORT_HEADERS = ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号"]


@pytest.fixture
def committed(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The ORM on the committed data the server sees (no test transaction around it)."""
    with django_db_blocker.unblock():
        yield


def api_client(server: dict[str, str]) -> tuple[HttpClient, User]:
    """A department system's client (a service account of Xilinhot's 司法局): a bearer token, no session."""
    from tests.test_service_accounts import open_account

    account, token = open_account("cases:read,cases:write")
    client = HttpClient(server["url"])
    original = client.request

    def with_token(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return original(method, path, body, {"Authorization": f"Bearer {token}", **(headers or {})})

    client.request = with_token  # type: ignore[method-assign]
    return client, account.user


def entries_after(mark: int, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(pk__gt=mark, action=action).order_by("id"))


def newest_id() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def assert_events_audited(case: Case, since_event: int, user: User) -> None:
    """Each event the request wrote has its entry: same case, same actor, the request's address."""
    events = list(CaseEvent.objects.filter(case=case, pk__gt=since_event).order_by("id"))
    assert events, "the request wrote no event"
    for event in events:
        found = AuditEntry.objects.filter(action=Action.CASE_ACTION, detail__event_id=event.pk)
        assert [(e.target, e.actor_id, e.ip, e.detail["event"], e.detail["to"]) for e in found] == [
            (case.number, user.pk, "127.0.0.1", event.kind, event.to_state)
        ]


def last_event() -> int:
    return CaseEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_case_actions_by_page_and_by_api_are_in_the_chain(server: dict[str, str], committed: None) -> None:
    (system, system_user), director_page = api_client(server), logged_in(server["url"], "demo-director")
    # Registration through the API (a service account's bearer token).
    mark = last_event()
    # Registered for the county (its center's window then accepts it; a village's goes to its township).
    answer = system.post_json("/api/v1/cases", body(title="审计覆盖测试", region="152502000000"))
    assert answer.status == 201, answer.text[:300]
    case = Case.objects.get(number=answer.json()["number"])
    assert_events_audited(case, mark, system_user)
    # A transition through the API (the clerk's session and CSRF), then one through the case page's form.
    intake_api = logged_in(server["url"], "demo-intake")
    case = Case.objects.get(pk=case.pk)
    mark = last_event()
    answer = intake_api.post_json(f"/api/v1/cases/{case.number}/actions/accept", {"version": case.version})
    assert answer.status == 200, answer.text[:300]
    assert_events_audited(case, mark, who("intake"))
    mark = last_event()
    fresh = Case.objects.get(pk=case.pk)
    page = director_page.post_form(
        f"/staff/cases/{case.number}/do/assign/", {"lead": "152502-D05", "version": fresh.version}
    )
    assert page.status == 302, page.text[:300]
    assert_events_audited(case, mark, who("director"))


def test_a_case_change_and_its_audit_entry_are_one_transaction(db, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    case = register()
    before = (case.state, case.version, case.events.count(), AuditEntry.objects.count())
    monkeypatch.setenv("ZONGZHI_AUDIT_KEY", "not a key")  # the audit cannot write: nothing else may be written
    with pytest.raises(ImproperlyConfigured, match="ZONGZHI_AUDIT_KEY"):
        case_services.case_accept(case=case, actor=who("intake"), version=case.version)
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.state, fresh.version, fresh.events.count(), AuditEntry.objects.count()) == before
    monkeypatch.delenv("ZONGZHI_AUDIT_KEY")
    case_services.case_accept(case=fresh, actor=who("intake"), version=fresh.version)
    assert Case.objects.get(pk=case.pk).state == "accepted"
    assert AuditEntry.objects.count() == before[3] + 1


def test_the_sweep_and_other_system_changes_are_audited_as_the_system(db) -> None:  # type: ignore[no-untyped-def]
    case = register()
    case = case_services.case_accept(case=case, actor=who("intake"), version=case.version)
    mark = newest_id()
    case_services.case_escalate(case=case, actor=None, version=case.version, reason="超期未办理", system=True)
    (entry,) = entries_after(mark, Action.CASE_ACTION)
    assert (entry.actor_id, entry.actor_name, entry.target, entry.detail["event"]) == (
        None,
        "system",
        case.number,
        "escalate",
    )


def test_every_print_and_download_is_in_the_chain(server: dict[str, str], committed: None, tmp_path: Path) -> None:
    director, intake = logged_in(server["url"], "demo-director"), logged_in(server["url"], "demo-intake")
    intake_api = logged_in(server["url"], "demo-intake")  # the API by session (a token's call adds its api_call)
    gridworker = logged_in(server["url"], "demo-gridworker")
    case = register()
    attachment = case_services.attachment_add(
        case=case, actor=who("intake"), upload=SimpleUploadedFile("协议.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    )
    county = Region.objects.get(code="152502000000")
    meeting = meeting_services.meeting_open(actor=who("director"), region=county, held_on=timezone.localdate())
    worker = User.objects.get(username="demo-gridworker")
    grid = GridWorker.objects.get(user=worker).grid
    visit = record(
        worker,
        household_in(grid, 88),
        photos=[SimpleUploadedFile("围栏.png", PNG, content_type="image/png")],
        visited_at=timezone.now() - datetime.timedelta(hours=2),
    )
    photo = visit.photos.get()
    rows = [
        ["HA-1", grid.code, "哈斯", "户主", "蒙古族", person_id(391)],
        ["HA-1", grid.code, "", "配偶", "蒙古族", ""],
    ]
    upload = SimpleUploadedFile("退回.xlsx", write_xlsx(tmp_path / "r.xlsx", IMPORT_HEADERS, rows).read_bytes())
    job = job_create(actor=who("director"), kind="residents", upload=upload, dry_run=False, accept_valid=True)
    job_run(job.pk)

    got, printed, exported = Action.FILE_DOWNLOADED, Action.DOCUMENT_PRINTED, Action.DATA_EXPORTED
    number, a = case.number, attachment.pk
    downloads = [
        # (client, path, action, target, who)
        (intake, f"/staff/cases/{number}/attachments/{a}/", got, f"{number}/attachment:{a}", "intake"),
        (intake_api, f"/api/v1/cases/{number}/attachments/{a}", got, f"{number}/attachment:{a}", "intake"),
        (intake, f"/staff/cases/{number}/print/intake/", printed, f"{number}/intake", "intake"),
        (intake, f"/staff/cases/{number}/print/intake/?format=pdf", printed, f"{number}/intake", "intake"),
        (director, f"/staff/meetings/{meeting.pk}/pack.pdf", exported, f"meeting:{meeting.pk}", "director"),
        (director, f"/staff/meetings/{meeting.pk}/pack.xlsx", exported, f"meeting:{meeting.pk}", "director"),
        (director, f"/staff/transfer/import/jobs/{job.pk}/rejects.xlsx", got, f"import:{job.pk}/rejects", "director"),
        (director, "/staff/transfer/import/templates/residents.xlsx", got, "import_template:residents", "director"),
        (gridworker, f"/staff/field/photos/{photo.pk}/", got, f"visit:{visit.pk}/photo:{photo.pk}", "gridworker"),
        (intake, "/staff/transfer/export/cases.xlsx", exported, "export:cases", "intake"),
        (intake, "/staff/transfer/export/cases.csv", exported, "export:cases", "intake"),
    ]
    for client, path, action, target, persona in downloads:
        mark = newest_id()
        answer = client.get(path)
        assert answer.status == 200, (path, answer.status, answer.text[:300])
        found = [(e.action, e.target, e.actor_id, e.ip) for e in AuditEntry.objects.filter(pk__gt=mark)]
        assert found == [(action, target, who(persona).pk, "127.0.0.1")], (path, found)
    with io.BytesIO(intake.get(f"/staff/cases/{case.number}/print/intake/?format=pdf").body) as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_a_refused_download_writes_no_entry(server: dict[str, str], committed: None) -> None:
    """Out of jurisdiction is the same 404 as missing, and nothing was read, so nothing is audited."""
    clerk = User.objects.get(username="clerk-152531-1")  # 多伦县's
    village = Region.objects.filter(level="village", code__startswith="152531").order_by("code").first()
    case = register(actor=clerk, region=village)
    attachment = case_services.attachment_add(
        case=case, actor=clerk, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    )
    outsider = logged_in(server["url"], "demo-intake")  # 锡林浩特市's
    mark = newest_id()
    assert outsider.get(f"/staff/cases/{case.number}/attachments/{attachment.pk}/").status == 404
    assert outsider.get(f"/staff/cases/{case.number}/print/intake/?format=pdf").status == 404
    assert not AuditEntry.objects.filter(pk__gt=mark, action__in=[Action.FILE_DOWNLOADED, Action.DOCUMENT_PRINTED])
