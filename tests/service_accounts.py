"""The one place tests make an API account for another system and its bearer token.

Today an account is a user with a leader's role over a jurisdiction and a token from
`accounts.services.token_issue`; when service accounts (zongzhi.integration) land, only this changes.
"""

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

from zongzhi.accounts.models import Jurisdiction, Membership, Role, User
from zongzhi.accounts.services import token_issue
from zongzhi.regions.models import Region


def service_account(username: str, *, region: str = "152502000000") -> tuple[User, str]:
    """An account that sees everything under `region`, and a fresh bearer token for it."""
    found = Region.objects.get(code=region)
    user, _created = User.objects.get_or_create(username=username, defaults={"full_name": username})
    Membership.objects.get_or_create(user=user, role=Role.LEADER, org=None, center=None)
    Jurisdiction.objects.get_or_create(user=user, region=found, defaults={"prefix": found.prefix})
    return user, token_issue(user=user, name="tests")


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
