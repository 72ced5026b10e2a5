"""Importing grid workers, orgs with their presence at centers, and historical disputes with parties."""

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.messy_files import person_id, write_csv, write_xlsx
from zongzhi.access import Scope
from zongzhi.cases.models import Case, CaseEvent, Category
from zongzhi.centers.models import Center, Org, Presence
from zongzhi.dashboards import rollups
from zongzhi.grid.models import GridWorker
from zongzhi.identity import uscc_check_char
from zongzhi.regions.models import Region
from zongzhi.transfer.kinds import kind_of

pytestmark = pytest.mark.django_db


def run(kind: str, path: Path, **kw: Any):  # type: ignore[no-untyped-def]
    kw.setdefault("scope", Scope.everything())
    found = kind_of(kind)
    assert found is not None
    from zongzhi.transfer.engine import run_import

    return run_import(found, path, **kw)


def reasons(report) -> dict[tuple[int, str], str]:  # type: ignore[no-untyped-def]
    return {(p.row, p.column[p.column.index("（") + 1 : -1]): p.reason for p in report.problems}


def test_grid_workers_import_update_and_refuse(tmp_path: Path) -> None:
    grid_a, grid_b = Region.objects.filter(level="grid", code__startswith="152502").order_by("code")[:2]
    headers = ["网格员编号", "姓名", "网格代码", "专兼职", "职责"]
    rows = [
        ["GW-T-001", "苏和", grid_a.code, "专职", "网格员、调解员"],
        ["gw-t-002", " 朝鲁 ", grid_b.code, "兼职", ""],
    ]
    report = run("grid_workers", write_xlsx(tmp_path / "w.xlsx", headers, rows))
    assert report.problems == [] and report.inserted == 2
    suhe = GridWorker.objects.get(code="GW-T-001")
    assert suhe.grid == grid_a and suhe.full_time and suhe.duties == ["grid", "mediator"]
    assert GridWorker.objects.get(code="GW-T-002").full_time is False
    assert (
        run("grid_workers", tmp_path / "w.xlsx").unchanged,
        GridWorker.objects.filter(code__startswith="GW-T").count(),
    ) == (2, 2)

    rows[1][2] = grid_a.code  # moved to another grid
    rows += [["GW-T-003", "巴图", "152502999999999", "是", ""], ["GW-T-001", "苏和", grid_a.code, "是", "厨师"]]
    report = run("grid_workers", write_csv(tmp_path / "w.csv", headers, rows, "gbk"))
    found = reasons(report)
    assert "未知区划代码" in found[(4, "网格代码")]
    assert "未知职责“厨师”" in found[(5, "职责")]
    assert not report.written and GridWorker.objects.get(code="GW-T-002").grid == grid_b
    report = run("grid_workers", tmp_path / "w.csv", accept_valid=True)
    assert (report.updated, report.unchanged, report.rejected) == (1, 1, 2)
    assert GridWorker.objects.get(code="GW-T-002").grid == grid_a


def test_orgs_with_presence_at_centers(tmp_path: Path) -> None:
    center = Center.objects.get(code="ZZ-152502")
    headers = ["单位代码", "单位名称", "单位类型", "所属区划", "擅长领域", "入驻中心", "入驻方式", "轮驻日"]
    rows = [
        ["ORG-T-1", "锡林浩特市测试调委会", "人民调解委员会", "152502000000", "", center.code, "轮驻", "周二、周四"],
        ["ORG-T-1", "锡林浩特市测试调委会", "人民调解委员会", "152502000000", "", "", "", ""],
        ["ORG-T-2", "测试法庭", "法院", "152502000000", "", center.name, "常驻", ""],
        ["ORG-T-3", "测试团队", "专业调解团队", "152502000000", "", center.code, "轮驻", "周八"],
        ["ORG-T-4", "测试团队二", "外星机构", "152502000000", "", "", "", ""],
    ]
    report = run("orgs", write_xlsx(tmp_path / "o.xlsx", headers, rows), accept_valid=True)
    found = reasons(report)
    assert "轮驻日只能是周一到周日" in found[(5, "轮驻日")]
    assert "“单位类型”应为" in found[(6, "单位类型")]
    assert (report.inserted, report.rejected) == (3, 2)
    presence = Presence.objects.get(org__code="ORG-T-1", center=center)
    assert presence.mode == "rotating" and presence.weekdays == [2, 4]
    assert Org.objects.get(code="ORG-T-2").kind == "court"
    again = run("orgs", tmp_path / "o.xlsx", accept_valid=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)


def test_historical_disputes_with_parties_and_outcomes(tmp_path: Path) -> None:
    category = Category.objects.filter(parent__isnull=False).order_by("code").first()
    assert category is not None
    village = Region.objects.filter(level="village", code__startswith="152502").order_by("code").first()
    assert village is not None
    first17 = "91152502MA0" + "000001"
    uscc = first17 + uscc_check_char(first17)
    headers = ["原编号", "受理日期", "发生地", "纠纷类别", "事由", "涉及金额（元）", "涉及人数", "结案方式", "结案日期"]
    headers += ["当事人身份", "当事人姓名", "证件号码", "当事人电话"]
    case1 = [
        "TZ-T-0001",
        "2023年3月5日",
        village.code,
        category.code,
        "草场边界纠纷",
        "5,000",
        "2",
        "达成调解协议",
        "2023.3.20",
    ]
    case2 = ["TZ-T-0002", 45000, village.code, category.code, "拖欠工资", "12000元", "3人", "", ""]
    rows: list[list[Any]] = [
        [*case1, "申请人", "巴特尔", person_id(91), "13800001111"],
        [*case1, "被申请人", "敖其尔", person_id(92), ""],
        [*case2, "申请人", "王强", person_id(93), ""],
        [*case2, "被申请人", "某某牧业有限公司", uscc, ""],
    ]
    report = run("disputes", write_xlsx(tmp_path / "d.xlsx", headers, rows))
    assert report.problems == [] and report.inserted == 4
    closed = Case.objects.get(original_number="TZ-T-0001")
    assert closed.channel == Case.Channel.IMPORT and closed.state == "closed" and closed.outcome == "agreement"
    assert str(closed.amount) == "5000.00" and closed.people_involved == 2
    assert closed.number.startswith("15250220230305")
    assert sorted(closed.parties.values_list("role", flat=True)) == ["applicant", "respondent"]
    # Its history walks the transition table, as the ledger dates it; it was never pushed to an org.
    timeline = CaseEvent.objects.filter(case=closed).order_by("at", "id")
    assert [(e.kind, timezone.localtime(e.at).date()) for e in timeline] == [
        ("intake", datetime.date(2023, 3, 5)),
        ("accept", datetime.date(2023, 3, 5)),
        ("ledger_handle", datetime.date(2023, 3, 5)),
        ("resolve", datetime.date(2023, 3, 20)),
        ("close", datetime.date(2023, 3, 20)),
    ]
    assert closed.version == 5 and not closed.assignments.exists()
    open_case = Case.objects.get(original_number="TZ-T-0002")
    assert open_case.state == "accepted" and open_case.registered_at.date() == datetime.date(2023, 3, 15)
    assert open_case.parties.get(role="respondent").kind == "organisation"

    again = run("disputes", tmp_path / "d.xlsx")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert Case.objects.filter(original_number__startswith="TZ-T-").count() == 2

    # The ledger is corrected (the open case was in fact settled): the dashboards follow the update.
    rows = [r[:7] + ["达成调解协议", "2023.4.1"] + r[9:] if r[0] == "TZ-T-0002" else r for r in rows]
    fixed = run("disputes", write_xlsx(tmp_path / "d2.xlsx", headers, rows))
    assert (fixed.updated, fixed.unchanged) == (2, 2)
    settled = Case.objects.get(original_number="TZ-T-0002")
    assert (settled.state, settled.outcome, timezone.localtime(settled.closed_at).date()) == (
        "closed",
        "agreement",
        datetime.date(2023, 4, 1),
    )
    kinds = list(settled.events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["intake", "accept", "ledger_handle", "resolve", "close"]
    assert list(rollups.verify()) == []

    bad = [
        ["TZ-T-0003", "2023-01-01", village.code, category.code, "债务", "-5", "1", "", "", "申请人", "甲", "", ""],
        ["TZ-T-0004", "2023-01-01", village.code, category.code, "债务", "", "0", "", "", "申请人", "乙", "", ""],
        [
            "TZ-T-0005",
            "2023-05-01",
            village.code,
            category.code,
            "债务",
            "",
            "",
            "其他",
            "2023-04-01",
            "申请人",
            "丙",
            "",
            "",
        ],
        ["TZ-T-0006", "2023-05-01", village.code, "不存在的类别", "债务", "", "", "", "", "申请人", "丁", "", ""],
    ]
    report = run("disputes", write_csv(tmp_path / "bad.csv", headers, bad, "utf-8-sig"))
    found = reasons(report)
    assert "超出范围" in found[(2, "涉及金额（元）")]
    assert "1 至 100000" in found[(3, "涉及人数")]
    assert "早于受理日期" in found[(4, "结案日期")]
    assert "未知纠纷类别" in found[(5, "纠纷类别")]
    assert not Case.objects.filter(original_number__in=["TZ-T-0003", "TZ-T-0004"]).exists()
