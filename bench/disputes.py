"""Importing a ledger of historical disputes (SQLite or PostgreSQL): first import, then the same file again.

The file: BENCH_DISPUTES_ROWS (default 10,000) rows, two parties a case, in Xilinhot's villages; four
cases in five closed (agreement, other settlement, litigation, fast-track court), one in five open.
Each run is `run_import` of the disputes kind, as `manage.py import_data` runs it; both happen inside
one outer transaction that is rolled back at the end, so the database is left as it was.

    python bench/disputes.py            # on DATABASE_URL, else the SQLite file under var/
"""

import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = int(os.environ.get("BENCH_DISPUTES_ROWS", "10000"))
HEADERS = ["原编号", "受理日期", "发生地", "纠纷类别", "事由", "涉及金额（元）", "结案方式", "结案日期"]
HEADERS += ["当事人身份", "当事人姓名", "证件号码"]
OUTCOMES = ["达成调解协议", "其他方式化解", "引导诉讼", "转速裁法庭", ""]


def make_file(path: Path) -> None:
    from openpyxl import Workbook

    from zongzhi.cases.models import Category
    from zongzhi.identity import make_resident_id
    from zongzhi.regions.models import Region

    villages = list(Region.objects.filter(level="village", code__startswith="152502").values_list("code", flat=True))
    categories = list(Category.objects.filter(parent__isnull=False).values_list("code", flat=True))
    book = Workbook(write_only=True)
    sheet = book.create_sheet("台账")
    sheet.append(HEADERS)
    for i in range(ROWS):
        case = i // 2
        registered = datetime.date(2021, 1, 4) + datetime.timedelta(days=case % 1000)
        outcome = OUTCOMES[case % len(OUTCOMES)]
        closed = registered + datetime.timedelta(days=3 + case % 40) if outcome else None
        role, name = ("申请人", f"申请人{case}") if i % 2 == 0 else ("被申请人", f"被申请人{case}")
        number = make_resident_id("110101", datetime.date(1950, 1, 1) + datetime.timedelta(days=i // 900), i % 900)
        sheet.append(
            [
                f"BENCH-TZ-{case:07d}",
                registered,
                villages[case % len(villages)],
                categories[case % len(categories)],
                "历史纠纷",
                1000 + case % 5000,
                outcome,
                closed,
                role,
                name,
                number,
            ]
        )
    book.save(path)


def measure() -> None:
    from django.db import connection, transaction

    from zongzhi.access import Scope
    from zongzhi.transfer.disputes import DisputesImport
    from zongzhi.transfer.engine import run_import

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "disputes.xlsx"
        make_file(path)
        print(f"import of historical disputes ({connection.vendor}), {ROWS:,} rows, {path.stat().st_size / 1e6:.1f} MB")
        with transaction.atomic():
            for label in ("first import (all new)", "the same file again (all unchanged)"):
                started = time.perf_counter()
                report = run_import(DisputesImport(), path, scope=Scope.everything(), actor_name="bench")
                seconds = time.perf_counter() - started
                assert report.problem_count == 0, report.problems[:5]
                figures = f"inserted {report.inserted}, updated {report.updated}, unchanged {report.unchanged}"
                print(f"  {label:<40} {seconds:8.1f} s   {figures}")
            transaction.set_rollback(True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zongzhi.settings")
    import django

    django.setup()
    measure()
