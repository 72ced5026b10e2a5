"""The platform's URLs plus bare endpoints for the benchmark floor (never mounted in production).

The bare write endpoints store what intake, accept, assign and sign-for store, behind the same
authentication (a service account's bearer token, or a session with its CSRF token) and JSON parsing,
with the statements a hand-written endpoint would send: no validation, rules, access checks, typed
events or reads beyond the rows it writes from. The platform's stored effect of a step is the case's
rows, its timeline event, the event's audit entry (the hash chain), its outbox event (the integration
feed) and the case's rollup counters (the dashboards); the bare writes each of them. Per step, each
bare statement and the platform row it stands for (both sides also send the authentication's reads and,
for a service account, the middleware's `api_call` audit entry in a transaction of its own):

intake (bearer token)
  SELECT region, category, center .......... what the body names (the platform reads them too)
  BEGIN
  INSERT … ON CONFLICT cases_casenumbersequence  the case number
  INSERT cases_case, INSERT cases_party (one statement for both parties)
  INSERT cases_caseevent ................... the timeline's `intake`
  SELECT pg_try_advisory_xact_lock, SELECT the lane's last hash, INSERT audit_auditentry
                                             the `case_action` entry chained to the lane's head
  INSERT outbox_event ...................... `case.intake` on the feed
  INSERT … ON CONFLICT dashboards_tally .... +1 at the case's region and each region above it
  INSERT … ON CONFLICT dashboards_daytally . registered that day, at the same regions
  INSERT dashboards_casefact ............... the case's fact, which the platform's upkeep diffs against
  COMMIT
accept, sign_for (a session / a bearer token)
  SELECT cases_case (with its center) ...... the case the row updates and counters are keyed by
  BEGIN
  (sign_for: UPDATE cases_assignment ....... the lead's assignment signed)
  UPDATE cases_case ........................ state and version
  INSERT cases_caseevent, the audit entry's three statements, INSERT outbox_event   as at intake
  INSERT … ON CONFLICT dashboards_tally .... −1 in the old state, +1 in the new, at every region level
  UPDATE dashboards_casefact ............... the fact's state
  COMMIT
assign (a session)
  SELECT cases_case (with its center), SELECT centers_org (the lead)
  BEGIN
  INSERT cases_assignment, UPDATE cases_case, INSERT cases_caseevent, the audit entry, INSERT outbox_event
  INSERT … ON CONFLICT dashboards_tally .... the state move, as above
  INSERT … ON CONFLICT dashboards_orgtally . +1 case for the lead org that month
  UPDATE dashboards_casefact ............... the fact's state and lead org
  COMMIT

Not written by the bare: the platform's after-commit check that a dispatch task is queued for the
worker (a read; it writes a task row only when none is waiting, never in a benchmark's run). What the
platform reads and the bare does not: the intake checks (repeats, registry, population), deadline
policies and the calendar, the access checks' memberships, assignments and supervisions, the
rollups' recomputed and stored facts, and the allowed actions of its answer.
"""

import datetime
import json
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import path
from django.utils import timezone
from ninja import NinjaAPI

from bench import replay
from zongzhi.api import BearerToken, VerifiedSession
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.cases.models import Assignment, Case, CaseEvent, Category, Party
from zongzhi.cases.numbering import next_case_number
from zongzhi.centers.models import Center, Org
from zongzhi.dashboards import rollups
from zongzhi.dashboards.models import MEASURES, ORG_MEASURES, CaseFact
from zongzhi.field.models import SyncRecord
from zongzhi.outbox.models import Event
from zongzhi.regions.models import Region
from zongzhi.urls import urlpatterns as platform

bare = NinjaAPI(urls_namespace="bare", auth=[BearerToken(), VerifiedSession()], docs_url=None, openapi_url=None)


def _measures(case: Case, center_level: str) -> dict[str, Any]:
    """What the case counts for in the tallies, from the row in hand (no parties' or supervisions' reads:
    a case at these steps has no agreement, follow-up or supervision)."""
    measures: dict[str, Any] = dict.fromkeys(MEASURES, 0)
    measures.update(cases=1, amount_involved=rollups.ZERO, amount_agreed=rollups.ZERO, amount_recovered=rollups.ZERO)
    measures[f"ch_{case.channel}"] = 1
    measures[f"risk_{case.risk_level}"] = 1
    measures[f"at_{center_level}"] = 1
    return measures


def _month(case: Case) -> datetime.date:
    return timezone.localdate(case.registered_at).replace(day=1)


def _moved(case: Case, center_level: str, from_state: str, to_state: str) -> None:
    """The counters' upsert for a change of state: the case leaves one tally row for another."""
    measures = _measures(case, center_level)
    key = (case.region_code, _month(case), case.category_id)
    rollups._add_to_tallies(
        {
            (*key, from_state): {m: -v for m, v in measures.items()},
            (*key, to_state): measures,
        }
    )


def _fact_updated(case: Case, **columns: Any) -> None:
    sets = ", ".join(f"{c} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CaseFact._meta.db_table} SET {sets} WHERE case_id = %s AND region_code = %s",  # noqa: S608
            [*columns.values(), case.pk, case.region_code],
        )


def _told(request: HttpRequest, case: Case, event: CaseEvent) -> None:
    """The event's audit entry on the chain and its outbox copy on the feed."""
    audit_record(
        action=AuditEntry.Action.CASE_ACTION,
        actor=request.user,
        target=case.number,
        detail={"event": event.kind, "event_id": event.pk, "from": event.from_state, "to": event.to_state},
    )
    Event.objects.create(
        kind=f"case.{event.kind}",
        case=case,
        case_number=case.number,
        region_code=case.region_code,
        at=event.at,
        data={"from_state": event.from_state, "to_state": event.to_state, "version": event.version},
    )


def _step(
    request: HttpRequest, case: Case, kind: str, from_state: str, to_state: str, now: Any, **changes: Any
) -> None:
    """A transition's writes after the step's own: the case row, its event, audit, outbox, counters."""
    Case.objects.filter(pk=case.pk, region_code=case.region_code).update(
        state=to_state, version=F("version") + 1, **changes
    )
    event = CaseEvent.objects.create(
        case=case,
        region_code=case.region_code,
        kind=kind,
        at=now,
        from_state=from_state,
        to_state=to_state,
        version=case.version + 1,
    )
    _told(request, case, event)
    _moved(case, case.center.level, from_state, to_state)


@bare.post("/intake")
def bare_intake(request: HttpRequest) -> dict[str, Any]:
    data = json.loads(request.body)
    region = Region.objects.get(code=data["region"])
    category = Category.objects.get(code=data["category"])
    center = Center.objects.get(code="ZZ-152502001")  # the township's center, where the platform registers it
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.create(
            number=next_case_number(region.code[:6], timezone.localdate(now)),
            channel="department",
            category=category,
            title=data["title"],
            description=data["description"],
            region=region,
            region_code=region.code,
            risk_level="blue",
            risk_suggested="blue",
            center=center,
            owner=request.user,
            registered_at=now,  # type: ignore[misc]
        )
        Party.objects.bulk_create(
            [
                Party(case=case, region_code=case.region_code, kind=p["kind"], role=p["role"], name=p["name"])
                for p in data["parties"]
            ]
        )
        event = CaseEvent.objects.create(
            case=case, region_code=case.region_code, kind="intake", at=now, to_state="registered", version=1
        )
        _told(request, case, event)
        measures = _measures(case, center.level)
        rollups._add_to_tallies({(case.region_code, _month(case), category.pk, "registered"): measures})
        rollups._add_to_days({(case.region_code, timezone.localdate(now)): [1, 0]})
        fact = {
            "case_id": case.pk,
            "region_code": case.region_code,
            "category_id": category.pk,
            "state": "registered",
            "month": _month(case),
            "day": timezone.localdate(now),
            "closed_day": None,
            "org_id": None,
            "org_region": "",
            **measures,
        }
        CaseFact.objects.bulk_create([CaseFact(**fact)])
    return {"number": case.number, "version": case.version}


@bare.post("/{number}/accept")
def bare_accept(request: HttpRequest, number: str) -> dict[str, Any]:
    now = timezone.now()
    case = Case.objects.select_related("center").get(number=number)
    with transaction.atomic():
        _step(request, case, "accept", "registered", "accepted", now, due_at=None)
        _fact_updated(case, state="accepted")
    return {"ok": True}


@bare.post("/{number}/assign")
def bare_assign(request: HttpRequest, number: str) -> dict[str, Any]:
    now = timezone.now()
    case = Case.objects.select_related("center").get(number=number)
    lead = Org.objects.get(code="152502-D05")
    due = now + datetime.timedelta(days=30)
    with transaction.atomic():
        Assignment.objects.create(
            case=case,
            region_code=case.region_code,
            org=lead,
            role="lead",
            deadline=due,
            sign_for_due=due,
            assigned_by=request.user,
            assigned_at=now,
        )  # type: ignore[misc]
        _step(request, case, "assign", "accepted", "assigned", now, due_at=due)
        org_measures = {m: rollups.ZERO if m == "amount_agreed" else 0 for m in ORG_MEASURES}
        rollups._add_to_orgs({(lead.pk, lead.region_code, _month(case)): {**org_measures, "cases": 1}})
        _fact_updated(case, state="assigned", org_id=lead.pk, org_region=lead.region_code)
    return {"ok": True}


@bare.post("/{number}/sign_for")
def bare_sign_for(request: HttpRequest, number: str) -> dict[str, Any]:
    now = timezone.now()
    case = Case.objects.select_related("center").get(number=number)
    with transaction.atomic():
        Assignment.objects.filter(case=case, region_code=case.region_code, status="pending").update(
            status="signed", signed_by=request.user, signed_at=now
        )
        _step(request, case, "sign_for", "assigned", "in_progress", now)
        _fact_updated(case, state="in_progress")
    return {"ok": True}


@bare.post("/field/uploads")
def bare_upload(request: HttpRequest) -> dict[str, Any]:
    """The field app's photo announced: an empty file to append to."""
    data = json.loads(request.body)
    _bare_part(data["upload_id"]).write_bytes(b"")
    return {"offset": 0}


@bare.post("/field/uploads/{upload_id}/chunk")
def bare_chunk(request: HttpRequest, upload_id: str) -> dict[str, Any]:
    """A chunk appended, nothing checked."""
    path = _bare_part(upload_id)
    with path.open("ab") as part:
        part.write(request.body)
    return {"offset": path.stat().st_size}


@bare.post("/field/sync")
def bare_sync(request: HttpRequest) -> dict[str, Any]:
    """One queued record kept as a row, as it came."""
    data = json.loads(request.body)
    SyncRecord.objects.create(
        user=request.user,  # type: ignore[misc]
        client_id=data["client_id"],
        kind=data["kind"],
        status="done",
        region_code="",
        answer=request.body.decode(),
        created_at=timezone.now(),
    )
    return {"status": "done"}


def _bare_part(upload_id: str) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "bench-bare"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{uuid.UUID(upload_id)}.part"


urlpatterns = [*platform, *replay.urlpatterns, path("bench/bare/", bare.urls)]
