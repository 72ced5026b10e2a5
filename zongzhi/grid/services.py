"""Writes on the grid registry: households, residents and claiming (认领); seasonal moves are in `seasons`.

The one writer of households and residents: the pages and the field app register one at a time
(`household_register`, `resident_add`), the resident import and the demo seeder many at once
(`households_register_bulk`, `residents_register_bulk`: one bulk write, COPY on PostgreSQL).
"""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access, inputs
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.bulk import insert_rows
from zongzhi.grid.models import ClaimConflict, GridWorker, Household, Resident
from zongzhi.grid.selectors import phone_index, resident_id_index
from zongzhi.identity import normalize_resident_id, resident_id_errors
from zongzhi.outbox.services import household_claimed
from zongzhi.regions import codes
from zongzhi.regions.models import Region


def _grid_under(grid: Region | None, village: Region, field: str) -> dict[str, list[str]]:
    if grid is None:
        return {}
    if grid.level != codes.GRID or not grid.code.startswith(village.prefix):
        return {field: [_("网格“%(g)s”不在嘎查村“%(v)s”之下。") % {"g": grid.code, "v": village.name}]}
    return {}


def household_register(
    *,
    actor: Any,
    village: Region,
    grid: Region,
    address: str = "",
    herder: bool = False,
    summer_grid: Region | None = None,
    winter_grid: Region | None = None,
    code: str = "",
) -> Household:
    """Register a household at a village, living in one of its grids (the actor's own, for a grid worker)."""
    code = code.strip()
    errors = inputs.text_errors(Household, {"address": address, "code": code})
    if village.level != codes.VILLAGE:
        errors["village"] = [_("请选择嘎查村社区。")]
    else:
        errors.update(_grid_under(grid, village, "grid"))
        errors.update(_grid_under(summer_grid, village, "summer_grid"))
        errors.update(_grid_under(winter_grid, village, "winter_grid"))
    if not access.scope_of(actor).covers(grid.code):
        errors["grid"] = [_("网格“%(g)s”不在您的负责范围内。") % {"g": grid.name}]
    if herder and (summer_grid is None) != (winter_grid is None):
        errors["summer_grid"] = [_("牧户的夏营地和冬营地网格要么都填，要么都不填。")]
    if code and "code" not in errors and Household.objects.filter(code=code).exists():
        errors["code"] = [_("户编号“%(c)s”已被使用。") % {"c": code}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if not code:
            # Registrations in one grid take turns for the next number (a row lock on the grid on
            # PostgreSQL; SQLite has one writer at a time), so none is handed out twice.
            Region.objects.select_for_update().filter(pk=grid.pk).first()
            code = _next_household_code(grid)
        try:
            with transaction.atomic():
                household = Household.objects.create(
                    code=code,
                    village=village,
                    grid=grid,
                    region_code=grid.code,
                    address=address.strip(),
                    herder=herder,
                    summer_grid=summer_grid,
                    winter_grid=winter_grid,
                )
        except IntegrityError:  # the same given code registered a moment ago by someone else
            raise ValidationError({"code": [_("户编号“%(c)s”已被使用。") % {"c": code}]}) from None
    return household


def _next_household_code(grid: Region) -> str:
    """`H` + the grid's code + one more than the highest number given in it (codes given by hand aside)."""
    prefix = f"H{grid.code}"
    last = (
        Household.objects.filter(code__startswith=prefix)
        .annotate(length=Length("code"))
        .filter(length=len(prefix) + 4)
        .aggregate(last=Max("code"))["last"]
    )
    tail = last[len(prefix) :] if last else ""
    return f"{prefix}{int(tail) + 1 if tail.isdigit() else 1:04d}"


def resident_add(
    *,
    actor: Any,
    household: Household,
    name: str,
    relation: str,
    ethnicity: str,
    language: str,
    id_number: str,
    phone: str = "",
    registered: bool = True,
    living: bool = True,
) -> Resident:
    """Add a person to a household; an ID already in another household is refused, saying where."""
    errors = inputs.text_errors(
        Resident, {"name": name, "ethnicity": ethnicity, "id_number": id_number, "phone": phone}
    )
    if not access.scope_of(actor).covers(household.region_code):
        raise PermissionDenied(_("该户不在您的负责范围内。"))
    if not name.strip():
        errors["name"] = [_("请填写姓名。")]
    if relation not in Resident.Relation.values:
        errors["relation"] = [_("请选择与户主关系。")]
    if language not in Resident.Language.values:
        errors["language"] = [_("请选择常用语言。")]
    if not ethnicity.strip():
        errors["ethnicity"] = [_("请填写民族。")]
    problems = resident_id_errors(id_number)
    if problems:
        errors["id_number"] = problems
    phone = phone.strip()
    if phone and not (phone.isdigit() and len(phone) == 11):
        errors["phone"] = [_("手机号应为 11 位数字。")]
    if not registered and not living:
        errors["registered"] = [_("户籍人口和常住人口至少选一项。")]
    if not problems:
        existing = Resident.objects.filter(id_index=resident_id_index(id_number)).select_related("household").first()
        if existing is not None:
            errors["id_number"] = [
                _("该身份证号已登记在户 %(h)s（%(n)s），一人只能属于一户。")
                % {"h": existing.household.code, "n": existing.name}
            ]
    if errors:
        raise ValidationError(errors)
    number = normalize_resident_id(id_number)
    with transaction.atomic():
        return Resident.objects.create(
            household=household,
            region_code=household.region_code,
            name=name.strip(),
            relation=relation,
            ethnicity=ethnicity.strip(),
            language=language,
            id_number=number,
            id_index=resident_id_index(number),
            phone=phone,
            phone_index=phone_index(phone),
            registered=registered,
            living=living,
        )


def _worker_of(actor: Any, named: GridWorker | None = None) -> GridWorker:
    """Who claims: the acting grid worker, or the grid worker a system granted `claims:write` names."""
    if access.system_may(actor, "claims:write"):
        if named is None:
            raise ValidationError({"worker": [_("服务账号认领须写明由哪位网格员认领（worker，网格员编号）。")]})
        if not access.scope_of(actor).covers(named.region_code):
            raise ValidationError({"worker": [_("网格员“%(w)s”不在本账号的辖区内。") % {"w": named.code}]})
        return named
    worker = GridWorker.objects.filter(user=actor).select_related("grid").first()
    if worker is None:
        raise PermissionDenied(_("只有网格员可以认领。"))
    if named is not None and named.pk != worker.pk:
        raise PermissionDenied(_("网格员只能以本人名义认领。"))
    return worker


def household_claim(*, actor: Any, household: Household, worker: GridWorker | None = None) -> Household | ClaimConflict:
    """认领: the grid worker of the household's grid takes it on; another grid's claim is a conflict.

    A system granted `claims:write` claims for the grid worker it names (`worker`); it is the actor.
    """
    worker = _worker_of(actor, worker)
    if household.grid_id != worker.grid_id:
        raise ValidationError(
            {
                "household": [
                    _("户 %(h)s 住在网格“%(g)s”，不在您的网格内，不能认领。")
                    % {"h": household.code, "g": household.grid.name}
                ]
            }
        )
    now = timezone.now()
    with transaction.atomic():
        current = Household.objects.select_for_update(of=("self",)).select_related("claimed_by").get(pk=household.pk)
        holder = current.claimed_by
        if holder is not None and holder.grid_id != worker.grid_id:
            conflict, _created = ClaimConflict.objects.get_or_create(
                household=current,
                status=ClaimConflict.Status.OPEN,
                defaults={"region_code": current.village.code, "holder": holder, "claimant": worker, "raised_at": now},
            )
            return conflict
        Household.objects.filter(pk=current.pk, region_code=current.region_code).update(
            claimed_by=worker, claimed_grid=worker.grid, claimed_at=now
        )
        current.claimed_by, current.claimed_grid_id, current.claimed_at = worker, worker.grid_id, now
        household_claimed(current, worker)
    return current


def claim_conflict_resolve(*, actor: Any, conflict: ClaimConflict, winner: GridWorker) -> None:
    """The village decides which grid is responsible for a household claimed twice."""
    if not access.scope_of(actor).covers(conflict.household.village.code) or not (
        access.roles_of(actor) & {"center_director", "leader"} or access.system_may(actor, "claims:write")
    ):
        raise PermissionDenied(_("只有嘎查村所属中心主任或政法委领导可以裁定认领冲突。"))
    if winner.pk not in (conflict.holder_id, conflict.claimant_id):
        raise ValidationError({"winner": [_("只能在发生冲突的两个网格员之间裁定。")]})
    if conflict.status != ClaimConflict.Status.OPEN:
        raise ValidationError({"winner": [_("该冲突已裁定。")]})
    now = timezone.now()
    # The household and its residents as the conflict was read with them (they share its region code).
    held = {"region_code": conflict.household.region_code}
    with transaction.atomic():
        moved = Household.objects.filter(pk=conflict.household_id, **held).update(
            claimed_by=winner, claimed_grid=winner.grid, claimed_at=now, grid=winner.grid, region_code=winner.grid.code
        )
        if not moved:  # the seasonal switch moved it a moment ago
            raise ValidationError({"winner": [_("该户刚刚转场，请刷新后重新裁定。")]})
        Resident.objects.filter(household_id=conflict.household_id, **held).update(region_code=winner.grid.code)
        ClaimConflict.objects.filter(pk=conflict.pk, region_code=conflict.region_code).update(
            status=ClaimConflict.Status.RESOLVED, decided_by=actor, decided_at=now, winner=winner
        )
        audit_record(
            action=AuditEntry.Action.CONFIG_CHANGED,
            actor=actor,
            target=conflict.household.code,
            detail={"claim_conflict": conflict.pk, "winner": winner.code},
        )


def resident_unmask(*, actor: Any, resident: Resident, reason: str, request: Any = None) -> tuple[str, str]:
    """The full ID and phone, for the grid worker of the household or a director in jurisdiction; audited."""
    inputs.check_text(None, {"reason": reason}, labels={"reason": _("用途")})
    held = access.roles_of(actor)
    in_scope = access.scope_of(actor).covers(resident.region_code)
    if not in_scope or not held & {"grid_worker", "center_director"}:
        raise PermissionDenied(_("只有本网格的网格员或辖区中心主任可以查看完整证件号和电话。"))
    if not reason.strip():
        raise ValidationError({"reason": [_("查看完整号码须说明用途。")]})
    audit_record(
        action=AuditEntry.Action.UNMASK,
        actor=actor,
        target=f"resident:{resident.pk}",
        request=request,
        detail={"household": resident.household.code, "resident": resident.name, "reason": reason.strip()},
    )
    return resident.id_number, resident.phone


# ---- many at once: the resident import and the demo seeder -------------------------------------

HOUSEHOLD_COLUMNS = [
    *("code", "village_id", "grid_id", "region_code", "address", "herder", "summer_grid_id", "winter_grid_id"),
    *("block_head_id", "claimed_by_id", "claimed_grid_id", "claimed_at"),
]
RESIDENT_COLUMNS = [
    *("household_id", "region_code", "name", "relation", "ethnicity", "language", "id_number", "id_index"),
    *("phone", "phone_index", "registered", "living"),
]


def households_register_bulk(rows: Sequence[tuple[Any, ...]]) -> dict[str, int]:
    """Register many households in one bulk write; returns the new households' keys by code.

    Rows are in HOUSEHOLD_COLUMNS order and already checked by the caller, row by row (the import's
    validation report, the seeder's plan): codes not yet stored, grids under their village. Runs in
    the caller's transaction and records no audit entry of its own: the import job or the seed run
    records the batch.
    """
    if not rows:
        return {}
    region = HOUSEHOLD_COLUMNS.index("region_code")
    with transaction.atomic(savepoint=False):
        insert_rows(Household, HOUSEHOLD_COLUMNS, rows)
        keys = [row[0] for row in rows]
        # The rows just written, read back within the span of the region codes they were written with.
        written = Household.objects.filter(codes.range_q(codes.span(row[region] for row in rows)))
        if keys == sorted(keys):  # the seeder's batches, grid by grid: one range scan of the code index
            wanted = set(keys)
            stored = written.filter(code__gte=keys[0], code__lte=keys[-1]).values_list("code", "pk")
            return {code: pk for code, pk in stored if code in wanted}
        found: dict[str, int] = {}
        for i in range(0, len(keys), 500):
            found.update(written.filter(code__in=keys[i : i + 500]).values_list("code", "pk"))
    return found


def residents_register_bulk(rows: Sequence[tuple[Any, ...]]) -> int:
    """Add many people to their households in one bulk write (ID and phone encrypted on the way).

    Rows are in RESIDENT_COLUMNS order, checked by the caller (valid IDs, none already registered,
    blind indexes as `resident_id_index` and `phone_index` make them). Returns the number written.
    """
    if rows:
        with transaction.atomic(savepoint=False):
            insert_rows(Resident, RESIDENT_COLUMNS, rows)
    return len(rows)


def household_import_update(
    *, household_pk: int, region_code: str, grid_code: str, moved: bool, values: dict[str, Any]
) -> None:
    """A stored household (stored with `region_code`) as an import file has it now: its fields, and its
    residents' grid when it `moved` (they carry the household's code)."""
    with transaction.atomic(savepoint=False):
        Household.objects.filter(pk=household_pk, region_code=region_code).update(region_code=grid_code, **values)
        if moved:
            Resident.objects.filter(household_id=household_pk, region_code=region_code).update(region_code=grid_code)


def residents_import_update(residents: Sequence[Resident], fields: Sequence[str], *, within: Q) -> int:
    """Stored people as an import file has them now (`fields` of each, by key), each stored under the
    region `within` names (the import's scope); returns the number updated."""
    with transaction.atomic(savepoint=False):
        Resident.objects.filter(within).bulk_update(residents, list(fields), batch_size=500)
    return len(residents)
