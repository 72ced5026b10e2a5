"""Region codes: validation with Chinese messages, the prefix test, and that it uses an index."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import XILINHOT, verified_client
from zongzhi.access import Scope
from zongzhi.accounts.models import User
from zongzhi.regions import codes
from zongzhi.regions.models import Region
from zongzhi.regions.selectors import region_children, region_figures
from zongzhi.regions.services import region_create

digits = st.text(alphabet="0123456789", min_size=4, max_size=15)


def _holds(q: Any, code: str) -> bool:
    """Whether a region code meets a condition of ranges on `code` (and the empty `pk__in`), as SQL would."""
    found = []
    for child in q.children:
        if isinstance(child, Q):
            found.append(_holds(child, code))
            continue
        lookup, value = child
        assert lookup in ("code__gte", "code__lte", "pk__in"), lookup
        found.append(code >= value if lookup == "code__gte" else code <= value if lookup == "code__lte" else False)
    met = all(found) if q.connector == "AND" else any(found)
    return not met if q.negated else met


@given(prefixes=st.lists(digits, min_size=1, max_size=3), code=digits)
def test_prefix_ranges_match_startswith(prefixes: list[str], code: str) -> None:
    """The index-friendly range form selects exactly the codes that start with a prefix; several prefixes
    are bounded by the range spanning them, which holds every code under any of them."""
    assert _holds(codes.prefix_q(tuple(prefixes), "code"), code) == any(code.startswith(p) for p in prefixes)
    if any(code.startswith(p) for p in prefixes):
        low, high = codes.span(prefixes)
        assert low <= code <= high and _holds(codes.span_q(prefixes, "code"), code)


@given(groups=st.lists(st.lists(digits, min_size=1, max_size=3), min_size=1, max_size=4), code=digits)
def test_the_widest_range_holds_every_range_and_no_more(groups: list[list[str]], code: str) -> None:
    """An org's or a user's reach is the widest of several ranges: it holds every code one of them holds,
    and its ends are ends of those ranges."""
    spans = [codes.span(prefixes) for prefixes in groups]
    low, high = codes.widest(spans)
    assert all(low <= code <= high for a, b in spans if a <= code <= b)
    assert low in {a for a, _b in spans} and high in {b for _a, b in spans}


def test_prefix_query_is_an_index_range_scan(db) -> None:  # type: ignore[no-untyped-def]
    query = Region.objects.filter(Scope(prefixes=("152502",)).q("code")).values("id").query
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "USING" in plan and "INDEX" in plan, plan
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Index" in plan, plan


@pytest.mark.parametrize(
    ("code", "parent", "message"),
    [
        ("15250210000", XILINHOT, "应为 12 位数字"),
        ("1525021000000", XILINHOT, "应为 12 位数字"),
        ("15250210000A", XILINHOT, "应为 12 位数字"),
        ("152531100000", XILINHOT, "不在上级区划"),
        ("152502000000", XILINHOT, "不能全为 0"),
        ("152502100005", XILINHOT, "之后应全为 0"),
        ("152502100000", XILINHOT, "已存在"),
    ],
)
def test_bad_township_codes_are_refused_with_chinese_messages(db, code: str, parent: str, message: str) -> None:  # type: ignore[no-untyped-def]
    before = Region.objects.count()
    with pytest.raises(ValidationError) as error:
        region_create(actor=None, code=code, level="township", parent=Region.objects.get(code=parent), name="测试镇")
    assert message in " ".join(error.value.message_dict["code"])
    assert Region.objects.count() == before


def test_grid_codes_have_fifteen_digits_under_their_village(db) -> None:  # type: ignore[no-untyped-def]
    village = Region.objects.filter(level="village").first()
    assert village is not None
    with pytest.raises(ValidationError):
        region_create(actor=None, code=village.code, level="grid", parent=village, name="网格")
    grid = region_create(actor=None, code=village.code + "901", level="grid", parent=village, name="新网格")
    assert grid.prefix == village.code + "901"


def test_sysadmin_region_form_names_the_field(db) -> None:  # type: ignore[no-untyped-def]
    client = verified_client(User.objects.get(username="demo-sysadmin"))
    before = Region.objects.count()
    response = client.post(
        "/staff/regions/new/", {"parent_code": XILINHOT, "code": "152531100000", "name": "错镇", "kind": "town"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "区划代码：" in page and "不在上级区划" in page
    assert Region.objects.count() == before
    response = client.post(
        "/staff/regions/new/", {"parent_code": XILINHOT, "code": "152502109000", "name": "新镇", "kind": "town"}
    )
    assert response.status_code == 302
    parent = Region.objects.get(code="152502109000").parent
    assert parent is not None and parent.code == XILINHOT


def test_children_figures_add_up_to_the_parent(db) -> None:  # type: ignore[no-untyped-def]
    league = Region.objects.get(level="league")
    scope = Scope.everything()
    children = region_children(scope, league)
    total = region_figures(scope, league)
    assert len(children) == 13
    assert sum(f.regions["grid"] for _, f in children) == total.regions["grid"] == 3555
    assert sum(f.grid_workers for _, f in children) == total.grid_workers == 6404
    assert sum(f.block_heads for _, f in children) == total.block_heads


def test_region_page_queries_do_not_grow_with_children(client_as, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    client = client_as("league")
    with django_assert_max_num_queries(25):
        client.get("/staff/regions/152500000000/")  # 13 children
    township = Region.objects.filter(level="township", code__startswith="152502").first()
    assert township is not None
    with django_assert_max_num_queries(25):
        client.get(f"/staff/regions/{township.code}/")
