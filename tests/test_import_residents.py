"""Importing households and residents from files as offices have them, with every problem explained.

The league is seeded without residents, so every person here is one the test file brings.
"""

import datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from tests.messy_files import FULL_WIDTH, person_id, write_csv, write_xlsx
from zongzhi.access import Scope
from zongzhi.accounts.models import User
from zongzhi.grid.models import Household, Resident
from zongzhi.grid.services import household_register, resident_add, resident_id_index
from zongzhi.identity import mask_resident_id
from zongzhi.regions.models import Region
from zongzhi.transfer.engine import run_import
from zongzhi.transfer.residents import ResidentsImport

pytestmark = pytest.mark.django_db
HEADERS = [
    "户编号",
    "所在网格",
    "住址",
    "牧户",
    "姓名",
    "与户主关系",
    "民族",
    "常用语言",
    "身份证号",
    "出生日期",
    "联系电话",
]


def grids(county: str = "152502", n: int = 2) -> list[Region]:
    return list(Region.objects.filter(level="grid", code__startswith=county).order_by("code")[:n])


def run(path: Path, **kw: Any):  # type: ignore[no-untyped-def]
    kw.setdefault("scope", Scope.everything())
    return run_import(ResidentsImport(), path, **kw)


def stored(number: str) -> Resident | None:
    return Resident.objects.filter(id_index=resident_id_index(number)).select_related("household").first()


def test_a_messy_workbook_imports_every_row(tmp_path: Path) -> None:
    grid_a, grid_b = grids()
    # Title merged over the columns, a merged group header, columns in another order under synonyms,
    # required marks and notes in the headers.
    headers = [
        "*姓名",
        "身份证号码",
        "关系",
        "民族",
        "户号",
        "网格代码",
        "出生日期（选填）",
        "手机号",
        "是否牧户",
        "地址",
    ]
    birth = datetime.date(1990, 1, 1)
    rows: list[list[Any]] = [
        [
            "  巴特尔 ",
            person_id(11, birth).translate(FULL_WIDTH),
            "户主",
            "蒙古族",
            "ＨＴ-0001",
            grid_a.code,
            birth,
            "１３８ 0000 1234",
            "是",
            " 宝力根路 12 号 ",
        ],
        [
            "乌云",
            person_id(12, datetime.date(1992, 3, 5)),
            "妻子",
            "蒙古族",
            "HT-0001",
            grid_a.code,
            "1992年3月5日",
            "",
            "是",
            "宝力根路 12 号",
        ],
        [],
        [None, None, None, None, None, None, None, None, None, None],
        [
            "王  芳",
            person_id(13, datetime.date(1985, 7, 9)),
            "本人",
            "汉族",
            "HT-0002",
            grid_b.name
            if Region.objects.filter(level="grid", name=grid_b.name, code__startswith="1525").count() == 1
            else grid_b.code,
            "1985.7.9",
            "13900001111",
            "否",
            "",
        ],
        [
            "王小明",
            person_id(15, datetime.date(2012, 11, 30)),
            "儿子",
            "汉族",
            "HT-0002",
            grid_b.code,
            41243,
            "",
            "否",
            "",
        ],
        [
            "王小红",
            person_id(16, datetime.date(2015, 2, 1)) + " ",
            "女儿",
            "汉族",
            "HT-0002",
            f" {grid_b.code} ",
            "2015/02/01",
            "",
            "N",
            "",
        ],
    ]
    path = write_xlsx(tmp_path / "messy.xlsx", headers, rows, title="锡林浩特市 户籍人口登记表", group_header=True)
    report = run(path)
    assert report.problems == [] and report.rejected == 0
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (5, 5, 0, 0)
    batu = stored(person_id(11, birth))
    assert batu is not None and batu.name == "巴特尔" and batu.phone == "13800001234" and batu.language == "mn"
    assert batu.household.code == "HT-0001" and batu.household.herder and batu.household.address == "宝力根路 12 号"
    assert stored(person_id(13, datetime.date(1985, 7, 9))).name == "王 芳"  # type: ignore[union-attr]
    assert Household.objects.get(code="HT-0002").residents.count() == 3
    assert stored(person_id(15, datetime.date(2012, 11, 30))).relation == "child"  # type: ignore[union-attr]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding_offices_use(tmp_path: Path, encoding: str) -> None:
    (grid,) = grids(n=1)
    name = "𠮷日格勒" if encoding == "gb18030" else "斯琴高娃"  # 𠮷 exists in GB18030, not in GBK
    rows = [["HC-1", grid.code, "", "否", name, "户主", "蒙古族", "", person_id(21), "1990-01-01", ""]]
    path = write_csv(tmp_path / f"people-{encoding}.csv", HEADERS, rows, encoding)
    report = run(path)
    assert report.problems == [] and report.inserted == 1
    assert stored(person_id(21)).name == name  # type: ignore[union-attr]


def test_every_problem_is_listed_and_nothing_is_written(tmp_path: Path, persona) -> None:  # type: ignore[no-untyped-def]
    grid_a, grid_b = grids()
    director: User = persona("director")
    home = household_register(actor=director, village=grid_b.parent, grid=grid_b, code="HT-ELSEWHERE")  # type: ignore[arg-type]
    resident_add(
        actor=director,
        household=home,
        name="其木格",
        relation="head",
        ethnicity="蒙古族",
        language="mn",
        id_number=person_id(40),
    )
    bad_check = person_id(31)[:17] + ("0" if person_id(31)[17] != "0" else "1")
    rows = [
        ["HE-1", grid_a.code, "", "否", "额尔敦", "户主", "蒙古族", "", person_id(30), "", ""],  # valid
        ["HE-1", grid_a.code, "", "否", "萨仁", "配偶", "蒙古族", "", bad_check, "", ""],  # bad check character
        ["HE-2", "152502999999999", "", "否", "图雅", "户主", "蒙古族", "", person_id(32), "", ""],  # unknown region
        ["HE-1", grid_a.code, "", "否", "额尔敦", "子女", "蒙古族", "", person_id(30), "", ""],  # duplicate in file
        ["HE-3", grid_a.code, "", "否", "其木格", "户主", "蒙古族", "", person_id(40), "", ""],  # already present
        ["HE-3", grid_a.code, "", "否", "", "子女", "蒙古族", "", person_id(33), "", ""],  # missing name
        [
            "HE-3",
            grid_a.code,
            "",
            "否",
            "阿拉坦",
            "子女",
            "蒙古族",
            "",
            person_id(34),
            "2099-01-01",
            "",
        ],  # out of range
        ["HE-3", grid_a.code, "", "否", "高娃", "子女", "蒙古族", "", person_id(35), "", "1380000"],  # short phone
        ["HE-3", grid_a.code, "", "也许", "娜仁", "其他", "蒙古族", "", person_id(36), "", ""],  # not yes/no
    ]
    path = write_xlsx(tmp_path / "errors.xlsx", HEADERS, rows, title="问题表")
    report = run(path)
    assert not report.written and report.inserted == 0 and report.rejected == 8 and report.valid == 1
    assert not Household.objects.filter(code__in=["HE-1", "HE-2", "HE-3"]).exists()
    found = {(p.row, p.column): p.reason for p in report.problems}
    assert all(p.sheet == "居民" for p in report.problems)
    # The header is row 2 (under the title), so the first data row is row 3.
    assert "校验位" in found[(4, "I列（身份证号）")]
    assert "未知区划代码“152502999999999”" in found[(5, "B列（所在网格）")]
    assert "与本文件第 3 行重复" in found[(6, "I列（身份证号）")]
    assert "已登记在户 HT-ELSEWHERE" in found[(7, "I列（身份证号）")]
    assert "缺少必填项“姓名”" in found[(8, "E列（姓名）")]
    assert "超出范围" in found[(9, "J列（出生日期）")]
    assert "11 位数字" in found[(10, "K列（联系电话）")]
    assert "应填“是”或“否”" in found[(11, "D列（牧户）")]


def test_import_the_valid_rows_and_get_the_rejected_ones_back(tmp_path: Path) -> None:
    (grid,) = grids(n=1)
    rows = [
        ["HV-1", grid.code, "", "否", "巴雅尔", "户主", "蒙古族", "", person_id(51), "", ""],
        ["HV-1", grid.code, "", "否", "", "配偶", "蒙古族", "", person_id(52), "", ""],
    ]
    rejects = tmp_path / "rejected.xlsx"
    report = run(write_xlsx(tmp_path / "v.xlsx", HEADERS, rows), accept_valid=True, rejects_path=rejects)
    assert report.written and (report.inserted, report.rejected) == (1, 1)
    sheet = load_workbook(rejects).active
    values = list(sheet.values)  # type: ignore[union-attr]
    assert values[0][-2:] == ("问题说明", "原文件行号")
    assert values[1][-2] == "E列（姓名）：缺少必填项“姓名”。" and values[1][-1] == 3
    assert values[1][8] == mask_resident_id(person_id(52))  # the file on disk holds no full ID
    # Fixed and uploaded again (the full ID typed back in), the rejected file imports (its extra
    # columns are ignored).
    book = load_workbook(rejects)
    book.active["E2"] = "琪琪格"  # type: ignore[index]
    book.active["I2"] = person_id(52)  # type: ignore[index]
    book.save(rejects)
    again = run(rejects)
    assert again.problems == [] and again.inserted == 1
    assert Household.objects.get(code="HV-1").residents.count() == 2


def test_a_second_import_changes_nothing_and_a_changed_row_updates(tmp_path: Path) -> None:
    (grid,) = grids(n=1)
    rows = [["HR-1", grid.code, "", "否", f"成员{i}", "其他", "汉族", "", person_id(60 + i), "", ""] for i in range(5)]
    path = write_xlsx(tmp_path / "r.xlsx", HEADERS, rows)
    assert run(path).inserted == 5
    again = run(path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    rows[2][10] = "13712345678"
    changed = run(write_xlsx(tmp_path / "r2.xlsx", HEADERS, rows))
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 4)
    assert stored(person_id(62)).phone == "13712345678"  # type: ignore[union-attr]
    assert Resident.objects.filter(household__code="HR-1").count() == 5


def test_cli_prints_the_report_and_exits_nonzero_on_rejected_rows(tmp_path: Path) -> None:
    (grid,) = grids(n=1)
    good = [["HL-1", grid.code, "", "否", "包青", "户主", "蒙古族", "", person_id(71), "", ""]]
    bad = [*good, ["HL-1", grid.code, "", "否", "", "子女", "蒙古族", "", person_id(72), "", ""]]
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "import_data",
            "residents",
            str(write_csv(tmp_path / "bad.csv", HEADERS, bad, "gbk")),
            stdout=out,
            stderr=StringIO(),
        )
    assert exit_info.value.code == 1
    text = out.getvalue()
    assert "有问题 1 行" in text and "第 3 行 E列（姓名）：缺少必填项“姓名”" in text and "未写入任何数据" in text
    assert not Household.objects.filter(code="HL-1").exists()

    out = StringIO()
    call_command(
        "import_data",
        "residents",
        str(write_csv(tmp_path / "good.csv", HEADERS, good, "utf-8")),
        "--dry-run",
        stdout=out,
        stderr=StringIO(),
    )
    assert "新增 1" in out.getvalue() and "试运行" in out.getvalue()
    assert not Household.objects.filter(code="HL-1").exists()
    call_command("import_data", "residents", str(tmp_path / "good.csv"), stdout=StringIO(), stderr=StringIO())
    assert Household.objects.get(code="HL-1").residents.count() == 1


def test_rows_outside_the_region_given_are_rejected(tmp_path: Path) -> None:
    (grid,) = grids(county="152531", n=1)  # 多伦县
    rows = [["HO-1", grid.code, "", "否", "张伟", "户主", "汉族", "", person_id(81), "", ""]]
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "import_data",
            "residents",
            str(write_csv(tmp_path / "o.csv", HEADERS, rows, "utf-8")),
            "--region",
            "152502000000",
            stdout=out,
            stderr=StringIO(),
        )
    assert "不在本次导入的范围内" in out.getvalue()
    assert not Household.objects.filter(code="HO-1").exists()


def test_a_file_without_a_required_column_or_not_a_spreadsheet_is_refused_whole(tmp_path: Path) -> None:
    (grid,) = grids(n=1)
    no_ids = write_csv(
        tmp_path / "no-ids.csv",
        ["户编号", "所在网格", "姓名", "与户主关系", "民族"],
        [["HN-1", grid.code, "甲", "户主", "汉族"]],
        "utf-8",
    )
    report = run(no_ids)
    assert [(p.row, p.reason) for p in report.problems] == [(1, "缺少必填列：身份证号。")]
    assert not report.written and not Household.objects.filter(code="HN-1").exists()
    text = tmp_path / "notes.docx"
    text.write_bytes(b"PK\x03\x04 not a spreadsheet")
    assert "请上传 XLSX 或 CSV 文件" in run(text).problems[0].reason
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    assert "无法读取 XLSX 文件" in run(broken).problems[0].reason
