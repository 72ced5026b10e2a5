"""The monthly and quarterly statistics tables (XLSX), as the league and Xilinhot leaders download them.

The league's tables add up to the cases registered in the period, by county and by category;
a bad period gets a Chinese reason; another jurisdiction answers 404; every download is audited.
"""

import datetime
import io
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from zongzhi.audit.models import AuditEntry
from zongzhi.cases.models import Case

XILINHOT = "152502000000"


def _rows(content: bytes, sheet: int = 0) -> list[list[Any]]:
    return [list(r) for r in load_workbook(io.BytesIO(content)).worksheets[sheet].iter_rows(values_only=True)]


@pytest.mark.django_db
def test_monthly_and_quarterly_tables_add_up(client_as: Any) -> None:
    league = client_as("league")
    today = timezone.localdate()
    month = today.replace(day=1) - datetime.timedelta(days=1)  # last month: complete
    response = league.get("/staff/dashboards/152500000000/report.xlsx", {"period": f"{month:%Y-%m}"})
    assert response.status_code == 200
    rows = _rows(response.content)
    assert "锡林郭勒盟" in rows[0][0] and "月" in rows[0][0]
    assert rows[2][0] == "旗县市区" and rows[2][1] == "受理纠纷（件）"
    counties, total = rows[3:-1], rows[-1]
    registered = Case.objects.filter(
        registered_at__date__gte=month.replace(day=1), registered_at__date__lte=month
    ).count()
    assert total[0] == "合计" and total[1] == registered == sum(r[1] for r in counties) > 0
    assert len(counties) == 13
    by_category = _rows(response.content, 1)
    assert by_category[-1][1] == registered == sum(r[1] for r in by_category[3:-1])

    quarter = (month.month - 1) // 3 + 1
    response = league.get("/staff/dashboards/152500000000/report.xlsx", {"period": f"{month.year}-Q{quarter}"})
    assert response.status_code == 200 and _rows(response.content)[-1][1] >= registered
    assert AuditEntry.objects.filter(action="data_exported", actor__username="demo-league").count() == 2


@pytest.mark.django_db
def test_reports_refuse_a_bad_period_and_other_jurisdictions(client_as: Any) -> None:
    leader = client_as("leader")
    bad = leader.get(f"/staff/dashboards/{XILINHOT}/report.xlsx", {"period": "2026-Q5"})
    assert bad.status_code == 400 and "格式不对" in bad.content.decode()
    assert leader.get("/staff/dashboards/152531000000/report.xlsx", {"period": "2026-01"}).status_code == 404
    assert leader.get("/staff/dashboards/152500000000/report.xlsx", {"period": "2026-01"}).status_code == 404
    table = leader.get(f"/staff/dashboards/{XILINHOT}/report.xlsx", {"period": "2026-01"})
    assert table.status_code == 200 and _rows(table.content)[2][0] == "下级区划"
