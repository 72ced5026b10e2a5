"""What a dashboard shows for one region, read from the tallies (never from the case table).

A region outside the actor's scope answers 404 like a missing one (`region_get`); the tallies read
are limited to the scope as well. A fixed number of small grouped queries per dashboard, whatever
the number of cases: each reads the rows of one node (or of its children) only.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi.access import Scope
from zongzhi.cases.models import OPEN_STATES, Case, Category, State
from zongzhi.centers.models import Org
from zongzhi.dashboards.models import MEASURES, ORG_MEASURES, DayTally, OrgTally, Tally
from zongzhi.grid.selectors import RegistryFigures, registry_by_child
from zongzhi.regions.models import Region
from zongzhi.regions.selectors import regions_visible

TREND_MONTHS = 24
TREND_DAYS = 30
HEADLINE = ("cases", "closed", "overdue", "supervised", "supervisions_open", "major", "foreign_related", "agreements")


def tallies_visible(scope: Scope) -> QuerySet[Tally]:
    return Tally.objects.filter(scope.q("node"))


def _sums(rows: QuerySet[Tally], names: tuple[str, ...]) -> dict[str, Sum]:
    return {name: Sum(name) for name in names}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value or 0


def _rates(totals: dict[str, Any]) -> dict[str, Any]:
    """The ratios leaders read: resolution, satisfaction, days to close, share recovered."""
    finished = totals["closed"]
    concluded = totals["settled"] + totals["failed"]
    rated = totals["satisfied"] + totals["basically"] + totals["dissatisfied"]
    agreed = totals["amount_agreed"]
    return {
        "resolution_rate": round(100 * totals["settled"] / concluded, 1) if concluded else None,
        "satisfaction_rate": round(100 * (totals["satisfied"] + totals["basically"]) / rated, 1) if rated else None,
        "days_to_close": round(totals["close_days"] / finished, 1) if finished else None,
        "recovered_rate": round(100 * totals["amount_recovered"] / agreed, 1) if agreed else None,
    }


def dashboard(scope: Scope, region: Region, *, since: datetime.date | None = None) -> dict[str, Any]:
    """Every figure of the dashboard of `region` (already fetched through `region_get`)."""
    rows = tallies_visible(scope).filter(node=region.code)
    if since is not None:
        rows = rows.filter(month__gte=since.replace(day=1))
    totals = {k: _plain(v) for k, v in rows.aggregate(**_sums(rows, MEASURES)).items()}
    by_state = {r["state"]: r["n"] for r in rows.values("state").annotate(n=Sum("cases")).order_by()}
    totals["open"] = sum(by_state.get(s, 0) for s in OPEN_STATES)
    categories = _by_category(rows)
    registry = registry_by_child(scope, region)
    children = children_figures(scope, region, since=since, registry=registry)
    own = sum(registry.values(), RegistryFigures())
    population = region.population or own.living
    totals["population"] = population
    rates = _rates(totals)
    rates["per_thousand"] = round(1000 * totals["cases"] / population, 2) if population else None
    rates["claim_rate"] = own.claim_rate
    return {
        "region": _region(region),
        "totals": totals,
        "rates": rates,
        "by_state": [
            {"key": s, "name": str(State(s).label), "value": by_state[s]} for s in State.values if by_state.get(s)
        ],
        "by_category": categories,
        "by_domain": _by_domain(categories),
        "by_channel": [
            {"key": c, "name": str(Case.Channel(c).label), "value": totals[f"ch_{c}"]} for c in Case.Channel.values
        ],
        "by_risk": [
            {"key": r, "name": str(Case.Risk(r).label), "value": totals[f"risk_{r}"]} for r in Case.Risk.values
        ],
        "by_level": [
            {"key": level, "name": label, "value": totals[f"at_{level}"]}
            for level, label in (
                ("league", _("盟级")),
                ("county", _("旗县级")),
                ("township", _("苏木乡镇级")),
                ("village", _("嘎查村")),
            )
        ],
        "satisfaction": [
            {"key": k, "name": label, "value": totals[k]}
            for k, label in (("satisfied", _("满意")), ("basically", _("基本满意")), ("dissatisfied", _("不满意")))
        ],
        "monthly": _monthly(scope, region),
        "daily": _daily(scope, region),
        "children": children,
        "brand_rooms": brand_rooms(scope, region, since=since),
    }


def _region(region: Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "level": region.level, "level_name": region.get_level_display()}


def _by_category(rows: QuerySet[Tally]) -> list[dict[str, Any]]:
    found = rows.values("category_id").annotate(
        n=Sum("cases"), agreements=Sum("agreements"), amount=Sum("amount_agreed")
    )
    names = {
        c.pk: c for c in Category.objects.select_related("domain").filter(pk__in=[r["category_id"] for r in found])
    }
    result = []
    for row in found.order_by():
        category = names.get(row["category_id"])
        domain = category.domain if category else None
        result.append(
            {
                "key": row["category_id"],
                "name": category.name if category else "—",
                "value": row["n"],
                "agreements": row["agreements"],
                "amount": _plain(row["amount"]),
                "domain": domain.name if domain else "",
                "herder": bool(domain and domain.herder_area),
            }
        )
    return sorted(result, key=lambda r: -r["value"])


def _by_domain(categories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The herder-area dispute domains (草牧场、劳动社保、牧区征地、拆迁、婚姻家事 …)."""
    domains: dict[str, int] = {}
    for row in categories:
        if row["herder"]:
            domains[row["domain"]] = domains.get(row["domain"], 0) + row["value"]
    return [{"name": name, "value": value} for name, value in sorted(domains.items(), key=lambda i: -i[1])]


def _monthly(scope: Scope, region: Region) -> list[dict[str, Any]]:
    today = timezone.localdate()
    start = (today.replace(day=1) - datetime.timedelta(days=31 * (TREND_MONTHS - 1))).replace(day=1)
    rows = (
        tallies_visible(scope)
        .filter(node=region.code, month__gte=start)
        .values("month")
        .annotate(cases=Sum("cases"), closed=Sum("closed"), overdue=Sum("overdue"))
        .order_by("month")
    )
    return [{"month": f"{r['month']:%Y-%m}", "cases": r["cases"], "closed": r["closed"]} for r in rows]


def _daily(scope: Scope, region: Region) -> list[dict[str, Any]]:
    today = timezone.localdate()
    start = today - datetime.timedelta(days=TREND_DAYS - 1)
    found = {
        r.day: r
        for r in DayTally.objects.filter(scope.q("node")).filter(node=region.code, day__gte=start, day__lte=today)
    }
    result = []
    for n in range(TREND_DAYS):
        day = start + datetime.timedelta(days=n)
        row = found.get(day)
        result.append(
            {"day": f"{day:%m-%d}", "registered": row.registered if row else 0, "closed": row.closed if row else 0}
        )
    return result


CHILD_FIGURES = ("cases", "closed", "overdue", "supervised", "agreements", "amount_agreed", "amount_recovered")


def children_figures(
    scope: Scope,
    region: Region,
    *,
    since: datetime.date | None = None,
    registry: dict[str, RegistryFigures] | None = None,
) -> list[dict[str, Any]]:
    """The main figures of each visible child region (for the drill-down table, chart and map).

    每千人纠纷 divides by the child's recorded population (the reference facts of counties and the
    league) or else by the people the registry has living there (实有人口); 认领率 is claimed
    registered residents over registered residents, from the grid registry. Both are None (shown
    as —) where there is nothing to divide by.
    """
    if registry is None:
        registry = registry_by_child(scope, region)
    rows = tallies_visible(scope).filter(parent=region.code)
    if since is not None:
        rows = rows.filter(month__gte=since.replace(day=1))
    open_cases = Sum("cases", filter=Q(state__in=OPEN_STATES))
    grouped = rows.values("node").annotate(open_cases=open_cases, **_sums(rows, CHILD_FIGURES)).order_by()
    sums = {r["node"]: r for r in grouped}
    result = []
    for child in regions_visible(scope).filter(parent=region).order_by("code"):
        figures = sums.get(child.code, {})
        people = registry.get(child.prefix, RegistryFigures())
        population = child.population or people.living
        entry: dict[str, Any] = {**_region(child), "population": population}
        entry.update({name: _plain(figures.get(name)) for name in CHILD_FIGURES})
        entry["open"] = figures.get("open_cases") or 0
        entry["per_thousand"] = round(1000 * entry["cases"] / population, 2) if population else None
        entry["claim_rate"] = people.claim_rate
        result.append(entry)
    return result


def brand_rooms(scope: Scope, region: Region, *, since: datetime.date | None = None) -> list[dict[str, Any]]:
    """The brand mediation rooms (个人品牌调解室) of the region: cases led, written agreements, amounts."""
    inside = Scope(prefixes=(region.prefix,))
    rooms = {o.pk: o for o in Org.objects.filter(scope.q(), inside.q(), kind=Org.Kind.BRAND_ROOM)}
    rows = OrgTally.objects.filter(scope.q(), org_id__in=list(rooms))
    if since is not None:
        rows = rows.filter(month__gte=since.replace(day=1))
    sums = {r["org_id"]: r for r in rows.values("org_id").annotate(**{m: Sum(m) for m in ORG_MEASURES}).order_by()}
    result = []
    for pk, room in rooms.items():
        figures = sums.get(pk, {})
        entry: dict[str, Any] = {"name": room.name, "mediator": room.mediator_name}
        entry.update({m: _plain(figures.get(m)) for m in ORG_MEASURES})
        result.append(entry)
    return sorted(result, key=lambda r: (-r["cases"], r["name"]))
