"""Planning one county's cases: how many, which kinds, where, when and how far each gets."""

import datetime
import itertools
import random
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from zongzhi.cases.models import (
    Case,
    Party,
)
from zongzhi.cases.risk import suggest_risk
from zongzhi.demo import places
from zongzhi.demo.plan import PRegion
from zongzhi.identity import USCC_ALPHABET, make_resident_id, uscc_check_char

from .texts import (
    COMPANY_WORDS,
    FOREIGN_NAMES,
    GOODS,
    HISTORY_DAYS,
    INDUSTRIES,
    KINDS,
    LIVE_DAYS,
    OPEN,
    OTHER_ID_REGIONS,
    PHONE_PREFIXES,
    PROFILES,
    PROJECTS,
    S,
    _original_number,
)
from .world import _at, _Case, _local, _Party, _World

# ---- planning one county's cases ----------------------------------------------------------------


def _weighted(rng: random.Random, options: Mapping[Any, float]) -> Any:
    keys = list(options)
    return rng.choices(keys, weights=[options[k] for k in keys])[0]


def _target_state(rng: random.Random, imported: bool, days_ago: int) -> str:
    """The state a case has reached by the end of the history, by its age."""
    if imported:
        table = {S.CLOSED: 86, S.REJECTED: 3.5, S.WITHDRAWN: 5, S.IN_PROGRESS: 2.5, S.UNRESOLVED: 1, S.RESOLVED: 1}
        table |= {S.ASSIGNED: 0.5, S.ACCEPTED: 0.5}
    elif days_ago <= 3:
        table = {S.REGISTERED: 30, S.ACCEPTED: 18, S.ASSIGNED: 17, S.IN_PROGRESS: 20, S.RESOLVED: 3, S.CLOSED: 4}
        table |= {S.REJECTED: 4, S.WITHDRAWN: 2, S.UNRESOLVED: 2}
    elif days_ago <= 14:
        table = {S.REGISTERED: 4, S.ACCEPTED: 7, S.ASSIGNED: 8, S.IN_PROGRESS: 38, S.RESOLVED: 10, S.CLOSED: 21}
        table |= {S.REJECTED: 5, S.WITHDRAWN: 3, S.UNRESOLVED: 4}
    elif days_ago <= 45:
        table = {S.REGISTERED: 1, S.ACCEPTED: 2, S.ASSIGNED: 3, S.IN_PROGRESS: 22, S.RESOLVED: 7, S.CLOSED: 54}
        table |= {S.REJECTED: 4, S.WITHDRAWN: 3, S.UNRESOLVED: 4}
    else:
        table = {S.ACCEPTED: 1, S.ASSIGNED: 1, S.IN_PROGRESS: 7, S.RESOLVED: 3, S.CLOSED: 79}
        table |= {S.REJECTED: 4, S.WITHDRAWN: 3, S.UNRESOLVED: 2}
    return str(_weighted(rng, table))


class _CountyPlanner:
    """The cases of one county: where, what, who, and which state each has reached."""

    def __init__(self, world: _World, county: dict[str, Any], anchor: datetime.date, seed_value: int):
        self.w = world
        self.c6 = county["code"][:6]
        self.county = county
        self.short = county["name"]
        for suffix in ("管理区", "市", "旗", "县"):
            self.short = self.short.removesuffix(suffix)
        self.anchor = anchor
        self.rng = random.Random(f"zongzhi-case-history:{seed_value}:{self.c6}")
        villages = world.villages[self.c6]
        factor = {"community": 1.6, "village": 1.0, "gacha": 0.7}
        self.villages = villages
        self.village_weights = list(itertools.accumulate(factor[v.kind] for v in villages))

    def person(self, pastoral: bool) -> str:
        rng = self.rng
        if rng.random() < (0.55 if pastoral else 0.25):
            return rng.choice(places.MONGOLIAN_NAMES)
        return rng.choice(places.SURNAMES) + rng.choice(places.GIVEN)

    def phone(self) -> str:
        return f"1{self.rng.choice(PHONE_PREFIXES)}{self.rng.randint(0, 99_999_999):08d}"

    def resident_id(self, registered: datetime.date, migrant: bool = False) -> str:
        rng = self.rng
        region6 = rng.choice(OTHER_ID_REGIONS) if migrant or rng.random() < 0.12 else self.c6
        age_days = rng.randint(21 * 365, 78 * 365)
        return make_resident_id(region6, registered - datetime.timedelta(days=age_days), rng.randint(0, 999))

    def uscc(self, prefix: str) -> str:
        first17 = prefix + self.c6 + "".join(self.rng.choice(USCC_ALPHABET) for _ in range(9))
        return first17 + uscc_check_char(first17)

    def organisation(self, against: str, township: PRegion) -> tuple[str, str]:
        rng = self.rng
        word = rng.choice(COMPANY_WORDS)
        if against == "employer":
            return f"{self.short}{word}{rng.choice(INDUSTRIES)}有限公司", self.uscc("91")
        if against == "property":
            return f"{self.short}{word}物业服务有限公司", self.uscc("91")
        if against == "shop":
            return f"{self.short}{word}商贸有限公司", self.uscc("91")
        if against == "hospital":
            return f"{self.county['name']}{rng.choice(['人民医院', '蒙医医院', '中医医院'])}", self.uscc("12")
        suffix = "人民政府" if township.kind in ("town", "sumu") else "办事处"
        if rng.random() < 0.5 or township.kind == "farm":
            return f"{self.county['name']}房屋征收与补偿管理办公室", self.uscc("11")
        return f"{township.name}{suffix}", self.uscc("11")

    def plan(self, imported: int, live: int, majors: list[tuple[int, str]]) -> list[_Case]:
        """The county's cases in the order registered, numbered; the first import is the oldest case."""
        rng = self.rng
        extra = [self.league_major(days_ago, target) for days_ago, target in majors]
        ages = [HISTORY_DAYS] + [rng.randint(LIVE_DAYS + 1, HISTORY_DAYS - 1) for _ in range(imported - 1)]
        ages += [min(LIVE_DAYS, max(1, round(rng.triangular(1, LIVE_DAYS, 1)))) for _ in range(live - len(extra))]
        cases = [self.case(days_ago, i < imported, probe=i == 0) for i, days_ago in enumerate(ages)]
        if live >= 30:
            self.cover_every_state([c for c in cases if c.channel != Case.Channel.IMPORT])
        cases += extra
        cases.sort(key=lambda c: c.registered_at)
        per_day: dict[datetime.date, int] = defaultdict(int)
        serial = 0
        for case in cases:
            day = _local(case.registered_at).date()
            per_day[day] += 1
            case.number = f"{self.c6}{day:%Y%m%d}{per_day[day]:04d}"
            if case.channel == Case.Channel.IMPORT:
                serial += 1
                case.original_number = _original_number(self.c6, serial)
                case.intake_data["original_number"] = case.original_number
        return cases

    def cover_every_state(self, live: list[_Case]) -> None:
        """Make sure the county shows every state: the youngest cases take the open ones."""
        present = {c.target for c in live}
        by_age = sorted(live, key=lambda c: c.registered_at, reverse=True)
        taken: set[int] = set()
        for state in S.values:
            if state in present:
                continue
            pool = by_age[:20] if state in OPEN else by_age[20:60] or by_age
            choice = next((c for c in pool if id(c) not in taken and not c.league_major), None)
            if choice is not None:
                choice.target = state
                taken.add(id(choice))

    def case(
        self,
        days_ago: int,
        imported: bool,
        probe: bool = False,
        village: PRegion | None = None,
        category: str | None = None,
    ) -> _Case:
        """One dispute: place, channel, kind, parties, text and risk, and the state it will have reached."""
        rng, w = self.rng, self.w
        village = village or rng.choices(self.villages, cum_weights=self.village_weights)[0]
        township = w.regions[village.parent or ""]
        pastoral = village.kind == "gacha"
        if imported:
            channel = str(Case.Channel.IMPORT)
        else:
            channel = _weighted(rng, {"window": 40, "grid": 30, "department": 10, "mobile": 10, "portal": 10})
            if channel == "mobile" and not pastoral:
                channel = "window"
        day = self.anchor - datetime.timedelta(days=days_ago)
        weekend = not probe and channel in ("window", "department", "import") and day.isoweekday() > 5
        if weekend and rng.random() < 0.85:  # windows are shut at weekends; most of it waits for Monday
            day = min(day + datetime.timedelta(days=8 - day.isoweekday()), self.anchor - datetime.timedelta(1))
        if channel == "portal":
            minute = rng.randint(7 * 60, 23 * 60 + 30)
        elif channel in ("grid", "mobile"):
            minute = rng.randint(8 * 60, 20 * 60)
        else:
            minute = rng.randint(8 * 60 + 30, 17 * 60 + 30)
        if day == self.anchor - datetime.timedelta(days=1):
            minute = min(minute, 19 * 60)
        registered = _at(day, datetime.time(minute // 60, minute % 60, rng.randint(0, 59)))

        if category is None and ((self.c6 == "152501" and rng.random() < 0.25) or rng.random() < 0.01):
            category = "foreign"
        category = category or _weighted(rng, PROFILES[village.kind])
        kind = KINDS[category]
        amount: Decimal | None = None
        if rng.random() < kind.amount[0]:
            low, high = kind.amount[1], kind.amount[2]
            if rng.random() < kind.large:
                low, high = low * 10, high * 10
            amount = Decimal(round(low * (high / low) ** rng.random(), -2)).quantize(Decimal("0.01"))
        people = kind.people[0] if rng.random() < 0.7 else rng.randint(*kind.people)
        if category == "labour.1" and rng.random() < 0.08:
            people = rng.randint(10, 45)
            if amount is not None:
                amount = (amount * people / 3).quantize(Decimal("100"))
        texts = [t for t in kind.texts if amount is not None or "{amount}" not in t[1]]
        if self.c6 != "152501":
            texts = [t for t in texts if "口岸" not in t[1]] or texts
        title, template = rng.choice(texts)
        if "{n}" in template:
            people = max(people, 3)

        a = self.person(pastoral)
        parties = [
            _Party(
                Party.Kind.PERSON,
                Party.Role.APPLICANT,
                a,
                self.resident_id(day, migrant=category == "labour.1" and rng.random() < 0.3),
                phone=self.phone() if rng.random() < 0.9 else "",
                address=f"{self.county['name']}{township.name}{village.name}",
            )
        ]
        if kind.against in ("person",):
            b = self.person(pastoral)
            while b == a:
                b = self.person(pastoral)
            parties.append(
                _Party(
                    Party.Kind.PERSON,
                    Party.Role.RESPONDENT,
                    b,
                    self.resident_id(day) if rng.random() < 0.8 else "",
                    phone=self.phone() if rng.random() < 0.7 else "",
                    address=f"{self.county['name']}{township.name}{village.name}" if rng.random() < 0.7 else "",
                )
            )
        elif kind.against == "foreigner":
            b = rng.choice(FOREIGN_NAMES)
            nationality = "MNG" if rng.random() < 0.85 else "RUS"
            passport = (
                f"E{rng.randint(0, 9_999_999):07d}" if nationality == "MNG" else f"7{rng.randint(0, 99_999_999):08d}"
            )
            parties.append(_Party(Party.Kind.FOREIGNER, Party.Role.RESPONDENT, b, passport, nationality))
        else:
            b, uscc = self.organisation(kind.against, township)
            parties.append(_Party(Party.Kind.ORGANISATION, Party.Role.RESPONDENT, b, uscc, phone=self.phone()))
        if people >= 3 and kind.against != "person" and rng.random() < 0.5:
            parties.insert(
                1, _Party(Party.Kind.PERSON, Party.Role.APPLICANT, self.person(pastoral), self.resident_id(day))
            )
        if category == "traffic" and rng.random() < 0.3:
            parties.append(
                _Party(
                    Party.Kind.ORGANISATION,
                    Party.Role.THIRD,
                    f"中国人民财产保险股份有限公司{self.county['name']}支公司",
                    self.uscc("91"),
                )
            )

        slots = {
            "a": a,
            "b": b,
            "place": f"{township.name}{village.name}",
            "village": village.name,
            "amount": f"{int(amount)}" if amount is not None else "",
            "m": rng.randint(5, 300),
            "mu": rng.choice([50, 80, 120, 200, 300, 500, 800, 1200, 2000]),
            "k": rng.randint(2, 14),
            "kids": rng.randint(2, 5),
            "n": people,
            "head": rng.choice([12, 20, 35, 60, 85, 120, 200]),
            "goods": rng.choice(GOODS),
            "project": rng.choice(PROJECTS),
        }
        description = template.format(**slots)
        roll = rng.random()
        if roll < 0.05:
            description += f"双方多次发生口角，{b}扬言要找人算账。"
        elif roll < 0.08:
            description += "此前双方曾发生推搡，对方动手打人。"
        elif roll < 0.085 or (category == "labour.1" and people >= 10 and rng.random() < 0.25):
            description += "部分当事人情绪激动，扬言要集体上访。"
        risk, reasons = suggest_risk(amount=amount, people_involved=people, text=f"{title}\n{description}", repeats=0)
        final, override = risk, ""
        if risk in ("blue", "yellow") and rng.random() < 0.04:
            final = {"blue": "yellow", "yellow": "orange"}[risk]
            override = rng.choice(["当事人情绪激动，存在矛盾激化可能。", "纠纷已持续较长时间，多次协商未果。"])

        t9 = township.code[:9]
        center = f"ZZ-{t9}" if rng.random() < 0.22 and f"ZZ-{t9}" in w.centers else f"ZZ-{self.c6}"
        owner = w.pick_user(rng, w.clerks[center], 0.25)
        region = village.code
        intake: dict[str, Any] = {}
        if channel == "grid" and w.grids[village.code]:
            region = rng.choice(w.grids[village.code])
            intake["reporter"] = rng.choice(w.workers[region] or ["网格员"])
        elif channel == "mobile":
            intake["unit"] = "乌日特流动综治服务队"
        elif channel == "department":
            intake["from"] = rng.choice([f"{self.county['name']}信访局", f"{self.county['name']}公安局", "12345热线"])
        elif channel == "import":
            intake["source"] = "矛盾纠纷排查化解台账"
        return _Case(
            county=self.c6,
            channel=channel,
            category=category,
            title=title,
            description=description,
            region=region,
            location=f"{township.name}{village.name}",
            lng=round(village.lng + rng.uniform(-0.03, 0.03), 5) if village.lng is not None else None,
            lat=round(village.lat + rng.uniform(-0.02, 0.02), 5) if village.lat is not None else None,
            amount=amount,
            people=people,
            foreign=category == "foreign",
            risk=final,
            risk_suggested=risk,
            risk_reasons=[str(r) for r in reasons],
            risk_override=override,
            major=final == Case.Risk.RED,
            center=center,
            owner=owner,
            registered_at=registered,
            occurred_on=day - datetime.timedelta(days=rng.randint(0, 90 if category.startswith("grassland") else 20)),
            target=_target_state(rng, imported, days_ago),
            intake_data=intake,
            parties=parties,
        )

    def league_major(self, days_ago: int, target: str) -> _Case:
        """A 重大疑难 case that went to league-level coordination."""
        if self.c6 == "152527":
            township = next(r for r in self.w.regions.values() if r.name == "红旗镇" and r.code.startswith(self.c6))
            village = self.rng.choice([v for v in self.villages if v.parent == township.code])
        else:
            village = self.rng.choice([v for v in self.villages if v.kind == "gacha"])
        labour = self.c6 == "152527"
        case = self.case(days_ago, imported=False, village=village, category="labour.1" if labour else "grassland.1")
        if labour:
            case.title = "农民工群体讨薪纠纷"
            case.people, case.amount = 46, Decimal("1368000.00")
            case.description = (
                f"{case.parties[0].name}等46名农民工在红旗镇一处安置房项目务工，项目停工后被拖欠工资共计136.8万元，"
                "部分工人扬言要到盟里集体上访。"
            )
        else:
            case.title = "两嘎查草场边界群体性纠纷"
            case.people, case.amount = 38, None
            case.description = (
                "两个嘎查38户牧民因相邻草场边界长期存在争议，今年春季围栏施工时双方聚集对峙，"
                "涉及草场约一万二千亩，已多次调处未果。"
            )
        case.channel, case.intake_data = str(Case.Channel.WINDOW), {}
        case.risk, reasons = suggest_risk(
            amount=case.amount, people_involved=case.people, text=f"{case.title}\n{case.description}", repeats=0
        )
        case.risk_suggested, case.risk_reasons, case.risk_override = case.risk, [str(r) for r in reasons], ""
        case.major, case.league_major, case.target = True, True, target
        case.center = f"ZZ-{self.c6}"
        case.owner = self.w.pick_user(self.rng, self.w.clerks[case.center], 0.5)
        return case
