"""The grid's people: grid workers, grid party groups and building / joint-household heads."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
