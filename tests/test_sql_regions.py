"""The region-predicate check (docs/national.md) flags what it should, and the recorder keeps no data.

The check itself runs at the end of a session with ZONGZHI_SQL_RECORD set (`make test-pg`: the whole
suite on PostgreSQL); these tests show that it can fail: statements without their region predicate
are flagged, those with one (or joined on it to a table that has one) are not, and the recorder of a
real process writes the statement's template without the values it was given.
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


def test_a_region_predicate_under_an_or_or_a_not_restricts_nothing() -> None:
    """`region LIKE '15%' OR x` reads every region: the predicate counts only in a conjunction."""
    head = 'SELECT "cases_case"."id" FROM "cases_case" WHERE '
    region = '"cases_case"."region_code"::text LIKE %s'
    for where in (
        f'({region} OR "cases_case"."id" = %s)',
        f'{region} OR "cases_case"."id" = %s',
        '(("cases_case"."region_code" >= %s AND "cases_case"."region_code" <= %s) OR "cases_case"."major")',
        f"NOT ({region})",
        f'("cases_case"."state" = %s AND ({region} OR "cases_case"."owner_id" = %s))',
    ):
        assert sql_regions.unconstrained(head + where) == ["cases_case"], where
    # An OR beside the predicate, not above it, does not matter.
    beside = f'({region} AND ("cases_case"."id" = %s OR "cases_case"."id" = %s))'
    assert sql_regions.unconstrained(head + beside) == []
    # Setting the region is not filtering on it.
    assert sql_regions.unconstrained('UPDATE "cases_case" SET "region_code" = %s WHERE "cases_case"."id" = %s') == [
        "cases_case"
    ]


def test_a_subquery_is_a_query_block_of_its_own() -> None:
    sub = 'SELECT U0."case_id" FROM "cases_party" U0 WHERE (U0."region_code" = %s {op} U0."name" = %s)'
    outer = (
        'SELECT "cases_case"."id" FROM "cases_case" WHERE ("cases_case"."region_code" = %s {op} '
        '"cases_case"."id" IN ({sub}))'
    )
    assert sql_regions.unconstrained(outer.format(op="AND", sub=sub.format(op="AND"))) == []
    assert sql_regions.unconstrained(outer.format(op="AND", sub=sub.format(op="OR"))) == ["U0"]
    # The outer OR unrestricts the case, not the subquery's own rows.
    assert sql_regions.unconstrained(outer.format(op="OR", sub=sub.format(op="AND"))) == ["cases_case"]
    # The jurisdiction of a department: in my prefixes, or pushed to my org (a subquery without the region).
    pushed = (
        'SELECT "cases_case"."id" FROM "cases_case" WHERE (("cases_case"."region_code" >= %s AND '
        '"cases_case"."region_code" <= %s) OR "cases_case"."id" IN (SELECT U0."case_id" AS "case_id" FROM '
        '"cases_assignment" U0 WHERE U0."org_id" IN (%s)))'
    )
    assert sql_regions.unconstrained(pushed) == ["U0", "cases_case"]


def test_every_table_distributed_on_its_region_is_checked() -> None:
    """The check reads its tables from docs/national.md's table of distributed tables: one list."""
    from django.apps import apps

    declared = sql_regions.distributed_tables()
    assert declared == sql_regions.CASE_TABLES
    for table in (
        "cases_case",
        "cases_instalmentpayment",
        "grid_resident",
        "field_visit",
        "meetings_agendaitem",
        "outbox_event",
        "dashboards_casefact",
    ):
        assert declared[table] == "region_code", table
    # The tables the plan says lack the column are not in it (they must get it first).
    assert "portal_application" not in declared and "outbox_smsreceipt" not in declared
    columns = {m._meta.db_table: {f.column for f in m._meta.concrete_fields} for m in apps.get_models()}
    for table, column in declared.items():
        assert column in columns.get(table, set()), f"docs/national.md declares {table}.{column}, no model has it"
    assert sql_regions.unconstrained(
        'SELECT "grid_resident"."id" FROM "grid_resident" WHERE "grid_resident"."id" = %s'
    ) == ["grid_resident"]


def test_the_declaration_is_read_from_the_first_table_under_its_heading() -> None:
    text = (
        "### Distributed tables (colocated)\n\n| table | region column | notes |\n| --- | --- | --- |\n"
        "| `a_x`, `a_y` | `region_code` | |\n| `b_z` | `node` | |\n\n**Lacking**\n\n| table | through |\n"
        "| --- | --- |\n| `c_w` | `case_id` |\n"
    )
    assert sql_regions.distributed_tables(text) == {"a_x": "region_code", "a_y": "region_code", "b_z": "node"}


def test_every_statement_left_on_the_baseline_carries_a_documented_reason() -> None:
    doc = (ROOT / "docs" / "national.md").read_text(encoding="utf-8")
    for reason in sql_regions.BASELINE_REASONS:
        assert f"`{reason}`" in doc, reason
    lines = sql_regions.baseline_lines()
    unexplained = [s[:120] for s, reason in lines.items() if reason not in sql_regions.BASELINE_REASONS]
    assert not unexplained, unexplained


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
        # A command with none of our frames (a test's `manage.py shell -c` cleanup, Django's own).
        'DELETE FROM "grid_household" WHERE "grid_household"."id" IN (%s, …)': [("test t", "manage.py:12 main")],
        'SELECT count(*) FROM "cases_case"': [("test t", "zongzhi/ops/backup.py:93 _counts")],
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
    # A bulk update of two rows and of three is one shape (its batch size depends on what was waiting).
    arm = 'WHEN ("outbox_event"."id" = %s) THEN %s'
    two, three = (
        f'UPDATE "outbox_event" SET "seq" = (CASE {" ".join([arm] * n)} ELSE NULL END)::bigint'
        f' WHERE "outbox_event"."id" IN ({", ".join(["%s"] * n)})'
        for n in (2, 3)
    )
    assert sqlrecord.normalise(two) == sqlrecord.normalise(three)
    assert sqlrecord.normalise(two) == (
        f'UPDATE "outbox_event" SET "seq" = (CASE {arm} … ELSE NULL END)::bigint WHERE "outbox_event"."id" IN (%s, …)'
    )


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
