"""Historical disputes (历史矛盾纠纷台账) with their parties and outcomes, one row per party.

The case columns repeat on each party's row. Natural key: the original number (原编号) of an
imported case (channel `import`). Case rows are written in one place, `historical_cases_write`,
so whatever must follow every case write (dashboard rollups) has one function to hook into.
"""

import datetime
import decimal
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zongzhi.accounts.models import Membership, Role
from zongzhi.cases import events
from zongzhi.cases.models import Case, Category, Party, State
from zongzhi.cases.numbering import next_case_number
from zongzhi.centers.models import Center
from zongzhi.crypto import blind_index
from zongzhi.dashboards import rollups
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
            "原台账中的编号，重复导入时据此更新",
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
        stored = Case.objects.filter(channel=Case.Channel.IMPORT, original_number__in=list(valid))
        for original, region_code in stored.values_list("original_number", "region_code"):
            if not ctx.scope.covers(region_code):
                for o in valid[original]:
                    o.problems.append(("original", _("原编号“%(n)s”已被其他辖区的案件使用。") % {"n": original}))
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


def historical_cases_write(records: list[tuple[HistoricalCase, tuple[Any, ...] | None]], ctx: Context) -> Counts:
    """THE place imported case rows are written (inserted or updated), with their parties and events.

    Bulk by nature (a ledger of thousands of cases); anything that must follow each case write,
    such as dashboard rollups, belongs here, next to the writes.
    """
    counts = Counts()
    status: dict[str, str] = ctx.cache.setdefault("case_status", {})  # original -> inserted / updated / unchanged
    known: dict[str, Case] = ctx.cache.setdefault("cases", {})
    stored_parties: dict[int, dict[tuple[str, str], Party]] = ctx.cache.setdefault("parties", {})
    for hc, party in records:
        case = known.get(hc.original)
        if case is None:
            case, status[hc.original] = _case_upsert(hc, ctx)
            known[hc.original] = case
            stored_parties[case.pk] = {(p.role, p.id_index or p.name): p for p in case.parties.all()}
        row_status = status[hc.original]
        if party is not None:
            role, kind, name, number, nationality, phone, index, address = party
            old = stored_parties[case.pk].get((role, index or name))
            if old is None:
                stored_parties[case.pk][(role, index or name)] = Party.objects.create(
                    case=case,
                    region_code=case.region_code,
                    kind=kind,
                    role=role,
                    name=name,
                    id_number=number,
                    id_index=index,
                    nationality=nationality,
                    phone=phone,
                    address=address,
                )
                row_status = row_status if row_status == "inserted" else "updated"
            elif (old.kind, old.name, old.id_number, old.nationality, old.phone, old.address) != (
                kind,
                name,
                number,
                nationality,
                phone,
                address,
            ):
                old.kind, old.name, old.id_number, old.nationality, old.phone, old.address = (
                    kind,
                    name,
                    number,
                    nationality,
                    phone,
                    address,
                )
                old.save(update_fields=["kind", "name", "id_number", "nationality", "phone", "address"])
                row_status = row_status if row_status == "inserted" else "updated"
        setattr(counts, row_status, getattr(counts, row_status) + 1)
    return counts


def _case_upsert(hc: HistoricalCase, ctx: Context) -> tuple[Case, str]:
    owner = _owner(hc.center_pk, ctx)
    values: dict[str, Any] = {
        "category_id": hc.category_pk,
        "title": hc.title,
        "description": hc.description,
        "region_id": hc.region_pk,
        "region_code": hc.region_code,
        "location": hc.location,
        "amount": hc.amount,
        "people_involved": hc.people,
        "risk_level": hc.risk,
        "risk_suggested": hc.risk,
        "center_id": hc.center_pk,
        "registered_at": _at(hc.registered_on, 9),
        "closed_at": _at(hc.closed_on, 17) if hc.closed_on else None,
        "outcome": hc.outcome,
        "outcome_note": hc.outcome_note,
        "state": State.CLOSED if hc.outcome else State.REGISTERED,
    }
    case = Case.objects.filter(channel=Case.Channel.IMPORT, original_number=hc.original).first()
    if case is not None:
        if all(getattr(case, field) == value for field, value in values.items()):
            return case, "unchanged"
        Case.objects.filter(pk=case.pk).update(**values)
        case.refresh_from_db()
        rollups.case_changed(case.pk)  # no event for a corrected ledger row: the dashboards follow here
        return case, "updated"
    case = Case.objects.create(
        number=next_case_number(hc.region_code[:6], hc.registered_on),
        channel=Case.Channel.IMPORT,
        original_number=hc.original,
        owner=owner,
        version=2 if hc.outcome else 1,
        **values,
    )
    case.version = 1
    events.append(
        case,
        events.Registered(channel="import", risk=hc.risk, original_number=hc.original),
        actor=owner,
        at=case.registered_at,
        to_state=State.REGISTERED,
    )
    if hc.outcome and case.closed_at:
        case.version = 2
        events.append(
            case,
            events.Closed(outcome=hc.outcome, note=hc.outcome_note),
            actor=owner,
            at=case.closed_at,
            from_state=State.REGISTERED,
            to_state=State.CLOSED,
        )
    return case, "inserted"
