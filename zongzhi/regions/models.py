"""The administrative tree: league → county → township → village → grid."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zongzhi.regions import codes


class Region(models.Model):
    """One node of the tree, keyed by its hierarchical code."""

    class Level(models.TextChoices):
        LEAGUE = codes.LEAGUE, _("盟市")
        COUNTY = codes.COUNTY, _("旗县市区")
        TOWNSHIP = codes.TOWNSHIP, _("苏木乡镇街道")
        VILLAGE = codes.VILLAGE, _("嘎查村社区")
        GRID = codes.GRID, _("网格")

    class Kind(models.TextChoices):
        LEAGUE = "league", _("盟")
        CITY = "city", _("县级市")
        BANNER = "banner", _("旗")
        COUNTY = "county", _("县")
        MANAGEMENT_AREA = "management_area", _("管理区")
        SUMU = "sumu", _("苏木")
        TOWN = "town", _("镇")
        STREET = "street", _("街道")
        FARM = "farm", _("牧场")
        GACHA = "gacha", _("嘎查")
        VILLAGE = "village", _("村")
        COMMUNITY = "community", _("社区")
        GRID = "grid", _("网格")

    code = models.CharField(_("区划代码"), max_length=15, unique=True)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级区划")
    )
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    name_mn = models.CharField(_("蒙古文名称"), max_length=200, blank=True)
    pastoral = models.BooleanField(_("牧区"), default=False)
    population = models.PositiveIntegerField(_("常住人口"), null=True, blank=True)
    boundary = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)
    centroid_lng = models.FloatField(_("中心经度"), null=True, blank=True)
    centroid_lat = models.FloatField(_("中心纬度"), null=True, blank=True)

    class Meta:
        verbose_name = _("区划")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"], name="region_level_code")]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return codes.prefix_of(self.code, self.level)

    @property
    def child_level(self) -> str | None:
        index = codes.LEVELS.index(self.level)
        return codes.LEVELS[index + 1] if index + 1 < len(codes.LEVELS) else None
