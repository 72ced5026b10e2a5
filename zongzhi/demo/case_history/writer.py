"""Writing the planned history: bulk inserts of the cases and everything hanging off them."""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from django.db import models
from django.utils import timezone

from zongzhi.accounts.models import User
from zongzhi.bulk import insert_rows
from zongzhi.cases.models import (
    Agreement,
    Assignment,
    Case,
    CaseEvent,
    CaseNumberSequence,
    Category,
    CoordinationRequest,
    CourtReferral,
    FollowUp,
    Instalment,
    InstalmentPayment,
    MediationSession,
    Party,
    Supervision,
    SupervisionName,
)
from zongzhi.centers.models import Center, Org, Room
from zongzhi.crypto import blind_index
from zongzhi.regions.models import Region

from .texts import BATCH
from .world import (
    _Agreement,
    _Assignment,
    _Case,
    _Coordination,
    _Event,
    _FollowUp,
    _Instalment,
    _Party,
    _Referral,
    _Session,
    _Supervision,
    _World,
)


def _pk(model: Any, field: str, values: Iterable[Any]) -> dict[Any, int]:
    wanted = sorted(set(values))
    found: dict[Any, int] = {}
    for i in range(0, len(wanted), 500):
        found.update(model._default_manager.filter(**{f"{field}__in": wanted[i : i + 500]}).values_list(field, "pk"))
    return found


def _write(cases: list[_Case], world: _World) -> None:
    users = _pk(User, "username", _usernames(cases))
    centers = _pk(
        Center,
        "code",
        {c.center for c in cases}
        | {s.issuer_center for c in cases for s in c.supervisions}
        | {s.target_center for c in cases for s in c.supervisions if s.target_center},
    )
    orgs = _pk(Org, "code", _org_codes(cases))
    regions = _pk(Region, "code", (c.region for c in cases))
    categories = dict(Category.objects.values_list("code", "pk"))
    rooms = {(code, name): pk for code, name, pk in Room.objects.values_list("center__code", "name", "pk")}
    names = dict(SupervisionName.objects.values_list("kind", "name"))
    refs: dict[str, dict[Any, int]] = {field: users for field in USER_FIELDS} | {field: orgs for field in ORG_FIELDS}
    refs |= {"issuer_center": centers, "target_center": centers, "room": rooms}

    insert_rows(
        Case,
        [
            *("number", "channel", "category_id", "title", "description", "region_id", "region_code", "location"),
            *("lng", "lat", "amount", "people_involved", "foreign_related", "risk_level", "risk_suggested"),
            *("risk_reasons", "risk_override_reason", "major", "state", "version", "center_id", "escalations"),
            *("owner_id", "registered_at", "occurred_on", "due_at", "closed_at", "outcome", "outcome_note"),
            *("original_number", "awaiting_director"),
        ],
        [
            (
                *(c.number, c.channel, categories[c.category], c.title, c.description, regions[c.region], c.region),
                *(c.location, c.lng, c.lat, c.amount, c.people, c.foreign, c.risk, c.risk_suggested, c.risk_reasons),
                *(c.risk_override, c.major, c.state, c.version, centers[c.center], c.escalations, users[c.owner]),
                *(c.registered_at, c.occurred_on, c.due_at, c.closed_at, c.outcome, c.outcome_note),
                *(c.original_number, c.awaiting_director),
            )
            for c in cases
        ],
    )
    case_pk = _pk(Case, "number", (c.number for c in cases))
    event_columns = ["case_id", "region_code", "kind", "actor_id", "actor_name", "at", "from_state", "to_state"]
    events: list[tuple[Any, ...]] = []
    children: dict[type[Any], list[tuple[Any, ...]]] = defaultdict(list)
    for c in cases:
        pk, code = case_pk[c.number], c.region
        for e in c.events:
            actor = users[e.actor] if e.actor else None
            events.append(
                (pk, code, e.kind, actor, world.actor_name(e.actor), e.at, e.from_state, e.to_state)
                + (e.version, _event_data(e, names))
            )
        for planned in [
            *c.parties,
            *c.assignments,
            *c.sessions,
            *([c.agreement] if c.agreement else []),
            *c.referrals,
            *c.follow_ups,
            *c.supervisions,
            *c.coordinations,
        ]:
            values = [pk, code]
            for name, value in vars(planned).items():
                if name in refs:
                    values.append(refs[name][value] if value is not None else None)
                elif name != "instalments":
                    values.append(value() if callable(value) else value)
            if isinstance(planned, _Party):
                # The same blind index as the intake service, so repeat detection finds these parties.
                values.append(blind_index(f"{planned.kind}:{planned.id_number}") if planned.id_number else "")
            children[type(planned)].append(tuple(values))
    insert_rows(CaseEvent, [*event_columns, "version", "data"], events)
    for planned_type, rows in children.items():
        model = MODEL_OF[planned_type]
        columns = ["case_id", "region_code"]
        columns += [
            f"{f.name}_id" if f.name in refs else f.name for f in fields(planned_type) if f.name != "instalments"
        ]
        insert_rows(model, columns + (["id_index"] if model is Party else []), rows)
    agreement_pk = _pk(Agreement, "case_id", (case_pk[c.number] for c in cases if c.agreement))
    insert_rows(
        Instalment,
        ["agreement_id", "region_code", *(f.name for f in fields(_Instalment))],
        [
            (agreement_pk[case_pk[c.number]], c.region, *vars(i).values())
            for c in cases
            if c.agreement
            for i in c.agreement.instalments
        ],
    )
    # Each paid instalment's payment (the receipts history the case page lists), as the payment service keeps it.
    paid = Instalment.objects.filter(
        agreement__case_id__in=[case_pk[c.number] for c in cases if c.agreement], paid_amount__isnull=False
    ).values_list("pk", "region_code", "paid_on", "paid_amount", "receipt_number", "agreement__recorded_by_id")
    insert_rows(
        InstalmentPayment,
        ["instalment_id", "region_code", "paid_on", "amount", "receipt_number", "recorded_by_id", "recorded_at"],
        [
            (pk, code, on, amount, receipt, by, timezone.make_aware(datetime.datetime.combine(on, datetime.time(10))))
            for pk, code, on, amount, receipt, by in paid.iterator()
            if on is not None  # the seeded history pays each instalment in full, on one day
        ],
    )
    _advance_sequences(cases)


MODEL_OF: dict[type[Any], type[models.Model]] = {
    _Party: Party,
    _Assignment: Assignment,
    _Session: MediationSession,
    _Agreement: Agreement,
    _Referral: CourtReferral,
    _FollowUp: FollowUp,
    _Supervision: Supervision,
    _Coordination: CoordinationRequest,
}
USER_FIELDS = ("assigned_by", "signed_by", "recorded_by", "by", "requested_by", "issuer")
ORG_FIELDS = ("org", "court", "target_org", "from_org", "to_org")


def _event_data(event: _Event, names: dict[str, str]) -> dict[str, Any]:
    """The event's data with what was known only once every document was numbered."""
    data = dict(event.data)
    sup = data.pop("_supervision", None)
    why = data.pop("_reason", None)
    if why is not None:
        data["reason"] = why()
    if sup is None:
        return data
    if event.kind == "supervision":
        name = names.get(sup.kind) or str(Supervision.Kind(sup.kind).label)
        return {"kind": sup.kind, "name": name, "number": sup.number, **data, "reason": sup.reason()}
    return {"number": sup.number, **data}


def _advance_sequences(cases: list[_Case]) -> None:
    """Raise each county-day counter to the last number used, so live intake continues after it."""
    used: dict[tuple[str, datetime.date], int] = defaultdict(int)
    for c in cases:
        key = (c.county, datetime.date(int(c.number[6:10]), int(c.number[10:12]), int(c.number[12:14])))
        used[key] = max(used[key], int(c.number[14:]))
    days = {day for _county, day in used}
    stored = {
        (s.county, s.day): s
        for s in CaseNumberSequence.objects.filter(
            county__in={county for county, _day in used}, day__gte=min(days), day__lte=max(days)
        )
    }
    behind = [s for key, s in stored.items() if key in used and s.last < used[key]]
    for s in behind:
        s.last = used[s.county, s.day]
    CaseNumberSequence.objects.bulk_update(behind, ["last"], batch_size=BATCH)
    CaseNumberSequence.objects.bulk_create(
        [
            CaseNumberSequence(county=county, day=day, last=last)
            for (county, day), last in used.items()
            if (county, day) not in stored
        ],
        batch_size=BATCH,
    )


def _usernames(cases: list[_Case]) -> set[str]:
    names: set[str] = set()
    for c in cases:
        names.add(c.owner)
        names.update(e.actor for e in c.events if e.actor)
        names.update(a.assigned_by for a in c.assignments)
        names.update(s.recorded_by for s in c.sessions)
        names.update(f.by for f in c.follow_ups)
        names.update(q.requested_by for q in c.coordinations)
        if c.agreement:
            names.add(c.agreement.recorded_by)
    return names


def _org_codes(cases: list[_Case]) -> set[str]:
    codes: set[str] = set()
    for c in cases:
        codes.update(a.org for a in c.assignments)
        codes.update(r.court for r in c.referrals)
        codes.update(s.target_org for s in c.supervisions if s.target_org)
        codes.update(x for q in c.coordinations for x in (q.from_org, q.to_org))
    return codes
