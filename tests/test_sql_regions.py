"""The region-predicate check (docs/national.md) flags what it should, and the recorder keeps no data.

The check itself runs at the end of a session with ZONGZHI_SQL_RECORD set (`make test-sql-regions`);
these tests show that it can fail: statements without their region predicate are flagged, those with
one (or joined on it to a table that has one) are not, and the recorder of a real process writes the
statement's template without the values it was given.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import sql_regions
from tests.browsing import ROOT, _database_url
from zongzhi import sqlrecord

CASE_BY_ID = 'SELECT "cases_case"."id" FROM "cases_case" WHERE "cases_case"."id" = %s LIMIT 21'
IN_REGION = 'SELECT "cases_case"."id" FROM "cases_case" WHERE "cases_case"."region_code"::text LIKE %s LIMIT 21'


def test_a_lookup_without_the_region_code_is_flagged() -> None:
    assert sql_regions.unconstrained(CASE_BY_ID) == ["cases_case"]
    assert sql_regions.unconstrained('DELETE FROM "cases_party" WHERE "cases_party"."case_id" IN (%s, …)') == [
        "cases_party"
    ]
    assert sql_regions.unconstrained('UPDATE "cases_case" SET "state" = %s WHERE "cases_case"."id" = %s') == [
        "cases_case"
    ]


def test_each_form_of_the_region_predicate_counts() -> None:
    for predicate in (
        '"cases_case"."region_code" = %s',
        '"cases_case"."region_code" IN (%s, …)',
        '"cases_case"."region_code"::text LIKE %s',
        '"cases_case"."region_code" LIKE %s ESCAPE %s',
        '"cases_case"."region_code" BETWEEN %s AND %s',
        '("cases_case"."region_code" >= %s AND "cases_case"."region_code" < %s)',
    ):
        sql = f'SELECT "cases_case"."id" FROM "cases_case" WHERE ("cases_case"."id" = %s AND {predicate})'
        assert sql_regions.unconstrained(sql) == [], predicate
    assert sql_regions.unconstrained("UPDATE cases_case SET state = %s WHERE region_code = %s AND id = %s") == []


def test_a_join_needs_the_region_on_both_sides_or_a_colocated_join() -> None:
    by_case = (
        'SELECT "cases_party"."id" FROM "cases_party" INNER JOIN "cases_case" ON ("cases_party"."case_id" = '
        '"cases_case"."id") WHERE "cases_case"."region_code"::text LIKE %s'
    )
    assert sql_regions.unconstrained(by_case) == ["cases_party"]
    colocated = by_case.replace(
        '"cases_case"."id")', '"cases_case"."id" AND "cases_party"."region_code" = "cases_case"."region_code")'
    )
    assert sql_regions.unconstrained(colocated) == []
    aliased = (
        'SELECT U0."case_id" FROM "cases_assignment" U0 WHERE U0."org_id" = %s AND "cases_case"."region_code" = %s'
    )
    assert sql_regions.unconstrained(aliased) == ["U0"]
    other_column = 'SELECT "cases_case"."id" FROM "cases_case" WHERE "cases_case"."region_code" = "x"."code"'
    assert sql_regions.unconstrained(other_column) == ["cases_case"]


def test_inserts_and_other_tables_are_not_checked() -> None:
    assert sql_regions.unconstrained('INSERT INTO "cases_case" ("number", "region_code") VALUES (%s, %s)') == []
    assert sql_regions.unconstrained('SELECT "regions_region"."id" FROM "regions_region"') == []


def test_violations_skip_national_reads_the_tests_own_queries_and_the_baseline() -> None:
    national = 'SELECT "cases_case"."id" FROM "cases_case" WHERE "cases_case"."due_at" < %s'
    statements = {
        CASE_BY_ID: [("request /staff/cases/<n>/", "zongzhi/cases/selectors.py:70 case_get")],
        IN_REGION: [("request /staff/cases/", "zongzhi/cases/selectors.py:90 cases_list")],
        national: [("command manage.py scheduler", "zongzhi/cases/deadlines.py:160 sweep")],
        'SELECT "cases_party"."id" FROM "cases_party"': [("test t", "tests/test_x.py:3 test_x")],
    }
    new, known = sql_regions.violations(statements, set())
    assert [v.statement for v in new] == [CASE_BY_ID] and not known
    assert new[0].origins == ("request /staff/cases/<n>/ <- zongzhi/cases/selectors.py:70 case_get",)
    new, known = sql_regions.violations(statements, {CASE_BY_ID})
    assert not new and [v.statement for v in known] == [CASE_BY_ID]
    # The same statement issued from a page as well is the page's violation.
    statements[national].append(("request /staff/", "zongzhi/home/worklists.py:9 work_lists"))
    new, _known = sql_regions.violations(statements, set())
    assert {v.statement for v in new} == {CASE_BY_ID, national}


def test_normalising_blanks_literals_and_lengths_of_lists() -> None:
    sql = "SELECT id FROM cases_party WHERE name = '张三' AND id_index = 110105199001011234 AND id IN (%s, %s, %s)"
    assert sqlrecord.normalise(sql) == "SELECT id FROM cases_party WHERE name = %s AND id_index = %s AND id IN (%s, …)"


def test_the_recorder_of_a_real_process_keeps_templates_and_never_values(django_db_setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    secret = "录音测试当事人王秘密"
    script = (
        "from zongzhi.cases.models import Party\n"
        f"Party.objects.filter(name={secret!r}).count()\n"
        "Party.objects.filter(name=" + repr(secret) + ", region_code__startswith='152502').exists()\n"
    )
    env = {**os.environ, "DATABASE_URL": _database_url(), sqlrecord.ENV: str(tmp_path)}
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True)
    text = "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("sql-*.tsv"))
    assert secret not in text and "152502" not in text
    statements = sql_regions.recorded(tmp_path)
    counted = [s for s in statements if s.startswith("SELECT COUNT(*)") and '"cases_party"' in s]
    assert counted and sql_regions.unconstrained(counted[0]) == ["cases_party"]
    exists = [s for s in statements if "LIMIT 1" in s and '"cases_party"' in s]
    assert exists and sql_regions.unconstrained(exists[0]) == []
    # A process a test starts inherits the test's name (PYTEST_CURRENT_TEST) as its origin.
    this_test = "test tests/test_sql_regions.py::test_the_recorder_of_a_real_process_keeps_templates_and_never_values"
    assert all(where == this_test for s in counted for where, _ in statements[s])


@pytest.mark.parametrize("read", sql_regions.NATIONAL_READS, ids=lambda r: r.name)
def test_every_national_read_is_documented(read: sql_regions.NationalRead) -> None:
    assert read.reason and read.name in (ROOT / "docs" / "national.md").read_text(encoding="utf-8")
