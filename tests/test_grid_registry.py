"""Households and residents in the grid: registering, encryption at rest, claiming, conflicts, seasons.

Gao (demo-gridworker) works grid A; Jiang is the worker of a neighbouring grid B of the same
village; the Xilinhot director decides claim conflicts.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from tests.conftest import XILINHOT, verified_client
from zongzhi.access import Scope
from zongzhi.accounts.models import User
from zongzhi.grid import seasons, selectors, services
from zongzhi.grid.models import ClaimConflict, GridWorker, Household, Resident
from zongzhi.identity import make_resident_id
from zongzhi.regions.models import Region
from zongzhi.stats import platform_stats


@pytest.fixture
def gao(db) -> User:  # type: ignore[no-untyped-def]
    return User.objects.get(username="demo-gridworker")


@pytest.fixture
def grid_a(gao: User) -> Region:
    return gao.grid_worker.grid


@pytest.fixture
def grid_b(grid_a: Region) -> Region:
    other = Region.objects.filter(parent=grid_a.parent).exclude(pk=grid_a.pk).first()
    assert other is not None, "the demo village of the grid worker has a second grid"
    return other


def village_of(grid: Region) -> Region:
    assert grid.parent is not None
    return grid.parent


def worker_of(grid: Region) -> GridWorker:
    worker = GridWorker.objects.filter(grid=grid).order_by("code").first()
    assert worker is not None
    return worker


def new_household(actor: User, grid: Region, **kw) -> Household:  # type: ignore[no-untyped-def]
    assert grid.parent is not None
    return services.household_register(actor=actor, village=grid.parent, grid=grid, address="团结路 3 号", **kw)


def add_person(actor: User, household: Household, seq: int, name: str = "巴特尔") -> Resident:
    return services.resident_add(
        actor=actor,
        household=household,
        name=name,
        relation="head",
        ethnicity="蒙古族",
        language="mn",
        id_number=make_resident_id("152502", datetime.date(1980, 1, 2), seq),
        phone="13904790000",
    )


def test_ids_and_phones_are_encrypted_at_rest_and_found_by_exact_id(gao: User, grid_a: Region) -> None:
    household = new_household(gao, grid_a)
    person = add_person(gao, household, 11)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM grid_resident WHERE id = %s", [person.pk])
        raw_id, raw_phone = cursor.fetchone()
    assert person.id_number not in raw_id and "13904790000" not in raw_phone
    assert person.id_number[6:14] not in raw_id
    scope = Scope(prefixes=(grid_a.prefix,))
    assert selectors.resident_search(scope, person.id_number) == [person]
    assert person in selectors.resident_search(scope, "巴特")  # a two-character name
    assert selectors.resident_search(Scope(prefixes=("152531",)), person.id_number) == []


def test_name_search_is_a_prefix_up_to_two_characters_and_a_substring_beyond(gao: User, grid_a: Region) -> None:
    names = ["巴特尔", "阿巴特尔", "巴特尔巴特尔", "王巴特", "巴特尔", "乌力吉"]
    people = [add_person(gao, new_household(gao, grid_a), 40 + n, name) for n, name in enumerate(names)]
    scope = Scope(prefixes=(grid_a.prefix,))
    visible = sorted(selectors.residents_visible(scope), key=lambda r: (r.name, r.pk))  # code-point order

    full = [r for r in visible if "巴特尔" in r.name]
    assert selectors.resident_search(scope, "巴特尔") == full
    assert {r.name for r in full} >= {"巴特尔", "阿巴特尔", "巴特尔巴特尔"} and "王巴特" not in {r.name for r in full}
    assert full.index(people[2]) < full.index(people[1])  # 巴 (U+5DF4) before 阿 (U+963F)
    assert len([r for r in full if r == people[2]]) == 1  # holding the name twice, listed once
    assert selectors.resident_search(scope, "巴特尔", limit=2) == full[:2]

    two = [r for r in visible if r.name.startswith("巴特")]
    assert selectors.resident_search(scope, "巴特") == two and people[3] not in two and people[1] not in two
    assert selectors.resident_search(scope, "力吉") == [r for r in visible if r.name.startswith("力吉")]
    assert selectors.resident_search(Scope(prefixes=("152531",)), "巴特尔") == []  # another county's scope


def test_bad_input_is_refused_with_field_messages(gao: User, grid_a: Region, grid_b: Region) -> None:
    household = new_household(gao, grid_a)
    with pytest.raises(ValidationError) as error:
        services.resident_add(
            actor=gao,
            household=household,
            name="",
            relation="x",
            ethnicity="",
            language="fr",
            id_number=make_resident_id("152502", datetime.date(1980, 1, 2), 9)[:17] + "X"
            if not make_resident_id("152502", datetime.date(1980, 1, 2), 9).endswith("X")
            else make_resident_id("152502", datetime.date(1980, 1, 2), 9)[:17] + "0",
            phone="123",
        )
    fields = error.value.message_dict
    assert {"name", "relation", "ethnicity", "language", "id_number", "phone"} <= set(fields)
    assert "校验位" in fields["id_number"][0]
    with pytest.raises(ValidationError) as error:
        new_household(gao, grid_b)
    assert "不在您的负责范围内" in error.value.message_dict["grid"][0]
    assert Resident.objects.filter(household=household).count() == 0


def test_one_person_cannot_be_in_two_households(gao: User, grid_a: Region) -> None:
    first, second = new_household(gao, grid_a), new_household(gao, grid_a)
    add_person(gao, first, 12)
    with pytest.raises(ValidationError) as error:
        add_person(gao, second, 12, name="同一人")
    assert first.code in error.value.message_dict["id_number"][0]


def test_claiming_and_the_conflict_the_village_resolves(gao: User, grid_a: Region, grid_b: Region) -> None:
    household = new_household(gao, grid_a)
    add_person(gao, household, 13)
    claimed = services.household_claim(actor=gao, household=household)
    assert isinstance(claimed, Household) and claimed.claimed_by == gao.grid_worker
    # The household moves to grid B while still claimed by A (its people with it, as every move of the
    # registry's writers does): B's worker claiming it is a conflict.
    Household.objects.filter(pk=household.pk).update(grid=grid_b, region_code=grid_b.code)
    Resident.objects.filter(household=household).update(region_code=grid_b.code)
    household.refresh_from_db()
    jiang = worker_of(grid_b)
    if jiang.user is None:
        jiang.user = User.objects.create(username="jiang-test")
        jiang.save(update_fields=["user"])
    conflict = services.household_claim(actor=jiang.user, household=household)
    assert isinstance(conflict, ClaimConflict) and conflict.status == "open"
    with pytest.raises(PermissionDenied):
        services.claim_conflict_resolve(actor=gao, conflict=conflict, winner=jiang)
    services.claim_conflict_resolve(actor=User.objects.get(username="demo-director"), conflict=conflict, winner=jiang)
    household.refresh_from_db()
    assert household.claimed_by == jiang and household.grid == grid_b
    assert Resident.objects.get(household=household).region_code == grid_b.code


def test_a_worker_cannot_claim_another_grids_household(gao: User, grid_a: Region, grid_b: Region) -> None:
    household = Household.objects.create(
        code="HTEST-B", village=village_of(grid_b), grid=grid_b, region_code=grid_b.code
    )
    with pytest.raises(ValidationError):
        services.household_claim(actor=gao, household=household)


def test_the_responsible_grid_follows_the_season(gao: User, grid_a: Region, grid_b: Region) -> None:
    household = new_household(gao, grid_a, herder=True, summer_grid=grid_b, winter_grid=grid_a)
    add_person(gao, household, 14)
    services.household_claim(actor=gao, household=household)
    assert seasons.seasonal_switch(day=datetime.date(2027, 7, 1), counties=[XILINHOT])[XILINHOT] >= 1
    household.refresh_from_db()
    assert household.grid == grid_b and household.claimed_grid == grid_b  # never unclaimed in between
    assert household.claimed_by is not None and household.claimed_by.grid == grid_b
    assert seasons.seasonal_switch(day=datetime.date(2027, 7, 2), counties=[XILINHOT]) == {XILINHOT: 0}
    seasons.seasonal_switch(day=datetime.date(2028, 1, 15))
    household.refresh_from_db()
    assert household.grid == grid_a and household.claimed_grid == grid_a


def test_claim_rate_is_reported(gao: User, grid_a: Region) -> None:
    claimed_home, other_home = new_household(gao, grid_a), new_household(gao, grid_a)
    add_person(gao, claimed_home, 15)
    add_person(gao, claimed_home, 16)
    add_person(gao, other_home, 17)
    services.household_claim(actor=gao, household=claimed_home)
    stats = platform_stats(Scope(prefixes=(grid_a.prefix,)))
    assert (stats["claimed_residents"], stats["residents"]) == (2, 3)
    assert stats["claim_rate"] == round(2 / 3, 4)


def test_pages_mask_ids_and_a_worker_sees_only_their_grid(gao: User, grid_a: Region, grid_b: Region) -> None:
    household = new_household(gao, grid_a)
    person = add_person(gao, household, 18)
    client = verified_client(gao)
    page = client.get(f"/staff/grid/households/{household.code}/").content.decode()
    assert person.id_number not in page and person.id_number[:6] + "********" + person.id_number[-4:] in page
    assert "139****0000" in page
    other = Household.objects.create(code="HTEST-B2", village=village_of(grid_b), grid=grid_b, region_code=grid_b.code)
    assert client.get(f"/staff/grid/households/{other.code}/").status_code == 404
    found = client.post("/staff/grid/", {"q": person.id_number}).content.decode()
    assert household.code in found and person.id_number not in found
    assert client.get(f"/staff/grid/claims/{grid_a.code}/").status_code == 200
    assert client.get(f"/staff/grid/claims/{grid_b.code}/").status_code == 404


def test_unmasking_is_permitted_logged_and_the_api_masks(gao: User, grid_a: Region) -> None:
    from zongzhi.audit.models import AuditEntry

    household = new_household(gao, grid_a)
    person = add_person(gao, household, 19)
    client = verified_client(gao)
    api = client.post("/api/v1/residents/lookup", {"name": "巴特"}, content_type="application/json").json()["results"]
    assert (
        [r["name"] for r in api] == ["巴特尔"]
        and api[0]["id_number"].count("*") == 8
        and api[0]["phone"] == "139****0000"
    )
    refused = client.post(f"/staff/grid/residents/{person.pk}/unmask/", {"reason": ""}, follow=True).content.decode()
    assert person.id_number not in refused and "须说明用途" in refused
    shown = client.post(
        f"/staff/grid/residents/{person.pk}/unmask/", {"reason": "办理低保"}, follow=True
    ).content.decode()
    assert person.id_number in shown
    entry = AuditEntry.objects.filter(action="unmask", target=f"resident:{person.pk}").get()
    assert entry.actor_name == "demo-gridworker" and entry.detail["reason"] == "办理低保"
    leader = verified_client(User.objects.get(username="demo-leader"))
    assert (
        person.id_number
        not in leader.post(f"/staff/grid/residents/{person.pk}/unmask/", {"reason": "看"}, follow=True).content.decode()
    )
