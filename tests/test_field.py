"""Field work: a grid worker's visits (with photos, a case, an item), village risk reviews, mobile units.

The demo grid worker (demo-gridworker) sees only their grid; the worker of the neighbouring grid
(gw-…) sees only theirs; the Xilinhot director reviews villages and manages the county's units.
"""

import datetime
import functools
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from tests import real_files
from tests.conftest import verified_client
from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.cases import services as case_services
from zongzhi.cases.calendar import add_working_days
from zongzhi.cases.models import Case, CaseEvent, Category, State
from zongzhi.centers.models import Center
from zongzhi.crypto import blind_index
from zongzhi.field import reviews, selectors, services, sync
from zongzhi.field.models import FieldItem, MobileUnitMember, MobileVisit, RiskItem, ServiceType, Visit
from zongzhi.grid.models import GridWorker, Household, Resident
from zongzhi.identity import make_resident_id
from zongzhi.regions.models import Region

PNG = real_files.PNG
JPEG = real_files.JPEG


def who(name: str) -> User:
    return User.objects.get(username=name)


def household_in(grid: Region, n: int) -> Household:
    village = grid.parent
    assert village is not None
    household = Household.objects.create(
        code=f"T{grid.code}{n:02d}", village=village, grid=grid, region_code=grid.code, address="测试嘎查", herder=True
    )
    number = make_resident_id(grid.code[:6], datetime.date(1970 + n, 3, 4), 100 + n + int(grid.code[-3:]) % 500)
    Resident.objects.create(
        household=household,
        region_code=grid.code,
        name=f"巴特尔{n}",
        relation=Resident.Relation.HEAD,
        ethnicity="蒙古族",
        language=Resident.Language.MONGOLIAN,
        id_number=number,
        id_index=blind_index(number),
    )
    return household


@pytest.fixture
def gridworker(db) -> User:  # type: ignore[no-untyped-def]
    return who("demo-gridworker")


@pytest.fixture
def my_grid(gridworker: User) -> Region:
    return GridWorker.objects.get(user=gridworker).grid


@pytest.fixture
def other_worker(my_grid: Region) -> User:
    """The worker of another grid of the same county."""
    worker = (
        GridWorker.objects.filter(region_code__startswith=my_grid.code[:6], user__isnull=False)
        .exclude(grid=my_grid)
        .order_by("code")
        .first()
    )
    assert worker is not None and worker.user is not None
    return worker.user


@pytest.fixture
def home(my_grid: Region) -> Household:
    return household_in(my_grid, 1)


@pytest.fixture
def foreign_home(other_worker: User) -> Household:
    return household_in(GridWorker.objects.get(user=other_worker).grid, 2)


def record(actor: User, household: Household, **overrides) -> Visit:  # type: ignore[no-untyped-def]
    fields: dict[str, Any] = {
        "actor": actor,
        "household": household,
        "visited_at": timezone.now() - datetime.timedelta(hours=1),
        "notes": "入户走访，了解到与邻户因草场围栏有争执。",
        "lat": 43.93,
        "lng": 116.07,
    }
    fields.update(overrides)
    return services.visit_record(**fields)


# ---- visits -----------------------------------------------------------------------------------


def test_a_grid_worker_records_a_visit_with_a_photo(gridworker: User, home: Household) -> None:
    photo = SimpleUploadedFile("围栏.png", PNG, content_type="image/png")
    visit = record(gridworker, home, photos=[photo])
    assert visit.region_code == home.grid.code and visit.worker.user == gridworker
    stored = visit.photos.get()
    assert stored.content_type == "image/png" and stored.size == len(PNG)
    assert list(selectors.visits_visible(gridworker)) == [visit]


def test_the_visit_form_records_through_http(gridworker: User, home: Household) -> None:
    client = verified_client(gridworker)
    page = client.get(reverse("field:visit_new"))
    assert page.status_code == 200 and home.code in page.content.decode()
    response = client.post(
        reverse("field:visit_new"),
        {
            "household": home.code,
            "kind": "visit",
            "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "notes": "巡查冬营地。",
            "lat": "",
            "lng": "",
            "photos": [SimpleUploadedFile("a.jpg", JPEG, content_type="image/jpeg")],
        },
    )
    visit = Visit.objects.get(household=home)
    assert response.status_code == 302 and response["Location"] == reverse("field:visit", args=[visit.pk])
    assert visit.photos.get().content_type == "image/jpeg"
    assert client.get(reverse("field:visits")).status_code == 200
    assert client.get(reverse("field:visit", args=[visit.pk])).status_code == 200


def test_a_visit_dated_in_the_future_is_refused(gridworker: User, home: Household) -> None:
    with pytest.raises(ValidationError) as error:
        record(gridworker, home, visited_at=timezone.now() + datetime.timedelta(days=1))
    assert "晚于现在" in error.value.message_dict["visited_at"][0]
    assert not Visit.objects.filter(household=home).exists()


def test_a_photo_that_is_not_an_image_is_refused(gridworker: User, home: Household) -> None:
    fake = SimpleUploadedFile("照片.jpg", b"%PDF-1.7 not a photo", content_type="image/jpeg")
    with pytest.raises(ValidationError) as error:
        record(gridworker, home, photos=[fake])
    assert "“照片.jpg”不是图片" in error.value.message_dict["photos"][0]
    client = verified_client(gridworker)
    response = client.post(
        reverse("field:visit_new"),
        {
            "household": home.code,
            "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "notes": "走访。",
            "photos": [SimpleUploadedFile("x.png", io.BytesIO(b"GIF89a....").read())],
        },
    )
    assert response.status_code == 422 and "不是图片" in response.content.decode()
    assert not Visit.objects.filter(household=home).exists()


def test_a_household_of_another_grid_is_refused(gridworker: User, foreign_home: Household) -> None:
    with pytest.raises(Http404):
        record(gridworker, foreign_home)
    with pytest.raises(Http404):
        selectors.household_get(gridworker, foreign_home.code)
    response = verified_client(gridworker).post(
        reverse("field:visit_new"),
        {"household": foreign_home.code, "visited_at": "2025-01-01T10:00", "notes": "走访。"},
    )
    assert response.status_code == 404


def test_another_grids_worker_gets_404_for_my_visit(
    gridworker: User, other_worker: User, home: Household, foreign_home: Household
) -> None:
    visit = record(gridworker, home)
    theirs = record(other_worker, foreign_home)
    assert list(selectors.visits_visible(other_worker)) == [theirs]
    with pytest.raises(Http404):
        selectors.visit_get(other_worker, visit.pk)
    with pytest.raises(Http404):
        services.field_item_raise(visit=visit, actor=other_worker, kind="safety", title="电线老化")
    assert verified_client(gridworker).get(reverse("field:visit", args=[theirs.pk])).status_code == 404
    missing = Visit.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    assert verified_client(gridworker).get(reverse("field:visit", args=[missing])).status_code == 404


def test_only_grid_workers_record_visits(home: Household) -> None:
    with pytest.raises(PermissionDenied):
        record(who("demo-director"), home)


def test_a_visit_raises_a_case_on_the_grid_channel(gridworker: User, home: Household) -> None:
    visit = record(gridworker, home)
    case = services.visit_case_raise(
        visit=visit,
        actor=gridworker,
        category=Category.objects.get(code="grassland"),
        title="草场围栏纠纷",
        description="两户因冬营地围栏位置争执。",
        applicant=home.residents.get(),
    )
    assert case.channel == Case.Channel.GRID and case.region_code == home.grid.code
    assert case.due_at == add_working_days(case.registered_at, 1)  # to be accepted, like any door's case
    assert case.state == State.REGISTERED and case.parties.get(role="applicant").name == "巴特尔1"
    visit.refresh_from_db()
    assert visit.case == case
    with pytest.raises(ValidationError):
        services.visit_case_raise(
            visit=visit,
            actor=gridworker,
            category=case.category,
            title="再报",
            description="重复上报。",
            applicant=home.residents.get(),
        )


def test_a_visit_keeps_its_photos_and_items_after_its_household_moves(
    gridworker: User, home: Household, foreign_home: Household
) -> None:
    """A visit's photos and items carry the visit's grid code, not the household's: a move of the household to
    another grid afterwards hides none of them from the worker who recorded the visit."""
    visit = record(gridworker, home, photos=[SimpleUploadedFile("p.png", PNG, "image/png")])
    services.field_item_raise(visit=visit, actor=gridworker, kind="safety", title="棚圈电线老化")
    Household.objects.filter(pk=home.pk).update(grid=foreign_home.grid, region_code=foreign_home.region_code)
    found = selectors.visit_get(gridworker, visit.pk)
    assert [p.name for p in found.photos.all()] == ["p.png"]
    assert [i.title for i in found.items.all()] == ["棚圈电线老化"]
    assert list(selectors.visit_photos(found)) == list(found.photos.all())


def test_items_are_raised_and_handled(gridworker: User, home: Household) -> None:
    visit = record(gridworker, home)
    item = services.field_item_raise(visit=visit, actor=gridworker, kind="safety", title="蒙古包电线老化")
    assert list(selectors.field_items_visible(gridworker, open_only=True)) == [item]
    with pytest.raises(ValidationError) as error:
        services.field_item_handle(item=item, actor=gridworker, note=" ")
    assert "handling_note" in error.value.message_dict
    services.field_item_handle(item=item, actor=gridworker, note="已联系供电所更换。")
    assert FieldItem.objects.get(pk=item.pk).status == FieldItem.Status.HANDLED


# ---- village risk reviews ---------------------------------------------------------------------


def test_a_village_review_draws_open_cases_and_grades_them(gridworker: User, home: Household) -> None:
    visit = record(gridworker, home)
    case = services.visit_case_raise(
        visit=visit,
        actor=gridworker,
        category=Category.objects.get(code="grassland"),
        title="草场围栏纠纷",
        description="两户因冬营地围栏位置争执。",
        applicant=home.residents.get(),
    )
    hazard = services.field_item_raise(
        visit=record(gridworker, home), actor=gridworker, kind="opinion", title="希望修通冬营地道路"
    )
    director = who("demo-director")
    with pytest.raises(Http404):  # a grid worker's jurisdiction is their grid, not the village
        reviews.risk_review_open(actor=gridworker, village=home.village, held_on=timezone.localdate())
    review = reviews.risk_review_open(
        actor=director, village=home.village, held_on=timezone.localdate(), attendees="嘎查书记、网格员"
    )
    drawn = {i.source: i for i in review.items.all()}
    assert drawn[RiskItem.Source.CASE].case == case
    assert drawn[RiskItem.Source.ITEM].field_item == hazard
    assert RiskItem.Source.VISIT not in drawn  # both visits are on the agenda through their case / item

    item = drawn[RiskItem.Source.CASE]
    with pytest.raises(ValidationError) as error:
        reviews.risk_item_decide(item=item, actor=director, decision="", grade="province")
    assert set(error.value.message_dict) == {"decision", "grade"}
    reviews.risk_item_decide(item=item, actor=director, decision="移交苏木乡镇调解。", grade="township")
    item.refresh_from_db()
    assert item.status == RiskItem.Status.ASSIGNED and item.handling_center is not None
    assert item.handling_center.level == Center.Level.TOWNSHIP
    assert item.handling_center.region_code == home.village.code[:9] + "000"
    reviews.risk_item_decide(
        item=drawn[RiskItem.Source.ITEM], actor=director, decision="报旗县交通局。", grade="county"
    )
    assert RiskItem.objects.get(pk=drawn[RiskItem.Source.ITEM].pk).handling_center.level == Center.Level.COUNTY  # type: ignore[union-attr]

    client = verified_client(director)
    assert client.get(reverse("field:review", args=[review.pk])).status_code == 200
    assert verified_client(gridworker).get(reverse("field:review", args=[review.pk])).status_code == 403


def test_graded_items_go_to_the_handling_center_and_lift_their_case(gridworker: User, home: Household) -> None:
    """分级联动处置: a case graded to the county moves up to the county center, which records the outcome."""
    director = who("demo-director")
    case = services.visit_case_raise(
        visit=record(gridworker, home),
        actor=gridworker,
        category=Category.objects.get(code="grassland"),
        title="冬营地草场边界纠纷",
        description="三户对冬营地草场边界有争议，已多次争吵。",
        applicant=home.residents.get(),
    )
    # Accepted at the center that received it, by that center's director.
    local = User.objects.filter(memberships__role="center_director", memberships__center=case.center).first()
    assert local is not None
    case = case_services.case_act(case=case, action="accept", actor=local, version=case.version)
    start_level = case.center.level
    assert start_level != Center.Level.COUNTY
    review = reviews.risk_review_open(actor=director, village=home.village, held_on=timezone.localdate())
    item = review.items.get(case=case)
    reviews.risk_item_decide(item=item, actor=director, decision="涉及多户，报旗县联动处置。", grade="county")
    case.refresh_from_db()
    assert case.center.level == Center.Level.COUNTY
    assert case.escalations >= 1
    assert "风险研判" in case.events.filter(kind="escalate").latest("id").data["reason"]
    with pytest.raises(ValidationError):  # decided once; a second decision is refused
        reviews.risk_item_decide(
            item=RiskItem.objects.get(pk=item.pk), actor=director, decision="再议", grade="village"
        )

    # The county center's queue shows it; the outcome is required, then the item is done.
    client = verified_client(director)
    page = client.get(reverse("field:handling")).content.decode()
    assert f'data-item="{item.pk}"' in page and "冬营地草场边界纠纷" in page
    response = client.post(reverse("field:handling"), {"item": item.pk, "note": " "}, follow=True)
    assert "请填写办理结果" in response.content.decode()
    assert RiskItem.objects.get(pk=item.pk).status == RiskItem.Status.ASSIGNED
    client.post(reverse("field:handling"), {"item": item.pk, "note": "旗县司法局牵头调处，三户签订协议。"})
    done = RiskItem.objects.get(pk=item.pk)
    assert done.status == RiskItem.Status.DONE and done.handled_by == director
    assert selectors.handled_items(director).get(pk=item.pk).case == case  # read apart, in the scope
    assert "签订协议" in client.get(reverse("field:review", args=[review.pk])).content.decode()

    # A director of another county neither sees nor reaches it.
    outsider = who("director-152531")
    assert not selectors.handling_items(outsider).filter(pk=item.pk).exists()
    with pytest.raises(Http404):
        selectors.handling_item_get(outsider, item.pk)


def test_a_review_outside_the_jurisdiction_is_404(home: Household) -> None:
    duolun_director = User.objects.filter(username="director-152531").first()
    assert duolun_director is not None
    with pytest.raises(Http404):
        reviews.risk_review_open(actor=duolun_director, village=home.village, held_on=timezone.localdate())


# ---- mobile units -----------------------------------------------------------------------------


def test_a_mobile_unit_logs_the_services_of_a_visit(gridworker: User, home: Household) -> None:
    assert ServiceType.objects.count() >= 6
    director = who("demo-director")
    county = Region.objects.get(code=home.region_code[:6] + "000000")
    with pytest.raises(PermissionDenied):
        services.mobile_unit_create(actor=who("demo-leader"), name="乌日特一队", county=county)
    with pytest.raises(Http404):
        services.mobile_unit_create(actor=gridworker, name="乌日特一队", county=county)
    unit = services.mobile_unit_create(
        actor=director, name="乌日特一队", county=county, households=[home], members=[who("demo-mediator")]
    )
    stops = services.circuit_plan_set(
        unit=unit,
        actor=director,
        stops=[
            services.StopInput(planned_on=timezone.localdate(), household=home),
            services.StopInput(planned_on=timezone.localdate() + datetime.timedelta(days=3), place="夏营地"),
        ],
    )
    mediation, publicity = ServiceType.objects.get(name="矛盾调解"), ServiceType.objects.get(name="法治宣传")
    visit = services.mobile_visit_record(
        unit=unit,
        actor=who("demo-mediator"),
        visited_on=timezone.localdate(),
        stop=stops[0],
        services={mediation: (2, "草场边界"), publicity: (1, "")},
        people_served=12,
    )
    assert {(s.service.name, s.count) for s in visit.services.all()} == {("矛盾调解", 2), ("法治宣传", 1)}
    with pytest.raises(ValidationError) as error:
        services.mobile_visit_record(
            unit=unit, actor=director, visited_on=timezone.localdate() + datetime.timedelta(days=1), services={}
        )
    assert set(error.value.message_dict) == {"visited_on", "services"}
    with pytest.raises(PermissionDenied):
        services.mobile_visit_record(
            unit=unit, actor=who("demo-leader"), visited_on=timezone.localdate(), services={mediation: (1, "")}
        )

    client = verified_client(director)
    assert client.get(reverse("field:unit", args=[unit.pk])).status_code == 200
    response = client.post(
        reverse("field:unit", args=[unit.pk]),
        {"visited_on": timezone.localdate().isoformat(), f"service_{publicity.pk}": "on", f"count_{publicity.pk}": "3"},
    )
    assert response.status_code == 302
    assert MobileVisit.objects.filter(unit=unit).count() == 2
    assert verified_client(gridworker).get(reverse("field:unit", args=[unit.pk])).status_code == 404


@pytest.fixture
def stop_visit(home: Household, foreign_home: Household) -> MobileVisit:
    """The county's unit, serving two herder households, at its first stop (the first household)."""
    director = who("demo-director")
    county = Region.objects.get(code=home.region_code[:6] + "000000")
    unit = services.mobile_unit_create(
        actor=director,
        name="乌日特一队",
        county=county,
        households=[home, foreign_home],
        members=[who("demo-mediator")],
    )
    (stop,) = services.circuit_plan_set(
        unit=unit, actor=director, stops=[services.StopInput(planned_on=timezone.localdate(), household=home)]
    )
    return services.mobile_visit_record(
        unit=unit,
        actor=who("demo-mediator"),
        visited_on=timezone.localdate(),
        stop=stop,
        services={ServiceType.objects.get(name="矛盾调解"): (1, "")},
        people_served=8,
    )


def test_a_mobile_stop_raises_cases_on_the_mobile_channel(stop_visit: MobileVisit, home: Household) -> None:
    mediator = who("demo-mediator")
    raise_case = functools.partial(
        services.mobile_visit_case_raise,
        visit=stop_visit,
        category=Category.objects.get(code="grassland"),
        title="草场边界纠纷",
        description="两户牧民因夏营地草场边界争执，请求乌日特现场调解。",
        parties=[case_services.PartyInput(kind="person", role="applicant", name="巴特尔1")],
    )
    case = raise_case(actor=mediator)
    assert case.channel == Case.Channel.MOBILE and case.state == State.REGISTERED
    assert case.region_code == home.grid.code and case.location == home.address  # the stop's household
    assert case.center.code == "ZZ-" + home.region_code[:6] and case.owner == mediator  # the unit's county center
    assert case.due_at == add_working_days(case.registered_at, 1)
    assert CaseEvent.objects.get(case=case, kind="intake").data["channel"] == "mobile"
    # A stop serves many households: it may raise several cases, each linked to the visit.
    other = raise_case(actor=mediator, title="饮水井纠纷")
    assert set(stop_visit.cases.all()) == {case, other}

    with pytest.raises(PermissionDenied):
        raise_case(actor=who("demo-leader"))  # sees the unit, does not ride with it
    stranger = household_in(home.grid, 7)
    with pytest.raises(ValidationError) as error:
        raise_case(actor=mediator, household=stranger)
    assert "不是本乌日特的服务户" in error.value.message_dict["household"][0]


def test_a_member_from_another_county_rides_with_the_unit(stop_visit: MobileVisit) -> None:
    """A member whose own jurisdiction does not hold the unit's county sees the unit, its stops and visits, and
    gets its circuit on the phone: the membership row carries the unit's code, which bounds what a member reads."""
    unit = stop_visit.unit
    rider = who("director-152531")  # Duolun's director, riding with a Xilinhot unit
    assert not access.scope_of(rider).covers(unit.region_code)
    assert not selectors.units_visible(rider).filter(pk=unit.pk).exists()
    MobileUnitMember.objects.create(mobileunit=unit, user=rider, region_code=unit.region_code)
    assert list(selectors.units_visible(rider)) == [unit]
    found = selectors.unit_get(rider, unit.pk)
    assert [s.pk for s in found.stops.all()] == [stop_visit.stop_id]
    assert list(selectors.unit_visits(found)) == [stop_visit]
    assert selectors.mobile_visit_get(rider, stop_visit.pk).stop == stop_visit.stop
    offline = sync.offline_dataset(rider)
    assert [u["id"] for u in offline["units"]] == [unit.pk]
    assert [s["id"] for s in offline["units"][0]["stops"]] == [stop_visit.stop_id]
    # Off the unit, they no longer reach it.
    MobileUnitMember.objects.filter(mobileunit=unit, user=rider).delete()
    with pytest.raises(Http404):
        selectors.unit_get(rider, unit.pk)


def test_the_members_of_a_unit_carry_its_code(stop_visit: MobileVisit) -> None:
    unit = stop_visit.unit
    assert set(MobileUnitMember.objects.filter(mobileunit=unit).values_list("region_code", flat=True)) == {
        unit.region_code
    }


def test_a_mobile_stop_raises_an_item(stop_visit: MobileVisit, foreign_home: Household) -> None:
    item = services.mobile_field_item_raise(
        visit=stop_visit, actor=who("demo-mediator"), kind="opinion", title="希望增设流动售药点", household=foreign_home
    )
    assert item.mobile_visit == stop_visit and item.visit is None
    assert item.region_code == foreign_home.grid.code
    assert item in selectors.field_items_visible(who("demo-director"), open_only=True)
    with pytest.raises(ValidationError):
        services.mobile_field_item_raise(visit=stop_visit, actor=who("demo-mediator"), kind="other", title=" ")


def test_a_mobile_stop_on_the_pages(stop_visit: MobileVisit, home: Household, gridworker: User) -> None:
    client = verified_client(who("demo-mediator"))
    unit_page = reverse("field:unit", args=[stop_visit.unit_id])
    publicity = ServiceType.objects.get(name="法治宣传")
    recorded = client.post(
        unit_page,
        {"visited_on": timezone.localdate().isoformat(), f"service_{publicity.pk}": "on", "people_served": "5"},
    )
    new_visit = MobileVisit.objects.filter(unit=stop_visit.unit).latest("id")
    assert recorded.status_code == 302 and recorded["Location"] == reverse("field:mobile_visit", args=[new_visit.pk])

    page = reverse("field:mobile_visit", args=[stop_visit.pk])
    html = client.get(page).content.decode()
    assert 'id="raise-case"' in html and 'id="raise-item"' in html and 'name="channel"' not in html
    response = client.post(
        reverse("field:mobile_visit_case", args=[stop_visit.pk]),
        {
            "category": "grassland",
            "household": home.code,
            "applicant_name": "巴特尔1",
            "title": "草场边界纠纷",
            "description": "夏营地草场边界争执。",
            "channel": "window",
        },
        follow=True,
    )
    case = stop_visit.cases.get()
    assert case.channel == Case.Channel.MOBILE and case.number in response.content.decode()
    response = client.post(
        reverse("field:mobile_visit_item", args=[stop_visit.pk]),
        {"kind": "safety", "title": "蒙古包电线老化", "household": home.code},
        follow=True,
    )
    assert "蒙古包电线老化" in response.content.decode() and stop_visit.items.get().kind == "safety"
    bad = client.post(
        reverse("field:mobile_visit_case", args=[stop_visit.pk]), {"category": "", "title": "x"}, follow=True
    )
    assert "请选择纠纷类别" in bad.content.decode() and stop_visit.cases.count() == 1

    # A leader sees the record but is offered nothing to raise; a grid worker does not see it.
    assert 'id="raise-case"' not in verified_client(who("demo-leader")).get(page).content.decode()
    assert verified_client(gridworker).get(page).status_code == 404


def test_a_station_lists_the_sessions_held_there(home: Household) -> None:
    director = who("demo-director")
    station = services.station_create(actor=director, name="图古日格嘎查蒙古包调解驿站", village=home.village)
    client = verified_client(director)
    for page in (reverse("field:reviews"), reverse("field:units"), reverse("field:station", args=[station.pk])):
        assert client.get(page).status_code == 200
    assert list(selectors.station_sessions(director, station)) == []
    with pytest.raises(ValidationError):
        services.station_create(actor=director, name=station.name, village=home.village)


def test_a_director_sets_up_a_unit_its_plan_and_a_station_on_the_pages(
    my_grid: Region, home: Household, foreign_home: Household
) -> None:
    director = who("demo-director")
    client = verified_client(director)
    county = home.region_code[:6] + "000000"
    units = reverse("field:units")
    page = client.get(units).content.decode()
    assert 'id="unit-new"' in page and 'id="station-new"' in page
    mediator = who("demo-mediator")
    org = selectors.orgs_for_units(director).filter(region_code__startswith=county[:6]).first()
    assert org is not None and selectors.unit_member_choices(director).filter(pk=mediator.pk).exists()

    # An unknown household code is named and nothing is created.
    form = {"kind": "unit", "name": "乌日特二队", "county": county, "orgs": [org.pk], "members": [mediator.pk]}
    response = client.post(units, {**form, "households": f"{home.code}\nNOPE-1"}, follow=True)
    assert "户号 NOPE-1 不存在或不在您的辖区" in response.content.decode()
    assert not selectors.units_visible(director).filter(name="乌日特二队").exists()

    response = client.post(units, {**form, "households": f"{home.code}，{foreign_home.code}"})
    unit = selectors.units_visible(director).get(name="乌日特二队")
    assert response.status_code == 302 and response["Location"] == reverse("field:unit", args=[unit.pk])
    assert set(unit.households.all()) == {home, foreign_home}
    assert list(unit.orgs.all()) == [org] and list(unit.members.all()) == [mediator]

    # A station in the home village, then a plan through the household and the station.
    response = client.post(
        units,
        {"kind": "station", "name": "测试蒙古包驿站", "village": home.village.code, "station_households": home.code},
    )
    station = selectors.stations_visible(director).get(name="测试蒙古包驿站")
    assert list(station.households.all()) == [home]
    day = timezone.localdate() + datetime.timedelta(days=2)
    plan = reverse("field:unit", args=[unit.pk])
    bad = client.post(plan, {"kind": "plan", "day_0": "2026-13-01", "target_0": f"h:{home.pk}"}, follow=True)
    assert "第 1 行：计划日期应为 YYYY-MM-DD" in bad.content.decode()
    client.post(
        plan,
        {
            "kind": "plan",
            "day_0": day.isoformat(),
            "target_0": f"h:{home.pk}",
            "day_1": (day + datetime.timedelta(days=1)).isoformat(),
            "target_1": f"s:{station.pk}",
            "day_2": (day + datetime.timedelta(days=2)).isoformat(),
            "place_2": "夏营地",
        },
    )
    stops = list(unit.stops.order_by("order"))
    assert [(s.household, s.station, s.place) for s in stops] == [
        (home, None, ""),
        (None, station, ""),
        (None, None, "夏营地"),
    ]
    assert "测试蒙古包驿站" in client.get(plan).content.decode()

    # A leader sees the page but cannot set up units.
    leader = verified_client(who("demo-leader"))
    assert 'id="unit-new"' not in leader.get(units).content.decode()
    leader.post(units, {**form, "name": "乌日特三队", "households": home.code})
    assert not selectors.units_visible(director).filter(name="乌日特三队").exists()
