"""Re-importing a ledger of historical disputes: what was done on the platform is never overwritten.

Ledger T (five cases, two parties each) is imported by Xilinhot's director; then the platform handles
two of its cases (one is assigned, one gets a photo). Importing the ledger again reports those two
and changes nothing; with "只导入正确的行" the others are brought up to date through the services
(a corrected title, an open case since settled) and the dashboards' tallies still recount.
"""

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from tests import real_files
from tests.messy_files import person_id, write_xlsx
from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.cases import services, workflow
from zongzhi.cases.models import Case, CaseEvent, Category
from zongzhi.regions.models import Region
from zongzhi.transfer.disputes import DisputesImport
from zongzhi.transfer.engine import run_import
from zongzhi.transfer.jobs import job_run
from zongzhi.transfer.models import ImportJob

pytestmark = pytest.mark.django_db
HEADERS = ["原编号", "受理日期", "发生地", "办理中心", "纠纷类别", "事由", "结案方式", "结案日期", "结案说明"]
HEADERS += ["当事人身份", "当事人姓名", "证件号码"]
HANDLED = "已在平台办理，未覆盖"


def ledger(outcomes: dict[str, tuple[str, str]], **changes: dict[int, Any]) -> list[list[Any]]:
    """Two rows (applicant, respondent) per case; `changes` replace columns of a case's rows by index."""
    village = Region.objects.filter(level="village", code__startswith="152502").order_by("code").first()
    category = Category.objects.filter(parent__isnull=False).order_by("code").first()
    assert village is not None and category is not None
    rows = []
    for n, (original, (outcome, closed)) in enumerate(outcomes.items()):
        case: list[Any] = [original, "2024-05-06", village.code, "ZZ-152502", category.code, f"草场纠纷{n}"]
        case += [outcome, closed, "双方和解" if outcome else ""]
        for index, value in changes.get(original.replace("-", "_"), {}).items():
            case[index] = value
        rows.append([*case, "申请人", f"申请人{n}", person_id(500 + 2 * n)])
        rows.append([*case, "被申请人", f"被申请人{n}", person_id(501 + 2 * n)])
    return rows


CASES = {
    "T-A": ("达成调解协议", "2024-05-20"),
    "T-B": ("", ""),
    "T-C": ("", ""),
    "T-D": ("转速裁法庭", "2024-06-03"),
    "T-E": ("", ""),
}


def imported(path: Path, user: User, **options: Any):  # type: ignore[no-untyped-def]
    return run_import(DisputesImport(), path, scope=access.scope_of(user), actor=user, **options)


def post(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data, content_type="application/json")


def snapshot() -> dict[str, Any]:
    """What each case of ledger T is, down to every event."""
    cases = Case.objects.filter(original_number__startswith="T-").order_by("original_number")
    events = CaseEvent.objects.filter(case__in=cases).order_by("id")
    return {
        "cases": list(cases.values_list("original_number", "state", "version", "title", "outcome", "closed_at")),
        "events": list(events.values_list("case__original_number", "kind", "version", "at")),
        "parties": sorted(cases.values_list("original_number", "parties__name")),
    }


def test_a_re_import_after_platform_handling_changes_nothing_and_reports_the_conflicts(
    client_as, persona, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    director = persona("director")
    first = imported(write_xlsx(tmp_path / "t.xlsx", HEADERS, ledger(CASES)), director)
    assert first.problems == [] and first.inserted == 10
    case = {c.original_number: c for c in Case.objects.filter(original_number__startswith="T-")}
    assert {o: c.state for o, c in case.items()} == {
        "T-A": "closed",
        "T-B": "accepted",
        "T-C": "accepted",
        "T-D": "closed",
        "T-E": "accepted",
    }
    court = list(case["T-D"].events.order_by("id").values_list("kind", flat=True))
    assert court == ["intake", "accept", "ledger_handle", "fail", "refer_court"] and case["T-D"].outcome == "court"

    # On the platform: the director assigns T-B (a transition), a photo is added to T-C (a record only).
    api = client_as("director")
    assigned = post(
        api,
        f"/api/v1/cases/{case['T-B'].number}/actions/assign",
        {"version": case["T-B"].version, "lead": "152502-D05"},
    )
    assert assigned.status_code == 200 and assigned.json()["state"] == "assigned"
    photo = io.BytesIO(real_files.PNG)
    photo.name = "现场.png"
    assert api.post(f"/api/v1/cases/{case['T-C'].number}/actions/attachment", {"file": photo}).status_code == 200
    before = snapshot()

    # The same ledger again, through the upload page: two cases reported, nothing written.
    path = write_xlsx(tmp_path / "again.xlsx", HEADERS, ledger(CASES))
    with path.open("rb") as handle:
        posted = api.post("/staff/transfer/import/", {"kind": "disputes", "file": handle})
    job = ImportJob.objects.get(pk=int(posted["Location"].rstrip("/").split("/")[-1]))
    report = job_run(job.pk)
    reported = {(p["row"], p["column"]): p["reason"] for p in report["problems"]}
    assert set(reported) == {(row, "A列（原编号）") for row in (4, 5, 6, 7)}  # T-B and T-C, two rows each
    assert f"案件 {case['T-B'].number} {HANDLED}" in reported[(4, "A列（原编号）")]
    assert f"案件 {case['T-C'].number} {HANDLED}" in reported[(6, "A列（原编号）")]
    assert (report["rejected"], report["written"]) == (4, False)
    page = api.get(f"/staff/transfer/import/jobs/{job.pk}/progress/").content.decode()
    assert HANDLED in page and 'id="rejected">4<' in page
    rejects = api.get(f"/staff/transfer/import/jobs/{job.pk}/rejects.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(rejects.streaming_content))).active  # type: ignore[attr-defined]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]  # type: ignore[union-attr]
    assert [(r[0], r[-1]) for r in rows] == [("T-B", 4), ("T-B", 5), ("T-C", 6), ("T-C", 7)]
    assert all(HANDLED in r[-2] for r in rows)
    assert snapshot() == before

    # A corrected ledger, only its valid rows: T-A's title is corrected, T-E was settled meanwhile; T-B's
    # file row claims it closed, which the platform's work wins over; T-D is as it was.
    changed = ledger(CASES, T_A={5: "草场边界纠纷更正"}, T_E={6: "其他方式化解", 7: "2024-07-01"})
    changed = [r[:6] + ["引导诉讼", "2024-06-01"] + r[8:] if r[0] == "T-B" else r for r in changed]
    second = imported(write_xlsx(tmp_path / "fixed.xlsx", HEADERS, changed), director, accept_valid=True)
    assert (second.inserted, second.updated, second.unchanged, second.rejected) == (0, 4, 2, 4)
    assert {p.row for p in second.problems} == {4, 5, 6, 7} and all(HANDLED in p.reason for p in second.problems)
    after = snapshot()
    for original in ("T-B", "T-C", "T-D"):
        assert [c for c in after["cases"] if c[0] == original] == [c for c in before["cases"] if c[0] == original]
        assert [e for e in after["events"] if e[0] == original] == [e for e in before["events"] if e[0] == original]
    corrected = Case.objects.get(original_number="T-A")
    assert corrected.title == "草场边界纠纷更正" and corrected.version == case["T-A"].version + 1
    correction = corrected.events.order_by("id").last()
    assert correction is not None and correction.kind == "ledger_correction"
    assert correction.data["fields"] == ["事由", "纠纷情况"]  # the description follows the title when not given
    settled = Case.objects.get(original_number="T-E")
    timeline = settled.events.order_by("id")
    assert [(e.kind, timezone.localtime(e.at).date()) for e in timeline][2:] == [
        ("ledger_handle", datetime.date(2024, 5, 6)),
        ("resolve", datetime.date(2024, 7, 1)),
        ("close", datetime.date(2024, 7, 1)),
    ]
    assert (settled.state, settled.outcome) == ("closed", "resolved_other")
    shown = api.get(f"/staff/cases/{corrected.number}/").content.decode()
    assert "台账记载办理" in shown and "台账更正" in shown and "事由、纠纷情况" in shown

    # Nothing changed is written twice: the same corrected file again changes nothing.
    third = imported(tmp_path / "fixed.xlsx", director, accept_valid=True)
    assert (third.updated, third.unchanged, third.rejected) == (0, 6, 4)
    out = io.StringIO()
    call_command("rollups", "--verify", stdout=out)
    assert "一致" in out.getvalue()


def test_what_no_transition_can_record_is_reported_not_rewritten(persona, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    director = persona("director")
    cases = {"T-F": ("达成调解协议", "2024-05-20"), "T-G": ("达成调解协议", "2024-05-20"), "T-H": ("", "")}
    cases |= {"T-I": ("", ""), "T-J": ("引导诉讼", "2024-05-30")}
    assert imported(write_xlsx(tmp_path / "t.xlsx", HEADERS, ledger(cases)), director).inserted == 10
    before = snapshot()
    other_village = Region.objects.filter(level="village", code__startswith="152502").order_by("-code").first()
    assert other_village is not None
    changed = ledger(
        cases,
        T_F={6: "引导仲裁"},  # another outcome of a closed case
        T_G={7: "2024-05-21"},  # another closing day
        T_H={1: "2024-05-07"},  # another registration day
        T_I={2: other_village.code},  # another place
        T_J={6: "", 7: "", 8: ""},  # a closed case open again
    )
    report = imported(write_xlsx(tmp_path / "changed.xlsx", HEADERS, changed), director)
    found = {(p.row, p.column): p.reason for p in report.problems}
    assert set(found) == {
        *((row, "G列（结案方式）") for row in (2, 3)),
        *((row, "H列（结案日期）") for row in (4, 5)),
        *((row, "B列（受理日期）") for row in (6, 7)),
        *((row, "C列（发生地）") for row in (8, 9)),
        *((row, "G列（结案方式）") for row in (10, 11)),
    }
    assert "已按“达成调解协议”结案，流转记录中没有更改结案方式的操作，未覆盖" in found[(2, "G列（结案方式）")]
    assert "已于 2024-05-20 结案" in found[(4, "H列（结案日期）")]
    assert "已按受理日期 2024-05-06 登记" in found[(6, "B列（受理日期）")]
    assert "没有撤销结案的操作" in found[(10, "G列（结案方式）")]
    assert not report.written and snapshot() == before


def test_a_case_handled_while_the_file_is_checked_stops_the_whole_import(persona, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    director = persona("director")
    cases = {"T-K": ("", ""), "T-L": ("", "")}
    assert imported(write_xlsx(tmp_path / "t.xlsx", HEADERS, ledger(cases)), director).inserted == 4
    first, second = Case.objects.filter(original_number__in=["T-K", "T-L"]).order_by("original_number")
    before = snapshot()

    def meanwhile(phase: str, done: int, total: int | None) -> None:
        """The file is checked (one chunk): before it is written, the director links T-L on the platform."""
        if phase == "validate":
            services.case_link(case=second, other=first, actor=director)

    # The corrected ledger would change T-K and T-L; T-L was handled after the check, so nothing is written.
    changed = ledger(cases, T_K={5: "更正事由"}, T_L={5: "更正事由二"})
    with pytest.raises(workflow.Conflict):
        imported(write_xlsx(tmp_path / "changed.xlsx", HEADERS, changed), director, progress=meanwhile)
    after = snapshot()
    assert after["cases"] == before["cases"]
    linked = [e for e in after["events"] if e not in before["events"]]
    assert [(e[0], e[1]) for e in linked] == [("T-L", "link")]  # the platform's work, and nothing else
