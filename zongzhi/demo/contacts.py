"""The demo centers' postal addresses and duty phones, drawn from the region tree.

The reference file (`reference/xilingol.json`) names the league and its counties but no street
addresses or telephone numbers, so the demo makes plausible ones, the same on every run: the full
postal address (自治区 · 盟 · 旗县 · 苏木乡镇街道 · 嘎查村 · road and number) and a duty phone on the
league's area code 0479. They are invented for the demo and are not the real centers' contacts.
"""

import random
from typing import Any

PROVINCE = "内蒙古自治区"
AREA_CODE = "0479"
ROADS = ("团结大街", "锡林大街", "额尔敦路", "宝力根路", "那达慕大街", "民族路", "政府街", "振兴路")
COUNTY_SEAT_SUFFIX = ("街道", "镇")  # where a county-level center sits: its seat (a street or a town)


def center_contacts(regions: list[Any], centers: list[Any], league_seat: str) -> dict[str, tuple[str, str]]:
    """(address, phone) for each planned center, by code. A league or county center sits in its seat
    (the league's in `league_seat`, the first street or town of a county), a township's or a
    village's in its own region."""
    by_code = {r.code: r for r in regions}
    children: dict[str, list[Any]] = {}
    for region in regions:
        if region.parent:
            children.setdefault(region.parent, []).append(region)

    def seat(county: str) -> list[Any]:
        towns = [r for r in children.get(county, []) if r.level == "township" and r.name.endswith(COUNTY_SEAT_SUFFIX)]
        return sorted(towns, key=lambda r: r.code)[:1]

    found = {}
    for center in centers:
        region = by_code.get(center.region)
        if region is None:
            continue
        chain: list[Any] = []
        walk = region
        while walk is not None:
            chain.insert(0, walk)
            walk = by_code.get(walk.parent) if walk.parent else None
        if region.level == "league" and league_seat in by_code:
            chain += [by_code[league_seat], *seat(league_seat)]
        elif region.level == "county":
            chain += seat(region.code)
        rng = random.Random(f"contact:{center.code}")
        place = "".join(r.name for r in chain)
        number = rng.randint(1, 60) if region.level == "village" else rng.randint(1, 199)
        road = "" if region.level == "village" else rng.choice(ROADS)
        found[center.code] = (f"{PROVINCE}{place}{road}{number}号", f"{AREA_CODE}-{rng.randint(8100000, 8399999)}")
    return found
