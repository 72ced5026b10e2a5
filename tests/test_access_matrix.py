"""Every route of the URL configuration × every persona: who may, who gets 404 in and out of the
jurisdiction, who gets 403, what the administrators get, and what a visitor without both factors gets.

The routes are read from `django.urls.get_resolver()`: pages by their pattern, API operations by
method and pattern. A route without an entry in ROUTES fails `test_every_route_has_an_entry`, naming
it. To add one: a key as printed by that failure, and one `Probe` or more, each a request (a path
with `{placeholders}` from the `world` fixture, the method, the data) and its answer per persona,
built with `answers()`, `only()` or `public()`.

Xilinhot staff see Xilinhot and get 404 for Duolun (the same answer as for a missing one); the grid
worker sees only their grid; the league leader sees everything; the three administrators see their
own pages and no business content (403 on business pages, before anything is looked up).
"""

import copy
import datetime
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from ninja.operation import PathView

from tests import real_files
from tests.catalogue_cases import BODIES, PREPARED
from tests.conftest import DUOLUN, XILINHOT, verified_client
from tests.messy_files import person_id, write_xlsx
from tests.test_field import household_in, record
from tests.test_portal_open_days import schedule
from zongzhi.accounts import services as account_services
from zongzhi.accounts.models import Role, User
from zongzhi.cases import services as case_services
from zongzhi.cases.catalogue import ACTIONS
from zongzhi.cases.models import OPEN_STATES, Agreement, Case, CourtReferral, Instalment, State, Supervision
from zongzhi.centers.models import Center, Org, Room
from zongzhi.field import reviews
from zongzhi.field import services as field_services
from zongzhi.field.models import ServiceType
from zongzhi.grid import services as grid_services
from zongzhi.grid.models import GridWorker, Household, Resident
from zongzhi.integration.services import service_account_create, service_token_issue
from zongzhi.meetings import services as meeting_services
from zongzhi.outbox.models import Delivery
from zongzhi.outbox.publishing import publish
from zongzhi.outbox.services import event_record
from zongzhi.outbox.webhooks import subscription_create
from zongzhi.portal.models import OpenDay
from zongzhi.regions.models import Region
from zongzhi.transfer.export_jobs import export_job_create, export_job_run
from zongzhi.transfer.jobs import job_create, job_run
from zongzhi.transfer.models import ImportJob

STAFF = ("intake", "director", "liaison", "mediator", "leader", "judge")  # all of Xilinhot
ADMINS = ("sysadmin", "secadmin", "auditor")
PERSONAS = (*STAFF, "gridworker", "league", *ADMINS)
MISSING_REGION = "152599000000"
IMPORT_HEADERS = ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号"]
PNG = real_files.PNG


@pytest.fixture(autouse=True)
def _worker_lag_out_of_the_way(settings: Any) -> None:
    """/readyz is public and answers 200 when ready; tasks earlier tests queued wait forever here (no
    worker runs in the suite), so its lag is taken out of this access check (tests/test_serving.py checks it)."""
    settings.WORKER_MAX_LAG = settings.OUTBOX_MAX_LAG = datetime.timedelta(days=3650)


def answers(
    staff: int, *, grid: int | None = None, league: int | None = None, admins: int = 403, **each: int
) -> dict[str, int]:
    """Xilinhot staff get `staff`, and so do the grid worker and the league leader unless told; admins 403."""
    result = dict.fromkeys(STAFF, staff)
    result["gridworker"] = staff if grid is None else grid
    result["league"] = staff if league is None else league
    result.update(dict.fromkeys(ADMINS, admins))
    result.update(each)
    return result


def only(*who: str, status: int = 200, others: int = 403) -> dict[str, int]:
    """A role's own page: `status` for `who`, `others` (the role check: 403) for everyone else."""
    return {p: status if p in who else others for p in PERSONAS}


def public(status: int = 200) -> dict[str, int]:
    """A public page: the same answer for everyone, logged in or not."""
    return {p: status for p in (*PERSONAS, "anonymous")}


IN = answers(200, grid=404)  # something of Xilinhot outside the grid worker's grid
OUT = answers(404, league=200)  # something of Duolun
MISSING = answers(404)  # nothing there: the same 404 for everyone with business access
MINE = answers(200)  # something in the grid worker's grid (which lies in Xilinhot)
IMPORTERS = ("director", "leader", "league")  # center directors and leaders import


def case_write(status: int, *who: str, out: bool = False) -> dict[str, int]:
    """A write on a Xilinhot case (`out`: a Duolun one): `status` for `who`, whose part in the case allows it,
    403 for the others who see the case, 404 for those who do not."""
    seen = answers(404, league=403) if out else answers(403, grid=404)
    return seen | dict.fromkeys(who, status)


# Field items are handled by grid workers, directors and leaders; the others who see one are refused.
FIELD_HANDLERS = answers(403) | dict.fromkeys(("gridworker", "director", "leader", "league"), 200)
# A county's 乌日特 is run by its center's director; the grid worker sees no unit of the county.
DIRECTOR_ONLY = answers(403, grid=404, director=200)
CONVENERS = answers(403, grid=404) | dict.fromkeys(("director", "leader", "league"), 200)
OWN_JOB = only(*IMPORTERS, status=404) | {"director": 200}
INTAKE = ("intake", "director", "liaison", "gridworker")  # whom the case page offers registering to


@dataclass(frozen=True)
class Probe:
    """One request and the status each persona gets for it."""

    path: str
    expect: dict[str, int]
    method: str = "GET"
    data: Any = field(default_factory=dict)  # a dict, or "{name}" of one in the world
    json: bool = False  # send `data` as a JSON body (the API) instead of a form
    # What some personas get today where that is wrong, until it is fixed; `expect` holds the right answer.
    now: dict[str, int] = field(default_factory=dict)
    why: str = ""


def post(path: str, expect: dict[str, int], data: Any = None, **wrong: Any) -> Probe:
    return Probe(path, expect, "POST", data or {}, **wrong)


def api_post(path: str, expect: dict[str, int], data: Any = None, **wrong: Any) -> Probe:
    return Probe(path, expect, "POST", data or {}, json=True, **wrong)


ROUTES: dict[str, list[Probe]] = {
    # ---- the platform and the login ------------------------------------------------------------
    "healthz": [Probe("/healthz", public())],
    "readyz": [Probe("/readyz", public())],
    "staff/login/": [Probe("/staff/login/", public())],
    "staff/login/totp/": [Probe("/staff/login/totp/", public(302))],  # no password step yet: back to login
    "staff/login/enrol/": [Probe("/staff/login/enrol/", public(302))],
    "staff/login/password/": [Probe("/staff/login/password/", public(302))],  # no login under way: back to login
    "staff/logout/": [post("/staff/logout/", public(302))],
    # ---- pages above the apps ------------------------------------------------------------------
    "staff/": [Probe("/staff/", answers(200, admins=200))],
    "staff/open-days/": [Probe("/staff/open-days/", answers(200))],
    "staff/open-days/<int:pk>/": [
        Probe("/staff/open-days/{open_day}/", IN),
        Probe("/staff/open-days/{open_day_out}/", OUT),
    ],
    "staff/regions/": [Probe("/staff/regions/", answers(302))],  # one jurisdiction: straight to it
    "staff/regions/<str:code>/": [
        Probe(f"/staff/regions/{XILINHOT}/", IN),
        Probe(f"/staff/regions/{DUOLUN}/", OUT),
        Probe(f"/staff/regions/{MISSING_REGION}/", MISSING),
        Probe("/staff/regions/{grid}/", MINE),
    ],
    "staff/regions/<str:code>/children/": [
        Probe(f"/staff/regions/{XILINHOT}/children/", IN),
        Probe(f"/staff/regions/{DUOLUN}/children/", OUT),
        Probe(f"/staff/regions/{XILINHOT}/children/?depth=x", IN),
    ],
    # ---- the administrators' pages -------------------------------------------------------------
    "staff/admin/users/": [Probe("/staff/admin/users/", only("sysadmin"))],
    "staff/admin/users/new/": [Probe("/staff/admin/users/new/", only("sysadmin"))],
    "staff/admin/users/<int:pk>/": [
        Probe("/staff/admin/users/{user}/", only("sysadmin")),
        Probe("/staff/admin/users/999999999/", only("sysadmin", status=404)),
    ],
    "staff/security/": [Probe("/staff/security/", only("secadmin"))],
    "staff/security/unlock/<int:pk>/": [post("/staff/security/unlock/{user}/", only("secadmin", status=302))],
    "staff/security/users/<int:pk>/": [
        Probe("/staff/security/users/{user}/", only("secadmin")),
        Probe("/staff/security/users/999999999/", only("secadmin", status=404)),
    ],
    "staff/credential-resets/": [Probe("/staff/credential-resets/", only(*ADMINS))],
    "staff/credential-resets/<int:pk>/": [
        Probe("/staff/credential-resets/{reset}/", only(*ADMINS)),
        Probe("/staff/credential-resets/999999999/", only(*ADMINS, status=404)),
    ],
    "staff/audit/": [Probe("/staff/audit/", only("auditor"))],
    "staff/integration/accounts/": [Probe("/staff/integration/accounts/", only("secadmin"))],
    "staff/integration/accounts/new/": [Probe("/staff/integration/accounts/new/", only("secadmin"))],
    "staff/integration/accounts/<int:pk>/": [
        Probe("/staff/integration/accounts/{service_account}/", only("secadmin")),
        Probe("/staff/integration/accounts/999999999/", only("secadmin", status=404)),
    ],
    "staff/integration/accounts/<int:pk>/tokens/new/": [
        post("/staff/integration/accounts/{service_account}/tokens/new/", only("secadmin"), {"days": "30"})
    ],
    "staff/integration/tokens/<int:pk>/rotate/": [
        post("/staff/integration/tokens/{service_token}/rotate/", only("secadmin"))
    ],
    "staff/integration/tokens/<int:pk>/revoke/": [
        post("/staff/integration/tokens/{service_token}/revoke/", only("secadmin", status=302))
    ],
    # ---- Open311: discovery and services are public; requests want an api_key, never a session ------
    "open311/v2/discovery.<str:fmt>": [Probe("/open311/v2/discovery.json", public())],
    "open311/v2/services.<str:fmt>": [Probe("/open311/v2/services.xml", public())],
    "open311/v2/requests.<str:fmt>": [
        Probe("/open311/v2/requests.json", public(403)),
        post("/open311/v2/requests.json", public(403), {"service_code": "neighbour", "description": "x"}),
    ],
    "open311/v2/requests/<str:number>.<str:fmt>": [Probe("/open311/v2/requests/{case}.json", public(403))],
    "staff/regions/new/": [Probe("/staff/regions/new/", only("sysadmin"))],
    "staff/centers/presences/new/": [Probe("/staff/centers/presences/new/", only("sysadmin"))],
    "staff/centers/service-areas/": [
        Probe("/staff/centers/service-areas/", only("sysadmin")),
        post(
            "/staff/centers/service-areas/",
            only("sysadmin", status=302),
            {"add": "1", "org_code": "152531-D05", "region_code": XILINHOT},
        ),
    ],
    "staff/cases/config/": [Probe("/staff/cases/config/", only("sysadmin"))],
    "staff/cases/config/<str:what>/": [post("/staff/cases/config/calendar/", only("sysadmin", status=302))],
    # ---- centers ---------------------------------------------------------------------------------
    "staff/centers/": [Probe("/staff/centers/", answers(200))],
    "staff/centers/<str:code>/": [
        Probe("/staff/centers/ZZ-152502/", IN),
        Probe("/staff/centers/ZZ-152531/", OUT),
    ],
    # ---- cases -----------------------------------------------------------------------------------
    "staff/cases/": [Probe("/staff/cases/", answers(200))],
    "staff/cases/new/": [Probe("/staff/cases/new/", answers(200))],
    "staff/cases/instalments/overdue/": [Probe("/staff/cases/instalments/overdue/", answers(200))],
    "staff/cases/new/check/": [post("/staff/cases/new/check/", answers(200), {"description": "草场边界"})],
    # The region picker: the county is above the grid worker's grid (passed through on the way down).
    "staff/cases/new/regions/": [
        Probe("/staff/cases/new/regions/?parent=152502000000", MINE),
        Probe("/staff/cases/new/regions/?parent=152531000000", OUT),
        Probe(f"/staff/cases/new/regions/?parent={MISSING_REGION}", MISSING),
        Probe("/staff/cases/new/regions/?chosen=152531000000", OUT),
        Probe("/staff/cases/new/regions/?q=%E7%A4%BE%E5%8C%BA", MINE),
    ],
    "staff/cases/<str:number>/": [
        Probe("/staff/cases/{case}/", IN),
        Probe("/staff/cases/{case_out}/", OUT),
        Probe("/staff/cases/152502209901019999/", MISSING),
    ],
    # The page's form of any catalogue action (its API routes: ACTION_MAY below).
    "staff/cases/<str:number>/do/<str:what>/": [
        post("/staff/cases/{act_follow_up}/do/follow_up/", case_write(302, "intake", "director"), "{body_follow_up}"),
        post("/staff/cases/{case_out}/do/follow_up/", case_write(403, out=True), "{body_follow_up}"),
        post(
            "/staff/cases/{act_follow_up}/do/follow_up/",
            case_write(422, "intake", "director"),  # an empty form
            now=dict.fromkeys(("liaison", "mediator", "leader", "judge", "league"), 422),
            why="the form is checked before who may: one refused sees its errors (422), not the refusal",
        ),
    ],
    "staff/cases/<str:number>/attachments/<int:pk>/": [
        Probe("/staff/cases/{case}/attachments/{attachment}/", IN),
        Probe("/staff/cases/{case_out}/attachments/{attachment}/", OUT | {"league": 404}),  # not that case's
    ],
    "staff/cases/<str:number>/print/<str:doc>/": [
        Probe("/staff/cases/{case}/print/intake/", IN),
        Probe("/staff/cases/{case_out}/print/intake/", OUT),
        # The copy with the parties' full particulars: those who may see them unmasked on the case page.
        post(
            "/staff/cases/{agreement_print}/print/agreement/",
            case_write(200, "intake", "director"),
            {"reason": "送法院"},
        ),
        post("/staff/cases/{agreement_case_out}/print/agreement/", case_write(403, out=True), {"reason": "送法院"}),
    ],
    # ---- field -----------------------------------------------------------------------------------
    "staff/field/": [Probe("/staff/field/", answers(200))],
    "staff/field/visits/new/": [Probe("/staff/field/visits/new/", only("gridworker"))],
    "staff/field/visits/<int:pk>/": [
        Probe("/staff/field/visits/{visit}/", MINE),
        Probe("/staff/field/visits/{visit_out}/", OUT),
    ],
    "staff/field/visits/<int:pk>/case/": [
        post("/staff/field/visits/{visit}/case/", only("gridworker", status=302)),
        post("/staff/field/visits/{visit_out}/case/", only("gridworker", status=404)),
    ],
    "staff/field/visits/<int:pk>/item/": [
        post("/staff/field/visits/{visit}/item/", only("gridworker", status=302)),
        post("/staff/field/visits/{visit_out}/item/", only("gridworker", status=404)),
    ],
    "staff/field/items/<int:pk>/handle/": [
        post("/staff/field/items/{field_item}/handle/", answers(302)),
        post("/staff/field/items/{field_item_out}/handle/", answers(404, league=302)),
    ],
    "staff/field/photos/<int:pk>/": [
        Probe("/staff/field/photos/{photo}/", MINE),
        Probe("/staff/field/photos/{photo_out}/", OUT),
    ],
    # The offline field app: its shell for business staff; its service worker and manifest hold no data.
    "staff/field/app/": [Probe("/staff/field/app/", answers(200))],
    "staff/field/app/sw.js": [Probe("/staff/field/app/sw.js", public())],
    "staff/field/app/manifest.webmanifest": [Probe("/staff/field/app/manifest.webmanifest", public())],
    "staff/field/reviews/": [Probe("/staff/field/reviews/", only("director", "leader", "league"))],
    "staff/field/reviews/<int:pk>/": [
        Probe("/staff/field/reviews/{review}/", only("director", "leader", "league")),
        Probe("/staff/field/reviews/{review_out}/", only("league") | dict.fromkeys(("director", "leader"), 404)),
    ],
    "staff/field/review-items/<int:pk>/": [
        post("/staff/field/review-items/{risk_item}/", only("director", "leader", "league", status=302)),
    ],
    "staff/field/review-items/": [
        Probe("/staff/field/review-items/", only("intake", "director", "leader", "league")),
        post("/staff/field/review-items/", only("intake", "director", "leader", "league", status=404), {"item": "x"}),
    ],
    "staff/field/units/": [Probe("/staff/field/units/", answers(200))],
    "staff/field/units/<int:pk>/": [
        Probe("/staff/field/units/{unit}/", IN),
        Probe("/staff/field/units/{unit_out}/", OUT),
    ],
    "staff/field/mobile-visits/<int:pk>/": [
        Probe("/staff/field/mobile-visits/{mobile_visit}/", IN),
        Probe("/staff/field/mobile-visits/{mobile_visit_out}/", OUT),
    ],
    # Raising at a stop is for the unit's members and the county's director (an empty form: back with the errors).
    "staff/field/mobile-visits/<int:pk>/case/": [
        post("/staff/field/mobile-visits/{mobile_visit}/case/", answers(403, grid=404) | {"director": 302}),
        post("/staff/field/mobile-visits/{mobile_visit_out}/case/", answers(404, league=403)),
    ],
    "staff/field/mobile-visits/<int:pk>/item/": [
        post("/staff/field/mobile-visits/{mobile_visit}/item/", answers(403, grid=404) | {"director": 302}),
        post("/staff/field/mobile-visits/{mobile_visit_out}/item/", answers(404, league=403)),
    ],
    "staff/field/stations/<int:pk>/": [
        Probe("/staff/field/stations/{station}/", IN),
        Probe("/staff/field/stations/{station_out}/", OUT),
    ],
    # ---- grid ------------------------------------------------------------------------------------
    "staff/grid/": [Probe("/staff/grid/", answers(200))],
    "staff/grid/households/new/": [post("/staff/grid/households/new/", answers(302), {"grid": "{grid}"})],
    "staff/grid/households/<str:code>/": [
        Probe("/staff/grid/households/{household}/", MINE),
        Probe("/staff/grid/households/{household_xilinhot}/", IN),
        Probe("/staff/grid/households/{household_out}/", OUT),
    ],
    "staff/grid/households/<str:code>/residents/": [
        post("/staff/grid/households/{household}/residents/", answers(302)),
        post("/staff/grid/households/{household_out}/residents/", answers(404, league=302)),
    ],
    "staff/grid/households/<str:code>/claim/": [
        post("/staff/grid/households/{household_xilinhot}/claim/", answers(302, grid=404)),
        post("/staff/grid/households/{household_out}/claim/", answers(404, league=302)),
    ],
    "staff/grid/households/<str:code>/season/": [
        post("/staff/grid/households/{household}/season/", answers(302), {"summer_from": "05-10"}),
        post("/staff/grid/households/{household_out}/season/", answers(404, league=302), {"summer_from": "05-10"}),
    ],
    "staff/grid/seasons/": [
        Probe("/staff/grid/seasons/", answers(200)),
        post(
            "/staff/grid/seasons/", answers(302), {"county": XILINHOT, "summer_from": "05-01", "winter_from": "11-01"}
        ),
        post("/staff/grid/seasons/", answers(404, league=302), {"county": DUOLUN, "summer_from": "05-01"}),
    ],
    "staff/grid/residents/<int:pk>/unmask/": [
        post("/staff/grid/residents/{resident}/unmask/", answers(302)),
        post("/staff/grid/residents/{resident_out}/unmask/", answers(404, league=302)),
    ],
    "staff/grid/claims/<str:code>/": [
        Probe(f"/staff/grid/claims/{XILINHOT}/", IN),
        Probe(f"/staff/grid/claims/{DUOLUN}/", OUT),
        Probe("/staff/grid/claims/{grid}/", MINE),
    ],
    "staff/grid/conflicts/<int:pk>/resolve/": [
        post("/staff/grid/conflicts/{conflict}/resolve/", answers(302, grid=404), {"winner": "{winner}"}),
    ],
    # ---- meetings --------------------------------------------------------------------------------
    "staff/meetings/": [Probe("/staff/meetings/", answers(200))],
    "staff/meetings/<int:pk>/": [
        Probe("/staff/meetings/{meeting}/", IN),
        Probe("/staff/meetings/{meeting_out}/", OUT),
    ],
    "staff/meetings/<int:pk>/pack.<str:fmt>": [
        Probe("/staff/meetings/{meeting}/pack.xlsx", IN),
        Probe("/staff/meetings/{meeting_out}/pack.xlsx", OUT),
    ],
    "staff/meetings/items/<int:pk>/": [
        # No decision typed: those who may convene get the page again with the reason (422), others are
        # refused (a message and back to the meeting).
        post("/staff/meetings/items/{agenda_item}/", answers(302, grid=404, director=422, leader=422, league=422)),
        post("/staff/meetings/items/{agenda_item_out}/", answers(404, league=422)),
    ],
    # ---- import and export -----------------------------------------------------------------------
    "staff/transfer/import/": [Probe("/staff/transfer/import/", only(*IMPORTERS))],
    "staff/transfer/import/templates/<str:kind>.xlsx": [
        Probe("/staff/transfer/import/templates/residents.xlsx", only(*IMPORTERS)),
        Probe("/staff/transfer/import/templates/nothing.xlsx", only(*IMPORTERS, status=404)),
    ],
    # An import job is its uploader's (the director's) alone.
    "staff/transfer/import/jobs/<int:pk>/": [
        Probe("/staff/transfer/import/jobs/{job}/", only("director") | {"leader": 404, "league": 404})
    ],
    "staff/transfer/import/jobs/<int:pk>/progress/": [
        Probe("/staff/transfer/import/jobs/{job}/progress/", only("director") | {"leader": 404, "league": 404})
    ],
    "staff/transfer/import/jobs/<int:pk>/cancel/": [
        post("/staff/transfer/import/jobs/{job}/cancel/", only("director", status=302) | {"leader": 404, "league": 404})
    ],
    "staff/transfer/import/jobs/<int:pk>/rejects.xlsx": [
        Probe("/staff/transfer/import/jobs/{job}/rejects.xlsx", only("director") | {"leader": 404, "league": 404})
    ],
    "staff/transfer/export/<str:name>.<str:fmt>": [
        Probe("/staff/transfer/export/cases.csv", answers(200)),
        Probe("/staff/transfer/export/cases.pdf", answers(404)),
    ],
    "staff/transfer/exports/": [
        Probe("/staff/transfer/exports/", answers(200)),
        post("/staff/transfer/exports/", answers(302), {"list": "grid_workers", "format": "csv"}),
    ],
    "staff/transfer/exports/<int:pk>/": [Probe("/staff/transfer/exports/{export}/", answers(404, director=200))],
    "staff/transfer/exports/<int:pk>/progress/": [
        Probe("/staff/transfer/exports/{export}/progress/", answers(404, director=200))
    ],
    "staff/transfer/exports/<int:pk>/download/": [
        Probe("/staff/transfer/exports/{export}/download/", answers(404, director=200))
    ],
    # ---- dashboards ------------------------------------------------------------------------------
    "staff/dashboards/": [Probe("/staff/dashboards/", answers(302))],
    "staff/dashboards/<str:code>/": [
        Probe(f"/staff/dashboards/{XILINHOT}/", IN),
        Probe(f"/staff/dashboards/{DUOLUN}/", OUT),
    ],
    "staff/dashboards/<str:code>/wall/": [
        Probe(f"/staff/dashboards/{XILINHOT}/wall/", IN),
        Probe(f"/staff/dashboards/{DUOLUN}/wall/", OUT),
    ],
    "staff/dashboards/<str:code>/data.json": [
        Probe(f"/staff/dashboards/{XILINHOT}/data.json", IN),
        Probe(f"/staff/dashboards/{DUOLUN}/data.json", OUT),
        Probe("/staff/dashboards/{grid}/data.json", MINE),
    ],
    "staff/dashboards/<str:code>/map.json": [
        Probe(f"/staff/dashboards/{XILINHOT}/map.json", IN),
        Probe(f"/staff/dashboards/{DUOLUN}/map.json", OUT),
    ],
    "staff/dashboards/<str:code>/report.xlsx": [
        Probe(f"/staff/dashboards/{XILINHOT}/report.xlsx?period=2025-10", IN),
        Probe(f"/staff/dashboards/{XILINHOT}/report.xlsx?period=2025-13", answers(400, grid=404)),
        Probe(f"/staff/dashboards/{DUOLUN}/report.xlsx?period=2025-10", OUT),
    ],
    # ---- the API ---------------------------------------------------------------------------------
    "GET api/v1/openapi.json": [Probe("/api/v1/openapi.json", public())],
    "GET api/v1/docs": [Probe("/api/v1/docs", public())],
    "GET api/v1/": [Probe("/api/v1/", public(404))],
    "GET api/v1/me": [Probe("/api/v1/me", answers(200, admins=200))],
    "GET api/v1/regions": [Probe("/api/v1/regions", answers(200))],
    "GET api/v1/regions/<code>": [
        Probe(f"/api/v1/regions/{XILINHOT}", IN),
        Probe(f"/api/v1/regions/{DUOLUN}", OUT),
        Probe(f"/api/v1/regions/{MISSING_REGION}", MISSING),
        Probe("/api/v1/regions/{grid}", MINE),
    ],
    "GET api/v1/regions/<code>/children": [
        Probe(f"/api/v1/regions/{XILINHOT}/children", IN),
        Probe(f"/api/v1/regions/{DUOLUN}/children", OUT),
    ],
    "GET api/v1/centers": [Probe("/api/v1/centers", answers(200))],
    "GET api/v1/centers/<code>": [
        Probe("/api/v1/centers/ZZ-152502", IN),
        Probe("/api/v1/centers/ZZ-152531", OUT),
    ],
    "GET api/v1/stats": [Probe("/api/v1/stats", answers(200))],
    # 入驻 is the system administrator's setting, on the API as on the page.
    "POST api/v1/presences": [
        api_post("/api/v1/presences", only("sysadmin"), {"org": "152502-D05", "center": "ZZ-152502", "mode": "常驻"})
    ],
    # The SMS gateway's reply callback: service accounts only (tests/test_sms_opt_out.py); people 403.
    "POST api/v1/sms/inbound": [api_post("/api/v1/sms/inbound", only(), {"phone": "13947100321", "text": "TD"})],
    "GET api/v1/residents": [Probe("/api/v1/residents?name=巴特尔", answers(200))],
    "POST api/v1/residents/lookup": [api_post("/api/v1/residents/lookup", answers(200), {"name": "巴特尔"})],
    # The full numbers: the household's grid worker and the directors of the jurisdiction, with a reason.
    "POST api/v1/residents/<pk>/unmask": [
        api_post("/api/v1/residents/{resident}/unmask", only("gridworker", "director"), {"reason": "核对低保材料"}),
        api_post("/api/v1/residents/{resident_out}/unmask", answers(404, league=403), {"reason": "核对"}),
    ],
    "GET api/v1/residents/<pk>": [
        Probe("/api/v1/residents/{resident}", MINE),
        Probe("/api/v1/residents/{resident_out}", OUT),
    ],
    "GET api/v1/orgs": [Probe("/api/v1/orgs", answers(200))],
    "GET api/v1/orgs/<code>": [Probe("/api/v1/orgs/152502-D05", IN), Probe("/api/v1/orgs/152531-D05", OUT)],
    "GET api/v1/households": [Probe("/api/v1/households", answers(200))],
    "POST api/v1/households": [api_post("/api/v1/households", answers(201), {"grid": "{grid}"})],
    "GET api/v1/households/<code>": [
        Probe("/api/v1/households/{household}", MINE),
        Probe("/api/v1/households/{household_xilinhot}", IN),
        Probe("/api/v1/households/{household_out}", OUT),
    ],
    "POST api/v1/households/<code>/residents": [
        api_post("/api/v1/households/{household}/residents", answers(201), "{resident_in}"),
        api_post("/api/v1/households/{household_out}/residents", answers(404, league=201), "{resident_in}"),
    ],
    # Claiming is the grid worker's of the household's grid; the others who see it are refused outright.
    "POST api/v1/households/<code>/claim": [
        api_post("/api/v1/households/{household}/claim", only("gridworker")),
        api_post("/api/v1/households/{household_out}/claim", answers(404, league=403)),
    ],
    "GET api/v1/claims/<code>": [
        Probe(f"/api/v1/claims/{XILINHOT}", IN),
        Probe(f"/api/v1/claims/{DUOLUN}", OUT),
        Probe("/api/v1/claims/{grid}", MINE),
    ],
    "GET api/v1/claim-conflicts": [Probe("/api/v1/claim-conflicts", answers(200))],
    "POST api/v1/claim-conflicts/<pk>/resolve": [
        api_post(
            "/api/v1/claim-conflicts/{conflict}/resolve",
            answers(403, grid=404) | dict.fromkeys(("director", "leader", "league"), 200),
            {"winner": "{winner_code}"},
        )
    ],
    "GET api/v1/visits": [Probe("/api/v1/visits", answers(200))],
    "POST api/v1/visits": [api_post("/api/v1/visits", only("gridworker", status=201), "{visit_in}")],
    "GET api/v1/visits/<pk>": [Probe("/api/v1/visits/{visit}", MINE), Probe("/api/v1/visits/{visit_out}", OUT)],
    "POST api/v1/visits/<pk>/case": [
        api_post("/api/v1/visits/{visit}/case", only("gridworker", status=201), "{visit_case}"),
        api_post("/api/v1/visits/{visit_out}/case", answers(404, league=403), "{visit_case}"),
    ],
    "GET api/v1/visits/<pk>/photos": [
        Probe("/api/v1/visits/{visit}/photos", MINE),
        Probe("/api/v1/visits/{visit_out}/photos", OUT),
    ],
    # A PDF is no photo: the grid worker is told so (422); the others who see the visit may not add one.
    "POST api/v1/visits/<pk>/photos": [
        Probe("/api/v1/visits/{visit}/photos", only("gridworker", status=422), "POST", {"photo": "{file}"}),
        Probe("/api/v1/visits/{visit_out}/photos", answers(404, league=403), "POST", {"photo": "{file}"}),
    ],
    "GET api/v1/visit-photos/<pk>": [
        Probe("/api/v1/visit-photos/{photo}", MINE),
        Probe("/api/v1/visit-photos/{photo_out}", OUT),
    ],
    "POST api/v1/visits/<pk>/items": [
        api_post("/api/v1/visits/{visit}/items", only("gridworker", status=201), {"kind": "opinion", "title": "修路"}),
        api_post("/api/v1/visits/{visit_out}/items", answers(404, league=403), {"kind": "opinion", "title": "修路"}),
    ],
    # The field app's sync (docs/field-app.md): a household nobody may visit is a conflict (409) for all.
    "GET api/v1/field/offline": [Probe("/api/v1/field/offline", answers(200))],
    "POST api/v1/field/sync": [
        api_post(
            "/api/v1/field/sync",
            answers(409),
            {"client_id": "matrix-record-0001", "kind": "claim", "data": {"household": "H0"}},
        )
    ],
    "POST api/v1/field/uploads": [
        api_post(
            "/api/v1/field/uploads",
            answers(403, grid=200),
            {
                "upload_id": "matrix-upload-1",
                "name": "a.png",
                "size": 10,
                "sha256": "0" * 64,
                "content_type": "image/png",
            },
        )
    ],
    "GET api/v1/field/uploads/<upload_id>": [Probe("/api/v1/field/uploads/matrix-missing", answers(404))],
    "POST api/v1/field/uploads/<upload_id>/chunk": [
        api_post("/api/v1/field/uploads/matrix-missing/chunk", answers(422))  # no Upload-Offset
    ],
    "GET api/v1/field-items": [Probe("/api/v1/field-items", answers(200))],
    "POST api/v1/field-items/<pk>/handle": [
        api_post("/api/v1/field-items/{field_item}/handle", FIELD_HANDLERS, {"note": "已处理。"}),
        api_post("/api/v1/field-items/{field_item_out}/handle", answers(404, league=200), {"note": "已处理。"}),
    ],
    "GET api/v1/mobile-units": [Probe("/api/v1/mobile-units", answers(200))],
    # A unit is set up by the county center's director; the grid worker's jurisdiction holds no county (422).
    "POST api/v1/mobile-units": [
        api_post(
            "/api/v1/mobile-units", answers(403, grid=422, director=201), {"name": "乌日特二队", "county": XILINHOT}
        )
    ],
    "GET api/v1/mobile-units/<pk>": [
        Probe("/api/v1/mobile-units/{unit}", IN),
        Probe("/api/v1/mobile-units/{unit_out}", OUT),
    ],
    "POST api/v1/mobile-units/<pk>/plan": [
        api_post("/api/v1/mobile-units/{unit}/plan", DIRECTOR_ONLY, "{plan}"),
        api_post("/api/v1/mobile-units/{unit_out}/plan", answers(404, league=403), "{plan}"),
    ],
    "GET api/v1/mobile-units/<pk>/visits": [Probe("/api/v1/mobile-units/{unit}/visits", IN)],
    "POST api/v1/mobile-units/<pk>/visits": [
        api_post("/api/v1/mobile-units/{unit}/visits", DIRECTOR_ONLY | {"director": 201}, "{mobile_visit_in}"),
        api_post("/api/v1/mobile-units/{unit_out}/visits", answers(404, league=403), "{mobile_visit_in}"),
    ],
    "GET api/v1/mobile-visits/<pk>": [
        Probe("/api/v1/mobile-visits/{mobile_visit}", IN),
        Probe("/api/v1/mobile-visits/{mobile_visit_out}", OUT),
    ],
    "POST api/v1/mobile-visits/<pk>/case": [
        api_post("/api/v1/mobile-visits/{mobile_visit}/case", DIRECTOR_ONLY | {"director": 201}, "{stop_case}"),
        api_post("/api/v1/mobile-visits/{mobile_visit_out}/case", answers(404, league=403), "{stop_case}"),
    ],
    "POST api/v1/mobile-visits/<pk>/items": [
        api_post(
            "/api/v1/mobile-visits/{mobile_visit}/items",
            DIRECTOR_ONLY | {"director": 201},
            {"kind": "safety", "title": "棚圈漏电"},
        ),
        api_post(
            "/api/v1/mobile-visits/{mobile_visit_out}/items",
            answers(404, league=403),
            {"kind": "safety", "title": "漏电"},
        ),
    ],
    "GET api/v1/stations": [Probe("/api/v1/stations", answers(200))],
    "POST api/v1/stations": [
        api_post("/api/v1/stations", answers(403, grid=422, director=201), {"name": "新驿站", "village": "{village}"})
    ],
    "GET api/v1/risk-reviews": [Probe("/api/v1/risk-reviews", only("director", "leader", "league"))],
    "POST api/v1/risk-reviews": [
        api_post("/api/v1/risk-reviews", only("director", "leader", "league", status=201), "{review_in}")
    ],
    "GET api/v1/risk-reviews/<pk>": [
        Probe("/api/v1/risk-reviews/{review}", only("director", "leader", "league")),
        Probe("/api/v1/risk-reviews/{review_out}", only("league") | dict.fromkeys(("director", "leader"), 404)),
    ],
    "POST api/v1/risk-items/<pk>/decide": [
        api_post(
            "/api/v1/risk-items/{risk_item}/decide",
            only("director", "leader", "league"),
            {"decision": "由苏木处置。", "grade": "township"},
        )
    ],
    "GET api/v1/risk-items": [Probe("/api/v1/risk-items", only("intake", "director", "leader", "league"))],
    # The world's item is not graded yet, so no handling center has it (404 for those who may record one).
    "POST api/v1/risk-items/<pk>/done": [
        api_post(
            "/api/v1/risk-items/{risk_item}/done",
            only("intake", "director", "leader", "league", status=404),
            {"note": "x"},
        )
    ],
    "GET api/v1/meetings": [Probe("/api/v1/meetings", answers(200))],
    "POST api/v1/meetings": [
        api_post(
            "/api/v1/meetings",
            answers(403, grid=422) | dict.fromkeys(("director", "leader", "league"), 201),
            "{meeting_in}",
        )
    ],
    "GET api/v1/meetings/<pk>": [Probe("/api/v1/meetings/{meeting}", IN), Probe("/api/v1/meetings/{meeting_out}", OUT)],
    "POST api/v1/meeting-items/<pk>/decide": [
        api_post("/api/v1/meeting-items/{agenda_item}/decide", CONVENERS, {"decision": "限期化解。"}),
        api_post(
            "/api/v1/meeting-items/{agenda_item_out}/decide", answers(404, league=200), {"decision": "限期化解。"}
        ),
    ],
    "POST api/v1/meetings/<pk>/minutes": [
        api_post("/api/v1/meetings/{meeting}/minutes", CONVENERS, {"minutes": "纪要"})
    ],
    # Importers only; the world's upload is no XLSX or CSV (422). A job is its owner's (the director's): 404 to others.
    "POST api/v1/imports": [
        Probe("/api/v1/imports", only(*IMPORTERS, status=422), "POST", {"kind": "residents", "file": "{file}"})
    ],
    "GET api/v1/imports": [Probe("/api/v1/imports", only(*IMPORTERS))],
    "GET api/v1/imports/<pk>": [Probe("/api/v1/imports/{job}", OWN_JOB)],
    "POST api/v1/imports/<pk>/cancel": [api_post("/api/v1/imports/{job}/cancel", OWN_JOB)],
    "GET api/v1/imports/<pk>/rejects": [Probe("/api/v1/imports/{job}/rejects", OWN_JOB)],
    "POST api/v1/exports": [api_post("/api/v1/exports", answers(202), {"list": "cases", "format": "csv"})],
    "GET api/v1/exports": [Probe("/api/v1/exports", answers(200))],
    "GET api/v1/exports/<pk>": [Probe("/api/v1/exports/{export}", answers(404, director=200))],
    "GET api/v1/exports/<pk>/download": [Probe("/api/v1/exports/{export}/download", answers(404, director=200))],
    "GET api/v1/dashboards/<code>": [
        Probe(f"/api/v1/dashboards/{XILINHOT}", IN),
        Probe(f"/api/v1/dashboards/{DUOLUN}", OUT),
        Probe("/api/v1/dashboards/{grid}", MINE),
    ],
    "GET api/v1/open-days": [Probe("/api/v1/open-days", answers(200))],
    "POST api/v1/open-days": [api_post("/api/v1/open-days", only("director", status=201), "{open_day_in}")],
    "GET api/v1/open-days/<pk>": [
        Probe("/api/v1/open-days/{open_day}", IN),
        Probe("/api/v1/open-days/{open_day_out}", OUT),
    ],
    "GET api/v1/cases": [Probe("/api/v1/cases", answers(200))],
    "GET api/v1/cases/<number>": [
        Probe("/api/v1/cases/{case}", IN),
        Probe("/api/v1/cases/{case_out}", OUT),
        Probe("/api/v1/cases/152502209901019999", MISSING),
    ],
    "GET api/v1/cases/instalments/overdue": [Probe("/api/v1/cases/instalments/overdue", answers(200))],
    "GET api/v1/cases/<number>/instalments": [
        Probe("/api/v1/cases/{agreement_case}/instalments", IN),
        Probe("/api/v1/cases/152502209901019999/instalments", MISSING),
    ],
    "GET api/v1/cases/<number>/attachments/<aid>": [
        Probe("/api/v1/cases/{case}/attachments/{attachment}", IN),
        Probe("/api/v1/cases/{case_out}/attachments/{attachment}", MISSING),
    ],
    # The writes: a payload the service accepts from whoever may, so who may not is what differs.
    "POST api/v1/cases": [
        api_post(
            "/api/v1/cases",
            # Every door registers: a center's staff (window), a grid worker (grid), an org's liaison,
            # mediator or judge (department); a leader has no door.
            only(*INTAKE, "mediator", "judge", status=201),
            "{intake}",
        )
    ],
    # ---- what flows out: the event feed, webhooks, the upper-level exchange --------------------
    # Everyone reads their own events (the administrators: none) and subscribes with a business role.
    "GET api/v1/events": [
        Probe("/api/v1/events?after=0", answers(200, admins=200)),
        Probe("/api/v1/events?after=x", answers(422, admins=422)),
    ],
    "GET api/v1/webhooks": [Probe("/api/v1/webhooks", answers(200, admins=200))],
    "POST api/v1/webhooks": [
        api_post("/api/v1/webhooks", answers(201), {"name": "测试", "url": "http://127.0.0.1:9/x", "kinds": ["case.*"]})
    ],
    # The delivery log: every subscription for the security administrator, its own for the answerable
    # person (the director); anyone else finds nothing, like a missing one.
    "staff/integration/webhooks/": [Probe("/staff/integration/webhooks/", answers(200, admins=200))],
    "staff/integration/webhooks/<int:pk>/": [
        Probe("/staff/integration/webhooks/{subscription}/", only("director", "secadmin", others=404)),
    ],
    "staff/integration/webhooks/<int:pk>/deliveries/<uuid:delivery>/redeliver/": [
        post(
            "/staff/integration/webhooks/{subscription}/deliveries/{delivery}/redeliver/",
            only("director", "secadmin", status=302, others=404),
        ),
    ],
    "staff/integration/exchange/": [Probe("/staff/integration/exchange/", answers(200))],
    "staff/integration/sms/": [
        Probe("/staff/integration/sms/", only("intake", "director")),
        post("/staff/integration/sms/", only("intake", "director"), {"phone": "13947100321", "action": "check"}),
    ],
    # Another instance's push: unsigned, it is refused whoever sends it.
    "exchange/inbound/<slug:source>": [post("/exchange/inbound/xilingol", public(401))],
    # ---- the public portal -----------------------------------------------------------------------
    "": [Probe("/", public())],
    "language/": [post("/language/", public(302), {"language": "mn", "next": "/"})],
    "centers/": [Probe("/centers/", public())],
    "centers/<str:code>/": [Probe("/centers/ZZ-152502/", public()), Probe("/centers/ZZ-000000/", public(404))],
    "verify/": [Probe("/verify/", public())],
    "apply/": [Probe("/apply/", public(302))],  # no confirmed phone: to the phone check first
    "receipt/": [Probe("/receipt/", public(302))],
    "track/": [Probe("/track/", public())],
    "track/act/": [post("/track/act/", public(404))],  # no case followed in this session
    "track/agreement/": [post("/track/agreement/", public(404))],
    "track/<str:code>/": [Probe("/track/NOSUCHCODE/", public(404))],
    "open-days/": [Probe("/open-days/", public())],
    "open-days/<int:pk>/book/": [post("/open-days/{open_day}/book/", public(422), {"people": "1"})],
}


# Who may perform each catalogue action (cases/catalogue.py) on a Xilinhot case prepared where the action
# is available (tests/catalogue_cases.py): 200 for them, 403 for the others who see the case, 404 for
# those who do not; and what the league leader, the only one who sees a Duolun case, gets there.
CLERK, DIRECTOR, LIAISON, MEDIATOR = "intake", "director", "liaison", "mediator"
ACTION_MAY: dict[str, tuple[tuple[str, ...], int]] = {
    "accept": ((CLERK, DIRECTOR), 403),
    "reject": ((CLERK, DIRECTOR), 403),
    "assign": ((DIRECTOR,), 403),
    "sign_for": ((LIAISON, MEDIATOR), 403),  # the lead and the co-handler, each their own assignment
    "return": ((LIAISON, MEDIATOR), 403),
    "transfer": ((DIRECTOR,), 403),
    "co_handler": ((DIRECTOR,), 403),
    "part_done": ((MEDIATOR,), 403),  # the signed co-handler
    "coordination": ((DIRECTOR, LIAISON, MEDIATOR), 403),
    "coordination_reply": (("judge",), 403),  # the asked court
    "booking": ((CLERK, DIRECTOR, LIAISON, MEDIATOR), 403),
    "session": ((DIRECTOR, LIAISON, MEDIATOR), 403),
    "resolve": ((DIRECTOR, LIAISON), 403),
    "fail": ((DIRECTOR, LIAISON), 403),
    "close": ((DIRECTOR,), 403),
    "refer_court": ((DIRECTOR,), 403),
    "escalate": ((DIRECTOR,), 403),
    "keep_lead": ((DIRECTOR,), 403),  # the director of the center the case was escalated to
    "withdraw": ((CLERK, DIRECTOR), 403),
    "reopen": ((DIRECTOR,), 403),
    "payment": ((CLERK, DIRECTOR), 403),
    "confirmation": ((CLERK, DIRECTOR), 403),
    "court_decision": (("judge",), 403),
    "follow_up": ((CLERK, DIRECTOR), 403),
    "supervise": ((DIRECTOR, "leader", "league"), 200),
    "supervision_reply": ((DIRECTOR, LIAISON), 403),  # the supervised org, and the case's director
    "supervision_assess": ((DIRECTOR, "leader", "league"), 422),  # on Duolun: not that case's supervision
    "attachment": ((CLERK, DIRECTOR), 403),
    "link": ((CLERK, DIRECTOR), 403),
    "unmask": ((CLERK, DIRECTOR), 403),
}
for _name, (_who, _league_out) in ACTION_MAY.items():
    _path = f"/api/v1/cases/{{act_{_name}}}/actions/{_name}"
    _out = f"/api/v1/cases/{{case_out}}/actions/{_name}"
    if ACTIONS[_name].upload:
        _probes = [
            Probe(_path, case_write(200, *_who), "POST", {"file": "{file}"}),
            Probe(_out, case_write(403, out=True) | {"league": _league_out}, "POST", {"file": "{file}"}),
        ]
    else:
        _probes = [
            api_post(_path, case_write(200, *_who), f"{{body_{_name}}}"),
            api_post(_out, case_write(403, out=True) | {"league": _league_out}, f"{{body_out_{_name}}}"),
        ]
    ROUTES[f"POST api/v1/cases/<number>/actions/{_name}"] = _probes

# ---- the routes of the URL configuration ---------------------------------------------------------


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _path_view(pattern: URLPattern) -> PathView | None:
    """The ninja PathView behind an API pattern (its view function closes over it)."""
    for cell in getattr(pattern.callback, "__closure__", None) or ():
        if isinstance(cell.cell_contents, PathView):
            return cell.cell_contents
    return None


def routes() -> list[str]:
    """Every page pattern, and every API operation as "METHOD pattern"."""
    found: dict[str, None] = {}
    for route, pattern in _patterns(get_resolver()):
        path_view = _path_view(pattern)
        if path_view is None:
            if route.startswith("api/"):
                route = f"GET {route}"  # ninja's own pages (schema, docs, root)
            found[route] = None
            continue
        for operation in path_view.operations:
            for method in operation.methods:
                found[f"{method} {route}"] = None
    return list(found)


# ---- the objects the paths name --------------------------------------------------------------------


def who(name: str) -> User:
    return User.objects.get(username=name if "-" in name else f"demo-{name}")


def _open_case(prefix: str, intake: User) -> Case:
    """The first case in progress of the county received at its intake clerk's center (the clerk adds
    its attachment): which case that is depends on the day the demo history was seeded up to."""
    centers = intake.memberships.filter(role=Role.INTAKE_CLERK).values("center_id")
    cases = Case.objects.filter(region_code__startswith=prefix, state=State.IN_PROGRESS, center_id__in=centers)
    return cases.order_by("number").first()  # type: ignore[return-value]


@pytest.fixture
def world(db, tmp_path: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Real demo objects, and what the demo lacks made through the services: Xilinhot (outside the
    grid worker's grid unless said), the grid worker's own grid, and Duolun (out of jurisdiction)."""
    gridworker, director = who("gridworker"), who("director")
    grid = GridWorker.objects.get(user=gridworker).grid
    other = GridWorker.objects.filter(region_code__startswith="152502", user__isnull=False).exclude(grid=grid)
    other_worker = other.order_by("code").first()
    duolun_worker = GridWorker.objects.filter(region_code__startswith="152531", user__isnull=False).order_by("code")[0]
    assert other_worker is not None and other_worker.user is not None and duolun_worker.user is not None
    home, xhome, dhome = household_in(grid, 1), household_in(other_worker.grid, 2), household_in(duolun_worker.grid, 3)
    visit = record(gridworker, home, photos=[SimpleUploadedFile("p.png", PNG, content_type="image/png")])
    visit_out = record(duolun_worker.user, dhome, photos=[SimpleUploadedFile("q.png", PNG, content_type="image/png")])
    item = field_services.field_item_raise(visit=visit, actor=gridworker, kind="opinion", title="希望修路")
    item_out = field_services.field_item_raise(visit=visit_out, actor=duolun_worker.user, kind="opinion", title="修路")
    review = reviews.risk_review_open(actor=director, village=home.village, held_on=timezone.localdate())
    review_out = reviews.risk_review_open(
        actor=who("director-152531"), village=dhome.village, held_on=timezone.localdate()
    )
    county = Region.objects.get(code=XILINHOT)
    service_account = service_account_create(
        actor=None,
        name="矩阵测试系统",
        org=Org.objects.get(code="152502-D05"),
        regions=[county],
        permissions=[],
        cli=True,
    )
    service_token, _raw = service_token_issue(actor=None, account=service_account, cli=True)
    unit = field_services.mobile_unit_create(actor=director, name="乌日特一队", county=county)
    unit_out = field_services.mobile_unit_create(
        actor=who("director-152531"), name="乌日特一队", county=Region.objects.get(code=DUOLUN)
    )
    # A 乌日特 stop of each unit, logged by its director (a director may serve at the units of the county).
    served = {ServiceType.objects.get(name="矛盾调解"): (1, "")}
    today = timezone.localdate()
    stop = field_services.mobile_visit_record(unit=unit, actor=director, visited_on=today, services=served)
    stop_out = field_services.mobile_visit_record(
        unit=unit_out, actor=who("director-152531"), visited_on=today, services=served
    )
    station = field_services.station_create(actor=director, name="蒙古包调解驿站", village=home.village)
    station_out = field_services.station_create(actor=who("director-152531"), name="驿站", village=dhome.village)
    # A claim conflict: the grid worker holds a household that then moves to the other grid, whose worker claims it.
    contested = household_in(grid, 4)
    grid_services.household_claim(actor=gridworker, household=contested)
    Household.objects.filter(pk=contested.pk).update(grid=other_worker.grid, region_code=other_worker.grid.code)
    Resident.objects.filter(household=contested).update(region_code=other_worker.grid.code)  # its people move too
    conflict = grid_services.household_claim(actor=other_worker.user, household=Household.objects.get(pk=contested.pk))
    meeting = meeting_services.meeting_open(actor=director, region=county, held_on=timezone.localdate())
    meeting_out = meeting_services.meeting_open(
        actor=who("director-152531"), region=Region.objects.get(code=DUOLUN), held_on=timezone.localdate()
    )
    case, case_out = _open_case("152502", who("intake")), _open_case("152531", who("clerk-152531-1"))
    attachment = case_services.attachment_add(
        case=case, actor=who("intake"), upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    )
    rows = [
        ["HW-1", grid.code, "哈斯", "户主", "蒙古族", person_id(301)],
        ["HW-1", grid.code, "", "配偶", "蒙古族", ""],
    ]
    bad_rows = SimpleUploadedFile("r.xlsx", write_xlsx(tmp_path / "r.xlsx", IMPORT_HEADERS, rows).read_bytes())
    job = job_create(actor=director, kind="residents", upload=bad_rows, dry_run=False, accept_valid=True)
    job_run(job.pk)
    assert ImportJob.objects.get(pk=job.pk).rejects_path, "the job has rejected rows to download"
    export = export_job_create(actor=director, list_name="grid_workers", fmt="csv", filters={})
    export_job_run(export.pk)
    supervisions = Supervision.objects.filter(case__region_code__startswith="152502").select_related("case")
    supervision = supervisions.filter(status="open", case__state__in=OPEN_STATES).order_by("pk").first()
    instalments = Instalment.objects.filter(agreement__case__region_code__startswith="152502", paid_on__isnull=True)
    instalment = instalments.select_related("agreement__case").order_by("pk").first()
    referrals = CourtReferral.objects.filter(case__region_code__startswith="152502").select_related("case")
    referral = referrals.filter(result="").order_by("pk").first() or referrals.order_by("pk").first()
    agreement_in = Agreement.objects.filter(case__center__code="ZZ-152502").order_by("pk").first()  # the demo center's
    agreement_out = Agreement.objects.filter(case__region_code__startswith="152531").order_by("pk").first()
    assert supervision and instalment and referral and agreement_in and agreement_out
    open_day, open_day_out = schedule(), _open_day("ZZ-152531")
    room = Room.objects.filter(center=case.center).exclude(kind__in=["window", "dispatch_hall"]).first()
    starts = timezone.localtime() + datetime.timedelta(days=3)
    prepared: dict[str, Any] = {}
    for name, prepare in PREPARED.items():
        ready = prepare()
        body = BODIES[name](ready)
        if ACTIONS[name].versioned:
            body["version"] = Case.objects.get(pk=ready.pk).version
        prepared |= {f"act_{name}": ready.number, f"body_{name}": body}
        # On the Duolun case the version sent is that case's own, so the answer is who may, not a conflict.
        prepared[f"body_out_{name}"] = {**body, "version": case_out.version} if "version" in body else body
    hook, dead = _dead_letter(case)
    reset = account_services.credential_reset_request(
        actor=who("sysadmin"), target=who("intake"), kind="totp", reason="手机丢失"
    )
    return prepared | {
        "subscription": hook,
        "delivery": dead,
        "grid": grid.code,
        "user": who("intake").pk,
        "reset": reset.pk,
        "case": case.number,
        "case_out": case_out.number,
        "attachment": attachment.pk,
        "sup_case": supervision.case.number,
        "supervision": supervision.pk,
        "agreement_case": instalment.agreement.case.number,
        "agreement_print": agreement_in.case.number,
        "agreement_case_out": agreement_out.case.number,
        "instalment": instalment.pk,
        "referral_case": referral.case.number,
        "referral": referral.pk,
        "visit": visit.pk,
        "visit_out": visit_out.pk,
        "field_item": item.pk,
        "field_item_out": item_out.pk,
        "photo": visit.photos.get().pk,
        "photo_out": visit_out.photos.get().pk,
        "review": review.pk,
        "review_out": review_out.pk,
        "risk_item": review.items.values_list("pk", flat=True).first(),
        "unit": unit.pk,
        "unit_out": unit_out.pk,
        "mobile_visit": stop.pk,
        "mobile_visit_out": stop_out.pk,
        "station": station.pk,
        "station_out": station_out.pk,
        "household": home.code,
        "household_xilinhot": xhome.code,
        "household_out": dhome.code,
        "resident": home.residents.get().pk,
        "resident_out": dhome.residents.get().pk,
        "conflict": conflict.pk,
        "winner": other_worker.pk,
        "winner_code": other_worker.code,
        "village": home.village.code,
        "resident_in": {
            "name": "测试居民",
            "relation": "子女",
            "ethnicity": "蒙古族",
            "language": "mn",
            "id_number": person_id(777, datetime.date(1988, 8, 8)),
        },
        "visit_in": {"household": home.code, "visited_at": "2025-06-01T09:00", "notes": "入户走访。"},
        "visit_case": {
            "category": "grassland",
            "title": "草场纠纷",
            "description": "两户争执。",
            "applicant": home.residents.get().pk,
        },
        "plan": {"stops": [{"planned_on": "2030-01-01", "place": "夏营地"}]},
        "mobile_visit_in": {"visited_on": "2025-06-01", "services": [{"service": "矛盾调解"}]},
        "stop_case": {
            "category": "grassland",
            "title": "乌日特纠纷",
            "description": "越界放牧。",
            "parties": [{"kind": "person", "role": "applicant", "name": "图雅"}],
        },
        "review_in": {"village": home.village.code, "held_on": "2025-06-01"},
        "meeting_in": {"region": home.village.parent.code, "held_on": timezone.localdate().isoformat()},
        "open_day_in": {"center": "ZZ-152502", "day": "2030-05-05", "starts": "09:00", "ends": "11:00", "capacity": 9},
        "export": export.pk,
        "meeting": meeting.pk,
        "meeting_out": meeting_out.pk,
        "agenda_item": meeting.items.values_list("pk", flat=True).first(),
        "agenda_item_out": meeting_out.items.values_list("pk", flat=True).first(),
        "job": job.pk,
        "open_day": open_day.pk,
        "open_day_out": open_day_out.pk,
        "service_account": service_account.pk,
        "service_token": service_token.pk,
        "intake": {
            "category": "grassland",
            "title": "草场边界纠纷",
            "description": "两户因草场边界争执。",
            "region": grid.code,
            "parties": [{"kind": "person", "role": "applicant", "name": "巴特尔"}],
        },
        "session": {
            "held_at": timezone.now().isoformat(),
            "place_kind": "on_site",
            "place": "牧户家中",
            "mediators": "张三",
            "record": "双方陈述。",
        },
        "follow_up": {"method": "phone", "performance": "full", "satisfaction": "satisfied"},
        "supervision_in": {"kind": "reminder", "reason": "请加快办理。", "days": 5},
        "booking": {
            "room_id": room.pk if room else 0,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + datetime.timedelta(hours=1)).isoformat(),
        },
        "payment": {"paid_on": timezone.localdate().isoformat(), "paid_amount": "100"},
    }


def _dead_letter(case: Case) -> tuple[int, str]:
    """A webhook of a department system, answerable to the Xilinhot director, with one dead delivery."""
    account, _created = User.objects.get_or_create(username="svc-matrix")
    hook, _secret = subscription_create(
        user=account, actor=who("director"), name="矩阵", url="http://127.0.0.1:9/hook", kinds=["case.*"]
    )
    event = event_record(kind="case.accept", case=case, region_code=case.region_code, data={})
    publish()
    assert event is not None
    event.refresh_from_db()
    dead = Delivery.objects.create(
        subscription=hook, event=event, seq=event.seq or 0, status="dead", attempts=1, next_attempt_at=timezone.now()
    )
    return hook.pk, str(dead.pk)


def _open_day(center: str) -> OpenDay:
    return OpenDay.objects.create(
        center=Center.objects.get(code=center),
        day=timezone.localdate() + datetime.timedelta(days=9),
        starts=datetime.time(9),
        ends=datetime.time(12),
        capacity=5,
    )


def _fill(value: Any, world: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        if whole and whole.group(1) == "file":
            return io.BytesIO(b"%PDF-1.4\n%%EOF\n")
        if whole and not isinstance(world[whole.group(1)], str | int):
            return world[whole.group(1)]
        return re.sub(r"\{(\w+)\}", lambda m: str(world[m.group(1)]), value)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


def send(client: Client, probe: Probe, world: dict[str, Any]) -> int:
    """The status of one request; what it wrote is rolled back, so no probe depends on the one before."""
    path = _fill(probe.path, world)
    data = _fill(probe.data, world)
    with transaction.atomic():
        if probe.method == "GET":
            status = client.get(path).status_code
        elif probe.json:
            status = client.post(path, data, content_type="application/json").status_code
        else:
            status = client.post(path, data).status_code
        transaction.set_rollback(True)
    return status


def _anonymous(key: str, probe: Probe) -> int:
    if "anonymous" in probe.expect:
        return probe.expect["anonymous"]
    return 401 if key.split(" ")[-1].startswith("api/") else 302


# ---- the tests ---------------------------------------------------------------------------------------


def test_every_route_has_an_entry(db) -> None:  # type: ignore[no-untyped-def]
    missing = [route for route in routes() if route not in ROUTES]
    assert not missing, "routes without an entry in ROUTES (tests/test_access_matrix.py):\n" + "\n".join(missing)
    stale = sorted(set(ROUTES) - set(routes()))
    assert not stale, f"entries for routes that are gone: {stale}"


def test_every_entry_names_every_persona() -> None:
    for key, probes in ROUTES.items():
        for probe in probes:
            assert set(PERSONAS) <= set(probe.expect), (
                f"{key} {probe.path}: no answer for {set(PERSONAS) - set(probe.expect)}"
            )
            assert probe.why or not probe.now, f"{key} {probe.path}: say why today's answer is wrong"


def test_matrix(world: dict[str, Any]) -> None:
    """Every persona on every route (one world for them all: each probe's writes are rolled back)."""
    failures = []
    only = os.environ.get("ZONGZHI_MATRIX_ONLY", "")  # while working on one route: the keys containing it
    for persona in PERSONAS:
        session = verified_client(who(persona)).cookies
        for key, probes in ROUTES.items():
            if only not in key:
                continue
            for probe in probes:
                client = Client()
                client.cookies = copy.deepcopy(session)  # the session row outlives each probe's rollback
                status = send(client, probe, world)
                today = probe.now.get(persona, probe.expect[persona])
                said = f"demo-{persona} {key}: {probe.method} {probe.path}"
                if status != today and status == probe.expect[persona]:
                    failures.append(f"{said} now answers {status}: drop it from `now`")
                elif status != today:
                    failures.append(f"{said} got {status}, expected {today}")
    assert not failures, "\n".join(failures)


def test_without_both_factors_staff_pages_send_to_login_and_the_api_says_401(world: dict[str, Any]) -> None:
    """Anonymous, and a session that passed the password but not the TOTP code, are the same."""
    password_only = Client()
    password_only.force_login(who("league"))
    failures = []
    for cookies, label in ((Client().cookies, "anonymous"), (password_only.cookies, "password only")):
        for key, probes in ROUTES.items():
            for probe in probes:
                client = Client()
                client.cookies = copy.deepcopy(cookies)
                status, expected = send(client, probe, world), _anonymous(key, probe)
                if status != expected:
                    failures.append(f"{label} {key}: {probe.method} {probe.path} got {status}, expected {expected}")
    assert not failures, "\n".join(failures)


def _without_csrf(html: bytes) -> bytes:
    html = re.sub(rb'"X-CSRFToken": "[^"]*"', b"", html)
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", html)


def test_out_of_jurisdiction_looks_exactly_like_missing(client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as("intake")
    out, missing = client.get(f"/staff/regions/{DUOLUN}/"), client.get(f"/staff/regions/{MISSING_REGION}/")
    assert out.status_code == missing.status_code == 404
    assert _without_csrf(out.content) == _without_csrf(missing.content)
    api_out, api_missing = client.get(f"/api/v1/regions/{DUOLUN}"), client.get(f"/api/v1/regions/{MISSING_REGION}")
    assert api_out.status_code == api_missing.status_code == 404
    assert api_out.json() == api_missing.json()


def test_admin_roles_read_no_business_content(client_as) -> None:  # type: ignore[no-untyped-def]
    for admin in ADMINS:
        home = client_as(admin).get("/staff/").content.decode()
        assert "辖区概况" not in home and "网格员" not in home, admin


def test_openapi_schema_and_docs_page_served_locally(db) -> None:  # type: ignore[no-untyped-def]
    schema = Client().get("/api/v1/openapi.json").json()
    assert {"/api/v1/me", "/api/v1/regions/{code}", "/api/v1/centers/{code}", "/api/v1/stats"} <= set(schema["paths"])
    docs = Client().get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs


def test_home_pages_show_each_persona_their_own_work(client_as) -> None:  # type: ignore[no-untyped-def]
    assert "锡林浩特市综治中心" in client_as("intake").get("/staff/").content.decode()
    liaison = client_as("liaison").get("/staff/").content.decode()
    assert "锡林浩特市司法局" in liaison and "常驻" in liaison
    assert "我的网格" in client_as("gridworker").get("/staff/").content.decode()
    assert "账号管理" in client_as("sysadmin").get("/staff/").content.decode()
