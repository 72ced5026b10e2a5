"""API clients for the live server that authenticate with a bearer token, made in one place.

A bearer token belongs to a service account (`zongzhi.integration`): another system acting as its
org's liaison over a jurisdiction, with rights per resource. People have no tokens.
"""

import uuid

from tests.http_client import HttpClient
from zongzhi.api_access import PERMISSIONS
from zongzhi.centers.models import Org
from zongzhi.integration.services import service_account_create, service_token_issue
from zongzhi.regions.models import Region

LIAISON_ORG = "152502-D05"  # 锡林浩特市司法局, demo-liaison's


def service_token(
    name: str = "", *, org: str = LIAISON_ORG, region: str = "152502000000", rights: tuple[str, ...] = PERMISSIONS
) -> str:
    """A new service account of `org` over `region` with `rights` (all by default) and its first token
    (call with the database unblocked)."""
    account = service_account_create(
        actor=None,
        name=name or f"tests-{uuid.uuid4().hex[:8]}",
        org=Org.objects.get(code=org),
        regions=[Region.objects.get(code=region)],
        permissions=rights,
        cli=True,
    )
    _token, raw = service_token_issue(actor=None, account=account, cli=True)
    return raw


def bearer(base: str, token: str) -> HttpClient:
    """A client of the server at `base` that sends `Authorization: Bearer …` and no cookie at all."""
    return HttpClient(base, headers={"Authorization": f"Bearer {token}"})
