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
from zongzhi.accounts.models import User
from zongzhi.cases import services as case_services
from zongzhi.cases.catalogue import ACTIONS
from zongzhi.cases.models import OPEN_STATES, Case, CourtReferral, Instalment, State, Supervision
from zongzhi.centers.models import Center, Room
from zongzhi.field import reviews
from zongzhi.field import services as field_services
from zongzhi.field.models import ServiceType
from zongzhi.grid import services as grid_services
from zongzhi.grid.models import GridWorker, Household
from zongzhi.meetings import services as meeting_services
from zongzhi.portal.models import OpenDay
from zongzhi.regions.models import Region
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
    settings.WORKER_MAX_LAG = datetime.timedelta(days=3650)


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


ADMINS_404 = dict.fromkeys(ADMINS, 404)
INTAKE = ("intake", "director", "liaison", "gridworker")  # whom the case page offers registering to
ADMINS_WHY = "the API's attachment download looks the case up before the administrator check"


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
    "staff/audit/": [Probe("/staff/audit/", only("auditor"))],
    "staff/regions/new/": [Probe("/staff/regions/new/", only("sysadmin"))],
    "staff/centers/presences/new/": [Probe("/staff/centers/presences/new/", only("sysadmin"))],
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
    "staff/cases/new/check/": [post("/staff/cases/new/check/", answers(200), {"description": "草场边界"})],
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
        post("/staff/meetings/items/{agenda_item}/", answers(302, grid=404)),
        post("/staff/meetings/items/{agenda_item_out}/", answers(404, league=302)),
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
    "GET api/v1/residents": [Probe("/api/v1/residents?q=巴特尔", answers(200))],
    "GET api/v1/cases": [Probe("/api/v1/cases", answers(200))],
    "GET api/v1/cases/<number>": [
        Probe("/api/v1/cases/{case}", IN),
        Probe("/api/v1/cases/{case_out}", OUT),
        Probe("/api/v1/cases/152502209901019999", MISSING),
    ],
    "GET api/v1/cases/<number>/attachments/<aid>": [
        Probe("/api/v1/cases/{case}/attachments/{attachment}", IN, now=ADMINS_404, why=ADMINS_WHY),
        Probe("/api/v1/cases/{case_out}/attachments/{attachment}", MISSING, now=ADMINS_404, why=ADMINS_WHY),
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


def _open_case(prefix: str) -> Case:
    return Case.objects.filter(region_code__startswith=prefix, state=State.IN_PROGRESS).order_by("number").first()  # type: ignore[return-value]


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
    conflict = grid_services.household_claim(actor=other_worker.user, household=Household.objects.get(pk=contested.pk))
    meeting = meeting_services.meeting_open(actor=director, region=county, held_on=timezone.localdate())
    meeting_out = meeting_services.meeting_open(
        actor=who("director-152531"), region=Region.objects.get(code=DUOLUN), held_on=timezone.localdate()
    )
    case, case_out = _open_case("152502"), _open_case("152531")
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
    supervisions = Supervision.objects.filter(case__region_code__startswith="152502").select_related("case")
    supervision = supervisions.filter(status="open", case__state__in=OPEN_STATES).order_by("pk").first()
    instalments = Instalment.objects.filter(agreement__case__region_code__startswith="152502", paid_on__isnull=True)
    instalment = instalments.select_related("agreement__case").order_by("pk").first()
    referrals = CourtReferral.objects.filter(case__region_code__startswith="152502").select_related("case")
    referral = referrals.filter(result="").order_by("pk").first() or referrals.order_by("pk").first()
    assert supervision and instalment and referral
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
    return prepared | {
        "grid": grid.code,
        "user": who("intake").pk,
        "case": case.number,
        "case_out": case_out.number,
        "attachment": attachment.pk,
        "sup_case": supervision.case.number,
        "supervision": supervision.pk,
        "agreement_case": instalment.agreement.case.number,
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
        "meeting": meeting.pk,
        "meeting_out": meeting_out.pk,
        "agenda_item": meeting.items.values_list("pk", flat=True).first(),
        "agenda_item_out": meeting_out.items.values_list("pk", flat=True).first(),
        "job": job.pk,
        "open_day": open_day.pk,
        "open_day_out": open_day_out.pk,
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
    for persona in PERSONAS:
        session = verified_client(who(persona)).cookies
        for key, probes in ROUTES.items():
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
