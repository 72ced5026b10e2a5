"""Authentication: Django's model backend, whose per-request read of the user brings the user's
memberships and jurisdictions along (`access._held` then reads nothing: one statement fewer on
every signed-in request, pages and API alike)."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import Aggregate, OuterRef, QuerySet, Subquery, TextField

from zongzhi.accounts.models import MEMBERSHIP_COLUMNS, Jurisdiction, Membership, User


class JsonRows(Aggregate):
    """A group's rows as one JSON array of arrays, as text."""

    function = "json_group_array"
    template = "json_group_array(json_array(%(expressions)s))"  # SQLite
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "json_agg(json_build_array(%(expressions)s))::text"
        return self.as_sql(compiler, connection, template=template, **extra)


def held_columns(user: str = "pk") -> dict[str, Subquery]:
    """The user's memberships (`MEMBERSHIP_COLUMNS`) and jurisdictions (prefix) as two JSON texts, for a
    query whose column `user` is the user's id (NULL when the user has none)."""

    def rows(model: type[Membership] | type[Jurisdiction], *columns: str) -> Subquery:
        mine = model.objects.filter(user_id=OuterRef(user)).order_by().values("user_id")
        return Subquery(mine.annotate(rows=JsonRows(*columns)).values("rows"), output_field=TextField())

    return {
        "held_memberships": rows(Membership, *MEMBERSHIP_COLUMNS),
        "held_prefixes": rows(Jurisdiction, "prefix"),
    }


def with_held(users: QuerySet[User]) -> QuerySet[User]:
    return users.annotate(**held_columns())


class HeldBackend(ModelBackend):
    """ModelBackend, reading the user of a session with their memberships and jurisdictions."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = with_held(User._default_manager.all()).get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
