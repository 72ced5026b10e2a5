"""Reads of the integration layer: service accounts for their administrator, Open311's services and requests."""

from typing import Any

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from zongzhi import access
from zongzhi.accounts.models import Jurisdiction
from zongzhi.cases import selectors as case_selectors
from zongzhi.cases.models import Case, CaseEvent, Category
from zongzhi.integration.models import ServiceAccount, ServiceToken


def service_accounts(actor: Any) -> QuerySet[ServiceAccount]:
    """Every service account, with its org, jurisdictions and tokens; only for the security administrator."""
    access.require(access.may_manage_service_accounts(actor))
    return ServiceAccount.objects.select_related("org", "user").prefetch_related(
        Prefetch("user__jurisdictions", queryset=Jurisdiction.objects.select_related("region").order_by("prefix")),
        Prefetch("tokens", queryset=ServiceToken.objects.order_by("-created_at", "-id")),
    )


def service_account_get(actor: Any, pk: int) -> ServiceAccount:
    found = service_accounts(actor).filter(pk=pk).first()
    access.require(found is not None)
    assert found is not None
    return found


def service_token_get(actor: Any, pk: int) -> ServiceToken:
    access.require(access.may_manage_service_accounts(actor))
    found = ServiceToken.objects.select_related("account").filter(pk=pk).first()
    access.require(found is not None)
    assert found is not None
    return found


def open311_services() -> QuerySet[Category]:
    """The case categories in use, as Open311 services (the taxonomy is configuration, not business data)."""
    return Category.objects.filter(active=True).select_related("parent").order_by("sort", "code")


def open311_requests(user: Any) -> QuerySet[Case]:
    """The cases the account may see, with what a service request shows (its last change time too: the
    newest of the case's events, read with the case's region code)."""
    last_change = CaseEvent.objects.filter(case_id=OuterRef("pk"), region_code=OuterRef("region_code")).order_by("-at")
    return (
        case_selectors.cases_visible(user)
        .select_related("category", "center")
        .annotate(updated_at=Subquery(last_change.values("at")[:1]))
        .order_by("-registered_at", "-id")
    )
