"""A signed-in user's memberships and jurisdictions come with the user's own read (`HeldBackend`, and the
bearer token's lookup for a service account); what they say must be what reading them apart says."""

import pytest
from django.test import RequestFactory

from tests.service_accounts import service_account
from zongzhi import access
from zongzhi.accounts.backends import HeldBackend, with_held
from zongzhi.accounts.models import User
from zongzhi.integration.services import token_authenticate

pytestmark = pytest.mark.django_db


def _apart(user: User) -> access.Held:
    return access._held(User.objects.get(pk=user.pk))  # nothing read with it: the memberships' own read


def test_every_demo_user_holds_what_reading_their_memberships_apart_says(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    users = list(with_held(User.objects.all()))
    assert len(users) > 20
    assert any(access._held(u).prefixes for u in users) and any(access._held(u).centers for u in users)
    assert any(access._held(u).reaches for u in users)
    for user in users:
        assert access._held(user) == _apart(user), user.username
    director = User.objects.get(username="demo-director")
    session_user = HeldBackend().get_user(director.pk)
    assert session_user is not None
    expected = _apart(director).roles
    with django_assert_num_queries(0):  # the roles and the scope of a session's user need no read of their own
        roles = access.roles_of(session_user)
        access.scope_of(session_user)
    assert roles == expected


def test_a_service_accounts_memberships_come_with_its_token() -> None:
    user, token = service_account("held-司法局")
    found = token_authenticate(RequestFactory().get("/api/v1/cases"), token)
    assert found is not None and found.account.user == user
    assert access._held(found.account.user) == _apart(user)
    assert access._held(found.account.user).prefixes == {"152502"}
