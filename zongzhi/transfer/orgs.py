"""Orgs (入驻单位) and their presence at centers: one row per org and center (org columns repeated).

Natural keys: the org code, and (org, center) for a presence. The presence is written through
`centers.services.presence_set` (which audits it), only when it changes.
"""

import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zongzhi.centers.models import Center, DisputeDomain, Org, Presence
from zongzhi.centers.services import presence_set, weekday_errors
from zongzhi.transfer.common import Regions, RowErrors, boolean, choice, options_of, required_text
from zongzhi.transfer.engine import Context, Counts, ImportKind, Outcome
from zongzhi.transfer.reader import Column, Row, clean_text, compact

KINDS = options_of(Org.Kind, 部门="department", 调委会="mediation_committee", 法院="court", 法庭="court")
MODES = options_of(Presence.Mode, 常驻单位="resident", 轮驻单位="rotating", 随驻单位="on_call")
WEEKDAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7} | {str(d): d for d in range(1, 8)}
_SPLIT = re.compile(r"[、,，;；/|\s]+")


class OrgsImport(ImportKind):
    """单位及入驻."""

    name = "orgs"
    label = gettext_lazy("单位及入驻")
    columns = [
        Column("code", "单位代码", ("机构代码", "单位编码", "代码"), True, "单位唯一代码", "SFJ-152502"),
        Column("name", "单位名称", ("名称", "单位", "机构名称"), True, "", "锡林浩特市司法局"),
        Column(
            "kind",
            "单位类型",
            ("类型", "机构类型"),
            True,
            "职能部门、人民调解委员会、行业性专业性调委会、个人品牌调解室、专业调解团队、法院",
            "职能部门",
        ),
        Column(
            "region", "所属区划", ("区划", "区划代码", "所在区划"), True, "区划代码，或不重名的区划名称", "152502000000"
        ),
        Column("mediator", "品牌调解员", ("调解员",), False, "个人品牌调解室填写", ""),
        Column("domains", "擅长领域", ("领域", "调解领域"), False, "多个用顿号分隔", "婚姻家事"),
        Column("political_legal", "政法单位", ("是否政法单位",), False, "是 / 否，默认否", "是"),
        Column(
            "center", "入驻中心", ("中心", "中心编码", "综治中心"), False, "中心编码或名称；不入驻可不填", "ZZ-152502"
        ),
        Column("mode", "入驻方式", ("方式",), False, "常驻、轮驻、随驻；填写入驻中心时必填", "轮驻"),
        Column(
            "weekdays", "轮驻日", ("轮驻时间", "值班日"), False, "轮驻单位填写，如“周二、周四”或“2,4”", "周二、周四"
        ),
    ]

    def validate(self, rows: list[Row], ctx: Context) -> list[Outcome]:
        regions = Regions.of(ctx)
        if "centers" not in ctx.cache:
            centers = list(Center.objects.filter(ctx.scope.q()).values_list("pk", "code", "name"))
            ctx.cache["centers"] = {c: pk for pk, c, _n in centers} | {n: pk for pk, _c, n in centers}
            ctx.cache["domains"] = dict(DisputeDomain.objects.values_list("name", "pk"))
        centers, domains = ctx.cache["centers"], ctx.cache["domains"]
        orgs: dict[str, tuple[Any, ...]] = ctx.seen.setdefault("orgs", {})
        pairs: dict[tuple[str, int], int] = ctx.seen.setdefault("pairs", {})
        outcomes = []
        for row in rows:
            v, errors = row.values, RowErrors()
            code = compact(v.get("code")).upper()
            if not code:
                errors.add("code", _("缺少必填项“%(label)s”。") % {"label": "单位代码"})
            name = required_text(v, "name", "单位名称", errors)
            kind = choice(v, "kind", "单位类型", KINDS, errors)
            region = regions.find(v.get("region"), None, "region", "所属区划", errors)
            wanted_domains = []
            for part in _SPLIT.split(clean_text(v.get("domains"))):
                if part and part not in domains:
                    errors.add("domains", _("未知领域“%(d)s”。") % {"d": part})
                elif part:
                    wanted_domains.append(domains[part])
            legal = boolean(v, "political_legal", "政法单位", False, errors)
            mediator = clean_text(v.get("mediator"))[:50]
            org = (code, name, kind, region, mediator, sorted(set(wanted_domains)), legal)
            presence = self._presence(v, centers, errors)
            if not errors:
                first = orgs.setdefault(code, (row.number, *org[1:]))
                if first[1:] != org[1:]:
                    errors.add("code", _("同一单位代码在第 %(row)d 行填写的单位信息不同。") % {"row": first[0]})
                elif presence is not None:
                    seen_at = pairs.setdefault((code, presence[0]), row.number)
                    if seen_at != row.number:
                        errors.add("center", _("该单位在本中心的入驻与本文件第 %(row)d 行重复。") % {"row": seen_at})
            record = None if errors else (org, presence, region and regions.pk(region))
            outcomes.append(Outcome(row=row, problems=errors.items, record=record))
        valid: dict[str, list[Outcome]] = {}
        for o in outcomes:
            if o.record:
                valid.setdefault(o.record[0][0], []).append(o)
        for code, region_code in Org.objects.filter(code__in=list(valid)).values_list("code", "region_code"):
            if not ctx.scope.covers(region_code):
                for o in valid[code]:
                    o.problems.append(("code", _("单位代码“%(c)s”已被其他辖区的单位使用。") % {"c": code}))
                    o.record = None
        return outcomes

    def _presence(self, v: dict[str, Any], centers: dict[str, int], errors: RowErrors) -> tuple[Any, ...] | None:
        raw = clean_text(v.get("center"))
        if not raw:
            if clean_text(v.get("mode")) or clean_text(v.get("weekdays")):
                errors.add("center", _("填写了入驻方式或轮驻日，请同时填写入驻中心。"))
            return None
        center = centers.get(raw) or centers.get(compact(raw).upper())
        if center is None:
            errors.add("center", _("未知中心“%(c)s”，或不在本次导入的范围内。") % {"c": raw})
        mode = choice(v, "mode", "入驻方式", MODES, errors)
        days: list[int] = []
        for part in _SPLIT.split(clean_text(v.get("weekdays")).replace("星期", "").replace("周", "")):
            if part:
                days.append(WEEKDAYS.get(part, 0))
        if 0 in days:
            errors.add(
                "weekdays", _("轮驻日只能是周一到周日（或 1–7），收到“%(d)s”。") % {"d": clean_text(v.get("weekdays"))}
            )
        elif mode and (problems := weekday_errors(mode, days)):
            for problem in problems:
                errors.add("weekdays", problem)
        return (center, mode, sorted(days))

    def write(self, records: list[Any], ctx: Context) -> Counts:
        counts = Counts()
        written: dict[str, Org] = ctx.cache.setdefault("written_orgs", {})
        created_here: set[str] = ctx.cache.setdefault("created_orgs", set())
        for (code, name, kind, region, mediator, domains, legal), presence, region_pk in records:
            org = written.get(code)
            created, changed = code in created_here, False
            if org is None:
                org = Org.objects.filter(code=code).first()
                values = {"name": name, "kind": kind, "region_id": region_pk, "region_code": region}
                values |= {"mediator_name": mediator, "political_legal": legal}
                if org is None:
                    org = Org.objects.create(code=code, **values)
                    created = True
                    created_here.add(code)
                elif any(getattr(org, f) != value for f, value in values.items()):
                    Org.objects.filter(pk=org.pk).update(**values)
                    changed = True
                if sorted(org.domains.values_list("pk", flat=True)) != domains:
                    org.domains.set(domains)
                    changed = True
                written[code] = org
            if presence is not None:
                center_pk, mode, days = presence
                old = Presence.objects.filter(org=org, center_id=center_pk).values_list("mode", "weekdays").first()
                if old is None or old[0] != mode or sorted(old[1]) != days:
                    center = Center.objects.get(pk=center_pk)
                    presence_set(actor=ctx.actor, org=org, center=center, mode=mode, weekdays=days)
                    changed = True
            if created:
                counts.inserted += 1
            elif changed:
                counts.updated += 1
            else:
                counts.unchanged += 1
        return counts
