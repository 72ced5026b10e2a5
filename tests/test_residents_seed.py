"""The demo's residents: IDs encrypted at rest and found by their blind index, valid and unique, nine in
ten claimed, herders in the grid of the season; seeding twice adds nothing and gives the same people.

Each test seeds an evenly spread sample of Xilinhot's grids (`limit_grids`) inside its own rolled-back
transaction; the whole county (about 260,000 people) is left to `seed_demo --residents` and `make bench`.
"""

import re
from collections import Counter, defaultdict

import pytest
from django.db import connection
from django.db.models import Count, F
from django.utils import timezone

from zongzhi.audit.models import AuditEntry
from zongzhi.crypto import decrypt
from zongzhi.demo import residents
from zongzhi.demo.plan import build_plan, load_reference
from zongzhi.demo.residents import plan_grids, seed_residents
from zongzhi.grid.models import Household, Resident
from zongzhi.grid.services import phone_index, resident_id_index
from zongzhi.identity import resident_id_errors

SAMPLE_GRIDS = 24
PLAINTEXT_ID = re.compile(r"\d{17}[\dX]")


@pytest.fixture
def seeded(db) -> int:  # type: ignore[no-untyped-def]
    return seed_residents(scale="small", seed_value=2025, limit_grids=SAMPLE_GRIDS)


def people() -> dict[str, list[tuple[str, ...]]]:
    found: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for r in Resident.objects.select_related("household").order_by("household__code", "id_index"):
        found[r.household.code].append((r.name, r.relation, r.ethnicity, r.language, r.id_number, r.phone))
    return dict(found)


def test_the_sample_is_thousands_of_people_in_xilinhot(seeded: int) -> None:
    assert 5_000 < seeded == Resident.objects.count() < 12_000
    assert {code[:6] for code in Resident.objects.values_list("region_code", flat=True)} == {"152502"}
    assert Household.objects.values("region_code").distinct().count() >= SAMPLE_GRIDS


def test_ids_and_phones_are_encrypted_at_rest(seeded: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM grid_resident")
        raw = cursor.fetchall()
    assert raw and not any(PLAINTEXT_ID.search(id_number) for id_number, _phone in raw)
    assert not any(re.search(r"1\d{10}", phone) for _id, phone in raw)
    resident = Resident.objects.order_by("id").first()
    assert resident is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM grid_resident WHERE id = %s", [resident.pk])
        (token,) = cursor.fetchone()
    assert resident.id_number not in token
    assert decrypt(token) == resident.id_number


def test_a_resident_is_found_by_the_blind_index_of_their_id_and_phone(seeded: int) -> None:
    resident = Resident.objects.exclude(phone_index="").order_by("-id").first()
    assert resident is not None
    spaced = f"{resident.id_number[:6]} {resident.id_number[6:14]} {resident.id_number[14:].lower()}"
    assert Resident.objects.get(id_index=resident_id_index(spaced)) == resident
    assert resident in Resident.objects.filter(phone_index=phone_index(resident.phone))


def test_ids_are_valid_unique_and_of_the_county(seeded: int) -> None:
    numbers = [r.id_number for r in Resident.objects.all()]
    assert len(set(numbers)) == len(numbers) == seeded
    assert [n for n in numbers if resident_id_errors(n)] == []
    assert {n[:6] for n in numbers} == {"152502"}
    phones = [p for p in (r.phone for r in Resident.objects.all()) if p]
    assert phones and all(re.fullmatch(r"1\d{10}", p) for p in phones)


def test_nine_in_ten_registered_residents_are_claimed_by_a_worker_of_their_grid(seeded: int) -> None:
    registered = Resident.objects.filter(registered=True)
    rate = registered.filter(household__claimed_by__isnull=False).count() / registered.count()
    assert 0.85 <= rate <= 0.95
    for h in Household.objects.select_related("claimed_by"):
        if h.claimed_by is None:
            assert h.claimed_grid_id is None and h.claimed_at is None
        else:
            assert h.claimed_by.grid_id == h.claimed_grid_id == h.grid_id
            assert h.claimed_at is not None and h.claimed_at < timezone.now()


def test_households_have_heads_block_heads_and_sizes_of_town_and_pasture(seeded: int) -> None:
    heads = Counter(Resident.objects.filter(relation="head").values_list("household_id", flat=True))
    assert set(heads.values()) == {1} and len(heads) == Household.objects.count()
    sizes: dict[bool, list[int]] = defaultdict(list)
    for h in Household.objects.select_related("block_head", "village").annotate(size=Count("residents")):
        sizes[h.herder].append(h.size)
        assert h.block_head is not None and h.block_head.region_code == h.code[1:16]
        assert h.code.startswith(f"H{h.village.code}")
    assert 3.4 < sum(sizes[True]) / len(sizes[True]) < 4.2
    assert 2.9 < sum(sizes[False]) / len(sizes[False]) < 3.5
    languages = Counter(Resident.objects.values_list("ethnicity", "language"))
    assert languages[("蒙古族", "mn")] > languages[("蒙古族", "zh")]
    assert not any(language == "mn" for (ethnicity, language) in languages if ethnicity != "蒙古族")
    flags = Counter(Resident.objects.values_list("registered", "living"))
    assert flags[(True, True)] > 0.8 * seeded and flags[(True, False)] and flags[(False, True)]


def test_herders_are_in_the_grid_of_the_season(seeded: int) -> None:
    summer = timezone.localdate().month in range(5, 11)
    herders = Household.objects.filter(herder=True).select_related("village", "summer_grid", "winter_grid")
    assert herders.exists() and not herders.filter(village__kind__in=["community", "village"]).exists()
    moving = 0
    for h in herders:
        assert h.summer_grid is not None and h.winter_grid is not None
        for grid in (h.summer_grid, h.winter_grid):
            assert grid.level == "grid" and grid.parent_id == h.village_id
        assert h.winter_grid.code == h.code[1:16]  # the winter camp is in the home grid
        assert h.grid_id == (h.summer_grid_id if summer else h.winter_grid_id)
        assert h.region_code == (h.summer_grid if summer else h.winter_grid).code
        moving += h.summer_grid_id != h.winter_grid_id
    assert moving > 0.8 * herders.count()  # almost every gacha has two grids or more
    others = Household.objects.filter(herder=False)
    assert not others.filter(summer_grid__isnull=False).exists()
    assert not Resident.objects.exclude(region_code=F("household__region_code")).exists()


def test_the_league_plan_follows_the_reference_populations() -> None:
    plan = build_plan(2025)
    grids = plan_grids(plan, 2025)
    assert len(grids) == 3555
    people = sum(g.households * (3.78 if g.kind == "gacha" else 3.2) for g in grids)
    total = sum(c["population_10k"] for c in load_reference()["counties"]) * 10_000
    assert abs(people - total) / total < 0.01
    xilinhot = [g for g in grids if g.code.startswith("152502")]
    assert [g.code for g in xilinhot] == [g.code for g in plan_grids(plan, 2025, "152502")]


def test_a_second_run_adds_nothing_and_a_rerun_gives_the_same_people(seeded: int) -> None:
    assert AuditEntry.objects.filter(target="demo:residents:small").exists()
    before = people()
    assert seed_residents(scale="small", seed_value=2025, limit_grids=SAMPLE_GRIDS) == 0

    # An interrupted run resumes: a household missing is written again, alone, as it was.
    gone = Household.objects.order_by("code").last()
    assert gone is not None
    n = gone.residents.count()
    gone.delete()
    assert seed_residents(scale="small", seed_value=2025, limit_grids=SAMPLE_GRIDS) == n
    assert people() == before

    Household.objects.all().delete()
    assert seed_residents(scale="small", seed_value=2025, limit_grids=SAMPLE_GRIDS) == seeded
    assert people() == before
    Household.objects.all().delete()
    seed_residents(scale="small", seed_value=7, plan=build_plan(2025), limit_grids=SAMPLE_GRIDS)
    assert people() != before


def test_a_worker_process_plans_the_same_people(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Large runs plan in a second process, a batch ahead of the writes: the rows are the ones planned inline."""
    assert seed_residents(scale="small", seed_value=2025, limit_grids=8) > 0
    inline = people()
    Household.objects.all().delete()
    monkeypatch.setattr(residents, "BATCH_GRIDS", 1)  # 8 batches: past PARALLEL_FROM, so through the worker
    assert seed_residents(scale="small", seed_value=2025, limit_grids=8) > 0
    assert people() == inline
