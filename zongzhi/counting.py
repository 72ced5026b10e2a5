"""Several querysets counted in one statement: one round trip where a page showed one count each.

`count_all({"to_accept": qs1, "overdue": qs2})` answers `{"to_accept": 3, "overdue": 1}`, each figure
what `qs.count()` would answer (a `.distinct()` queryset counts its distinct rows): the statement is
`SELECT (SELECT COUNT(*) FROM (<qs1>) c0), (SELECT COUNT(*) FROM (<qs2>) c1)`, each inner query the
queryset's own, with its scoping predicates. Querysets on different databases (a replica read and a
primary one) are counted per database.
"""

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.db import connections
from django.db.models import QuerySet


def count_all(querysets: Mapping[str, QuerySet[Any]]) -> dict[str, int]:
    by_db: dict[str, list[tuple[str, QuerySet[Any]]]] = defaultdict(list)
    for name, queryset in querysets.items():
        by_db[queryset.db].append((name, queryset))
    counts: dict[str, int] = {}
    for db, items in by_db.items():
        parts, params = [], []
        for i, (_name, queryset) in enumerate(items):
            inner = queryset.order_by().values("pk")
            sql, inner_params = inner.query.get_compiler(using=db).as_sql()
            parts.append(f"(SELECT COUNT(*) FROM ({sql}) c{i})")  # noqa: S608 - the ORM's own SQL, parameters apart
            params.extend(inner_params)
        with connections[db].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            row = cursor.fetchone()
        counts.update({name: int(n) for (name, _q), n in zip(items, row, strict=True)})
    return {name: counts[name] for name in querysets}
