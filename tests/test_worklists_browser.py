"""Each persona's home is their own work list, in Chromium through the live server.

Two of each, so the scoping shows: Judge Alice (demo-judge, Xilinhot's fast-track court) and Judge Bob
(Duolun's); mediator Alice (demo-mediator, the brand room) and mediator Bob (a township committee);
liaison Alice (demo-liaison, 司法局) and liaison Bob (信访局). Each sees the referrals, sessions and cases
of their own court or org, never the other's, and their counts are their own (the judge sees no
county-wide 待回访). The director sees the center's room calendar (room and time) and what waits on
whom; the case page lists the session record (mediators, attendees) and the booking's room and time.
"""

import datetime
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page

from tests.http_client import logged_in
from tests.test_case_handling import in_progress
from tests.test_case_lifecycle import register, who
from zongzhi.accounts import services as accounts
from zongzhi.accounts.models import Role, User
from zongzhi.cases import selectors, services
from zongzhi.cases.models import Case, CourtReferral, MediationSession
from zongzhi.centers.models import Org, Room
from zongzhi.regions.models import Region

pytestmark = pytest.mark.browser
XILINHOT, DUOLUN = "152502", "152531"


def person(role: str, org: Org, county: str) -> User:
    """A new account of `role` at `org`, jurisdiction the county, with an enrolled second factor."""
    user = accounts.user_create(actor=None, username=f"t-{role}-{uuid.uuid4().hex[:6]}", full_name="乙", password=None)
    accounts.membership_grant(actor=None, user=user, role=role, org=org, cli=True)
    accounts.jurisdiction_grant(actor=None, user=user, region=Region.objects.get(code=f"{county}000000"))
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def home_of(browser: Browser, server: dict[str, str], blocker: Any, username: str, query: str = "") -> Page:
    """The home page of `username`, with a session made as the login view makes it."""
    with blocker.unblock():
        client = logged_in(server["url"], username)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": k, "value": v, "url": server["url"]} for k, v in client.cookies.items()])
    page = context.new_page()
    page.goto(f"{server['url']}/staff/{query}")
    return page


def resolved(case: Case, actor: User) -> Case:
    return services.case_resolve(
        case=case,
        actor=actor,
        version=case.version,
        facts="拖欠工资。",
        terms="一次付清 1000 元。",
        amount=Decimal("1000"),
        performance_method="转账",
        performance_due=timezone.localdate() + datetime.timedelta(days=10),
        signed_on=timezone.localdate(),
    )


def duolun_confirmation() -> Case:
    """A Duolun agreement sent for 司法确认: it goes to Duolun's fast-track court."""
    region = Region.objects.filter(level="village", code__startswith=DUOLUN).order_by("code").first()
    clerk, director = User.objects.get(username="clerk-152531-1"), User.objects.get(username="director-152531")
    case = register(actor=clerk, region=region)
    case = services.case_act(case=case, action="accept", actor=clerk, version=case.version)
    case = services.case_assign(
        case=case, actor=director, version=case.version, lead=Org.objects.get(code="152531-D05")
    )
    case = services.case_sign_for(
        case=case, actor=User.objects.get(username="liaison-152531-D05"), version=case.version
    )
    case = resolved(case, director)
    services.confirmation_request(case=case, actor=director)
    return case


def numbers(page: Page, selector: str) -> set[str]:
    return {n for n in page.locator(f"{selector} [data-case]").evaluate_all("es => es.map(e => e.dataset.case)")}


def queue_keys(page: Page) -> list[str]:
    return page.locator("#work a.queue").evaluate_all("es => es.map(e => e.dataset.queue)")


def test_judges_see_their_own_courts_referrals(
    browser: Browser, server: dict[str, str], django_db_blocker, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with django_db_blocker.unblock():
        ours = resolved(in_progress(), who("director"))
        services.confirmation_request(case=ours, actor=who("director"))
        theirs = duolun_confirmation()
        bob = person(Role.JUDGE, Org.objects.get(code=f"{DUOLUN}-FTC"), DUOLUN)
        court_a = Org.objects.get(code=f"{XILINHOT}-FTC").name
        pending_a = CourtReferral.objects.filter(court__code=f"{XILINHOT}-FTC", result="pending", kind="confirmation")
        expected_a = set(pending_a.values_list("case__number", flat=True))
    alice_page = home_of(browser, server, django_db_blocker, "demo-judge")
    seen = numbers(alice_page, "#judge-confirmations")
    assert ours.number in seen and theirs.number not in seen
    assert seen == expected_a or (len(seen) == 200 and seen <= expected_a)
    courts = set(alice_page.locator("#judge-confirmations tbody td:nth-child(2)").all_inner_texts())
    assert courts == {court_a}
    # The judge's counts are the court's work, not the county's (no 待回访 207).
    assert queue_keys(alice_page) == ["to_coordinate", "to_confirm", "referred"]
    count = alice_page.locator("#work a.queue[data-queue=to_confirm] b").inner_text()
    assert int(count) == len(expected_a)
    assert alice_page.locator("#room-calendar, #my-week, #org-lists").count() == 0

    bob_page = home_of(browser, server, django_db_blocker, bob.username)
    seen = numbers(bob_page, "#judge-confirmations")
    assert theirs.number in seen and ours.number not in seen
    # Bob reads the referred case (his court's), nothing else of Xilinhot.
    bob_page.goto(f"{server['url']}/staff/cases/{theirs.number}/")
    assert "登记司法审查结果" in bob_page.locator("#actions").inner_text()
    answer = bob_page.goto(f"{server['url']}/staff/cases/{ours.number}/")
    assert answer is not None and answer.status == 404


def test_mediators_and_liaisons_see_their_own_orgs_work(
    browser: Browser, server: dict[str, str], django_db_blocker, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    tomorrow = timezone.localtime() + datetime.timedelta(days=1)
    start = tomorrow.replace(hour=9, minute=30, second=0, microsecond=0)
    with django_db_blocker.unblock():
        brand_room = Org.objects.get(code=f"{XILINHOT}-BR1")
        committee = Org.objects.filter(kind="mediation_committee", code__startswith=XILINHOT).order_by("code").first()
        assert committee is not None
        petitions = Org.objects.get(code=f"{XILINHOT}-D06")
        mediator_bob = person(Role.MEDIATOR, committee, XILINHOT)
        liaison_bob = person(Role.DEPT_LIAISON, petitions, XILINHOT)
        room = Room.objects.filter(center__code=f"ZZ-{XILINHOT}", kind="mediation").order_by("pk").first()
        assert room is not None
        court_room = Room.objects.get(center__code=f"ZZ-{XILINHOT}", kind="fast_track_court")

        def pushed(org: Org, co: list[Org]) -> Case:
            case = register()
            case = services.case_act(case=case, action="accept", actor=who("intake"), version=case.version)
            return services.case_assign(case=case, actor=who("director"), version=case.version, lead=org, co=co)

        # Alice's (the brand room co-handles 司法局's case) and Bob's (his committee leads).
        mine = pushed(Org.objects.get(code=f"{XILINHOT}-D05"), [brand_room])
        mine = services.case_sign_for(case=mine, actor=who("liaison"), version=mine.version)
        services.case_sign_for(case=mine, actor=who("mediator"), version=mine.version)
        mine.refresh_from_db()
        services.room_book(
            case=mine, actor=who("liaison"), room=room, starts_at=start, ends_at=start + datetime.timedelta(hours=2)
        )
        held = timezone.now() - datetime.timedelta(hours=1)
        services.session_record(
            case=mine,
            actor=who("liaison"),
            held_at=held,
            place_kind=MediationSession.Place.ROOM,
            room=room,
            mediators="演示·品牌调解员、司法所干部",
            attendees="申请人巴特尔、被申请人其其格",
            record="双方同意分期支付。",
        )
        bobs = pushed(committee, [])
        bobs = services.case_sign_for(case=bobs, actor=mediator_bob, version=bobs.version)
        services.room_book(
            case=bobs,
            actor=mediator_bob,
            room=court_room,
            starts_at=start + datetime.timedelta(hours=3),
            ends_at=start + datetime.timedelta(hours=4),
        )
        for_liaison_bob = pushed(petitions, [])
        liaison_overdue = set(selectors.queue(who("liaison"), "overdue").values_list("number", flat=True))
        bob_to_sign = selectors.queue(liaison_bob, "to_sign").count()  # 信访局's, the seeded history's too
    week = f"?week={start.date().isoformat()}"

    alice = home_of(browser, server, django_db_blocker, "demo-mediator", week)
    assert mine.number in numbers(alice, "#my-week") and bobs.number not in numbers(alice, "#my-week")
    slot = alice.locator(f"#my-week td[data-day='{start.date().isoformat()}'] a.booking[data-case='{mine.number}']")
    assert "09:30–11:30" in slot.inner_text() and room.name in slot.inner_text()
    assert mine.number in numbers(alice, "#my-cases") and bobs.number not in numbers(alice, "#my-cases")
    if held.date() == start.date() or selectors.week_of(held.date())[0] == selectors.week_of(start.date())[0]:
        assert alice.locator(f"#my-week a.session[data-case='{mine.number}']").count() == 1
    bob = home_of(browser, server, django_db_blocker, mediator_bob.username, week)
    assert bobs.number in numbers(bob, "#my-week") and mine.number not in numbers(bob, "#my-week")
    assert bobs.number in numbers(bob, "#my-cases") and mine.number not in numbers(bob, "#my-cases")

    alice = home_of(browser, server, django_db_blocker, "demo-liaison")
    assert queue_keys(alice) == ["to_sign", "in_progress", "overdue", "supervised", "to_coordinate"]
    assert mine.number in numbers(alice, "#org-lists ul[data-list=in_progress]")
    assert for_liaison_bob.number not in numbers(alice, "#org-lists")
    assert numbers(alice, "#org-lists ul[data-list=overdue]") <= liaison_overdue
    bob = home_of(browser, server, django_db_blocker, liaison_bob.username)
    assert for_liaison_bob.number in numbers(bob, "#org-lists ul[data-list=to_sign]")
    assert mine.number not in numbers(bob, "#org-lists")
    assert bob.locator("#work a.queue[data-queue=to_sign] b").inner_text() == str(bob_to_sign)

    # The director: the room calendar (room and time) and what waits on whom; the case page's records.
    director = home_of(browser, server, django_db_blocker, "demo-director", week)
    cell = director.locator(f"#room-calendar tr[data-room='{room.pk}'] td[data-day='{start.date().isoformat()}']")
    assert mine.number in cell.inner_text() and "09:30–11:30" in cell.inner_text()
    other = director.locator(f"#room-calendar tr[data-room='{court_room.pk}']")
    assert bobs.number in other.inner_text() and "12:30–13:30" in other.inner_text()
    waiting = director.locator("#waiting tr[data-holder='152502-D06']")
    assert int(waiting.locator("td").nth(3).inner_text()) >= 1  # 信访局 has a case to sign for
    assert director.locator("#waiting tr[data-holder=center]").count() == 1
    director.goto(f"{server['url']}/staff/cases/{mine.number}/")
    sessions = director.locator("#sessions").inner_text()
    assert "演示·品牌调解员、司法所干部" in sessions and "申请人巴特尔、被申请人其其格" in sessions
    assert "双方同意分期支付" in sessions
    bookings = director.locator("#bookings").inner_text()
    assert room.name in bookings and f"{start:%Y-%m-%d} 09:30–11:30" in bookings
