"""API clients for the live server that authenticate with a bearer token, made in one place.

Today a token is `zongzhi.accounts.services.token_issue` for a demo login (what `manage.py issue_token`
does); when service accounts replace it, only `token_for` changes.
"""

from tests.http_client import HttpClient
from zongzhi.accounts.models import User
from zongzhi.accounts.services import token_issue


def token_for(username: str, name: str = "api-tests") -> str:
    """A fresh bearer token acting as `username` (call with the database unblocked)."""
    return token_issue(user=User.objects.get(username=username), name=name)


def bearer(base: str, username: str) -> HttpClient:
    """A client of the server at `base` that sends `Authorization: Bearer …` and no cookie at all."""
    return HttpClient(base, headers={"Authorization": f"Bearer {token_for(username)}"})
