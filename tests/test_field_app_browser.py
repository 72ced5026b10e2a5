"""The offline field app in Chromium (a persistent profile, its service worker allowed), network off.

The demo grid worker records three visits with photos, a dispute, a 乌日特 stop and a claim with no
network, leaves a draft half typed, closes the browser; reopened (still offline, the page comes from
the service worker) the queue and the draft are there; back online each record arrives exactly
once, and the claim a colleague made on the server meanwhile shows on the phone as a conflict with
what to do. The requests the phone sent are then replayed three times: the database stays the same.
Logging out leaves nothing on the phone.
"""

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.db import connections
from playwright.sync_api import BrowserContext, FilePayload, Page, Playwright, expect, sync_playwright

from tests import field_phone
from tests.browsing import CHROMIUM, shot
from tests.field_phone import World
from tests.http_client import HttpClient, logged_in
from zongzhi.cases.models import Case
from zongzhi.field.models import MobileVisit, SyncRecord, Visit
from zongzhi.grid import services as grid_services
from zongzhi.grid.models import GridWorker, Household, Resident

pytestmark = pytest.mark.browser
T = TypeVar("T")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
# The page is under a service worker once it is the controller (the first load registers it).
CONTROLLED = """() => navigator.serviceWorker.controller !== null || new Promise((resolve) => {
  navigator.serviceWorker.addEventListener("controllerchange", () => resolve(true));
})"""
WAITING = "#queue li[data-state=queued], #queue li[data-state=uploading], #queue li[data-state=sending]"


@pytest.fixture(scope="module")
def playwright(server: dict[str, str]) -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        message = "Debian's chromium is not installed (`make system-deps` installs it): browser tests not run"
        if os.environ.get("ZONGZHI_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as running:
        yield running


@pytest.fixture
def orm(django_db_blocker) -> Callable[[Callable[[], T]], T]:  # type: ignore[no-untyped-def]
    """Run ORM work in a thread of its own: Playwright's event loop runs in this one, where Django refuses it."""

    def run(work: Callable[[], T]) -> T:
        def body() -> T:
            with django_db_blocker.unblock():
                try:
                    return work()
                finally:
                    connections.close_all()

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(body).result()

    return run


def phone(playwright: Playwright, profile: Path) -> BrowserContext:
    """A phone's browser with its own profile on disk (IndexedDB, caches, the service worker survive a close)."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=ARGS,
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        service_workers="allow",
        geolocation={"latitude": 43.93, "longitude": 116.07},
        permissions=["geolocation"],
    )


def open_app(context: BrowserContext, url: str, cookies: dict[str, str]) -> Page:
    context.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{url}/staff/field/app/")
    page.wait_for_selector("body[data-ready='1']")
    return page


def worker_phone(
    playwright: Playwright, url: str, orm: Callable, tmp_path: Path, homes: int
) -> tuple[World, BrowserContext, Page]:
    """Fresh households in the demo grid worker's grid, and the worker's phone with them downloaded."""
    place: World = orm(lambda: field_phone.world(homes=homes))
    cookies = orm(lambda: logged_in(url, "demo-gridworker").cookies)
    context = phone(playwright, tmp_path / "profile")
    page = open_app(context, url, cookies)
    page.wait_for_selector(f"li[data-household='{place.homes[-1].code}']")
    return place, context, page


def stored(page: Page) -> str:
    """Everything the app keeps in IndexedDB, as JSON (photos as their sizes)."""
    return str(
        page.evaluate(
            """() => new Promise((resolve) => {
              const open = indexedDB.open("zongzhi-field");
              open.onsuccess = () => {
                const db = open.result, out = {}, names = Array.from(db.objectStoreNames);
                const t = db.transaction(names, "readonly");
                names.forEach((n) => {
                  const r = t.objectStore(n).getAll();
                  r.onsuccess = () => { out[n] = r.result; };
                });
                t.oncomplete = () => resolve(JSON.stringify(out, (k, v) => v instanceof Blob ? v.size : v));
              };
            })"""
        )
    )


def test_records_made_offline_arrive_once_after_the_browser_is_reopened(
    playwright: Playwright, server: dict[str, str], orm: Callable, tmp_path: Path
) -> None:
    url = server["url"]
    place: World = orm(lambda: field_phone.world(homes=4))
    cookies = orm(lambda: logged_in(url, "demo-gridworker").cookies)
    first_resident = orm(lambda: place.homes[0].residents.order_by("id").first())
    marker = f"离线{int(time.time()) % 100000}"
    pictures = {n: [field_phone.photo(100 + 2 * n), field_phone.photo(101 + 2 * n)] for n in range(3)}
    csp: list[str] = []

    context = phone(playwright, tmp_path / "profile")
    page = open_app(context, url, cookies)
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    page.wait_for_selector(f"li[data-household='{place.homes[3].code}']")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now under the service worker, which has cached the shell
    page.evaluate(CONTROLLED)
    page.wait_for_selector("body[data-ready='1']")

    context.set_offline(True)
    page.wait_for_selector("#net.off")
    for n in range(3):
        page.click("[data-tab=visit]")
        page.select_option("#visit-household", place.homes[n].code)
        page.fill("#visit-notes", f"{marker}走访{n}：草场围栏情况")
        page.click("#visit-form .locate")
        expect(page.locator("#visit-lat")).not_to_have_value("")
        page.set_input_files(
            "#visit-photos",
            [FilePayload(name=f"围栏{n}{k}.png", mimeType="image/png", buffer=b) for k, b in enumerate(pictures[n])],
        )
        page.click("#visit-form button[type=submit]")
        page.wait_for_selector(f"#queue li:has-text('{marker}走访{n}')", state="attached")
    page.click("[data-tab=households]")
    page.click(f"li[data-household='{place.homes[0].code}'] [data-go=dispute]")
    page.select_option("#dispute-category", "grassland")
    page.fill("#dispute-title", f"{marker}草场纠纷")
    page.fill("#dispute-description", f"{marker}：邻户把围栏往本户草场挪了二十米。")
    page.select_option("#dispute-applicant-resident", str(first_resident.pk))
    page.fill("#dispute-respondent-name", "邻户")
    page.click("#dispute-form button[type=submit]")
    page.click("[data-tab=mobile]")
    page.select_option("#mobile-unit", str(place.unit.pk))
    page.fill("#mobile-people", "9")
    page.fill("#mobile-service-mediation", "2")
    page.fill("#mobile-service-legal_publicity", "1")
    page.check("#mobile-with-case")
    page.select_option("#mobile-case-household", place.homes[1].code)
    page.select_option("#mobile-case-category", "grassland")
    page.fill("#mobile-case-title", f"{marker}乌日特纠纷")
    page.fill("#mobile-case-description", f"{marker}：两户共用水井，轮换时间有争执。")
    page.fill("#mobile-case-applicant", "图雅")
    page.click("#mobile-form button[type=submit]")
    page.click("[data-tab=households]")
    page.click(f"li[data-household='{place.homes[3].code}'] [data-claim]")
    page.click("[data-tab=visit]")
    page.select_option("#visit-household", place.homes[2].code)
    page.fill("#visit-notes", f"{marker}没写完的草稿")
    page.click("[data-tab=queue]")
    expect(page.locator("#queue li[data-state=queued]")).to_have_count(6)
    shot(page, "field-app-offline-queue")
    assert page.locator("#queue-count").inner_text() == "6"
    assert orm(lambda: Visit.objects.filter(notes__startswith=marker).count()) == 0  # nothing left the phone
    # Meanwhile, on the server: a colleague of the same grid claims the household the phone claims.
    orm(lambda: grid_services.household_claim(actor=place.colleague, household=place.homes[3]))
    context.close()

    reopened = phone(playwright, tmp_path / "profile")
    reopened.set_offline(True)
    page = open_app(reopened, url, cookies)  # from the service worker's copy: no network
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    assert page.locator("#net.off").count() == 1
    page.click("[data-tab=queue]")
    expect(page.locator("#queue li[data-state=queued]")).to_have_count(6)
    assert page.input_value("#visit-notes") == f"{marker}没写完的草稿"  # the draft survived
    assert page.input_value("#visit-household") == place.homes[2].code

    sent: list[dict[str, Any]] = []

    def keep(request: Any) -> None:
        if request.method == "POST" and "/api/v1/field/" in request.url:
            sent.append({"url": request.url, "headers": request.headers, "body": request.post_data_buffer})

    reopened.on("request", keep)
    reopened.set_offline(False)
    page.click("#sync-now")
    # (Polling with wait_for_function would evaluate strings, which the page's CSP forbids: locators do not.)
    expect(page.locator("#queue li[data-state=done], #queue li[data-state=conflict]")).to_have_count(6, timeout=120_000)
    expect(page.locator(WAITING)).to_have_count(0)
    shot(page, "field-app-synced")
    assert page.locator("#queue li[data-state=done]").count() == 5
    conflict = page.locator("#queue li[data-state=conflict]")
    colleague_name = orm(lambda: GridWorker.objects.get(user=place.colleague).name)
    assert f"由同网格的网格员 {colleague_name} 认领" in conflict.inner_text()
    assert "无需再认领" in conflict.inner_text() and conflict.locator("[data-option=discard]").count() == 1

    def arrived() -> dict[str, Any]:
        visits = list(Visit.objects.filter(notes__startswith=marker).prefetch_related("photos"))
        return {
            "visits": sorted(v.notes[len(marker) :] for v in visits),
            "photos": sorted(p.sha256 for v in visits for p in v.photos.all()),
            "positions": {(v.lat, v.lng) for v in visits},
            "disputes": Case.objects.filter(title=f"{marker}草场纠纷", channel=Case.Channel.GRID).count(),
            "stop_cases": Case.objects.filter(title=f"{marker}乌日特纠纷", channel=Case.Channel.MOBILE).count(),
            "stops": MobileVisit.objects.filter(unit=place.unit).count(),
            "records": SyncRecord.objects.filter(user=place.worker, created_at__gte=place.unit.created_at).count(),
        }

    assert orm(arrived) == {
        "visits": [f"走访{n}：草场围栏情况" for n in range(3)],
        "photos": sorted(hashlib.sha256(b).hexdigest() for n in range(3) for b in pictures[n]),
        "positions": {(43.93, 116.07)},
        "disputes": 1,
        "stop_cases": 1,
        "stops": 1,
        "records": 6,
    }
    # Nothing on the phone that the masked pages would not show: no full ID, no full phone.
    kept = stored(page)
    people = orm(lambda: list(Resident.objects.filter(household__in=place.homes)))
    assert all(p.id_number not in kept and p.phone not in kept for p in people)
    assert f"{marker}：邻户" not in kept  # answered records are kept as a summary only

    # The whole queue replayed three times, as the phone sent it (with and without its keys): the same database.
    by_sha = {hashlib.sha256(b).hexdigest(): b for n in range(3) for b in pictures[n]}
    uploads = {
        json.loads(r["body"])["upload_id"]: by_sha[json.loads(r["body"])["sha256"]]
        for r in sent
        if r["url"].endswith("/api/v1/field/uploads")
    }
    assert len(uploads) == 6 and sum(r["url"].endswith("/sync") for r in sent) == 6
    client = HttpClient(url, cookies=dict(cookies))

    def replay(with_keys: bool) -> None:
        for request in sent:
            path = request["url"][len(url) :]
            headers = {k: v for k, v in request["headers"].items() if k.lower() in ("content-type", "upload-offset")}
            if with_keys and "idempotency-key" in request["headers"]:
                headers["Idempotency-Key"] = request["headers"]["idempotency-key"]
            if path.endswith("/chunk"):  # a blob body: the photo's bytes from the offset sent
                data = uploads[path.split("/")[-2]]
                offset = int(request["headers"]["upload-offset"])
                body = data[offset : offset + field_phone.CHUNK]
            else:
                body = request["body"]
            answer = client.request("POST", path, body, headers)
            assert answer.status in {"sync": (200, 409)}.get(path.rsplit("/", 1)[-1], (200,)), answer.text

    before = orm(field_phone.dump)
    for with_keys in (True, False, True):
        replay(with_keys)
        assert orm(field_phone.dump) == before
    assert orm(arrived)["visits"] == [f"走访{n}：草场围栏情况" for n in range(3)]
    assert not csp, csp
    reopened.close()


def test_logging_out_wipes_the_phone(
    playwright: Playwright, server: dict[str, str], orm: Callable, tmp_path: Path
) -> None:
    url = server["url"]
    place, context, page = worker_phone(playwright, url, orm, tmp_path, homes=1)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # Claimed by a colleague after the phone downloaded it: the phone's claim stays open as a conflict.
    orm(lambda: grid_services.household_claim(actor=place.colleague, household=place.homes[0]))
    page.click(f"li[data-household='{place.homes[0].code}'] [data-claim]")
    page.click("[data-tab=queue]")
    page.wait_for_selector("#queue li[data-state=conflict]")
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.click("form.who button[type=submit]")
    page.wait_for_url("**/staff/login/**")
    assert asked and "还有 1 条记录没有同步" in asked[0]
    left = page.evaluate(
        """async () => ({
          databases: (await indexedDB.databases()).map((d) => d.name),
          caches: await caches.keys(),
          workers: (await navigator.serviceWorker.getRegistrations()).length,
        })"""
    )
    assert left == {"databases": [], "caches": [], "workers": 0}, left
    page.goto(f"{url}/staff/field/app/")
    page.wait_for_url("**/staff/login/**")  # the server's session ended too
    context.close()


def test_a_record_queued_while_a_sync_runs_goes_in_the_round_after(
    playwright: Playwright, server: dict[str, str], orm: Callable, tmp_path: Path
) -> None:
    place, context, page = worker_phone(playwright, server["url"], orm, tmp_path, homes=2)
    held: list[Any] = []

    def hold(route: Any) -> None:  # the first claim's request waits here; the rest go through
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/v1/field/sync", hold)
    page.click(f"li[data-household='{place.homes[0].code}'] [data-claim]")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1, "the first claim's request never left the phone"
    # The second claim is queued while the round that sends the first is under way.
    page.click(f"li[data-household='{place.homes[1].code}'] [data-claim]")
    page.click("[data-tab=queue]")
    expect(page.locator("#queue li")).to_have_count(2)
    held[0].continue_()
    expect(page.locator("#queue li[data-state=done]")).to_have_count(2, timeout=30_000)

    def holders_now() -> dict[str, int | None]:
        return {h.code: h.claimed_by_id for h in Household.objects.filter(pk__in=[h.pk for h in place.homes])}

    holders = orm(holders_now)
    mine = orm(lambda: GridWorker.objects.get(user=place.worker).pk)
    assert holders == {h.code: mine for h in place.homes}, holders
    context.close()
