"""Exports of the lists (cases, residents, grid workers, supervision items) to XLSX and CSV.

Each export reads through the same scoped selectors and filters as the list on screen, masks
identity numbers and phones (ID first 6 + last 4, phone 3 + 4), streams the rows into a temporary
file (constant memory), and is written to the audit log with its filters and row count.

Rows are read in keyset-paged chunks (`_keyset`): each chunk is a query of its own, ordered by the list's
key, after the last row of the chunk before, fetched whole before the job writes its progress. No read
stays open across a write: on SQLite (WAL) a write from a connection whose read snapshot predates another
connection's commit is refused at once ("database is locked"), whatever the busy timeout.
"""

import codecs
import collections
import csv
import io
import itertools
import multiprocessing
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db.models import ExpressionWrapper, F, Prefetch, Q, QuerySet, TextField
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access, crypto, sheets, xlsx
from zongzhi.access import Scope
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.cases import selectors as case_selectors
from zongzhi.cases.models import Case, Party, Supervision
from zongzhi.grid import selectors as grid_selectors
from zongzhi.grid.models import Resident
from zongzhi.identity import mask_phone, mask_resident_id
from zongzhi.regions import codes

# The rows a chunk (one query) reads, and those between two progress updates of a job:
# settings.EXPORT_CHUNK_ROWS, settings.EXPORT_PROGRESS_ROWS.


@dataclass(frozen=True)
class ExportList:
    """One exportable list: its title, headers and how rows are read for a user and the page's filters."""

    name: str
    title: str
    headers: tuple[str, ...]
    rows: Callable[[Any, QueryDict], Iterator[tuple[Any, ...]]]
    query: Callable[[Any, QueryDict], QuerySet[Any]]  # the rows' scoped queryset, for the count
    # Residents: the rows as read (their encrypted columns still tokens), a chunk at a time, and the
    # pure function making a chunk the file's rows (decrypted, masked, labelled) from its `context`
    # (the labels, read in the asking process); a pool of processes may run `finish`. Other lists:
    # their rows as they are.
    chunks: Callable[[Any, QueryDict], Iterator[list[tuple[Any, ...]]]] | None = None
    finish: Callable[[list[tuple[Any, ...]], Any], list[tuple[Any, ...]]] | None = None
    context: Callable[[], Any] | None = None


def _past(keys: Sequence[str], last: Sequence[Any]) -> Q:
    """The rows after `last` in the order of `keys` ("-field" descending; the last key unique): the
    keyset `(k1, k2, …) > (v1, v2, …)` spelled out, with the first key's own bound (`k1 >= v1`) besides,
    a range an index on that column is read from (a row comparison SQLite's backend does not write)."""
    first = keys[0].lstrip("-")
    bound = Q(**{f"{first}__{'lte' if keys[0].startswith('-') else 'gte'}": last[0]})
    after = Q()
    for n, key in enumerate(keys):
        step = Q(**{f"{key.lstrip('-')}__{'lt' if key.startswith('-') else 'gt'}": last[n]})
        for earlier, value in zip(keys[:n], last[:n], strict=True):
            step &= Q(**{earlier.lstrip("-"): value})
        after = step if n == 0 else after | step
    return bound & after


def _keyset(rows: QuerySet[Any], keys: Sequence[str], key: Callable[[Any], Sequence[Any]]) -> Iterator[list[Any]]:
    """`rows` in the order of `keys`, EXPORT_CHUNK_ROWS at a time: each chunk its own short query
    (`WHERE key > the last row's ORDER BY key LIMIT chunk`), fetched whole, so no read transaction is
    open while the caller writes between two chunks. `key(row)` is a row's values of `keys`."""
    size = settings.EXPORT_CHUNK_ROWS
    ordered = rows.order_by(*keys)
    chunk = list(ordered[:size])
    while chunk:
        yield chunk
        if len(chunk) < size:
            return
        chunk = list(ordered.filter(_past(keys, key(chunk[-1])))[:size])


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _region_prefix(params: QueryDict) -> str:
    region = params.get("region", "").strip()
    return region if region.isdigit() and len(region) <= codes.CODE_MAX else ""


def _cases(user: Any, params: QueryDict) -> QuerySet[Case]:
    filters = case_selectors.Filters(
        q=params.get("q", ""),
        state=params.get("state", ""),
        category=params.get("category", ""),
        risk=params.get("risk", ""),
        channel=params.get("channel", ""),
        region=_region_prefix(params),
    )
    queue = params.get("queue", "")
    cases = case_selectors.queue(user, queue) if queue in case_selectors.QUEUES else case_selectors.cases_visible(user)
    return case_selectors.for_list(case_selectors.cases_filtered(cases, filters, user))


def _party(p: Any) -> str:
    number = mask_resident_id(p.id_number) if p.id_number else ""
    return f"{p.get_role_display()}：{p.name}" + (f"（{number}）" if number else "")


CASE_KEYS = ("-registered_at", "-id")  # the case list's order (`case_selectors.for_list`)


def case_rows(user: Any, params: QueryDict) -> Iterator[tuple[Any, ...]]:
    # A case's parties within the codes the user reads (each copies its case's), in the case's own order
    # by role: the prefetch then joins no case.
    parties = Party.objects.filter(access.reach_q(user)).order_by("case_id", "role", "id")
    cases = _cases(user, params).prefetch_related(Prefetch("parties", queryset=parties))
    for c in itertools.chain.from_iterable(_keyset(cases, CASE_KEYS, lambda c: (c.registered_at, c.id))):
        yield (
            c.number, c.original_number, c.get_channel_display(), c.category.name, c.title, c.region.name,
            c.region_code, c.get_risk_level_display(), c.get_state_display(), c.center.name,
            _local(c.registered_at), _local(c.due_at), _local(c.closed_at), c.get_outcome_display(),
            c.amount, c.people_involved, "；".join(_party(p) for p in c.parties.all()),
        )  # fmt: skip


def _residents(user: Any, params: QueryDict, *, households: bool = False) -> QuerySet[Resident]:
    """The residents of the export; with `households`, the join to their households bounded by the same
    region (a resident's code is its household's)."""
    scope = access.scope_of(user)
    residents = (
        grid_selectors.residents_with_households(scope) if households else grid_selectors.residents_visible(scope)
    )
    if prefix := _region_prefix(params):
        inside = Scope(prefixes=(prefix,))
        residents = residents.filter(inside.q(), *([inside.q("household__region_code")] if households else []))
    return residents


# The two encrypted columns are read as stored (their tokens, the field's decryption bypassed) so
# that `resident_finish` decrypts a chunk with the keyring read once, in a worker process of the job.
RESIDENT_COLUMNS = (
    "household__code", "household__grid__name", "region_code", "household__address", "name", "relation",
    "ethnicity", "language", ExpressionWrapper(F("id_number"), output_field=TextField()),
    ExpressionWrapper(F("phone"), output_field=TextField()), "registered", "living", "household__claimed_by_id",
)  # fmt: skip


@dataclass(frozen=True)
class ResidentLabels:
    relations: dict[str, str]
    languages: dict[str, str]
    yes: str
    no: str


def resident_labels() -> ResidentLabels:
    """The labels in the asking process's language (plain strings: they travel to worker processes)."""
    return ResidentLabels(
        {k: str(v) for k, v in Resident.Relation.choices},
        {k: str(v) for k, v in Resident.Language.choices},
        _("是"),
        _("否"),
    )


RESIDENT_KEYS = ("region_code", "household_id", "id")


def resident_chunks(user: Any, params: QueryDict) -> Iterator[list[tuple[Any, ...]]]:
    # Plain tuples through one join (no model instances): a county is a quarter of a million rows. Each
    # row is read with its key (region code, household id, id) last; the chunk goes on without it.
    residents = _residents(user, params, households=True).values_list(*RESIDENT_COLUMNS, "household_id", "id")
    region = RESIDENT_COLUMNS.index("region_code")
    for chunk in _keyset(residents, RESIDENT_KEYS, lambda row: (row[region], row[-2], row[-1])):
        yield [row[:-2] for row in chunk]


def resident_finish(chunk: list[tuple[Any, ...]], labels: ResidentLabels) -> list[tuple[Any, ...]]:
    """The file's rows of a chunk as read: IDs and phones decrypted, then masked; choices labelled."""
    plain = crypto.decryptor()
    relations, languages, yes, no = labels.relations, labels.languages, labels.yes, labels.no
    rows = []
    for code, grid, region, address, name, relation, ethnicity, language, number, phone, *flags in chunk:
        registered, living, claimed = flags
        row = (
            code, grid, region, address, name, relations.get(relation, relation), ethnicity,
            languages.get(language, language), mask_resident_id(plain(number) if number else ""),
            mask_phone(plain(phone) if phone else ""), yes if registered else no, yes if living else no,
            yes if claimed else no,
        )  # fmt: skip
        rows.append(row)
    return rows


def resident_rows(user: Any, params: QueryDict) -> Iterator[tuple[Any, ...]]:
    labels = resident_labels()
    for chunk in resident_chunks(user, params):
        yield from resident_finish(chunk, labels)


def _grid_workers(user: Any, params: QueryDict) -> QuerySet[Any]:
    workers = grid_selectors.grid_workers_visible(access.scope_of(user))
    if prefix := _region_prefix(params):
        workers = workers.filter(Scope(prefixes=(prefix,)).q())
    return workers


def grid_worker_rows(user: Any, params: QueryDict) -> Iterator[tuple[Any, ...]]:
    workers = _grid_workers(user, params)
    labels = dict(workers.model.Duty.choices)
    pages = _keyset(workers.select_related("grid"), ("region_code", "code"), lambda w: (w.region_code, w.code))
    for w in itertools.chain.from_iterable(pages):
        duties = "、".join(str(labels.get(d, d)) for d in w.duties)
        yield (w.code, w.name, w.grid.name, w.region_code, _("专职") if w.full_time else _("兼职"), duties)


def _supervisions(user: Any, params: QueryDict) -> QuerySet[Supervision]:
    within = access.reach_q(user)  # the supervisions and their joined cases, by the codes the user reads
    items = Supervision.objects.filter(within, access.reach_q(user, "case__region_code"))
    items = items.filter(case__in=_cases(user, params).values("pk"))
    if (status := params.get("status", "")) in Supervision.Status.values:
        items = items.filter(status=status)
    return items


def supervision_rows(user: Any, params: QueryDict) -> Iterator[tuple[Any, ...]]:
    items = _supervisions(user, params).select_related("case", "issuer_center", "target_org")
    for s in itertools.chain.from_iterable(_keyset(items, ("-issued_at", "-id"), lambda s: (s.issued_at, s.id))):
        yield (
            s.number, s.get_kind_display(), s.case.number, s.case.title, s.issuer_center.name,
            s.target_org.name if s.target_org else "", s.reason, _local(s.issued_at), _local(s.deadline),
            s.get_status_display(),
        )  # fmt: skip


LISTS = {
    e.name: e
    for e in (
        ExportList(
            "cases",
            "矛盾纠纷",
            ("案件编号", "原编号", "来源渠道", "纠纷类别", "事由", "发生地", "区划代码", "风险等级", "状态")
            + ("办理中心", "登记时间", "办理期限", "结案时间", "结案方式", "涉及金额（元）", "涉及人数", "当事人"),
            case_rows,
            _cases,
        ),
        ExportList(
            "residents",
            "居民",
            ("户编号", "所在网格", "区划代码", "住址", "姓名", "与户主关系", "民族", "常用语言", "身份证号")
            + ("联系电话", "户籍人口", "常住人口", "已认领"),
            resident_rows,
            _residents,
            resident_chunks,
            resident_finish,
            resident_labels,
        ),
        ExportList(
            "grid_workers",
            "网格员",
            ("编号", "姓名", "所在网格", "区划代码", "专兼职", "职责"),
            grid_worker_rows,
            _grid_workers,
        ),
        ExportList(
            "supervisions",
            "督办事项",
            ("文号", "文书", "案件编号", "事由", "督办中心", "督办对象", "督办事由", "下发时间", "反馈期限", "状态"),
            supervision_rows,
            _supervisions,
        ),
    )
}


def _render(fmt: str, rows: list[tuple[Any, ...]], first: int) -> tuple[bytes, int]:
    """A chunk of the file's rows as the bytes the file holds (CSV lines, or XLSX rows numbered from `first`)."""
    if fmt == "csv":
        text = io.StringIO(newline="")
        csv.writer(text).writerows(sheets.csv_row(row) for row in rows)
        return text.getvalue().encode(), len(rows)
    return xlsx.rows_xml(rows, first).encode(), len(rows)


def _chunks(found: ExportList, actor: Any, params: QueryDict) -> Iterator[list[tuple[Any, ...]]]:
    if found.chunks is not None:
        yield from found.chunks(actor, params)
        return
    rows = found.rows(actor, params)  # read a keyset chunk at a time (`_keyset`)
    while chunk := list(itertools.islice(rows, settings.EXPORT_CHUNK_ROWS)):
        yield chunk


def _finished(found: ExportList, chunk: list[tuple[Any, ...]], context: Any) -> list[tuple[Any, ...]]:
    return chunk if found.finish is None else found.finish(chunk, context)


def _inline(found: ExportList, fmt: str, chunks: Iterator[list[tuple[Any, ...]]]) -> Iterator[tuple[bytes, int]]:
    context = found.context() if found.context else None
    first = 2  # the header is row 1
    for chunk in chunks:
        yield _render(fmt, _finished(found, chunk, context), first)
        first += len(chunk)


_worker_context: Any = None  # in a worker process of the pool: the list's context, set once


def _worker_start(context: Any) -> None:
    global _worker_context
    _worker_context = context


def _worker_render(name: str, fmt: str, chunk: list[tuple[Any, ...]], first: int) -> tuple[bytes, int]:
    return _render(fmt, _finished(LISTS[name], chunk, _worker_context), first)


def _pooled(
    found: ExportList, fmt: str, chunks: Iterator[list[tuple[Any, ...]]], processes: int
) -> Iterator[tuple[bytes, int]]:
    """The chunks decrypted, masked and rendered by `processes` forked workers, in order.

    This process reads the database (a query a chunk, never shared) and writes the file; a chunk travels
    to a worker still encrypted and comes back masked, so no plaintext crosses the pipe. At most
    two chunks a worker are in flight (constant memory)."""
    context = found.context() if found.context else None
    pool = multiprocessing.get_context("fork").Pool(processes, initializer=_worker_start, initargs=(context,))
    try:
        pending: collections.deque[Any] = collections.deque()
        first = 2
        for chunk in chunks:
            pending.append(pool.apply_async(_worker_render, (found.name, fmt, chunk, first)))
            first += len(chunk)
            if len(pending) >= 2 * processes:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
        pool.close()
        pool.join()
    finally:
        pool.terminate()


def _counted(
    blocks: Iterator[tuple[bytes, int]], progress: Callable[[int], None] | None
) -> Iterator[tuple[bytes, int]]:
    count = reported = 0
    for block, rows in blocks:
        yield block, rows
        count += rows
        if progress is not None and count - reported >= settings.EXPORT_PROGRESS_ROWS:
            progress(count)
            reported = count


def may_fork() -> bool:
    """Worker processes can be forked here (Linux, macOS; not Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def export_count(*, actor: Any, name: str, params: QueryDict) -> int:
    """How many rows the list's export holds for this user and these filters (one count query)."""
    found = LISTS[name]
    return found.query(actor, params).count()


def export_write(
    *,
    actor: Any,
    name: str,
    fmt: str,
    params: QueryDict,
    out: IO[bytes],
    request: Any = None,
    progress: Callable[[int], None] | None = None,
    processes: int = 1,
) -> int:
    """Write the list into `out` and return its row count; audited with the filters.

    `progress`, when given, is called with the rows written so far, at least EXPORT_PROGRESS_ROWS rows
    apart, between two chunks' reads (no read open: it may write to the database).
    `processes` above 1: a list with a `finish` (residents) is decrypted and rendered by that many
    forked worker processes (the task worker's export jobs; never inside a web server's request)."""
    found = LISTS[name]
    chunks = _chunks(found, actor, params)
    if processes > 1 and found.finish is not None and may_fork():
        blocks = _counted(_pooled(found, fmt, chunks, processes), progress)
    else:
        blocks = _counted(_inline(found, fmt, chunks), progress)
    if fmt == "csv":
        out.write(codecs.BOM_UTF8 + _render("csv", [found.headers], 1)[0])  # BOM: Excel reads it as UTF-8
        count = 0
        for block, rows in blocks:
            out.write(block)
            count += rows
    else:
        count = xlsx.write_xlsx_blocks(out, found.title, found.headers, blocks)
    shown = {k: v for k, v in params.items() if v and k != "page"}
    audit_record(
        action=AuditEntry.Action.DATA_EXPORTED,
        actor=actor,
        target=f"export:{name}",
        request=request,
        detail={"format": fmt, "filters": shown, "rows": count},
    )
    return count


def export_list(*, actor: Any, name: str, fmt: str, params: QueryDict, request: Any = None) -> tuple[IO[bytes], int]:
    """The list as a file (rewound, in a temporary file) and its row count; audited."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    count = export_write(actor=actor, name=name, fmt=fmt, params=params, out=out, request=request)
    out.seek(0)
    return out, count
