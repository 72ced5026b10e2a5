"""The offline field app's server side: what a phone downloads, and records replayed from its queue.

A phone keeps the households and residents of the worker's grids and of the 乌日特 units they ride
with, masked as the pages show them (`offline_dataset`). Each record made offline carries a
client-generated id and arrives through `record_sync`, which runs the same services as the pages
and keeps the answer in a `SyncRecord` inserted in the same transaction: a replay, any number of
times, answers the same and writes nothing. What the server finds changed meanwhile comes back as
a conflict with what to do, in Chinese. Photos come first, in chunks at offsets (`upload_*`).
See docs/field-app.md.
"""

import datetime
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.utils import dateparse, timezone
from django.utils.translation import gettext as _

from zongzhi import access, inputs
from zongzhi.accounts.models import Role, User
from zongzhi.cases import services as case_services
from zongzhi.cases.models import Category
from zongzhi.cases.selectors import category_by_code_or_name
from zongzhi.grid import services as grid_services
from zongzhi.grid.models import ClaimConflict, GridWorker, Household, HouseholdMove, Resident
from zongzhi.grid.selectors import resident_id_index
from zongzhi.identity import mask_phone, mask_resident_id, resident_id_errors
from zongzhi.regions.models import Region

from . import selectors, services
from .models import PhotoUpload, ServiceType, SyncRecord, Visit

CLIENT_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
CHUNK_BYTES = 256 * 1024  # what the phone sends at a time (the API's body cap is 1 MB)
KINDS = ("visit", "dispute", "claim", "resident", "mobile_stop")


# ---- what the phone downloads -------------------------------------------------------------------


def _resident_row(r: Resident) -> dict[str, Any]:
    return {
        "id": r.pk,
        "name": r.name,
        "relation": r.get_relation_display(),
        "ethnicity": r.ethnicity,
        "id_number": mask_resident_id(r.id_number),
        "phone": mask_phone(r.phone),
        "registered": r.registered,
        "living": r.living,
    }


def _household_rows(households: list[Household], worker: GridWorker | None) -> list[dict[str, Any]]:
    return [
        {
            "code": h.code,
            "address": h.address,
            "grid": h.grid.name,
            "village": h.village.name,
            "herder": h.herder,
            "claimed_by": h.claimed_by.code if h.claimed_by else None,
            "claimed_by_name": h.claimed_by.name if h.claimed_by else "",
            "mine": worker is not None and h.grid_id == worker.grid_id,
            "residents": [_resident_row(r) for r in h.residents.all()],
        }
        for h in households
    ]


def offline_dataset(user: User) -> dict[str, Any]:
    """The households and residents (masked) of the user's grids and 乌日特 circuits, and the choices the forms need."""
    worker = GridWorker.objects.filter(user=user).select_related("grid").first()
    related = ("grid", "village", "claimed_by")
    mine: list[Household] = []
    if worker is not None and Role.GRID_WORKER in access.roles_of(user):
        mine = list(selectors.households_for_visit(user).select_related(*related).prefetch_related("residents"))
    units = list(selectors.units_ridden(user).select_related("county").order_by("name"))
    prefetch_related_objects(units, *selectors.stops_related(units))
    served = {h.pk: h for h in mine}
    unit_rows = []
    for unit in units:
        households = list(unit.households.select_related(*related).prefetch_related("residents").order_by("code"))
        for h in households:
            served.setdefault(h.pk, h)
        today = timezone.localdate()
        unit_rows.append(
            {
                "id": unit.pk,
                "name": unit.name,
                "county": unit.county.name,
                "households": [h.code for h in households],
                "stops": [
                    {
                        "id": s.pk,
                        "order": s.order,
                        "planned_on": s.planned_on.isoformat(),
                        "label": str(s),
                        "household": s.household.code if s.household else None,
                    }
                    for s in unit.stops.all()
                    if s.planned_on >= today - datetime.timedelta(days=30)
                ],
            }
        )
    return {
        "user": user.get_username(),
        "full_name": user.full_name,
        "worker": {"code": worker.code, "grid": worker.grid.name} if worker is not None and mine else None,
        "downloaded_at": timezone.now().isoformat(),
        "households": _household_rows(sorted(served.values(), key=lambda h: h.code), worker),
        "units": unit_rows,
        "services": [{"code": s.code, "name": s.name} for s in ServiceType.objects.filter(active=True)],
        "categories": [{"code": c.code, "name": c.name} for c in Category.objects.filter(active=True)],
        "relations": [{"code": v, "name": str(n)} for v, n in Resident.Relation.choices],
        "languages": [{"code": v, "name": str(n)} for v, n in Resident.Language.choices],
        "visit_kinds": [{"code": v, "name": str(n)} for v, n in Visit.Kind.choices],
    }


# ---- answers ------------------------------------------------------------------------------------


@dataclass
class Answer:
    """What the phone is told about one record: done, a conflict (with what to do), or refused (fix and resend)."""

    status: str  # "done" | "conflict" | "refused"
    message: str
    todo: str = ""
    # "confirm" (send again, confirmed), "retry" (send again as it is), "edit", "discard"
    options: list[str] = field(default_factory=list)
    ref: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    replayed: bool = False

    @property
    def http_status(self) -> int:
        return {"done": 200, "conflict": 409, "refused": 422}[self.status]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "todo": self.todo,
            "options": self.options,
            "ref": self.ref,
            "errors": self.errors,
            "replayed": self.replayed,
        }


class Resolvable(Exception):
    """A conflict the person decides on the phone; nothing is written, the record may be sent again."""

    def __init__(self, message: str, todo: str, options: list[str]) -> None:
        super().__init__(message)
        self.answer = Answer("conflict", message, todo, options)


@dataclass
class Outcome:
    """What a handler wrote: the answer to keep for replays and the region it was written in."""

    answer: Answer
    region_code: str


# ---- the records ------------------------------------------------------------------------------


def _text(data: dict[str, Any], name: str, limit: int = 10_000) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({name: [_("“%(f)s”应为文字。") % {"f": name}]})
    return value[:limit]


def _moved_message(user: User, code: str) -> str:
    """Where a household of the phone's list went, when the pages would tell: a move out of the user's grids."""
    move = (
        HouseholdMove.objects.filter(household__code=code, from_grid__grid_workers__user=user)
        .select_related("to_grid")
        .order_by("-day")
        .first()
    )
    if move is not None:
        return _("户 %(c)s 已于 %(d)s 转场到网格“%(g)s”，不再由您负责。") % {
            "c": code,
            "d": move.day.isoformat(),
            "g": move.to_grid.name,
        }
    return _("户 %(c)s 不存在或已不在您的负责范围内（可能已转场或调整网格）。") % {"c": code}


def _my_household(user: User, data: dict[str, Any], *, allowed: Any = None) -> Household:
    """The household the record names, among those the user may visit (or `allowed`).

    Else a conflict saying where it went, when the pages would say it."""
    code = _text(data, "household", 30).strip()
    rows = allowed if allowed is not None else selectors.households_for_visit(user)
    found = rows.select_related("grid", "village", "claimed_by").filter(code=code).first() if code else None
    if found is None:
        if not code:
            raise ValidationError({"household": [_("请选择户。")]})
        raise Resolvable(
            _moved_message(user, code),
            _("这条记录没有登记。请联系该户现在所在网格的网格员或嘎查村转交情况，然后删除这条记录。"),
            ["discard"],
        )
    return found


def _visit(user: User, data: dict[str, Any]) -> Outcome:
    household = _my_household(user, data)
    raw = _text(data, "visited_at", 40)
    try:
        parsed = dateparse.parse_datetime(raw.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError({"visited_at": [_("走访时间“%(v)s”无效。") % {"v": raw}]})
    lat, lng = data.get("lat"), data.get("lng")
    for value in (lat, lng):
        if value is not None and not isinstance(value, int | float):
            raise ValidationError({"position": [_("位置“%(v)s”不是数字。") % {"v": str(value)[:20]}]})
    photo_ids = data.get("photos") or []
    if not isinstance(photo_ids, list) or not all(isinstance(p, str) for p in photo_ids):
        raise ValidationError({"photos": [_("照片清单无效。")]})
    uploads = _uploads_complete(user, photo_ids)
    opened = [_as_file(u) for u in uploads]
    try:
        visit = services.visit_record(
            actor=user,
            household=household,
            visited_at=inputs.aware(parsed, "visited_at"),
            notes=_text(data, "notes"),
            kind=_text(data, "kind", 10) or Visit.Kind.VISIT,
            lat=float(lat) if lat is not None else None,
            lng=float(lng) if lng is not None else None,
            photos=opened,
        )
    finally:
        for f in opened:
            f.close()
    PhotoUpload.objects.filter(pk__in=[u.pk for u in uploads]).update(visit=visit)
    for path in [_part_path(u) for u in uploads]:
        transaction.on_commit(lambda path=path: path.unlink(missing_ok=True))  # type: ignore[misc]
    message = _("走访已登记：户 %(c)s，照片 %(n)d 张。") % {"c": household.code, "n": len(uploads)}
    return Outcome(Answer("done", message, ref={"visit": visit.pk}), visit.region_code)


def _parties(user: User, rows: Any, residents: Any) -> list[case_services.PartyInput]:
    """Parties as typed on the phone, or a resident of the list by id (their full ID never leaves the server)."""
    if not isinstance(rows, list):
        raise ValidationError({"parties": [_("当事人清单无效。")]})
    parties = []
    for n, row in enumerate(rows[:50]):
        if not isinstance(row, dict):
            raise ValidationError({f"parties.{n}": [_("当事人无效。")]})
        role = _text(row, "role", 20) or "applicant"
        if row.get("resident") is not None:
            if not isinstance(row["resident"], int) or isinstance(row["resident"], bool):
                raise ValidationError({f"parties.{n}": [_("所选居民无效。")]})
            resident = residents.filter(pk=row["resident"]).select_related("household").first()
            if resident is None:
                raise ValidationError({f"parties.{n}": [_("所选居民不在您的负责范围内。")]})
            parties.append(
                case_services.PartyInput(
                    kind="person",
                    role=role,
                    name=resident.name,
                    id_number=resident.id_number,
                    phone=resident.phone,
                    address=resident.household.address,
                )
            )
            continue
        parties.append(
            case_services.PartyInput(
                kind=_text(row, "kind", 20) or "person",
                role=role,
                name=_text(row, "name", 200),
                id_number=_text(row, "id_number", 40),
                phone=_text(row, "phone", 40),
                address=_text(row, "address", 300),
            )
        )
    return parties


def _people(data: dict[str, Any]) -> int:
    value = data.get("people_involved", 1)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError({"people_involved": [_("涉及人数应为整数。")]})
    return value


def _repeats_refusal(region: Region, parties: list[case_services.PartyInput], description: str, category: Any) -> None:
    repeats = case_services.find_repeats(region=region, parties=parties, description=description, category=category)
    if repeats:
        found = "；".join(f"{r.case.number}（{r.why}）" for r in repeats[:3])
        raise Resolvable(
            _("这起纠纷可能已经上报过：%(f)s。") % {"f": found},
            _("如确认是另一起纠纷，点“仍然上报”；如是同一起，点“放弃”，到该案件补充情况。"),
            ["confirm", "discard"],
        )


def _dispute(user: User, data: dict[str, Any]) -> Outcome:
    worker = GridWorker.objects.filter(user=user).select_related("grid").first()
    if worker is None or Role.GRID_WORKER not in access.roles_of(user):
        raise PermissionDenied(_("只有网格员可以上报矛盾纠纷。"))
    household = _my_household(user, data) if _text(data, "household", 30).strip() else None
    region = household.grid if household is not None else worker.grid
    category = category_by_code_or_name(_text(data, "category", 50))
    description = _text(data, "description")
    scope = access.scope_of(user)
    parties = _parties(user, data.get("parties") or [], Resident.objects.filter(scope.q()))
    if data.get("confirm_repeat") is not True:
        _repeats_refusal(region, parties, description.strip(), category)
    lat, lng = data.get("lat"), data.get("lng")
    case = case_services.case_intake(
        actor=user,
        category=category,
        title=_text(data, "title", 200),
        description=description,
        region=region,
        parties=parties,
        people_involved=_people(data),
        location=_text(data, "location", 300) or (household.address if household else ""),
        lat=float(lat) if isinstance(lat, int | float) else None,
        lng=float(lng) if isinstance(lng, int | float) else None,
    )
    message = _("纠纷已上报：案件 %(n)s（%(t)s）。") % {"n": case.number, "t": case.title}
    return Outcome(Answer("done", message, ref={"case": case.number}), case.region_code)


def _claim(user: User, data: dict[str, Any]) -> Outcome:
    household = _my_household(user, data)
    worker = GridWorker.objects.filter(user=user).first()
    holder = household.claimed_by
    seen = data.get("seen_claimed_by") or None
    if holder is not None and worker is not None and holder.pk == worker.pk:
        return Outcome(Answer("done", _("户 %(c)s 已由您认领。") % {"c": household.code}), household.region_code)
    if holder is not None and holder.grid_id == household.grid_id and holder.code != seen:
        # Claimed meanwhile by a colleague of the same grid: the phone's claim would silently take it over.
        message = _("户 %(c)s 已于 %(t)s 由同网格的网格员 %(w)s 认领，您的认领没有登记。") % {
            "c": household.code,
            "t": timezone.localtime(household.claimed_at).strftime("%Y-%m-%d %H:%M") if household.claimed_at else "",
            "w": holder.name,
        }
        todo = _("无需再认领。如应改由您负责，请与 %(w)s 商量后由嘎查村调整。") % {"w": holder.name}
        return Outcome(Answer("conflict", message, todo, ["discard"]), household.region_code)
    result = grid_services.household_claim(actor=user, household=household)
    if isinstance(result, ClaimConflict):
        message = _("户 %(c)s 已由网格“%(g)s”的网格员 %(w)s 认领，您的认领已提交嘎查村裁定。") % {
            "c": household.code,
            "g": result.holder.grid.name,
            "w": result.holder.name,
        }
        todo = _("请等待嘎查村裁定；裁定前仍由 %(w)s 负责。") % {"w": result.holder.name}
        return Outcome(
            Answer("conflict", message, todo, ["discard"], ref={"claim_conflict": result.pk}), household.region_code
        )
    return Outcome(
        Answer("done", _("已认领户 %(c)s。") % {"c": household.code}, ref={"household": household.code}),
        household.region_code,
    )


def _resident(user: User, data: dict[str, Any]) -> Outcome:
    household = _my_household(user, data)
    number = _text(data, "id_number", 40)
    if number and not resident_id_errors(number):
        elsewhere = Resident.objects.filter(id_index=resident_id_index(number)).select_related("household").first()
        if elsewhere is not None:
            raise Resolvable(
                _("该身份证号已登记在户 %(h)s（%(n)s），一人只能属于一户。")
                % {"h": elsewhere.household.code, "n": elsewhere.name},
                _("如此人已迁入本户，请原户所在网格先办理迁出，再点“重新提交”；如号码填错，请修改后提交。"),
                ["edit", "retry", "discard"],
            )
    resident = grid_services.resident_add(
        actor=user,
        household=household,
        name=_text(data, "name", 100),
        relation=_text(data, "relation", 20),
        ethnicity=_text(data, "ethnicity", 40),
        language=_text(data, "language", 2),
        id_number=number,
        phone=_text(data, "phone", 20),
        registered=data.get("registered", True) is not False,
        living=data.get("living", True) is not False,
    )
    what = _("新生儿") if data.get("reason") == "newborn" else _("新迁入人员")
    message = _("已登记%(w)s %(n)s 到户 %(c)s。") % {"w": what, "n": resident.name, "c": household.code}
    return Outcome(Answer("done", message, ref={"resident": resident.pk}), resident.region_code)


def _count(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError({name: [_("“%(f)s”应为整数。") % {"f": name}]})
    return value


def _mobile_stop(user: User, data: dict[str, Any]) -> Outcome:
    unit_id = data.get("unit")
    if not isinstance(unit_id, int):
        raise ValidationError({"unit": [_("请选择乌日特。")]})
    try:
        unit = selectors.unit_get(user, unit_id)
    except Http404:
        raise Resolvable(
            _("该乌日特不存在或您已不是其成员。"), _("这条记录没有登记，请联系旗县综治中心。"), ["discard"]
        ) from None
    stop_id = data.get("stop")
    stop = selectors.stops_of(unit).filter(pk=stop_id).first() if isinstance(stop_id, int) else None
    try:
        visited_on = datetime.date.fromisoformat(_text(data, "visited_on", 10))
    except ValueError:
        raise ValidationError({"visited_on": [_("请填写服务日期。")]}) from None
    types = {s.code: s for s in ServiceType.objects.all()}
    delivered: dict[ServiceType, tuple[int, str]] = {}
    if not isinstance(data.get("services") or [], list):
        raise ValidationError({"services": [_("服务项目无效。")]})
    for row in data.get("services") or []:
        if not isinstance(row, dict) or row.get("code") not in types:
            raise ValidationError({"services": [_("服务项目无效。")]})
        delivered[types[row["code"]]] = (_count(row.get("count", 1), "services"), _text(row, "note", 300))
    visit = services.mobile_visit_record(
        unit=unit,
        actor=user,
        visited_on=visited_on,
        services=delivered,
        stop=stop,
        people_served=_count(data.get("people_served", 0), "people_served"),
        notes=_text(data, "notes"),
    )
    for name in ("cases", "items", "services"):
        rows = data.get(name) or []
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValidationError({name: [_("“%(f)s”应为清单。") % {"f": name}]})
    served = unit.households.all()
    residents = Resident.objects.filter(household__in=served)
    numbers, items = [], []
    for n, row in enumerate(data.get("cases") or []):
        household = _my_household(user, row, allowed=served) if _text(row, "household", 30).strip() else None
        try:
            case = services.mobile_visit_case_raise(
                visit=visit,
                actor=user,
                category=category_by_code_or_name(_text(row, "category", 50)),
                title=_text(row, "title", 200),
                description=_text(row, "description"),
                parties=_parties(user, row.get("parties") or [], residents),
                household=household,
                people_involved=_people(row),
            )
        except ValidationError as error:
            raise ValidationError({f"cases.{n}.{k}": v for k, v in error.message_dict.items()}) from None
        numbers.append(case.number)
    for n, row in enumerate(data.get("items") or []):
        household = _my_household(user, row, allowed=served) if _text(row, "household", 30).strip() else None
        try:
            item = services.mobile_field_item_raise(
                visit=visit,
                actor=user,
                kind=_text(row, "kind", 10),
                title=_text(row, "title", 200),
                description=_text(row, "description"),
                household=household,
            )
        except ValidationError as error:
            raise ValidationError({f"items.{n}.{k}": v for k, v in error.message_dict.items()}) from None
        items.append(item.pk)
    message = _("乌日特服务已登记：%(u)s，%(d)s，服务 %(s)d 项，上报纠纷 %(c)d 件、事项 %(i)d 件。") % {
        "u": unit.name,
        "d": visited_on.isoformat(),
        "s": len(delivered),
        "c": len(numbers),
        "i": len(items),
    }
    return Outcome(
        Answer("done", message, ref={"mobile_visit": visit.pk, "cases": numbers, "items": items}), visit.region_code
    )


HANDLERS: dict[str, Callable[[User, dict[str, Any]], Outcome]] = {
    "visit": _visit,
    "dispute": _dispute,
    "claim": _claim,
    "resident": _resident,
    "mobile_stop": _mobile_stop,
}


def _stored(row: SyncRecord) -> Answer:
    kept = json.loads(row.answer)
    return Answer(**{**kept, "replayed": True})


def record_sync(*, actor: User, client_id: str, kind: str, data: dict[str, Any]) -> Answer:
    """Write one record from a phone's queue through the pages' services, once, whatever the number of replays."""
    if not CLIENT_ID.match(client_id or ""):
        return Answer("refused", _("记录编号无效。"), errors={"client_id": [_("记录编号无效。")]})
    if kind not in HANDLERS:
        return Answer(
            "refused", _("未知的记录类型“%(k)s”。") % {"k": kind[:20]}, errors={"kind": [_("未知的记录类型。")]}
        )
    if not isinstance(data, dict):
        return Answer("refused", _("记录内容无效。"), errors={"data": [_("记录内容无效。")]})
    existing = SyncRecord.objects.filter(user=actor, client_id=client_id).first()
    if existing is not None:
        return _stored(existing)
    try:
        with transaction.atomic():
            outcome = HANDLERS[kind](actor, data)
            kept = {k: v for k, v in outcome.answer.as_dict().items() if k != "replayed"}
            SyncRecord.objects.create(
                user=actor,
                client_id=client_id,
                kind=kind,
                status=SyncRecord.Status.DONE if outcome.answer.status == "done" else SyncRecord.Status.CONFLICT,
                region_code=outcome.region_code,
                answer=json.dumps(kept, ensure_ascii=False),
                created_at=timezone.now(),
            )
    except Resolvable as conflict:
        return conflict.answer
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        message = "；".join(m for ms in errors.values() for m in ms)
        return Answer("refused", message, _("请修改后重新提交。"), ["edit", "discard"], errors=errors)
    except PermissionDenied as error:
        return Answer("refused", str(error) or _("无权执行该操作。"), options=["discard"])
    except Http404:
        return Answer("refused", _("所选内容不存在或不在您的负责范围内。"), options=["discard"])
    except IntegrityError:
        # The same record arrived twice at once: the other request wrote it; its answer is the answer.
        existing = SyncRecord.objects.filter(user=actor, client_id=client_id).first()
        if existing is None:
            raise
        return _stored(existing)
    return outcome.answer


# ---- photos in chunks ---------------------------------------------------------------------------


def _part_path(upload: PhotoUpload) -> Path:
    return Path(settings.MEDIA_ROOT) / "field-uploads" / f"{upload.user_id}-{upload.upload_id}.part"


def upload_state(upload: PhotoUpload) -> dict[str, Any]:
    return {
        "upload_id": upload.upload_id,
        "offset": upload.received,
        "size": upload.size,
        "complete": upload.completed_at is not None,
    }


def upload_get(user: User, upload_id: str) -> PhotoUpload:
    found = PhotoUpload.objects.filter(user=user, upload_id=upload_id).first()
    if found is None:
        raise Http404
    return found


def upload_start(*, actor: User, upload_id: str, name: str, size: int, sha256: str, content_type: str) -> PhotoUpload:
    """Announce a photo (its size and SHA-256); announcing it again answers where it stands."""
    errors: dict[str, list[str]] = {}
    if not CLIENT_ID.match(upload_id or ""):
        errors["upload_id"] = [_("照片编号无效。")]
    if not 0 < size <= services.MAX_PHOTO_BYTES:
        errors["size"] = [_("照片“%(n)s”超过 10 MB 或为空。") % {"n": name[:100]}]
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        errors["sha256"] = [_("照片校验值无效。")]
    if content_type not in services.PHOTO_TYPES:
        errors["content_type"] = [_("照片只接受 JPEG 或 PNG 格式。")]
    errors.update(inputs.text_errors(PhotoUpload, {"name": name}))
    if errors:
        raise ValidationError(errors)
    if not access.roles_of(actor) & {Role.GRID_WORKER}:
        raise PermissionDenied(_("只有网格员可以上传走访照片。"))
    try:
        with transaction.atomic():
            upload, created = PhotoUpload.objects.get_or_create(
                user=actor,
                upload_id=upload_id,
                defaults={
                    "name": name.rsplit("/", 1)[-1][:200] or "photo",
                    "content_type": content_type,
                    "size": size,
                    "sha256": sha256,
                    "created_at": timezone.now(),
                },
            )
    except IntegrityError:
        upload, created = PhotoUpload.objects.get(user=actor, upload_id=upload_id), False
    if not created and (upload.size, upload.sha256) != (size, sha256):
        raise ValidationError({"upload_id": [_("照片编号已用于另一张照片。")]})
    if created:
        path = _part_path(upload)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
    return upload


class OffsetMismatch(Exception):
    """A chunk sent past what the server has: the phone resumes from `received`."""

    def __init__(self, received: int) -> None:
        super().__init__(received)
        self.received = received


def upload_chunk(*, actor: User, upload_id: str, offset: int, data: bytes) -> PhotoUpload:
    """Append the bytes at `offset`; bytes the server already has are skipped, a gap is refused (OffsetMismatch)."""
    with transaction.atomic():
        upload = PhotoUpload.objects.select_for_update().filter(user=actor, upload_id=upload_id).first()
        if upload is None:
            raise Http404
        if upload.completed_at is not None:
            return upload
        if offset < 0 or offset > upload.received:
            raise OffsetMismatch(upload.received)
        new = data[upload.received - offset :]
        if upload.received + len(new) > upload.size:
            raise ValidationError({"offset": [_("照片内容超过声明的大小。")]})
        path = _part_path(upload)
        with path.open("r+b") as part:
            part.seek(upload.received)
            part.write(new)
            part.truncate()
        upload.received += len(new)
        fields = ["received"]
        spoiled = False
        if upload.received == upload.size:
            if hashlib.sha256(path.read_bytes()).hexdigest() == upload.sha256:
                upload.completed_at = timezone.now()
                fields.append("completed_at")
            else:  # not the photo announced: it starts again from the first byte
                path.write_bytes(b"")
                upload.received, spoiled = 0, True
        upload.save(update_fields=fields)
    if spoiled:
        raise ValidationError({"sha256": [_("照片“%(n)s”校验不符，请重新上传。") % {"n": upload.name}]})
    return upload


def _uploads_complete(user: User, ids: list[str]) -> list[PhotoUpload]:
    found = {u.upload_id: u for u in PhotoUpload.objects.filter(user=user, upload_id__in=ids[:20])}
    missing = [i for i in ids if i not in found or found[i].completed_at is None or found[i].visit_id is not None]
    if missing:
        raise ValidationError({"photos": [_("还有 %(n)d 张照片没有上传完，请稍后再同步。") % {"n": len(missing)}]})
    return [found[i] for i in ids]


def _as_file(upload: PhotoUpload) -> UploadedFile:
    return UploadedFile(
        _part_path(upload).open("rb"), name=upload.name, content_type=upload.content_type, size=upload.size
    )
