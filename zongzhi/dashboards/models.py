"""Rollups: the summary tables dashboards and reports read instead of counting the case table.

`CaseFact` is what one case contributes (its keys and measures), kept so that a change can be
applied as a difference: the old contribution out, the new one in. `Tally` sums the facts per
region (every level of the tree: league, county, township, village, grid), registration month,
category and state; `DayTally` counts registrations and closures per region and day; `OrgTally`
sums the cases each lead org handled (the brand rooms' performance).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

# Additive measures, in the order the facts query computes them. Amounts are yuan.
COUNTS = (
    "cases",
    "major",
    "foreign_related",
    "escalated",
    "overdue",
    "supervised",
    "supervisions",
    "supervisions_open",
    "agreements",
    "satisfied",
    "basically",
    "dissatisfied",
    "closed",
    "close_days",
    "settled",
    "failed",
    "ch_window",
    "ch_grid",
    "ch_department",
    "ch_mobile",
    "ch_portal",
    "ch_import",
    "ch_hotline",
    "risk_red",
    "risk_orange",
    "risk_yellow",
    "risk_blue",
    "at_league",
    "at_county",
    "at_township",
    "at_village",
)
AMOUNTS = ("amount_involved", "amount_agreed", "amount_recovered")
MEASURES = COUNTS + AMOUNTS


class Measures(models.Model):
    """The additive figures of a case (0/1 flags, counts, sums), summed as they are in the tallies."""

    cases = models.IntegerField(_("案件数"), default=0)
    major = models.IntegerField(_("重大疑难"), default=0)
    foreign_related = models.IntegerField(_("涉外"), default=0)
    escalated = models.IntegerField(_("上提"), default=0)
    overdue = models.IntegerField(_("超期"), default=0)
    supervised = models.IntegerField(_("被督办案件"), default=0)
    supervisions = models.IntegerField(_("督办文书"), default=0)
    supervisions_open = models.IntegerField(_("待反馈督办"), default=0)
    agreements = models.IntegerField(_("书面协议"), default=0)
    satisfied = models.IntegerField(_("满意"), default=0)
    basically = models.IntegerField(_("基本满意"), default=0)
    dissatisfied = models.IntegerField(_("不满意"), default=0)
    closed = models.IntegerField(_("已结案"), default=0)
    close_days = models.IntegerField(_("结案天数合计"), default=0)
    settled = models.IntegerField(_("化解成功"), default=0)
    failed = models.IntegerField(_("化解不成"), default=0)
    ch_window = models.IntegerField(default=0)
    ch_grid = models.IntegerField(default=0)
    ch_department = models.IntegerField(default=0)
    ch_mobile = models.IntegerField(default=0)
    ch_portal = models.IntegerField(default=0)
    ch_import = models.IntegerField(default=0)
    ch_hotline = models.IntegerField(default=0)
    risk_red = models.IntegerField(default=0)
    risk_orange = models.IntegerField(default=0)
    risk_yellow = models.IntegerField(default=0)
    risk_blue = models.IntegerField(default=0)
    at_league = models.IntegerField(default=0)
    at_county = models.IntegerField(default=0)
    at_township = models.IntegerField(default=0)
    at_village = models.IntegerField(default=0)
    amount_involved = models.DecimalField(_("涉及金额"), max_digits=20, decimal_places=2, default=0)
    amount_agreed = models.DecimalField(_("协议金额"), max_digits=20, decimal_places=2, default=0)
    amount_recovered = models.DecimalField(_("已履行金额"), max_digits=20, decimal_places=2, default=0)

    class Meta:
        abstract = True


class CaseFact(Measures):
    """What one case contributes to the tallies now (written only by the rollup module)."""

    case_id = models.BigIntegerField(primary_key=True)
    region_code = models.CharField(max_length=15)
    month = models.DateField()
    day = models.DateField()
    closed_day = models.DateField(null=True)
    category_id = models.BigIntegerField()
    state = models.CharField(max_length=20)
    org_id = models.BigIntegerField(null=True)  # the lead handler (主办单位), for the brand rooms' figures
    org_region = models.CharField(max_length=15, blank=True)


class Tally(Measures):
    """The sums of the facts under one region node, registration month, category and state."""

    node = models.CharField(_("区划代码"), max_length=15)
    parent = models.CharField(max_length=15)
    month = models.DateField(_("登记月份"))
    category_id = models.BigIntegerField()
    state = models.CharField(max_length=20)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node", "month", "category_id", "state"], name="tally_key"),
        ]
        indexes = [models.Index(fields=["parent", "node"], name="tally_parent")]


class DayTally(models.Model):
    """Registrations and closures per region node and day (the daily trend lines)."""

    node = models.CharField(max_length=15)
    day = models.DateField()
    registered = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node", "day"], name="day_tally_key")]


ORG_MEASURES = ("cases", "closed", "settled", "agreements", "amount_agreed")


class OrgTally(models.Model):
    """What each lead handling org (brand rooms above all) did, per registration month of the cases."""

    org_id = models.BigIntegerField()
    region_code = models.CharField(max_length=15)  # the org's own region, for scoping
    month = models.DateField()
    cases = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    settled = models.IntegerField(default=0)
    agreements = models.IntegerField(default=0)
    amount_agreed = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org_id", "month"], name="org_tally_key")]
        indexes = [models.Index(fields=["region_code"], name="org_tally_region")]
