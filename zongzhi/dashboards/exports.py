"""The monthly and quarterly statistics tables (XLSX, by county and by category) in the layout
offices file upward. Read from the tallies through the actor's scope: counts and sums only, so no
name, resident ID or phone can appear in them; every download is written to the audit log."""

import datetime
import io
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from zongzhi import sheets
from zongzhi.access import Scope
from zongzhi.cases.models import Category
from zongzhi.dashboards.selectors import tallies_visible
from zongzhi.regions.models import Region
from zongzhi.regions.selectors import regions_visible

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def _sheet(ws: Worksheet, title: str, subtitle: str, headers: list[str], rows: list[list[Any]]) -> None:
    """A table in the layout offices file upward: title, issuing line, boxed header and body."""
    width = len(headers)
    sheets.append(ws, [title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    sheets.append(ws, [subtitle])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    sheets.append(ws, headers)
    for row in rows:
        sheets.append(ws, row)
    for row_cells in ws.iter_rows(min_row=3, max_row=ws.max_row, max_col=width):
        for cell in row_cells:
            cell.border = BOX
            if cell.row == 3:
                cell.font = Font(bold=True)
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for column in range(1, width + 1):
        ws.column_dimensions[get_column_letter(column)].width = 16 if column > 1 else 22
    ws.freeze_panes = "B4"


def _save(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---- statistics tables ------------------------------------------------------------------------


def parse_period(text: str) -> tuple[datetime.date, datetime.date, str]:
    """`2026-10` (a month) or `2026-Q3` (a quarter): first and last month, and the Chinese name."""
    text = text.strip().upper()
    try:
        if "-Q" in text:
            year, quarter = text.split("-Q")
            q = int(quarter)
            if not 1 <= q <= 4:
                raise ValueError(text)
            first = datetime.date(int(year), 3 * q - 2, 1)
            return first, datetime.date(int(year), 3 * q, 1), _("%(y)s年第%(q)d季度") % {"y": year, "q": q}
        first = datetime.datetime.strptime(text, "%Y-%m").date()
        return first, first, _("%(y)d年%(m)d月") % {"y": first.year, "m": first.month}
    except ValueError:
        raise ValidationError(
            {"period": [_("统计期间“%(t)s”格式不对：月报写 2026-10，季报写 2026-Q3。") % {"t": text}]}
        ) from None


REPORT_SUMS = (
    "cases",
    "closed",
    "settled",
    "failed",
    "agreements",
    "amount_agreed",
    "amount_recovered",
    "overdue",
    "supervised",
    "major",
    "foreign_related",
    "satisfied",
    "basically",
    "dissatisfied",
)
REPORT_HEADERS = [
    "受理纠纷（件）",
    "已结案（件）",
    "化解成功（件）",
    "化解成功率（%）",
    "书面调解协议（份）",
    "协议金额（元）",
    "已履行金额（元）",
    "超期未结（件）",
    "督办（件）",
    "重大疑难（件）",
    "涉外（件）",
    "回访满意率（%）",
]


def _figures(row: dict[str, Any]) -> list[Any]:
    v = {k: row.get(k) or 0 for k in REPORT_SUMS}
    concluded = v["settled"] + v["failed"]
    rated = v["satisfied"] + v["basically"] + v["dissatisfied"]
    return [
        v["cases"],
        v["closed"],
        v["settled"],
        round(100 * v["settled"] / concluded, 1) if concluded else None,
        v["agreements"],
        float(Decimal(v["amount_agreed"])),
        float(Decimal(v["amount_recovered"])),
        v["overdue"],
        v["supervised"],
        v["major"],
        v["foreign_related"],
        round(100 * (v["satisfied"] + v["basically"]) / rated, 1) if rated else None,
    ]


def report_xlsx(scope: Scope, region: Region, period: str) -> tuple[bytes, str]:
    """The period's statistics of `region`: one sheet by sub-region (county, township …), one by category."""
    first, last, name = parse_period(period)
    rows = tallies_visible(scope).filter(month__gte=first, month__lte=last)
    sums = {k: Sum(k) for k in REPORT_SUMS}
    by_child = {r["node"]: r for r in rows.filter(parent=region.code).values("node").annotate(**sums).order_by()}
    total = rows.filter(node=region.code).aggregate(**sums)
    children = list(regions_visible(scope).filter(parent=region).order_by("code"))
    subtitle = _("填报单位：%(r)s综治中心　统计期间：%(p)s（按登记时间）　制表时间：%(d)s") % {
        "r": region.name,
        "p": name,
        "d": f"{timezone.localdate():%Y-%m-%d}",
    }
    level = _("旗县市区") if region.level == "league" else _("下级区划")
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _("分地区")
    body = [[child.name, *_figures(by_child.get(child.code, {}))] for child in children]
    body.append([_("合计"), *_figures(total)])
    title = _("%(r)s矛盾纠纷排查化解情况统计表（%(p)s）") % {"r": region.name, "p": name}
    _sheet(sheet, title, subtitle, [level, *[_(h) for h in REPORT_HEADERS]], body)
    by_category = {
        r["category_id"]: r for r in rows.filter(node=region.code).values("category_id").annotate(**sums).order_by()
    }
    categories = Category.objects.filter(pk__in=by_category).order_by("sort", "code")
    sheet = workbook.create_sheet(_("分类别"))
    body = [[c.name, *_figures(by_category[c.pk])] for c in categories]
    body.append([_("合计"), *_figures(total)])
    title = _("%(r)s矛盾纠纷分类统计表（%(p)s）") % {"r": region.name, "p": name}
    _sheet(sheet, title, subtitle, [_("纠纷类别"), *[_(h) for h in REPORT_HEADERS]], body)
    return _save(workbook), f"{region.code}-{first:%Y%m}-{last:%Y%m}"
