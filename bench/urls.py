"""The platform's URLs plus bare endpoints for the benchmark floor (never mounted in production).

The bare endpoints do the same inserts and updates as intake, accept, assign and sign-for, behind the
same authentication (a service account's bearer token, or a session with its CSRF token) and JSON
parsing, without validation, rules or access checks.
"""

import datetime
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import path
from django.utils import timezone
from ninja import NinjaAPI

from bench import replay
from zongzhi.api import BearerToken, VerifiedSession
from zongzhi.cases.models import Assignment, Case, CaseEvent, Category, Party
from zongzhi.cases.numbering import next_case_number
from zongzhi.centers.models import Center, Org
from zongzhi.field.models import SyncRecord
from zongzhi.regions.models import Region
from zongzhi.urls import urlpatterns as platform

bare = NinjaAPI(urls_namespace="bare", auth=[BearerToken(), VerifiedSession()], docs_url=None, openapi_url=None)


@bare.post("/intake")
def bare_intake(request: HttpRequest) -> dict[str, Any]:
    import json

    data = json.loads(request.body)
    region = Region.objects.get(code=data["region"])
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.create(
            number=next_case_number(region.code[:6], timezone.localdate(now)),
            channel="window",
            category=Category.objects.get(code=data["category"]),
            title=data["title"],
            description=data["description"],
            region=region,
            region_code=region.code,
            risk_level="blue",
            risk_suggested="blue",
            center=Center.objects.get(code="ZZ-152502"),
            owner=request.user,
            registered_at=now,  # type: ignore[misc]
        )
        Party.objects.bulk_create(
            [
                Party(case=case, region_code=case.region_code, kind=p["kind"], role=p["role"], name=p["name"])
                for p in data["parties"]
            ]
        )
        CaseEvent.objects.create(
            case=case, region_code=case.region_code, kind="intake", at=now, to_state="registered", version=1
        )
    return {"number": case.number, "version": case.version}


@bare.post("/{number}/accept")
def bare_accept(request: HttpRequest, number: str) -> dict[str, Any]:
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.get(number=number)
        Case.objects.filter(pk=case.pk).update(state="accepted", version=F("version") + 1)
        CaseEvent.objects.create(
            case=case,
            region_code=case.region_code,
            kind="accept",
            at=now,
            from_state="registered",
            to_state="accepted",
            version=case.version + 1,
        )
    return {"ok": True}


@bare.post("/{number}/assign")
def bare_assign(request: HttpRequest, number: str) -> dict[str, Any]:
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.get(number=number)
        due = now + datetime.timedelta(days=30)
        Assignment.objects.create(
            case=case,
            region_code=case.region_code,
            org=Org.objects.get(code="152502-D05"),
            role="lead",
            deadline=due,
            sign_for_due=due,
            assigned_by=request.user,
            assigned_at=now,
        )  # type: ignore[misc]
        Case.objects.filter(pk=case.pk).update(state="assigned", version=F("version") + 1, due_at=due)
        CaseEvent.objects.create(
            case=case,
            region_code=case.region_code,
            kind="assign",
            at=now,
            from_state="accepted",
            to_state="assigned",
            version=case.version + 1,
        )
    return {"ok": True}


@bare.post("/{number}/sign_for")
def bare_sign_for(request: HttpRequest, number: str) -> dict[str, Any]:
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.get(number=number)
        Assignment.objects.filter(case=case, status="pending").update(
            status="signed", signed_by=request.user, signed_at=now
        )
        Case.objects.filter(pk=case.pk).update(state="in_progress", version=F("version") + 1)
        CaseEvent.objects.create(
            case=case,
            region_code=case.region_code,
            kind="sign_for",
            at=now,
            from_state="assigned",
            to_state="in_progress",
            version=case.version + 1,
        )
    return {"ok": True}


@bare.post("/field/uploads")
def bare_upload(request: HttpRequest) -> dict[str, Any]:
    """The field app's photo announced: an empty file to append to."""
    import json

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
    import json

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
