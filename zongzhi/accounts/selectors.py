"""Reading accounts by jurisdiction."""

from django.db.models import QuerySet

from zongzhi.access import Scope
from zongzhi.accounts.models import Jurisdiction, User


def accounts_in(scope: Scope) -> QuerySet[User]:
    """Active accounts whose jurisdiction lies inside the scope (everyone, for the whole platform)."""
    users = User.objects.filter(is_active=True)
    if "" in scope.prefixes:
        return users
    inside = Jurisdiction.objects.filter(scope.q("prefix")).values("user_id")
    return users.filter(pk__in=inside)
