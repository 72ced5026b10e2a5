"""The one place tests make an API account for another system and its bearer token.

A real service account (`zongzhi.integration`): its org's liaison over the jurisdiction, with the
rights the outbox's routes need.
"""

import http.client
import importlib
import importlib.util
import json
from typing import Any
from urllib.parse import urlsplit

from zongzhi.accounts.models import User
from zongzhi.centers.models import Org
from zongzhi.regions.models import Region

RIGHTS = ("events:read", "webhooks:read", "webhooks:write", "cases:read")


def service_account(username: str, *, region: str = "152502000000") -> tuple[User, str]:
    """An account that sees everything under `region`, and a fresh bearer token for it."""
    return _integration_account(username, Region.objects.get(code=region))


def _integration_account(name: str, region: Region) -> tuple[User, str]:
    models = importlib.import_module("zongzhi.integration.models")
    services = importlib.import_module("zongzhi.integration.services")
    account = models.ServiceAccount.objects.filter(name=name).first()
    if account is None:
        org = Org.objects.filter(region_code__startswith=region.prefix).order_by("code").first()
        account = services.service_account_create(
            actor=None, name=name, org=org, regions=[region], permissions=RIGHTS, cli=True
        )
    _token, raw = services.service_token_issue(actor=None, account=account, cli=True)
    return account.user, raw


def bearer(base: str, token: str, method: str, path: str, data: Any = None) -> tuple[int, Any]:
    """One request with `Authorization: Bearer`, no cookie, no CSRF token: (status, JSON body)."""
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"}
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    return response.status, json.loads(raw) if raw else None


def feed_all(base: str, token: str, after: str = "0") -> tuple[list[dict[str, Any]], str]:
    """Every event of the feed after `after`, page by page; (events, the cursor to resume from)."""
    events: list[dict[str, Any]] = []
    while True:
        status, page = bearer(base, token, "GET", f"/api/v1/events?after={after}&limit=50")
        assert status == 200, page
        events += page["events"]
        if page["next"] == after:
            return events, after
        after = page["next"]
