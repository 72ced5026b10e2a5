"""Every list page and list endpoint asks the database the same number of queries for a short page as
for a long one: what a row shows is fetched with the list (select_related / prefetch_related in the
selectors), never one query per row.

Each test measures one list twice, with few rows and with many (about 5 and 50, or the list's own
limit), checks that the second really shows more rows, and compares the query counts.
"""

import datetime
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import verified_client
from tests.test_field import household_in, record
from zongzhi.accounts.models import User
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.cases import views as case_views
from zongzhi.centers.models import Center
from zongzhi.field import reviews
from zongzhi.field import services as field_services
from zongzhi.grid.models import GridWorker
from zongzhi.meetings import services as meeting_services
from zongzhi.portal.models import OpenDay
from zongzhi.regions.models import Region
from zongzhi.transfer.jobs import job_create

pytestmark = pytest.mark.django_db


def who(name: str) -> User:
    return User.objects.get(username=f"demo-{name}")


def measured(client: Client, url: str, rows: Callable[[HttpResponse], int], method: str = "get") -> tuple[int, int]:
    """(queries, rows shown) for one request of the list, after one request that fills the per-process caches."""
    getattr(client, method)(url)
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url)
    assert response.status_code == 200, url
    return len(queries), rows(response)


def assert_same(url: str, short: tuple[int, int], long: tuple[int, int]) -> None:
    assert short[1] < long[1], f"{url}: the long page shows {long[1]} rows, the short one {short[1]}"
    assert short[0] == long[0], f"{url}: {short[0]} queries for {short[1]} rows, {long[0]} for {long[1]}"


def context_rows(name: str) -> Callable[[HttpResponse], int]:
    return lambda response: len(list(response.context[name]))  # type: ignore[attr-defined]


def json_rows(key: str | None = None) -> Callable[[HttpResponse], int]:
    return lambda response: len(response.json()[key] if key else response.json())  # type: ignore[attr-defined]


@pytest.fixture
def gridworker() -> User:
    return who("gridworker")


@pytest.fixture
def grid(gridworker: User) -> Region:
    return GridWorker.objects.get(user=gridworker).grid


def test_the_case_list_page(monkeypatch: pytest.MonkeyPatch) -> None:
    client, url = verified_client(who("director")), "/staff/cases/"
    monkeypatch.setattr(case_views, "PAGE_SIZE", 5)
    short = measured(client, url, lambda r: len(r.context["page"].object_list))  # type: ignore[attr-defined]
    monkeypatch.setattr(case_views, "PAGE_SIZE", 50)
    long = measured(client, url, lambda r: len(r.context["page"].object_list))  # type: ignore[attr-defined]
    assert_same(url, short, long)


def test_the_case_list_endpoint() -> None:
    client = verified_client(who("director"))
    short = measured(client, "/api/v1/cases?limit=5", json_rows("results"))
    long = measured(client, "/api/v1/cases?limit=50", json_rows("results"))
    assert_same("/api/v1/cases", short, long)


def test_the_households_of_a_grid_and_the_resident_search(gridworker: User, grid: Region) -> None:
    client = verified_client(gridworker)
    for n in range(5):
        household_in(grid, n)
    page = ("/staff/grid/", lambda r: len(r.context["page"].object_list))  # type: ignore[attr-defined]
    search = ("/api/v1/residents?name=巴特尔&limit=200", json_rows("results"))
    short = [measured(client, url, rows) for url, rows in (page, search)]
    for n in range(5, 50):
        household_in(grid, n)
    long = [measured(client, url, rows) for url, rows in (page, search)]
    for (url, _rows), before, after in zip((page, search), short, long, strict=True):
        assert_same(url, before, after)


def test_visits_and_their_items(gridworker: User, grid: Region) -> None:
    client, url = verified_client(gridworker), "/staff/field/"
    homes = [household_in(grid, n) for n in range(10)]

    def visit(n: int) -> None:
        done = record(gridworker, homes[n % 10], visited_at=timezone.now() - datetime.timedelta(hours=n + 1))
        field_services.field_item_raise(visit=done, actor=gridworker, kind="opinion", title=f"希望修路{n}")

    for n in range(5):
        visit(n)
    short = measured(client, url, context_rows("visits"))
    for n in range(5, 50):
        visit(n)
    assert_same(url, short, measured(client, url, context_rows("visits")))


def test_village_reviews_units_and_stations() -> None:
    director = who("director")
    client = verified_client(director)
    villages = list(Region.objects.filter(code__startswith="152502", level="village").order_by("code")[:50])
    county = Region.objects.get(code="152502000000")

    def add(n: int) -> None:
        village = villages[n]
        reviews.risk_review_open(actor=director, village=village, held_on=timezone.localdate())
        field_services.mobile_unit_create(actor=director, name=f"乌日特{n}队", county=county)
        field_services.station_create(actor=director, name=f"驿站{n}", village=village)

    for n in range(5):
        add(n)
    lists = [
        ("/staff/field/reviews/", context_rows("reviews")),
        ("/staff/field/units/", context_rows("stations")),
        ("/staff/field/units/", context_rows("units")),
    ]
    short = [measured(client, url, rows) for url, rows in lists]
    for n in range(5, len(villages)):
        add(n)
    long = [measured(client, url, rows) for url, rows in lists]
    for (url, _rows), before, after in zip(lists, short, long, strict=True):
        assert_same(url, before, after)


def test_meetings() -> None:
    director = who("director")
    client, url = verified_client(director), "/staff/meetings/"
    townships = list(Region.objects.filter(code__startswith="152502", level="township").order_by("code"))
    days = [timezone.localdate() - datetime.timedelta(days=31 * n) for n in range(12)]  # one a month per region
    slots = [(t, d) for d in days for t in townships]

    def meet(n: int) -> None:
        township, day = slots[n]
        meeting_services.meeting_open(actor=director, region=township, held_on=day)

    for n in range(5):
        meet(n)
    short = measured(client, url, context_rows("meetings"))
    for n in range(5, 50):
        meet(n)
    assert_same(url, short, measured(client, url, context_rows("meetings")))


def test_import_jobs_on_the_upload_page() -> None:
    director = who("director")
    client, url = verified_client(director), "/staff/transfer/import/"

    def job(n: int) -> None:
        upload = SimpleUploadedFile(f"r{n}.csv", "户编号,所在网格\n".encode(), content_type="text/csv")
        job_create(actor=director, kind="residents", upload=upload, dry_run=True, accept_valid=False)

    for n in range(3):
        job(n)
    short = measured(client, url, context_rows("recent"))
    for n in range(3, 12):
        job(n)
    assert_same(url, short, measured(client, url, context_rows("recent")))


def test_the_audit_log() -> None:
    client, url = verified_client(who("auditor")), "/staff/audit/"
    rows = lambda r: len(r.context["page"].object_list)  # type: ignore[attr-defined]  # noqa: E731
    for n in range(5):
        audit_record(action=AuditEntry.Action.LOGIN_FAILED, actor_name="测试", target=f"user-{n}")
    short = measured(client, url, rows)
    for n in range(5, 50):
        audit_record(action=AuditEntry.Action.LOGIN_FAILED, actor_name="测试", target=f"user-{n}")
    assert_same(url, short, measured(client, url, rows))


def test_accounts_and_centers() -> None:
    sysadmin, league = verified_client(who("sysadmin")), verified_client(who("league"))
    users = lambda r: len(r.context["page"].object_list)  # type: ignore[attr-defined]  # noqa: E731
    cases: list[tuple[Client, str, str, Callable[[HttpResponse], int]]] = [
        (sysadmin, "/staff/admin/users/?q=demo-", "/staff/admin/users/?q=gw-", users),
        (league, "/staff/centers/?level=county", "/staff/centers/?level=township", context_rows("centers")),
        (
            league,
            "/api/v1/centers?level=county&limit=200",
            "/api/v1/centers?level=township&limit=200",
            json_rows("results"),
        ),
    ]
    for client, few, many, rows in cases:
        assert_same(many, measured(client, few, rows), measured(client, many, rows))


def test_open_days_on_the_staff_page() -> None:
    client, url = verified_client(who("director")), "/staff/open-days/"
    centers = list(Center.objects.filter(code__startswith="ZZ-152502").order_by("code"))

    def open_day(n: int) -> None:
        OpenDay.objects.create(
            center=centers[n % len(centers)],
            day=timezone.localdate() + datetime.timedelta(days=1 + n // len(centers)),
            starts=datetime.time(9),
            ends=datetime.time(12),
            capacity=5,
        )

    for n in range(5):
        open_day(n)
    short = measured(client, url, context_rows("days"))
    for n in range(5, 50):
        open_day(n)
    assert_same(url, short, measured(client, url, context_rows("days")))
