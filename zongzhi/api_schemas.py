"""What every API router shares: the error body, the declared refusals, typed ids, and cursor paging.

Below every app (it imports no business code), so each app's `api.py` declares its answers with it and
the project's `zongzhi/api.py` only mounts the routers and turns exceptions into these bodies.

Paging is keyset paging: a list is ordered by a key that ends in a unique column, the cursor is the
key of the last row served (opaque: URL-safe base64 of JSON), and the next page is the rows after it.
Rows inserted between two pages therefore never shift the page boundary: nothing is served twice
and no row that existed is skipped, whatever the list's size.
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _
from ninja import Path, Query, Schema
from pydantic import BaseModel, create_model

MAX_ID = 2**31 - 1  # ids are integers the databases hold; a larger one is a 422, never an overflow
MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class Out(BaseModel):
    """An answer's schema, for answers the views build as plain dicts: checked by pydantic alone.

    ninja's `Schema` wraps every object it validates in a `DjangoGetter` (attribute access for ORM
    objects): a Python call per field of every row, 700 for a page of 50 cases. The views hand dicts,
    so the read answers' schemas derive from this instead; their JSON and OpenAPI are the same.
    """


class ErrorOut(Schema):
    """Why a request was refused: a Chinese message, and for 422 the messages by field."""

    detail: str
    errors: dict[str, list[str]] | None = None
    version: int | None = None


def refusals(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error answers a route declares in OpenAPI, every one with the same body."""
    return {status: ErrorOut for status in statuses}


# The usual sets: a read (not logged in, not allowed, not found or not yours, bad query), a write.
READ = refusals(401, 403, 404, 422)
WRITE = refusals(401, 403, 404, 409, 422)


def file_answer(*media_types: str) -> dict[str, Any]:
    """`openapi_extra` of a download: its 200 is a file of one of these types (the errors stay JSON)."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {200: {"description": "文件", "content": dict.fromkeys(media_types, binary)}}}


Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"每页条数（1–{MAX_LIMIT}）")]
Filter = Annotated[str, Query(max_length=100)]
Cursor = Annotated[str, Query(max_length=500, description="上一页返回的 `next`；第一页不填")]


def page_schema(item: type[BaseModel]) -> type[Out]:
    """`<Item>Page`: `results` (the rows) and `next` (the cursor of the following page, null at the end)."""
    name = item.__name__.removesuffix("Out") + "Page"
    return create_model(  # type: ignore[call-overload, no-any-return]
        name,
        __base__=Out,
        results=(list[item], ...),  # type: ignore[valid-type]
        next=(str | None, None),
    )


def _encode(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[Any]:
    bad = ValidationError({"cursor": [_("分页游标无效，请从第一页重新开始（不带 cursor）。")]})
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(values, list) or len(values) != size:
        raise bad
    if not all(isinstance(v, str | int) and not isinstance(v, bool) and "\x00" not in str(v) for v in values):
        raise bad
    return values


def _after(keys: Sequence[str], values: list[Any]) -> Q:
    """Rows strictly after `values` in the order of `keys` ("-field" descending): a lexicographic keyset."""
    after = Q(pk__in=[])
    for n, key in enumerate(keys):
        field = key.lstrip("-")
        step = Q(**{f"{field}__{'lt' if key.startswith('-') else 'gt'}": values[n]})
        for earlier, value in zip(keys[:n], values[:n], strict=False):
            step &= Q(**{earlier.lstrip("-"): value})
        after |= step
    return after


def _key(row: Model, keys: Sequence[str]) -> list[Any]:
    values = []
    for key in keys:
        value: Any = row
        for part in key.lstrip("-").split("__"):
            value = getattr(value, "pk" if part == "pk" else part)
        values.append(
            value if isinstance(value, int | str) else str(value.isoformat() if hasattr(value, "isoformat") else value)
        )
    return values


def paged(
    rows: QuerySet[Any],
    *,
    keys: Sequence[str],
    cursor: str,
    limit: int,
    show: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """One page of `rows` ordered by `keys` (the last one unique), from after `cursor`; one query.

    `show` turns a row into its JSON dict. The page body is `{"results": [...], "next": cursor | None}`.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    ordered = rows.order_by(*keys)
    if cursor:
        ordered = ordered.filter(_after(keys, _decode(cursor, len(keys))))
    found = list(ordered[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return {"results": [show(r) for r in found], "next": _encode(_key(found[-1], keys)) if more and found else None}
