"""Grid workers (网格员), one row each; natural key: the worker's code (编号)."""

import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zongzhi.grid.models import GridWorker
from zongzhi.regions import codes
from zongzhi.transfer.common import Regions, RowErrors, boolean, required_text
from zongzhi.transfer.engine import Context, Counts, ImportKind, Outcome
from zongzhi.transfer.reader import Column, Row, clean_text, compact

DUTIES = {str(label): value for value, label in GridWorker.Duty.choices} | {v: v for v in GridWorker.Duty.values}
_SEPARATORS = re.compile(r"[、,，;；/|\s]+")


class GridWorkersImport(ImportKind):
    """网格员."""

    name = "grid_workers"
    label = gettext_lazy("网格员")
    columns = [
        Column("code", "编号", ("网格员编号", "工号", "人员编号"), True, "网格员唯一编号", "GW152502001001001"),
        Column("name", "姓名", ("网格员姓名", "网格员"), True, "", "苏和"),
        Column(
            "grid",
            "所在网格",
            ("网格", "网格代码", "网格编码", "所属网格"),
            True,
            "15 位网格代码，或本辖区内不重名的网格名称",
            "152502001001001",
        ),
        Column("full_time", "专职", ("是否专职", "专兼职"), False, "是 / 否（兼职），默认是", "是"),
        Column(
            "duties",
            "职责",
            ("五员职责", "兼任"),
            False,
            "网格员、调解员、信息员、宣传员、服务员，用顿号分隔；默认网格员",
            "网格员、调解员",
        ),
    ]

    def validate(self, rows: list[Row], ctx: Context) -> list[Outcome]:
        regions = Regions.of(ctx)
        seen: dict[str, int] = ctx.seen.setdefault("codes", {})
        outcomes = []
        for row in rows:
            v, errors = row.values, RowErrors()
            code = compact(v.get("code")).upper()
            if not code:
                errors.add("code", _("缺少必填项“%(label)s”。") % {"label": "编号"})
            elif len(code) > 30:
                errors.add("code", _("编号不能超过 30 位。"))
            name = required_text(v, "name", "姓名", errors, 50)
            grid = regions.find(v.get("grid"), codes.GRID, "grid", "所在网格", errors)
            text = clean_text(v.get("full_time"))
            full_time = {"专职": True, "兼职": False}.get(text)
            if full_time is None:
                full_time = boolean(v, "full_time", "专职", True, errors)
            duties = []
            for part in _SEPARATORS.split(clean_text(v.get("duties"))):
                if not part:
                    continue
                if part not in DUTIES:
                    errors.add("duties", _("未知职责“%(d)s”（可填 %(all)s）。") % {"d": part, "all": "、".join(DUTIES)})
                elif DUTIES[part] not in duties:
                    duties.append(DUTIES[part])
            if code and not errors:
                first = seen.setdefault(code, row.number)
                if first != row.number:
                    errors.add("code", _("编号与本文件第 %(row)d 行重复。") % {"row": first})
            record = None if errors else (code, name, regions.pk(grid or ""), grid, full_time, duties or ["grid"])
            outcomes.append(Outcome(row=row, problems=errors.items, record=record))
        valid = {o.record[0]: o for o in outcomes if o.record}
        for code, region_code in GridWorker.objects.filter(code__in=list(valid)).values_list("code", "region_code"):
            if not ctx.scope.covers(region_code):
                valid[code].problems.append(("code", _("编号“%(c)s”已被其他辖区的网格员使用。") % {"c": code}))
                valid[code].record = None
        return outcomes

    def write(self, records: list[Any], ctx: Context) -> Counts:
        counts = Counts()
        # A stored worker of another scope was refused at validation: those stored are the scope's.
        workers = GridWorker.objects.filter(ctx.scope.q())
        stored = {
            row[0]: row[1:]
            for row in workers.filter(code__in=[r[0] for r in records]).values_list(
                "code", "pk", "name", "grid_id", "full_time", "duties"
            )
        }
        new, changed = [], []
        for code, name, grid_pk, grid_code, full_time, duties in records:
            old = stored.get(code)
            worker = GridWorker(code=code, name=name, grid_id=grid_pk, region_code=grid_code, full_time=full_time)
            worker.duties = duties
            if old is None:
                new.append(worker)
            elif tuple(old[1:]) == (name, grid_pk, full_time, duties):
                counts.unchanged += 1
            else:
                worker.pk = old[0]
                changed.append(worker)
        GridWorker.objects.bulk_create(new, batch_size=1000)
        workers.bulk_update(changed, ["name", "grid_id", "region_code", "full_time", "duties"], batch_size=500)
        counts.inserted, counts.updated = len(new), len(changed)
        return counts
