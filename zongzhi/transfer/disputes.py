"""Historical disputes (历史矛盾纠纷台账) with their parties and outcomes, one row per party.

The case columns repeat on each party's row. Natural key: the original number (原编号) of an
imported case (channel `import`). Cases and their history are written by the case services
(`services.case_import` and the transitions `services.ledger_steps` names), so the timeline
replays through the transition table and the rollups follow every event as they do on the platform.

A re-import never overwrites what was done on the platform: a case handled there since it was
imported (an event the import did not write, or a later version) is a rejected row, as is a change
no transition can record (another registration day or place, another outcome of a closed case).
A case the platform has not touched is left alone when the file says the same, else brought up to
date: its outcome by the transitions, other columns and parties by a correction (台账更正).
"""

import datetime
import decimal
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zongzhi.accounts.models import Membership, Role
from zongzhi.cases import selectors, services, workflow
from zongzhi.cases.models import Case, Category, Party, State
from zongzhi.centers.models import Center
from zongzhi.crypto import blind_index
from zongzhi.identity import NATIONALITIES, normalize_resident_id, passport_errors, resident_id_errors, uscc_errors
from zongzhi.regions import codes
from zongzhi.transfer.common import Regions, RowErrors, choice, date, options_of, required_text
from zongzhi.transfer.engine import Context, Counts, ImportKind, Outcome
from zongzhi.transfer.reader import Column, Row, clean_text, compact

RISKS = options_of(Case.Risk, 红="red", 橙="orange", 黄="yellow", 蓝="blue")
OUTCOMES = options_of(Case.Outcome, 调解成功="agreement", 诉讼="litigation", 仲裁="arbitration")
ROLES = options_of(Party.Role, 申请方="applicant", 被申请方="respondent", 被申请人方="respondent")
PARTY_KINDS = options_of(Party.Kind, 个人="person", 法人="organisation", 外籍="foreigner", 外国人="foreigner")
MAX_AMOUNT = decimal.Decimal("999999999999.99")


@dataclass(frozen=True)
class HistoricalCase:
    """A case as the file gives it (the same on every party row)."""

    original: str
    registered_on: datetime.date
    region_code: str
    region_pk: int
    center_pk: int
    center_given: bool  # named in the file (else the center nearest the place, which may change)
    category_pk: int
    title: str
    description: str
    location: str
    amount: decimal.Decimal | None
    people: int
    risk: str
    outcome: str
    closed_on: datetime.date | None
    outcome_note: str

    def ledger(self) -> services.LedgerCase:
        return services.LedgerCase(
            original_number=self.original,
            registered_at=_at(self.registered_on, 9),
            region_id=self.region_pk,
            region_code=self.region_code,
            center_id=self.center_pk,
            category_id=self.category_pk,
            title=self.title,
            description=self.description,
            location=self.location,
            amount=self.amount,
            people_involved=self.people,
            risk_level=self.risk,
            outcome=self.outcome,
            closed_at=_at(self.closed_on, 17) if self.closed_on else None,
            outcome_note=self.outcome_note,
        )


class DisputesImport(ImportKind):
    """历史矛盾纠纷."""

    name = "disputes"
    label = gettext_lazy("历史矛盾纠纷")
    columns = [
        Column(
            "original",
            "原编号",
            ("原案件编号", "台账编号", "原始编号", "案件编号", "编号"),
            True,
            "原台账中的编号，重复导入时据此更新；已在平台办理的案件不会被覆盖",
            "TZ-2023-0001",
        ),
        Column(
            "registered",
            "受理日期",
            ("登记日期", "受理时间", "登记时间"),
            True,
            "如 2023-03-05、2023年3月5日",
            "2023-03-05",
        ),
        Column(
            "region",
            "发生地",
            ("发生地区划", "区划代码", "所在嘎查村", "发生地点区划"),
            True,
            "区划代码，或不重名的区划名称",
            "152502001001",
        ),
        Column(
            "center",
            "办理中心",
            ("受理中心", "中心编码"),
            False,
            "中心编码或名称；不填时为发生地所属的中心",
            "ZZ-152502",
        ),
        Column("category", "纠纷类别", ("类别", "纠纷类型", "案件类别"), True, "类别名称或代码", "草场边界"),
        Column("title", "事由", ("案由", "纠纷事由", "标题"), True, "不超过 100 字", "邻里宅基地界址纠纷"),
        Column("description", "纠纷情况", ("基本情况", "简要案情", "案情"), False, "不填时同事由", ""),
        Column("location", "具体地点", ("地点",), False, "", ""),
        Column("amount", "涉及金额（元）", ("涉及金额", "金额", "标的额"), False, "0 或以上，单位元", "5000"),
        Column("people", "涉及人数", ("人数",), False, "1–100000，默认 1", "2"),
        Column("risk", "风险等级", ("风险",), False, "红色、橙色、黄色、蓝色，默认蓝色", "蓝色"),
        Column(
            "outcome",
            "结案方式",
            ("办理结果", "处理结果", "化解结果"),
            False,
            "达成调解协议、其他方式化解、引导诉讼…；已结案的必填",
            "达成调解协议",
        ),
        Column(
            "closed", "结案日期", ("办结日期", "结案时间"), False, "填写结案方式时必填，不早于受理日期", "2023-03-20"
        ),
        Column("outcome_note", "结案说明", ("办理情况", "备注"), False, "", ""),
        Column("party_role", "当事人身份", ("身份", "当事人角色"), False, "申请人、被申请人、第三人", "申请人"),
        Column(
            "party_kind", "当事人类型", ("当事人类别",), False, "自然人、单位、外籍人员；不填时按证件号判断", "自然人"
        ),
        Column("party_name", "当事人姓名", ("当事人", "当事人名称", "姓名"), False, "每行一名当事人", "张三"),
        Column(
            "party_id",
            "证件号码",
            ("身份证号", "身份证号码", "统一社会信用代码", "护照号码"),
            False,
            "身份证号、统一社会信用代码或护照号",
            "",
        ),
        Column("party_nationality", "国籍", (), False, "外籍人员填写三位字母代码，如 MNG", ""),
        Column("party_phone", "当事人电话", ("联系电话", "电话"), False, "", ""),
        Column("party_address", "当事人住址", ("住址", "地址"), False, "", ""),
    ]

    def validate(self, rows: list[Row], ctx: Context) -> list[Outcome]:
        regions = Regions.of(ctx)
        if "categories" not in ctx.cache:
            found: dict[str, int] = {}
            for pk, code, name in Category.objects.values_list("pk", "code", "name"):
                found[code] = pk
                found[name] = pk if name not in found else -1  # -1: a name used twice
            ctx.cache["categories"] = found
            centers = Center.objects.filter(ctx.scope.q()).values_list("pk", "code", "name", "region_code", "level")
            ctx.cache["centers"] = {c[1]: c[0] for c in centers} | {c[2]: c[0] for c in centers}
            prefixes = [(codes.prefix_of(c[3], c[4]), c[0]) for c in centers]
            ctx.cache["center_prefixes"] = sorted(prefixes, key=lambda x: -len(x[0]))
        cases: dict[str, tuple[int, int]] = ctx.seen.setdefault("cases", {})
        parties: dict[tuple[str, str], int] = ctx.seen.setdefault("parties", {})
        outcomes = []
        for row in rows:
            errors = RowErrors()
            case = self._case(row, regions, ctx, errors)
            party = self._party(row, errors)
            if case is not None and not errors:
                first = cases.setdefault(case.original, (row.number, hash(case)))
                if first[1] != hash(case):
                    errors.add("original", _("同一原编号在第 %(row)d 行填写的案件信息不同。") % {"row": first[0]})
                elif party is not None:
                    seen_at = parties.setdefault((case.original, party[6] or party[2]), row.number)
                    if seen_at != row.number:
                        errors.add("party_name", _("当事人与本文件第 %(row)d 行重复。") % {"row": seen_at})
            outcomes.append(Outcome(row=row, problems=errors.items, record=None if errors else (case, party)))
        valid: dict[str, list[Outcome]] = {}
        for o in outcomes:
            if o.record:
                valid.setdefault(o.record[0].original, []).append(o)
        stored: dict[str, selectors.ImportedCase | None] = ctx.seen.setdefault("stored", {})
        looked_up = selectors.imported_cases([original for original in valid if original not in stored])
        for original in valid:
            stored.setdefault(original, looked_up.get(original))
        for original, rows_of_case in valid.items():
            imported = stored[original]
            if imported is None:
                continue
            problem = _re_import_problem(rows_of_case[0].record[0], imported, ctx)
            if problem is not None:
                for o in rows_of_case:
                    o.problems.append(problem)
                    o.record = None
        return outcomes

    def _case(self, row: Row, regions: Regions, ctx: Context, errors: RowErrors) -> HistoricalCase | None:
        v = row.values
        original = clean_text(v.get("original"))
        if not original:
            errors.add("original", _("缺少必填项“%(label)s”。") % {"label": "原编号"})
        registered = date(v, "registered", "受理日期", errors, required=True, earliest=datetime.date(1990, 1, 1))
        region = regions.find(v.get("region"), None, "region", "发生地", errors)
        category = ctx.cache["categories"].get(clean_text(v.get("category")), 0)
        if category <= 0:
            reason = _("未知纠纷类别“%(c)s”。") if category == 0 else _("纠纷类别名称“%(c)s”有重名，请填写类别代码。")
            errors.add("category", reason % {"c": clean_text(v.get("category"))})
        title = required_text(v, "title", "事由", errors, 100)
        center = self._center(clean_text(v.get("center")), region, ctx, errors)
        if center is not None and _owner(center, ctx) is None:
            errors.add("center", _("办理中心没有受理员或主任账号，无法确定首问责任人。"))
        amount = None
        if text := compact(v.get("amount")).replace(",", "").removesuffix("元"):
            try:
                amount = decimal.Decimal(text).quantize(decimal.Decimal("0.01"))
                if not 0 <= amount <= MAX_AMOUNT:
                    errors.add("amount", _("涉及金额 %(a)s 超出范围（0 至 9999 亿元）。") % {"a": text})
            except decimal.InvalidOperation:
                errors.add("amount", _("涉及金额应为数字，收到“%(a)s”。") % {"a": text})
        people = 1
        if text := compact(v.get("people")).removesuffix("人"):
            if not text.isdigit() or not 1 <= int(text) <= 100000:
                errors.add("people", _("涉及人数应为 1 至 100000 的整数，收到“%(p)s”。") % {"p": text})
            else:
                people = int(text)
        risk = choice(v, "risk", "风险等级", RISKS, errors, default="blue")
        outcome = choice(v, "outcome", "结案方式", OUTCOMES, errors, default="")
        closed = date(v, "closed", "结案日期", errors, required=bool(outcome), earliest=datetime.date(1990, 1, 1))
        if closed and not outcome:
            errors.add("outcome", _("填写了结案日期，请同时填写结案方式。"))
        if closed and registered and closed < registered:
            errors.add("closed", _("结案日期 %(c)s 早于受理日期 %(r)s。") % {"c": closed, "r": registered})
        if errors or region is None or registered is None or center is None:
            return None
        return HistoricalCase(
            original=original,
            registered_on=registered,
            region_code=region,
            region_pk=regions.pk(region),
            center_pk=center,
            center_given=bool(clean_text(v.get("center"))),
            category_pk=category,
            title=title,
            description=clean_text(v.get("description")) or title,
            location=clean_text(v.get("location"))[:200],
            amount=amount,
            people=people,
            risk=risk,
            outcome=outcome,
            closed_on=closed,
            outcome_note=clean_text(v.get("outcome_note")),
        )

    def _center(self, raw: str, region: str | None, ctx: Context, errors: RowErrors) -> int | None:
        if raw:
            found = ctx.cache["centers"].get(raw) or ctx.cache["centers"].get(raw.upper())
            if found is None:
                errors.add("center", _("未知中心“%(c)s”，或不在本次导入的范围内。") % {"c": raw})
            return found
        if region is None:
            return None
        # The center nearest the place: its village's station, else its township's, county's or the league's.
        for prefix, pk in ctx.cache["center_prefixes"]:
            if region.startswith(prefix) and _owner(pk, ctx) is not None:
                return pk
        errors.add("center", _("发生地之上没有综治中心，请填写办理中心。"))
        return None

    def _party(self, row: Row, errors: RowErrors) -> tuple[Any, ...] | None:
        v = row.values
        name = clean_text(v.get("party_name"))
        number = compact(v.get("party_id")).upper()
        nationality = compact(v.get("party_nationality")).upper()
        if not name:
            if number or clean_text(v.get("party_role")):
                errors.add("party_name", _("填写了当事人信息，请同时填写当事人姓名。"))
            return None
        role = choice(row.values, "party_role", "当事人身份", ROLES, errors, default="applicant")
        kind = choice(row.values, "party_kind", "当事人类型", PARTY_KINDS, errors, default="")
        if not kind:
            if nationality and nationality != "CHN":
                kind = "foreigner"
            elif number and not (len(number) == 18 and not resident_id_errors(number)) and not uscc_errors(number):
                kind = "organisation"
            else:
                kind = "person"
        problems = []
        if kind == "person" and number:
            problems = resident_id_errors(number)
            number = normalize_resident_id(number)
        elif kind == "organisation" and number:
            problems = uscc_errors(number)
        elif kind == "foreigner":
            problems = passport_errors(number, nationality)
        for problem in problems:
            errors.add("party_nationality" if "国籍" in problem and "护照" not in problem else "party_id", problem)
        phone = compact(v.get("party_phone"))
        if phone and not (phone.isdigit() and 7 <= len(phone) <= 12):
            errors.add("party_phone", _("电话应为 7–12 位数字，收到“%(p)s”。") % {"p": phone})
        index = blind_index(f"{kind}:{number}") if number else ""
        if kind != "foreigner":
            nationality = "" if nationality in ("", "CHN") else nationality
            if nationality and nationality not in NATIONALITIES:
                errors.add("party_nationality", _("未知国籍代码“%(n)s”。") % {"n": nationality})
        address = clean_text(v.get("party_address"))[:200]
        return (role, kind, name[:100], number, nationality, phone, index, address)

    def write(self, records: list[Any], ctx: Context) -> Counts:
        return historical_cases_write(records, ctx)


def _re_import_problem(hc: HistoricalCase, found: selectors.ImportedCase, ctx: Context) -> tuple[str, str] | None:
    """Why a case imported before cannot take this row, or None when the row may update it."""
    if not ctx.scope.covers(found.region_code):
        return "original", _("原编号“%(n)s”已被其他辖区的案件使用。") % {"n": hc.original}
    number = {"n": found.number}
    if found.handled or found.state not in (State.REGISTERED, State.ACCEPTED, State.CLOSED):
        return "original", _("案件 %(n)s 已在平台办理，未覆盖。") % number
    # What the history already says cannot be rewritten: no transition changes it.
    registered = timezone.localdate(found.registered_at)
    if registered != hc.registered_on:
        reason = _("案件 %(n)s 已按受理日期 %(d)s 登记（编号和流转记录随之），重新导入不能更改，未覆盖。")
        return "registered", reason % {**number, "d": registered}
    if found.region_code != hc.region_code:
        reason = _("案件 %(n)s 的发生地已登记为 %(r)s，重新导入不能更改，未覆盖。")
        return "region", reason % {**number, "r": found.region_code}
    if found.state != State.CLOSED:
        return None
    if not hc.outcome:
        return "outcome", _("案件 %(n)s 已按台账结案，流转记录中没有撤销结案的操作，未覆盖。") % number
    if hc.outcome != found.outcome:
        label = Case.Outcome(found.outcome).label if found.outcome in Case.Outcome.values else found.outcome
        reason = _("案件 %(n)s 已按“%(o)s”结案，流转记录中没有更改结案方式的操作，未覆盖。")
        return "outcome", reason % {**number, "o": label}
    closed = timezone.localdate(found.closed_at) if found.closed_at else None
    if closed != hc.closed_on:
        reason = _("案件 %(n)s 已于 %(d)s 结案，流转记录中没有更改结案日期的操作，未覆盖。")
        return "closed", reason % {**number, "d": closed}
    return None


def _owner(center_pk: int, ctx: Context) -> Any:
    """The owner (首问负责) of imported cases: the importing user, else a clerk or director of the center."""
    if getattr(ctx.actor, "pk", None):
        return ctx.actor
    owners = ctx.cache.setdefault("owners", {})
    if center_pk not in owners:
        memberships = Membership.objects.filter(center_id=center_pk, role__in=[Role.INTAKE_CLERK, Role.CENTER_DIRECTOR])
        found = memberships.select_related("user").order_by("-role", "user__username").first()
        owners[center_pk] = found.user if found else None
    return owners[center_pk]


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), zoneinfo.ZoneInfo(settings.TIME_ZONE))


PartyKey = tuple[str, str]  # role, blind index of the ID (else the name)


def _party_input(party: tuple[Any, ...]) -> services.PartyInput:
    role, kind, name, number, nationality, phone, _index, address = party
    return services.PartyInput(kind, role, name, number, nationality, phone, address)


def _party_key(party: tuple[Any, ...]) -> PartyKey:
    return party[0], party[6] or party[2]


def _party_differs(old: Party, party: tuple[Any, ...]) -> bool:
    _role, kind, name, number, nationality, phone, _index, address = party
    return (old.kind, old.name, old.id_number, old.nationality, old.phone, old.address) != (
        kind,
        name,
        number,
        nationality,
        phone,
        address,
    )


def _corrections(case: Case, hc: HistoricalCase) -> dict[str, Any]:
    """The columns the file says differently of a case (those a correction may change)."""
    values: dict[str, Any] = {
        "category_id": hc.category_pk,
        "title": hc.title,
        "description": hc.description,
        "location": hc.location,
        "amount": hc.amount,
        "people_involved": hc.people,
        "risk_level": hc.risk,
        "outcome_note": hc.outcome_note,
    }
    if hc.center_given:
        values["center_id"] = hc.center_pk
    return {name: value for name, value in values.items() if getattr(case, name) != value}


def historical_cases_write(records: list[tuple[HistoricalCase, tuple[Any, ...] | None]], ctx: Context) -> Counts:
    """Write a chunk of ledger rows through the case services, a case at a time.

    A new case is registered with its parties and walks its history (`services.case_import`); one
    registered earlier in this run gains the parties of later rows; one imported before (and, as
    checked, not handled on the platform since) walks on to a newer outcome and takes the other
    corrections the file makes, or is left alone when the file says what it already holds.
    A party appears once per case in a file (the check refuses a second row), so each row's party
    is new to this run.
    """
    counts = Counts()
    status: dict[str, str] = ctx.cache.setdefault("case_status", {})  # original -> inserted / updated / unchanged
    known: dict[str, Case] = ctx.cache.setdefault("cases", {})
    stored: dict[str, selectors.ImportedCase | None] = ctx.seen.get("stored", {})
    by_case: dict[str, list[tuple[HistoricalCase, tuple[Any, ...] | None]]] = {}
    for record in records:
        by_case.setdefault(record[0].original, []).append(record)

    # The cases imported before this run and their parties, in a few queries for the chunk.
    earlier = {found.pk: o for o in by_case if o not in known and (found := stored.get(o)) is not None}
    parties_of: dict[int, dict[PartyKey, Party]] = ctx.cache.setdefault("parties", {})
    parties_of.update({pk: {} for pk in earlier})
    # Read with their region codes (as the check found them; a case and its parties share its code).
    regions = {found.region_code for o in earlier.values() if (found := stored.get(o)) is not None}
    earlier_parties = Party.objects.filter(case_id__in=list(earlier), region_code__in=regions)
    for party in earlier_parties.order_by("case_id", "role", "id"):
        parties_of[party.case_id][(party.role, party.id_index or party.name)] = party
    # Locked until the import commits (PostgreSQL), then checked again: a case handled on the platform
    # since the check stops the whole import (rolled back, nothing written) rather than being overwritten.
    locked = list(Case.objects.select_for_update().filter(pk__in=list(earlier), region_code__in=regions))
    current_of = selectors.imported_cases([earlier[case.pk] for case in locked]) if locked else {}
    for loaded in locked:
        checked, current = stored[earlier[loaded.pk]], current_of.get(earlier[loaded.pk])
        if checked is None or current is None or current.handled or current.version != checked.version:
            raise workflow.Conflict(loaded)
        known[earlier[loaded.pk]] = loaded

    for original, rows in by_case.items():
        hc = rows[0][0]
        owner = _owner(hc.center_pk, ctx)
        given = [p for _hc, p in rows if p is not None]
        case = known.get(original)
        if case is None:
            case = services.case_import(actor=owner, ledger=hc.ledger(), parties=[_party_input(p) for p in given])
            known[original], status[original] = case, "inserted"
            counts.inserted += len(rows)
            continue
        if status.get(original) == "inserted":  # registered earlier in this run: its registration goes on
            if given:
                services.case_import_parties(case=case, parties=[_party_input(p) for p in given])
            counts.inserted += len(rows)
            continue
        mine = parties_of.get(case.pk, {})
        new = [p for p in given if _party_key(p) not in mine]
        changed = [
            (mine[_party_key(p)], p) for p in given if _party_key(p) in mine and _party_differs(mine[_party_key(p)], p)
        ]
        touched = {_party_key(p) for p in new} | {_party_key(p) for _old, p in changed}
        case_updated = False
        if case.state != State.CLOSED and services.ledger_steps(case.state, hc.outcome):
            case = services.case_import_history(case=case, actor=owner, version=case.version, ledger=hc.ledger())
            case_updated = True
        corrections = _corrections(case, hc)
        if corrections or touched:
            case = services.case_import_correct(
                case=case,
                actor=owner,
                version=case.version,
                changes=corrections,
                new_parties=[_party_input(p) for p in new],
                changed_parties=[(old, _party_input(p)) for old, p in changed],
            )
            case_updated = case_updated or bool(corrections)
        known[original] = case
        if case_updated or status.get(original) == "updated":
            status[original] = "updated"
            counts.updated += len(rows)
        else:
            status.setdefault(original, "unchanged")
            updated_rows = sum(1 for _hc, p in rows if p is not None and _party_key(p) in touched)
            counts.updated += updated_rows
            counts.unchanged += len(rows) - updated_rows
    return counts
