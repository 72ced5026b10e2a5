"""The living demo (`seed_demo --living`, what `make run` seeds): Xilinhot's residents claimed by their
grid workers, its 乌日特 with circuits and logged stops, yurt stations with the sessions held there,
open days on the portal, and demo logins for the township centers and a village station.

Written through the services (`zongzhi.demo.field`); seeding again adds nothing. Each test seeds an
evenly spread sample of Xilinhot's grids inside its rolled-back transaction, on the test database
(SQLite or PostgreSQL); the fresh-database run of the commands is in test_seed.py.
"""

import pytest
from django.utils import timezone

from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.cases.models import OPEN_STATES, Case
from zongzhi.centers.models import Center
from zongzhi.demo.field import seed_field
from zongzhi.demo.residents import seed_residents
from zongzhi.field.models import FieldItem, MobileUnit, MobileVisit, Station
from zongzhi.field.selectors import station_sessions
from zongzhi.grid.models import Household
from zongzhi.grid.selectors import claim_rate
from zongzhi.portal.selectors import open_days

SAMPLE_GRIDS = 24  # includes herder grids of both 乌日特 townships


@pytest.fixture
def living(db):  # type: ignore[no-untyped-def]
    seed_residents(scale="small", seed_value=2025, limit_grids=SAMPLE_GRIDS)
    return seed_field(seed_value=2025)


def test_residents_are_claimed_so_claim_rates_are_not_zero(living, persona) -> None:  # type: ignore[no-untyped-def]
    claimed, registered = claim_rate(access.scope_of(persona("director")))
    assert registered > 5_000 and 0.8 < claimed / registered < 0.97


def test_two_mobile_units_with_circuits_and_logged_stops(living, persona) -> None:  # type: ignore[no-untyped-def]
    assert living.mobile_units == 2 and living.mobile_visits == 16
    today = timezone.localdate()
    for unit in MobileUnit.objects.filter(region_code="152502000000"):
        households = list(unit.households.all())
        assert 20 <= len(households) <= 30 and all(h.herder for h in households)
        assert unit.orgs.exists() and unit.members.filter(username="demo-liaison").exists()
        stops = list(unit.stops.order_by("order"))
        assert [s.planned_on for s in stops] == sorted(s.planned_on for s in stops)
        logged = [s for s in stops if s.visits.exists()]
        assert len(logged) == 8 and all(s.planned_on <= today for s in logged)
        assert len([s for s in stops if s.planned_on > today]) >= 3
        assert any(s.station_id for s in stops) and any(s.household_id for s in stops)
        for visit in MobileVisit.objects.filter(unit=unit):
            assert visit.services.count() >= 2 and visit.people_served > 0 and visit.notes
    assert FieldItem.objects.filter(mobile_visit__unit__region_code="152502000000").count() == 4
    village = persona("village")
    assert MobileUnit.objects.filter(members=village).count() == 1


def test_stations_show_the_sessions_held_there(living, persona) -> None:  # type: ignore[no-untyped-def]
    director = persona("director")
    stations = list(Station.objects.filter(region_code__startswith="152502"))
    assert living.stations == len(stations) >= 3
    assert all(s.village.kind == "gacha" for s in stations)
    # the sample seeds some grids only: a station serves households wherever its village has some
    seeded = set(Household.objects.values_list("village_id", flat=True))
    assert all(s.households.exists() == (s.village_id in seeded) for s in stations)
    assert sum(s.village_id in seeded for s in stations) >= 2
    with_sessions = [s for s in stations if station_sessions(director, s).exists()]
    assert len(with_sessions) >= len(stations) - 2  # all but the two put on a 乌日特 circuit


def test_open_days_are_published_for_the_portal(living) -> None:  # type: ignore[no-untyped-def]
    days = list(open_days())
    assert living.open_days == len(days) == 12
    assert {d.center.code for d in days} == {"ZZ-152502", "ZZ-1525", "ZZ-152502001"}
    assert all(d.day > timezone.localdate() and d.day.weekday() == 2 and d.places_left == 30 for d in days)


def test_seeding_again_adds_nothing(living) -> None:  # type: ignore[no-untyped-def]
    counts = [m.objects.count() for m in (Household, Station, MobileUnit, MobileVisit, FieldItem)]
    assert seed_residents(scale="small", seed_value=2025, limit_grids=SAMPLE_GRIDS) == 0
    again = seed_field(seed_value=2025)
    assert vars(again) == {"stations": 0, "mobile_units": 0, "mobile_visits": 0, "open_days": 0}
    assert [m.objects.count() for m in (Household, Station, MobileUnit, MobileVisit, FieldItem)] == counts


def test_every_case_at_a_township_center_has_a_demo_login_to_handle_it(persona) -> None:  # type: ignore[no-untyped-def]
    township = persona("township")
    cases = Case.objects.filter(
        center__level=Center.Level.TOWNSHIP, region_code__startswith="152502", state__in=OPEN_STATES
    )
    assert cases.count() > 10
    stuck = [c.number for c in cases if not access.allowed_actions(township, c)]
    assert stuck == []
    centers = set(Center.objects.filter(level=Center.Level.TOWNSHIP, region_code__startswith="152502"))
    assert {m.center for m in township.memberships.all()} == centers


def test_the_village_login_directs_a_gacha_station(persona) -> None:  # type: ignore[no-untyped-def]
    village: User = persona("village")
    (membership,) = village.memberships.all()
    assert membership.role == "center_director" and membership.center is not None
    assert membership.center.level == Center.Level.VILLAGE and membership.center.region.kind == "gacha"
    assert access.scope_of(village).covers(membership.center.region_code)
    assert not access.scope_of(village).covers("152502001000")
