"""The platform's URLs plus bare endpoints for the benchmark floor (never mounted in production).

The bare endpoints do the same inserts and updates as intake, accept, assign and sign-for, behind the
same authentication (a service account's bearer token, or a session with its CSRF token) and JSON
parsing, without validation, rules or access checks.
"""

import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import path
from django.utils import timezone
from ninja import NinjaAPI

from zongzhi.api import BearerToken, VerifiedSession
from zongzhi.cases.models import Assignment, Case, CaseEvent, Category, Party
from zongzhi.cases.numbering import next_case_number
from zongzhi.centers.models import Center, Org
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


urlpatterns = [*platform, path("bench/bare/", bare.urls)]
