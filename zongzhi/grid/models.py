"""The grid's people: grid workers, grid party groups and building / joint-household heads."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zongzhi.crypto import EncryptedTextField
from zongzhi.regions.models import Region


class GridWorker(models.Model):
    """A full- or part-time grid worker (网格员), with the "五员合一" duties they carry."""

    class Duty(models.TextChoices):
        GRID = "grid", _("网格员")
        MEDIATOR = "mediator", _("调解员")
        INFORMATION = "information", _("信息员")
        PUBLICITY = "publicity", _("宣传员")
        SERVICE = "service", _("服务员")

    code = models.CharField(_("编号"), max_length=30, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="grid_worker"
    )
    grid = models.ForeignKey(Region, models.PROTECT, related_name="grid_workers", verbose_name=_("网格"))
    region_code = models.CharField(_("区划代码"), max_length=15, db_index=True)
    name = models.CharField(_("姓名"), max_length=50)
    full_time = models.BooleanField(_("专职"), default=True)
    duties = models.JSONField(_("职责"), default=list)

    class Meta:
        verbose_name = _("网格员")
        ordering = ["region_code", "code"]

    def __str__(self) -> str:
        return self.name


class PartyGroup(models.Model):
    """A grid party group (网格党小组)."""

    code = models.CharField(_("编号"), max_length=30, unique=True)
    grid = models.ForeignKey(Region, models.PROTECT, related_name="party_groups", verbose_name=_("网格"))
    region_code = models.CharField(_("区划代码"), max_length=15, db_index=True)
    name = models.CharField(_("名称"), max_length=100)
    leader_name = models.CharField(_("党小组长"), max_length=50)
    members = models.PositiveSmallIntegerField(_("党员人数"), default=0)

    class Meta:
        verbose_name = _("网格党小组")
        ordering = ["region_code", "code"]

    def __str__(self) -> str:
        return self.name


class BlockHead(models.Model):
    """A building, unit or joint-household head: the last link, covering 10–30 households."""

    class Kind(models.TextChoices):
        BUILDING = "building", _("楼栋长")
        UNIT = "unit", _("单元长")
        JOINT_HOUSEHOLD = "joint_household", _("联户长")

    code = models.CharField(_("编号"), max_length=30, unique=True)
    grid = models.ForeignKey(Region, models.PROTECT, related_name="block_heads", verbose_name=_("网格"))
    region_code = models.CharField(_("区划代码"), max_length=15, db_index=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("姓名"), max_length=50)
    area = models.CharField(_("负责范围"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("楼栋（单元、联户）长")
        ordering = ["region_code", "code"]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    """A household (户) registered at a village and living in a grid.

    Herder households move between a summer and a winter pasture; the grid responsible for them
    follows the season (`grid` is the one responsible now), so they are never lost between grids.
    """

    code = models.CharField(_("户编号"), max_length=30, unique=True)
    village = models.ForeignKey(Region, models.PROTECT, related_name="households", verbose_name=_("嘎查村社区"))
    grid = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("所在网格"))
    region_code = models.CharField(_("区划代码"), max_length=15, db_index=True)
    address = models.CharField(_("住址"), max_length=200, blank=True)
    herder = models.BooleanField(_("牧户"), default=False)
    summer_grid = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("夏营地网格")
    )
    winter_grid = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("冬营地网格")
    )
    block_head = models.ForeignKey(
        BlockHead, models.SET_NULL, null=True, blank=True, related_name="households", verbose_name=_("联户长")
    )
    claimed_by = models.ForeignKey(
        GridWorker, models.SET_NULL, null=True, blank=True, related_name="households", verbose_name=_("认领网格员")
    )
    claimed_grid = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("认领网格")
    )
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)
    # A herder household's own moving days (MM-DD), where they differ from its county's calendar.
    # db_default: the bulk loaders (the demo residents, the import) write households without these columns.
    summer_from = models.CharField(_("本户转场夏营地日期"), max_length=5, blank=True, default="", db_default="")
    winter_from = models.CharField(_("本户返回冬营地日期"), max_length=5, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("户")
        ordering = ["region_code", "code"]
        indexes = [models.Index(fields=["region_code", "claimed_grid"], name="household_region_claim")]

    def __str__(self) -> str:
        return self.code


class Resident(models.Model):
    """A person of a household: registered (户籍) and/or actually living there (常住)."""

    class Relation(models.TextChoices):
        HEAD = "head", _("户主")
        SPOUSE = "spouse", _("配偶")
        CHILD = "child", _("子女")
        PARENT = "parent", _("父母")
        GRANDCHILD = "grandchild", _("孙子女")
        OTHER = "other", _("其他")

    class Language(models.TextChoices):
        MONGOLIAN = "mn", _("蒙古语")
        CHINESE = "zh", _("汉语")

    household = models.ForeignKey(Household, models.CASCADE, related_name="residents", verbose_name=_("户"))
    region_code = models.CharField(_("区划代码"), max_length=15)
    name = models.CharField(_("姓名"), max_length=50)
    relation = models.CharField(_("与户主关系"), max_length=20, choices=Relation.choices)
    ethnicity = models.CharField(_("民族"), max_length=20)
    language = models.CharField(_("常用语言"), max_length=2, choices=Language.choices)
    id_number = EncryptedTextField(_("身份证号"))
    # Keyed hash of the ID: exact lookup, and one person can belong to one household only.
    id_index = models.CharField(max_length=64)
    phone = EncryptedTextField(_("联系电话"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True)
    registered = models.BooleanField(_("户籍人口"), default=True)
    living = models.BooleanField(_("常住人口"), default=True)

    class Meta:
        verbose_name = _("居民")
        ordering = ["household", "id"]
        # Declared here rather than with db_index/unique on the fields: on PostgreSQL those add a
        # second, varchar_pattern_ops index per column that no query uses (hashes are matched
        # exactly, region codes by range), and at a million residents every index slows the load.
        indexes = [
            models.Index(fields=["name"], name="resident_name"),
            # Region ranges, and the export's keyset pages in the order it writes (region, household, id).
            models.Index(fields=["region_code", "household", "id"], name="resident_region_household"),
            models.Index(fields=["phone_index"], name="resident_phone_index"),
        ]
        constraints = [models.UniqueConstraint(fields=["id_index"], name="resident_one_household_per_person")]

    def __str__(self) -> str:
        return self.name


class ClaimConflict(models.Model):
    """Two grids claiming one household: the village decides which grid is responsible."""

    class Status(models.TextChoices):
        OPEN = "open", _("待嘎查村裁定")
        RESOLVED = "resolved", _("已裁定")

    household = models.ForeignKey(Household, models.CASCADE, related_name="claim_conflicts")
    region_code = models.CharField(max_length=15, db_index=True)
    holder = models.ForeignKey(GridWorker, models.PROTECT, related_name="+", verbose_name=_("已认领网格员"))
    claimant = models.ForeignKey(GridWorker, models.PROTECT, related_name="+", verbose_name=_("申请认领网格员"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    raised_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    winner = models.ForeignKey(GridWorker, models.PROTECT, null=True, blank=True, related_name="+")


class SeasonCalendar(models.Model):
    """When a county's herder households move: to the summer pasture on `summer_from`, back to the
    winter quarters on `winter_from` (month-day, MM-DD). A county without one uses the defaults."""

    DEFAULT_SUMMER, DEFAULT_WINTER = "05-01", "11-01"

    county = models.OneToOneField(Region, models.PROTECT, related_name="season_calendar", verbose_name=_("旗县市区"))
    summer_from = models.CharField(_("转场夏营地日期"), max_length=5, default=DEFAULT_SUMMER)
    winter_from = models.CharField(_("返回冬营地日期"), max_length=5, default=DEFAULT_WINTER)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("修改人")
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("转场日历")

    def __str__(self) -> str:
        return f"{self.county} {self.summer_from}/{self.winter_from}"


class HouseholdMove(models.Model):
    """One seasonal move of a household between its pastures' grids, as the switch made it."""

    class Season(models.TextChoices):
        SUMMER = "summer", _("夏营地")
        WINTER = "winter", _("冬营地")

    household = models.ForeignKey(Household, models.CASCADE, related_name="moves", verbose_name=_("户"))
    season = models.CharField(_("转入"), max_length=10, choices=Season.choices)
    from_grid = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("原网格"))
    to_grid = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("新网格"))
    claimed_by_before = models.ForeignKey(
        GridWorker, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("原认领网格员")
    )
    claimed_by_after = models.ForeignKey(
        GridWorker, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("新认领网格员")
    )
    day = models.DateField(_("转场日"))
    at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("季节转场记录")
        ordering = ["-day", "household_id"]
        indexes = [
            models.Index(fields=["to_grid", "day"], name="move_to_grid_day"),
            models.Index(fields=["from_grid", "day"], name="move_from_grid_day"),
        ]

    def __str__(self) -> str:
        return f"{self.household} → {self.to_grid} ({self.day})"
