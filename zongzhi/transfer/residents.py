"""Households and their residents, one row per person (户 columns repeated on each member's row).

Natural keys: the household code (户编号) and the resident ID, found by its keyed blind index. A
person already registered in another household is refused (one person, one household, as
`grid.services.resident_add` says); a row equal to what is stored counts as unchanged.
"""

import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zongzhi.grid.models import Household, Resident
from zongzhi.grid.services import (
    household_import_update,
    households_register_bulk,
    phone_index,
    resident_id_index,
    residents_import_update,
    residents_register_bulk,
)
from zongzhi.identity import normalize_resident_id, resident_id_errors
from zongzhi.regions import codes
from zongzhi.transfer.common import Regions, RowErrors, boolean, choice, date, options_of, required_text
from zongzhi.transfer.engine import Context, Counts, ImportKind, Outcome
from zongzhi.transfer.reader import Column, Row, clean_text, compact
from zongzhi.transfer.seen import SeenKeys, key64

RELATIONS = options_of(
    Resident.Relation,
    本人="head",
    户主本人="head",
    妻="spouse",
    妻子="spouse",
    夫="spouse",
    丈夫="spouse",
    子="child",
    女="child",
    儿子="child",
    女儿="child",
    长子="child",
    长女="child",
    次子="child",
    次女="child",
    父亲="parent",
    母亲="parent",
    孙子="grandchild",
    孙女="grandchild",
)
LANGUAGES = options_of(Resident.Language, 蒙语="mn", 蒙古文="mn", 汉="zh", 普通话="zh", 中文="zh")
RESIDENT_FIELDS = ("name", "relation", "ethnicity", "language", "phone_index", "registered", "living")


class ResidentsImport(ImportKind):
    """户和居民: households with their members."""

    name = "residents"
    label = gettext_lazy("户和居民")
    columns = [
        Column(
            "household",
            "户编号",
            ("户号", "户编码", "家庭编号", "户代码"),
            True,
            "本户唯一编号；同户成员填同一编号",
            "H152502001001001001",
        ),
        Column(
            "grid",
            "所在网格",
            ("网格", "网格代码", "网格编码", "所属网格", "所在网格代码"),
            True,
            "15 位网格代码，或本辖区内不重名的网格名称",
            "152502001001001",
        ),
        Column("address", "住址", ("地址", "家庭住址", "现住址"), False, "", "宝力根路 12 号"),
        Column("herder", "牧户", ("是否牧户",), False, "是 / 否，默认否", "否"),
        Column("summer_grid", "夏营地网格", ("夏营地", "夏季牧场网格"), False, "牧户填写，须与冬营地同填", ""),
        Column("winter_grid", "冬营地网格", ("冬营地", "冬季牧场网格"), False, "牧户填写，须与夏营地同填", ""),
        Column("name", "姓名", ("居民姓名", "成员姓名", "名字"), True, "", "巴特尔"),
        Column(
            "relation",
            "与户主关系",
            ("关系", "家庭关系", "与户主的关系"),
            True,
            "户主、配偶、子女、父母、孙子女、其他",
            "户主",
        ),
        Column("ethnicity", "民族", (), True, "", "蒙古族"),
        Column("language", "常用语言", ("语言",), False, "蒙古语 / 汉语；不填时蒙古族为蒙古语，其他为汉语", "蒙古语"),
        Column(
            "id_number",
            "身份证号",
            ("身份证号码", "公民身份号码", "证件号码", "身份证"),
            True,
            "18 位，末位可为 X；请把本列设为文本格式",
            "152502199001011234",
        ),
        Column("birth", "出生日期", ("出生年月日", "生日"), False, "可不填；填写时须与身份证号一致", "1990-01-01"),
        Column(
            "phone", "联系电话", ("电话", "手机", "手机号", "手机号码", "联系方式"), False, "11 位手机号", "13800001234"
        ),
        Column("registered", "户籍人口", ("是否户籍人口", "户籍"), False, "是 / 否，默认是", "是"),
        Column("living", "常住人口", ("是否常住", "常住"), False, "是 / 否，默认是", "是"),
    ]

    def validate(self, rows: list[Row], ctx: Context) -> list[Outcome]:
        regions = Regions.of(ctx)
        ids: SeenKeys = ctx.seen.setdefault("ids", SeenKeys())
        homes: SeenKeys = ctx.seen.setdefault("households", SeenKeys())
        outcomes = []
        for row in rows:
            errors = RowErrors()
            home = self._household(row, regions, errors)
            person = self._resident(row, errors)
            if home is not None and not errors:
                # The first row of the household and a fingerprint of what it said, packed in 64 bits.
                fingerprint = key64(repr(home[1:])) & 0xFFFFFFFF
                first = homes.first(key64(home[0]), row.number << 32 | fingerprint)
                if first & 0xFFFFFFFF != fingerprint:
                    errors.add(
                        "household",
                        _("同一户编号在第 %(row)d 行填写的户信息（网格、住址、牧户或营地）不同。")
                        % {"row": first >> 32},
                    )
            if person is not None and not errors:
                first_row = ids.first(int(person[5][:16], 16), row.number)
                if first_row != row.number:
                    errors.add("id_number", _("身份证号与本文件第 %(row)d 行重复。") % {"row": first_row})
            outcomes.append(Outcome(row=row, problems=errors.items, record=(home, person) if not errors else None))
        self._against_stored([o for o in outcomes if not o.problems], ctx)
        return outcomes

    def _household(self, row: Row, regions: Regions, errors: RowErrors) -> tuple[Any, ...] | None:
        v = row.values
        code = compact(v.get("household")).upper()
        if not code:
            errors.add("household", _("缺少必填项“%(label)s”。") % {"label": "户编号"})
        elif len(code) > 30:
            errors.add("household", _("户编号不能超过 30 位。"))
        grid = regions.find(v.get("grid"), codes.GRID, "grid", "所在网格", errors)
        herder = boolean(v, "herder", "牧户", False, errors)
        summer = regions.find(v.get("summer_grid"), codes.GRID, "summer_grid", "夏营地网格", errors, required=False)
        winter = regions.find(v.get("winter_grid"), codes.GRID, "winter_grid", "冬营地网格", errors, required=False)
        if (summer is None) != (winter is None) and not errors:
            errors.add("summer_grid", _("牧户的夏营地和冬营地网格要么都填，要么都不填。"))
        for key, other in (("summer_grid", summer), ("winter_grid", winter)):
            if grid and other and other[:12] != grid[:12]:
                errors.add(key, _("营地网格“%(g)s”不在本户所在的嘎查村之下。") % {"g": other})
        address = clean_text(v.get("address"))
        if len(address) > 200:
            errors.add("address", _("住址不能超过 200 个字。"))
        if errors or grid is None:
            return None
        village = grid[:12]
        if village not in regions.by_code:
            errors.add("grid", _("网格“%(g)s”的嘎查村不在本次导入的范围内。") % {"g": grid})
            return None
        return (
            code,
            regions.pk(village),
            regions.pk(grid),
            grid,
            address,
            herder,
            regions.pk(summer) if summer else None,
            regions.pk(winter) if winter else None,
        )

    def _resident(self, row: Row, errors: RowErrors) -> tuple[Any, ...] | None:
        v = row.values
        name = required_text(v, "name", "姓名", errors, 50)
        relation = choice(v, "relation", "与户主关系", RELATIONS, errors)
        ethnicity = required_text(v, "ethnicity", "民族", errors, 20)
        default_language = "mn" if ethnicity.startswith("蒙古") else "zh"
        language = choice(v, "language", "常用语言", LANGUAGES, errors, default=default_language)
        raw_id = v.get("id_number")
        number = normalize_resident_id(clean_text(raw_id))
        if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
            errors.add("id_number", _("身份证号被存成了数字，末几位已丢失：请把该列设为文本格式后重新填写。"))
        elif not number:
            errors.add("id_number", _("缺少必填项“%(label)s”。") % {"label": "身份证号"})
        else:
            for problem in resident_id_errors(number):
                errors.add("id_number", problem)
        birth = date(v, "birth", "出生日期", errors, earliest=datetime.date(1900, 1, 1))
        if birth and len(number) == 18 and birth.strftime("%Y%m%d") != number[6:14]:
            errors.add(
                "birth", _("出生日期 %(day)s 与身份证号中的 %(id)s 不一致。") % {"day": birth, "id": number[6:14]}
            )
        phone = compact(v.get("phone"))
        if phone and not (phone.isdigit() and len(phone) == 11 and phone.startswith("1")):
            errors.add("phone", _("手机号应为 1 开头的 11 位数字，收到“%(got)s”。") % {"got": phone})
        registered = boolean(v, "registered", "户籍人口", True, errors)
        living = boolean(v, "living", "常住人口", True, errors)
        if not registered and not living:
            errors.add("registered", _("户籍人口和常住人口至少有一项为“是”。"))
        if errors:
            return None
        index = resident_id_index(number)
        return (name, relation, ethnicity, language, number, index, phone, phone_index(phone), registered, living)

    def _against_stored(self, valid: list[Outcome], ctx: Context) -> None:
        """Refuse a person registered in another household, or a household code used outside the scope."""
        if not valid:
            return
        by_index = {o.record[1][5]: o for o in valid}
        for index, home_code, region_code in Resident.objects.filter(id_index__in=list(by_index)).values_list(
            "id_index", "household__code", "region_code"
        ):
            outcome = by_index[index]
            if home_code != outcome.record[0][0]:
                where = home_code if ctx.scope.covers(region_code) else _("其他辖区的户")
                outcome.problems.append(
                    ("id_number", _("该身份证号已登记在户 %(h)s，一人只能属于一户。") % {"h": where})
                )
        by_home: dict[str, list[Outcome]] = {}
        for o in valid:
            by_home.setdefault(o.record[0][0], []).append(o)
        stored = Household.objects.filter(code__in=list(by_home)).values_list("code", "region_code")
        for code, region_code in stored:
            if not ctx.scope.covers(region_code):
                for o in by_home[code]:
                    o.problems.append(("household", _("户编号“%(c)s”已被其他辖区的户使用。") % {"c": code}))
        for o in valid:
            if o.problems:
                o.record = None

    def write(self, records: list[Any], ctx: Context) -> Counts:
        # Households of this chunk as stored (those written by earlier chunks of the run included).
        known: dict[str, int] = {}
        self._write_households([home for home, _person in records], ctx, known)
        counts = Counts()
        # Validation let through only people new or already in the household their row names, and only
        # households of the scope: those stored are the scope's (a resident's code is its household's).
        people = Resident.objects.filter(ctx.scope.q(), id_index__in=[p[5] for _h, p in records]).order_by()
        stored = {
            row[0]: row[1:]
            for row in people.values_list("id_index", "pk", "household_id", "region_code", *RESIDENT_FIELDS)
        }
        new, changed = [], []
        for home, person in records:
            name, relation, ethnicity, language, number, index, phone, phone_idx, registered, living = person
            household_pk, region_code = known[home[0]], home[3]
            old = stored.get(index)
            wanted = (household_pk, region_code, name, relation, ethnicity, language, phone_idx, registered, living)
            if old is None:
                new.append(
                    (
                        household_pk,
                        region_code,
                        name,
                        relation,
                        ethnicity,
                        language,
                        number,
                        index,
                        phone,
                        phone_idx,
                        registered,
                        living,
                    )
                )
            elif tuple(old[1:]) == wanted:
                counts.unchanged += 1
            else:
                changed.append(
                    Resident(
                        pk=old[0],
                        household_id=household_pk,
                        region_code=region_code,
                        name=name,
                        relation=relation,
                        ethnicity=ethnicity,
                        language=language,
                        phone=phone,
                        phone_index=phone_idx,
                        registered=registered,
                        living=living,
                    )
                )
        residents_register_bulk(new)
        residents_import_update(
            changed, ["household_id", "region_code", "phone", *RESIDENT_FIELDS], within=ctx.scope.q()
        )
        counts.inserted, counts.updated = len(new), len(changed)
        return counts

    def _write_households(self, homes: list[tuple[Any, ...]], ctx: Context, known: dict[str, int]) -> None:
        wanted = {home[0]: home for home in homes}
        if not wanted:
            return
        fields = ("village_id", "grid_id", "address", "herder", "summer_grid_id", "winter_grid_id")
        # A stored household of another scope was refused at validation: those stored are the scope's.
        households = Household.objects.filter(ctx.scope.q(), code__in=list(wanted))
        stored = {row[0]: row[1:] for row in households.values_list("code", "pk", "region_code", *fields)}
        new = []
        for code, (_code, village, grid, grid_code, address, herder, summer, winter) in wanted.items():
            old = stored.get(code)
            values = (village, grid, address, herder, summer, winter)
            if old is None:
                # HOUSEHOLD_COLUMNS: not claimed, no 联户长 (claiming is the grid worker's, in the app)
                new.append((code, village, grid, grid_code, address, herder, summer, winter, None, None, None, None))
                continue
            known[code] = old[0]
            if tuple(old[2:]) != values or old[1] != grid_code:
                household_import_update(
                    household_pk=old[0],
                    region_code=old[1],
                    grid_code=grid_code,
                    moved=old[1] != grid_code,
                    values=dict(zip(fields, values, strict=True)),
                )
                ctx.count(_("其中户更新"))
        known.update(households_register_bulk(new))
        if new:
            ctx.count(_("其中户新增"), len(new))
