"""Every staff and portal page in headless Chromium, checked by axe-core: no serious or critical violation.

axe-core (npm, pinned in package.json) is committed as `tests/vendor/axe-core/axe.min.js`, outside
`static/`, so the platform never serves it; the test adds it to each page with Playwright, in a browser
context that bypasses the pages' Content-Security-Policy (only here: the policy allows no script we
did not serve).

The pages come from the URL configuration. Each persona opens every staff route without a parameter
(its home, case page and grid page are checked for every persona, other pages by the first persona
that may open them), then follows the links it finds to the routes with parameters (a case page, a
household, a meeting, an import job, each kind of print view …); what the seed lacks is made through
the services first and deleted after. Routes that answer no HTML page (downloads, JSON, POST-only
actions, htmx fragments) are listed in NOT_PAGES with the reason; a page route no persona could open
fails `test_staff_pages`, naming it. The portal is checked in Chinese and in Mongolian, through a
citizen's visit: asking for a code, applying, the receipt, the progress page. Forms are also
submitted empty (every page's own form with a required field) and checked with their errors shown;
every <details> is opened before a page is checked (the pages have no <dialog>).
"""

import contextlib
import datetime
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browsing import ROOT, _sessions, login, shot
from tests.conftest import DEMO_PASSWORD, _in_a_thread, totp_code

pytestmark = pytest.mark.browser
T = TypeVar("T")

AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
PERSONAS = (
    "intake",
    "director",
    "liaison",
    "mediator",
    "gridworker",
    "leader",
    "judge",
    "league",
    "sysadmin",
    "secadmin",
    "auditor",
)
SERIOUS = ("serious", "critical")

# Routes of the URL configuration that answer no page to look at, and why.
NOT_PAGES = {
    "healthz": "health probe (plain text)",
    "readyz": "readiness probe (plain text)",
    "staff/logout/": "POST only",
    "staff/security/unlock/<int:pk>/": "POST only",
    "staff/cases/new/check/": "POST only (htmx fragment inside the intake form, checked there)",
    "staff/cases/new/regions/": "the region picker's option lists (htmx fragment of the intake form, checked there)",
    "staff/field/app/sw.js": "the offline app's service worker (JavaScript, not a page)",
    "staff/field/app/manifest.webmanifest": "the offline app's web manifest (JSON, not a page)",
    "staff/cases/config/<str:what>/": "POST only",
    "staff/cases/<str:number>/do/<str:what>/": "POST only (an action; answers the case page)",
    "staff/cases/<str:number>/attachments/<int:pk>/": "a file download",
    "staff/field/visits/<int:pk>/case/": "POST only",
    "staff/field/visits/<int:pk>/item/": "POST only",
    "staff/field/items/<int:pk>/handle/": "POST only",
    "staff/field/photos/<int:pk>/": "an image",
    "staff/field/review-items/<int:pk>/": "POST only",
    "staff/field/mobile-visits/<int:pk>/case/": "POST only",
    "staff/field/mobile-visits/<int:pk>/item/": "POST only",
    "staff/grid/households/new/": "POST only",
    "staff/grid/households/<str:code>/residents/": "POST only",
    "staff/grid/households/<str:code>/claim/": "POST only",
    "staff/grid/households/<str:code>/season/": "POST only",
    "staff/grid/residents/<int:pk>/unmask/": "POST only",
    "staff/grid/conflicts/<int:pk>/resolve/": "POST only",
    "staff/regions/<str:code>/children/": "htmx fragment (rows of the region tree, checked opened in the tree)",
    "staff/meetings/<int:pk>/pack.<str:fmt>": "a PDF or XLSX download",
    "staff/meetings/items/<int:pk>/": "POST only",
    "staff/transfer/import/templates/<str:kind>.xlsx": "an XLSX download",
    "staff/transfer/import/jobs/<int:pk>/progress/": "htmx fragment (inside the job page, checked there)",
    "staff/transfer/import/jobs/<int:pk>/cancel/": "POST only",
    "staff/transfer/import/jobs/<int:pk>/rejects.xlsx": "an XLSX download",
    "staff/transfer/export/<str:name>.<str:fmt>": "an XLSX or CSV download",
    "staff/transfer/exports/<int:pk>/progress/": "htmx fragment (inside the export job page, checked there)",
    "staff/transfer/exports/<int:pk>/download/": "an XLSX or CSV download",
    "staff/dashboards/<str:code>/data.json": "JSON for the charts",
    "staff/dashboards/<str:code>/map.json": "JSON for the map",
    "staff/dashboards/<str:code>/report.xlsx": "an XLSX download",
    "staff/integration/webhooks/<int:pk>/deliveries/<uuid:delivery>/redeliver/": "POST only",
    "staff/integration/tokens/<int:pk>/rotate/": "POST only",
    "staff/integration/tokens/<int:pk>/revoke/": "POST only",
    "staff/integration/accounts/<int:pk>/tokens/new/": "POST only (answers the account page)",
    "exchange/inbound/<slug:source>": "machine-to-machine POST",
    "language/": "POST only (the language buttons)",
    "track/act/": "POST only (answers the progress page)",
    "open-days/<int:pk>/book/": "POST only (answers the open-day list)",
    "track/agreement/": "POST only; answers the printable agreement (tests/test_portal_browser.py opens it)",
}
# Checked through their own flow in test_login_pages, not by a logged-in persona.
LOGIN_PAGES = ("staff/login/", "staff/login/totp/", "staff/login/enrol/", "staff/login/password/")


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern, prefix + str(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern)


def page_routes() -> tuple[list[str], list[str]]:
    """(staff routes, portal routes) of the URL configuration that are pages; the API is not."""
    routes = [r for r in dict.fromkeys(_patterns(get_resolver())) if not r.startswith(("api/", "open311/"))]
    pages = [r for r in routes if r not in NOT_PAGES]
    return [r for r in pages if r.startswith("staff/")], [r for r in pages if not r.startswith("staff/")]


def route_of(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).route
    except Resolver404:
        return None


@pytest.fixture
def orm(django_db_blocker) -> Iterator[Callable[[Callable[[], T]], T]]:  # type: ignore[no-untyped-def]
    """Run ORM work on the committed data, off Playwright's event-loop thread."""
    with django_db_blocker.unblock():
        yield _in_a_thread


def sign_in(page: Page, server: dict[str, str], username: str, orm: Callable) -> None:
    """`tests.browsing.login`, with the second factor's code from the ORM (no command process to start)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if username in _sessions:
        login(page, server, username)
        return
    page.goto(f"{server['url']}/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/login/totp/")
    page.fill("#id_token", orm(lambda: totp_code(TOTPDevice.objects.get(user__username=username, confirmed=True))))
    page.click("button[type=submit]")
    page.wait_for_url(f"{server['url']}/staff/")
    _sessions[username] = page.context.cookies()


def axe_context(browser: Browser, **options: Any) -> BrowserContext:
    """A context whose pages take the axe script: only this test bypasses the CSP."""
    return browser.new_context(bypass_csp=True, locale="zh-CN", **options)


class Checker:
    """Runs axe on pages and keeps every serious or critical violation, with where it was found."""

    def __init__(self, server: dict[str, str]) -> None:
        self.url = server["url"]
        self.source = AXE.read_text(encoding="utf-8")
        self.problems: list[str] = []
        self.checked: list[str] = []

    def check(self, page: Page, label: str) -> None:
        # A page that polls (an import job's progress) is never idle: checked as it is after 5 s.
        with contextlib.suppress(PlaywrightTimeoutError):
            page.wait_for_load_state("networkidle", timeout=5000)
        page.evaluate("document.fonts.ready")
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(content=self.source)
        violations = page.evaluate(
            """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
        }"""
        )
        where = f"{label} {page.url.removeprefix(self.url)}"
        self.checked.append(where)
        print(f"checked {where}: {len(violations)} serious or critical")
        for v in violations:
            for node in v["nodes"][:5]:
                line = f"{where}: {v['id']} ({v['impact']}) {v['help']} at {node['target']}: {node['summary']}"
                print(line)
                self.problems.append(line)
            if len(v["nodes"]) > 5:
                self.problems.append(f"{where}: {v['id']} … and {len(v['nodes']) - 5} more")

    def submit_empty_forms(self, page: Page, label: str) -> None:
        """Each form that posts to this page and has a required field, submitted empty: the errors checked."""
        here = urlsplit(page.url).path
        count = page.evaluate(
            """here => Array.from(document.forms).filter(f => f.method === 'post'
                && new URL(f.action, location.href).pathname === here
                && f.querySelector('[required]')).length""",
            here,
        )
        for index in range(count):
            with page.expect_navigation():
                page.evaluate(
                    """([here, index]) => {
                    const form = Array.from(document.forms).filter(f => f.method === 'post'
                        && new URL(f.action, location.href).pathname === here && f.querySelector('[required]'))[index];
                    form.noValidate = true;
                    form.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), textarea')
                        .forEach(e => { if (e.type !== 'file') e.value = ''; });
                    form.querySelectorAll('select').forEach(s => { s.selectedIndex = -1; });
                    form.requestSubmit();
                }""",
                    [here, index],
                )
            self.check(page, f"{label} (form {index + 1} submitted empty)")
            page.goto(self.url + here)

    def links(self, page: Page) -> list[str]:
        hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
        return [h for h in hrefs if h.startswith("/") and "format=pdf" not in h and not h.startswith("//")]

    def assert_clean(self) -> None:
        assert not self.problems, f"{len(self.problems)} serious or critical axe violations:\n" + "\n".join(
            self.problems
        )


def sample_key(path: str) -> str:
    """One page per route is enough, and one per document kind for the print views."""
    route = route_of(path) or path
    kwargs = resolve(urlsplit(path).path).kwargs if route != path else {}
    return f"{route} {kwargs['doc']}" if "doc" in kwargs else route


# Each persona's home and case page differ (their queues, the actions they may take): checked for
# every persona. The other pages, by the first persona (in PERSONAS' order) that may open them.
PER_PERSONA = ("staff/", "staff/cases/<str:number>/", "staff/grid/")
PERSONAS_PER_PAGE = 1


def world(tmp: Path, made: list[Any]) -> dict[str, str]:
    """What the demo seed lacks, made through the services (committed: the server reads it), and the
    pages to open at it: route -> path. Made in Xilinhot, in a grid that is not the grid worker's,
    with names no other test uses; the meeting is held on a day long past. What is made is put in
    `made`, for `unmake` to take away after the test, so the modules after this one see the seed."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from tests.messy_files import person_id, write_xlsx
    from tests.test_field import household_in, record
    from tests.test_portal_open_days import schedule
    from zongzhi.accounts import services as account_services
    from zongzhi.centers.models import Org
    from zongzhi.field import reviews
    from zongzhi.field import services as field_services
    from zongzhi.field.models import ServiceType
    from zongzhi.grid.models import GridWorker
    from zongzhi.integration.services import service_account_create
    from zongzhi.meetings import services as meeting_services
    from zongzhi.outbox.webhooks import subscription_create
    from zongzhi.regions.models import Region
    from zongzhi.transfer.export_jobs import export_job_create, export_job_run
    from zongzhi.transfer.jobs import job_create, job_run

    users = get_user_model().objects
    director, sysadmin = users.get(username="demo-director"), users.get(username="demo-sysadmin")
    mine = GridWorker.objects.get(user__username="demo-gridworker").grid
    worker = (
        GridWorker.objects.filter(region_code__startswith="152502", user__isnull=False)
        .exclude(grid=mine)
        .order_by("-code")
        .first()
    )
    assert worker is not None and worker.user is not None
    county = Region.objects.get(code="152502000000")
    today = timezone.localdate()
    home = household_in(worker.grid, 97)
    visit = record(worker.user, home)
    review = reviews.risk_review_open(actor=director, village=home.village, held_on=today)
    unit = field_services.mobile_unit_create(actor=director, name="无障碍检查乌日特", county=county)
    stop = field_services.mobile_visit_record(
        unit=unit, actor=director, visited_on=today, services={ServiceType.objects.get(name="矛盾调解"): (1, "")}
    )
    station = field_services.station_create(actor=director, name="无障碍检查驿站", village=home.village)
    meeting = meeting_services.meeting_open(actor=director, region=county, held_on=datetime.date(2025, 1, 15))
    headers = ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号"]
    rows = [["A11Y-1", worker.grid.code, "哈斯", "户主", "蒙古族", person_id(391)], ["A11Y-1", "", "", "配偶", "", ""]]
    upload = SimpleUploadedFile("r.xlsx", write_xlsx(tmp / "r.xlsx", headers, rows).read_bytes())
    job = job_create(actor=director, kind="residents", upload=upload, dry_run=True, accept_valid=False)
    job_run(job.pk)
    export = export_job_create(actor=director, list_name="grid_workers", fmt="csv", filters={})
    export_job_run(export.pk)
    open_day = schedule(days_ahead=41)
    account = service_account_create(
        actor=None,
        name="无障碍检查系统",
        org=Org.objects.get(code="152502-D05"),
        regions=[county],
        permissions=[],
        cli=True,
    )
    hook_user, _ = users.get_or_create(username="svc-a11y")
    hook, _secret = subscription_create(
        user=hook_user, actor=director, name="无障碍检查", url="http://127.0.0.1:9/hook", kinds=["case.*"]
    )
    target = account_services.user_create(actor=None, username="t-a11y-reset", full_name="重置对象", password=None)
    reset = account_services.credential_reset_request(actor=sysadmin, target=target, kind="totp", reason="手机丢失")
    intake = users.get(username="demo-intake")
    made += [home, visit, review, unit, stop, station, meeting, job, export, open_day, account, hook, reset]
    return {
        "staff/grid/households/<str:code>/": f"/staff/grid/households/{home.code}/",
        "staff/field/visits/<int:pk>/": f"/staff/field/visits/{visit.pk}/",
        "staff/field/reviews/<int:pk>/": f"/staff/field/reviews/{review.pk}/",
        "staff/field/units/<int:pk>/": f"/staff/field/units/{unit.pk}/",
        "staff/field/mobile-visits/<int:pk>/": f"/staff/field/mobile-visits/{stop.pk}/",
        "staff/field/stations/<int:pk>/": f"/staff/field/stations/{station.pk}/",
        "staff/meetings/<int:pk>/": f"/staff/meetings/{meeting.pk}/",
        "staff/transfer/import/jobs/<int:pk>/": f"/staff/transfer/import/jobs/{job.pk}/",
        "staff/transfer/exports/<int:pk>/": f"/staff/transfer/exports/{export.pk}/",
        "staff/open-days/<int:pk>/": f"/staff/open-days/{open_day.pk}/",
        "staff/integration/accounts/<int:pk>/": f"/staff/integration/accounts/{account.pk}/",
        "staff/integration/webhooks/<int:pk>/": f"/staff/integration/webhooks/{hook.pk}/",
        "staff/credential-resets/<int:pk>/": f"/staff/credential-resets/{reset.pk}/",
        "staff/admin/users/<int:pk>/": f"/staff/admin/users/{intake.pk}/",
        "staff/security/users/<int:pk>/": f"/staff/security/users/{intake.pk}/",
    }


def unmake(made: list[Any]) -> None:
    """Rows only this test needed, taken away (the accounts stay: an account with a history is never deleted)."""
    from django.db.models import ProtectedError

    for obj in reversed(made):  # the last made first: what refers to a row goes before it
        try:
            type(obj).objects.filter(pk=obj.pk).delete()
        except ProtectedError as error:
            print(f"left in the test database: {obj!r} ({error.args[0]})")


def telling_cases() -> list[str]:
    """Case pages with the most on them (an agreement with instalments, a supervision, a follow-up),
    whose print views the crawl then follows."""
    from zongzhi.cases.models import Case, FollowUp, Instalment, Supervision

    found = [
        Instalment.objects.filter(agreement__case__region_code__startswith="152502")
        .values_list("agreement__case__number", flat=True)
        .first(),
        Supervision.objects.filter(case__region_code__startswith="152502")
        .values_list("case__number", flat=True)
        .first(),
        FollowUp.objects.filter(case__region_code__startswith="152502").values_list("case__number", flat=True).first(),
        Case.objects.filter(region_code__startswith="152502", state="closed").values_list("number", flat=True).first(),
    ]
    return [f"/staff/cases/{n}/" for n in dict.fromkeys(found) if n]


def test_axe_is_for_the_tests_only() -> None:
    """The file is committed under tests/, never where the platform serves static files from."""
    assert AXE.read_text(encoding="utf-8").startswith("/*! axe v4.14.1")
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    assert package["devDependencies"]["axe-core"] == "4.14.1"
    assert finders.find("axe.min.js") is None and finders.find("axe-core/axe.min.js") is None
    assert not list((ROOT / "static").rglob("axe*"))


def test_staff_pages(browser: Browser, server: dict[str, str], orm: Callable, tmp_path: Path) -> None:
    staff_routes, _ = page_routes()
    expected = [r for r in staff_routes if r not in LOGIN_PAGES]
    checker = Checker(server)
    made: list[Any] = []
    try:
        fallbacks = orm(lambda: world(tmp_path, made))
        _crawl(browser, server, orm, fallbacks, orm(telling_cases), checker, expected)
    finally:
        orm(lambda: unmake(made))
    checker.assert_clean()


def _crawl(
    browser: Browser,
    server: dict[str, str],
    orm: Callable,
    fallbacks: dict[str, str],
    cases: list[str],
    checker: "Checker",
    expected: list[str],
) -> None:
    """Each persona opens the pages; a route no link led to is opened at `fallbacks`."""
    seen_ok: dict[str, list[str]] = {}  # route -> personas that opened it (200)
    sampled: set[str] = set()
    checks: dict[str, int] = {}  # pages checked, by sample_key
    for persona in PERSONAS:
        context = axe_context(browser, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        sign_in(page, server, f"demo-{persona}", orm)
        queue = ["/" + r for r in expected if "<" not in r] + (cases if persona == "director" else [])
        visited: set[str] = set()
        while queue:
            path = queue.pop(0)
            if path in visited:
                continue
            visited.add(path)
            response = page.goto(server["url"] + path)
            assert response is not None
            route = route_of(page.url.removeprefix(server["url"])) or page.url
            if response.status >= 500:
                checker.problems.append(f"demo-{persona} {path}: answered {response.status}")
                continue
            if response.status == 200 and route_of(path) not in (None, route):  # redirected to a page
                seen_ok.setdefault(route_of(path) or path, []).append(persona)
            if response.status == 200:
                seen_ok.setdefault(route, []).append(persona)
                kind = sample_key(page.url.removeprefix(server["url"]))  # a print view: by document
                checks[kind] = checks.get(kind, 0) + 1
                if route in PER_PERSONA or checks[kind] <= PERSONAS_PER_PAGE:
                    checker.check(page, f"demo-{persona}")
                    if checks[kind] == 1:
                        checker.submit_empty_forms(page, f"demo-{persona}")
                    if route == "staff/regions/<str:code>/":
                        _open_a_tree_row(page, checker, persona)
            elif f"error {response.status}" not in sampled:  # the same error page for all: checked once
                sampled.add(f"error {response.status}")
                checker.check(page, f"demo-{persona}")
            for href in checker.links(page):
                target = route_of(href)
                if target is None or target in NOT_PAGES or target in LOGIN_PAGES or "<" not in target:
                    continue
                key = sample_key(href)
                if target in PER_PERSONA:
                    key = f"{key} {persona}"
                if key not in sampled:
                    sampled.add(key)
                    queue.append(href)
        context.close()
    # Routes no link led to, opened by the first persona that may.
    missing = [r for r in expected if r not in seen_ok]
    for route in missing:
        if route not in fallbacks:
            continue
        path = fallbacks[route]
        for persona in PERSONAS:
            context = axe_context(browser, viewport={"width": 1280, "height": 900})
            page = context.new_page()
            sign_in(page, server, f"demo-{persona}", orm)
            response = page.goto(server["url"] + path)
            assert response is not None
            if response.status == 200:
                seen_ok.setdefault(route, []).append(persona)
                checker.check(page, f"demo-{persona}")
                context.close()
                break
            context.close()
    print(f"{len(checker.checked)} staff pages checked:\n" + "\n".join(checker.checked))
    unseen = [r for r in expected if r not in seen_ok]
    assert not unseen, f"staff pages no persona opened (add a fallback or a NOT_PAGES entry): {unseen}"


def _open_a_tree_row(page: Page, checker: Checker, persona: str) -> None:
    """The region tree's rows come as an htmx fragment: checked opened, once per persona."""
    toggle = page.locator("table.tree button.toggle").first
    if toggle.count():
        rows = page.locator("table.tree tbody tr").count()
        toggle.click()
        page.wait_for_function(f"() => document.querySelectorAll('table.tree tbody tr').length > {rows}")
        checker.check(page, f"demo-{persona} (a tree row opened)")


def _sms_code(phone: str, after: float) -> str:
    from zongzhi.portal.sms import outbox_path

    path = outbox_path(phone)
    for _ in range(50):
        if path.exists() and path.stat().st_mtime >= after:
            found = re.search(r"(?<!\d)(\d{6})(?!\d)", path.read_text(encoding="utf-8").split("\n", 1)[1])
            if found:
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no SMS for {phone}")


@pytest.mark.parametrize("language", ["zh-hans", "mn"])
def test_portal_pages(browser: Browser, server: dict[str, str], language: str) -> None:
    _, portal_routes = page_routes()
    url = server["url"]
    checker = Checker(server)
    context = axe_context(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{url}/")
    page.click(f"form.lang button[value='{language}']")
    expected_lang = "mn-Mong" if language == "mn" else "zh-Hans"
    page.wait_for_selector(f"html[lang={expected_lang}]")
    seen: set[str] = set()

    def visit(path: str, label: str = "portal") -> None:
        response = page.goto(url + path)
        assert response is not None and response.status in (200, 404), (path, response and response.status)
        found = route_of(page.url.removeprefix(url))
        seen.add(page.url if found is None else found)
        checker.check(page, f"{label} {language}")

    for route in portal_routes:
        if "<" not in route:
            visit("/" + route)
    visit("/centers/")
    center = next(h for h in checker.links(page) if route_of(h) == "centers/<str:code>/")
    visit(center)
    # A citizen's visit: errors first, then an application, its receipt and its progress page.
    visit("/verify/?next=/apply/")
    page.click("button[value=send]")  # no phone typed
    checker.check(page, f"portal {language} (code asked without a phone)")
    phone = "136" + str(uuid.uuid4().int)[:8]
    page.fill("#id_phone", phone)
    asked = time.time() - 1
    page.click("button[value=send]")
    page.fill("#id_code", _sms_code(phone, asked))
    page.click("button[value=check]")
    page.wait_for_url("**/apply/")
    seen.add("apply/")
    checker.check(page, f"portal {language}")
    checker.submit_empty_forms(page, f"portal {language}")
    page.select_option("#id_category", "grassland")
    page.fill("#id_description", "邻居把冬季草场围栏往我家草场挪了三十米，要求恢复原界。")
    page.fill("#id_applicant_name", "图雅")
    page.fill("#id_other_party", "巴特尔")
    page.select_option("#id_county", "152502000000")
    page.fill("#id_place", "白音锡勒牧场")
    page.click("#main form.form button[type=submit]:not([name=step])")
    page.wait_for_url("**/receipt/")
    seen.add("receipt/")
    checker.check(page, f"portal {language} (receipt)")
    page.click("#progress-link")
    page.wait_for_selector("#state")
    progress = route_of(page.url.removeprefix(url))
    assert progress == "track/<str:code>/", page.url
    seen.add(progress)
    checker.check(page, f"portal {language} (progress)")
    shot(page, f"a11y-portal-progress-{language}")
    visit("/track/")
    checker.submit_empty_forms(page, f"portal {language}")
    context.close()
    print(f"{len(checker.checked)} portal pages checked:\n" + "\n".join(checker.checked))
    assert not set(portal_routes) - seen, f"portal pages not opened: {set(portal_routes) - seen}"
    checker.assert_clean()


def test_login_pages(browser: Browser, server: dict[str, str], orm: Callable) -> None:
    """The login, a wrong password, the second factor and a wrong code; a new account's first login:
    enrolment of its authenticator and the change of its initial password."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from zongzhi.accounts import services
    from zongzhi.accounts.models import Role, User

    url = server["url"]
    checker = Checker(server)
    context = axe_context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/staff/login/")
    checker.check(page, "visitor")
    page.fill("#id_username", "demo-intake")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    checker.check(page, "visitor (wrong password)")
    checker.submit_empty_forms(page, "visitor")
    page.fill("#id_username", "demo-auditor")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/login/totp/")
    checker.check(page, "demo-auditor")
    page.fill("#id_token", "000000")
    page.click("button[type=submit]")
    checker.check(page, "demo-auditor (wrong code)")
    context.close()

    def new_account() -> str:
        admin = User.objects.get(username="demo-sysadmin")  # so the password is a temporary one
        user = services.user_create(
            actor=admin, username=f"t-a11y-{uuid.uuid4().hex[:6]}", full_name="无障碍检查", password=DEMO_PASSWORD
        )
        services.membership_grant(actor=None, user=user, role=Role.AUDIT_ADMIN, cli=True)
        return user.username

    username = orm(new_account)
    context = axe_context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/login/enrol/")
    checker.check(page, username)
    page.fill("#id_token", "000000")
    page.click("button[type=submit]")
    checker.check(page, f"{username} (wrong code)")
    time.sleep(1.1)  # django-otp takes no code for a second after a wrong one (the page says so)
    code = orm(lambda: totp_code(TOTPDevice.objects.get(user__username=username)))
    page.fill("#id_token", code)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/login/password/")
    checker.check(page, username)
    page.fill("#id_password", "short")
    page.fill("#id_again", "short")
    page.click("button[type=submit]")
    checker.check(page, f"{username} (password refused)")
    context.close()
    print(f"{len(checker.checked)} login pages checked:\n" + "\n".join(checker.checked))
    pages = {route_of(c.split(" ", 1)[1]) for c in checker.checked}
    assert set(LOGIN_PAGES) <= pages, set(LOGIN_PAGES) - pages
    checker.assert_clean()
