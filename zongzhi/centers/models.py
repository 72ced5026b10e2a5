"""Centers (综治中心), their zones and rooms, the agencies (Org) and their presence at a center."""

import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from zongzhi.regions.models import Region

WEEKDAY_NAMES = {
    1: _("周一"),
    2: _("周二"),
    3: _("周三"),
    4: _("周四"),
    5: _("周五"),
    6: _("周六"),
    7: _("周日"),
}


class DisputeDomain(models.Model):
    """A field of disputes (草牧场, 婚姻家事 …) that professional teams specialise in."""

    code = models.CharField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)
    herder_area = models.BooleanField(_("牧区五大领域"), default=False)

    class Meta:
        verbose_name = _("矛盾纠纷领域")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Center(models.Model):
    """A 综治中心 at league, county or township level, or a village 综治工作站."""

    class Level(models.TextChoices):
        LEAGUE = "league", _("盟级综治中心")
        COUNTY = "county", _("旗县级综治中心")
        TOWNSHIP = "township", _("苏木乡镇级综治中心")
        VILLAGE = "village", _("嘎查村综治工作站")

    code = models.CharField(_("编码"), max_length=20, unique=True)
    region = models.ForeignKey(Region, models.PROTECT, related_name="centers", verbose_name=_("所在区划"))
    region_code = models.CharField(_("区划代码"), max_length=15, db_index=True)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    name = models.CharField(_("名称"), max_length=100)
    name_mn = models.CharField(_("蒙古文名称"), max_length=200, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("值班电话"), max_length=30, blank=True)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级中心")
    )

    class Meta:
        verbose_name = _("综治中心")
        ordering = ["region_code", "code"]

    def __str__(self) -> str:
        return self.name


class Org(models.Model):
    """An agency working with the centers: a department, a committee, a brand room, a team, a court."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("职能部门")
        MEDIATION_COMMITTEE = "mediation_committee", _("人民调解委员会")
        INDUSTRY_COMMITTEE = "industry_committee", _("行业性专业性调委会")
        BRAND_ROOM = "brand_room", _("个人品牌调解室")
        PROFESSIONAL_TEAM = "professional_team", _("专业调解团队")
        COURT = "court", _("法院（速裁法庭、人民法庭）")

    code = models.CharField(_("机构代码"), max_length=30, unique=True)
    kind = models.CharField(_("类型"), max_length=30, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    region = models.ForeignKey(Region, models.PROTECT, related_name="orgs", verbose_name=_("所属区划"))
    region_code = models.CharField(_("区划代码"), max_length=15, db_index=True)
    mediator_name = models.CharField(_("品牌调解员"), max_length=50, blank=True)
    domains = models.ManyToManyField(DisputeDomain, blank=True, related_name="orgs", verbose_name=_("擅长领域"))
    political_legal = models.BooleanField(_("政法单位"), default=False)
    # The range of region codes the org's service areas ever covered ("" when it never had one): widened
    # by `service_area_add`, never narrowed, since cases pushed there stay the org's to read. With its
    # own county it bounds every case the org may be pushed, asked or referred (`access.reach_of`).
    reach_from = models.CharField(_("跨辖区服务范围起"), max_length=15, blank=True, default="")
    reach_to = models.CharField(_("跨辖区服务范围止"), max_length=15, blank=True, default="")

    class Meta:
        verbose_name = _("单位")
        ordering = ["region_code", "code"]

    def __str__(self) -> str:
        return self.name


class ServiceArea(models.Model):
    """A region outside its own county that an org takes cases of (a league department, a listed partner).

    Cases are assigned and coordinated only to the orgs of the case's county and to orgs with a
    service area covering the case's region; an org sees the cases pushed to it, nothing else there.
    """

    org = models.ForeignKey(Org, models.CASCADE, related_name="service_areas", verbose_name=_("单位"))
    region = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("服务区划"))
    prefix = models.CharField(_("区划代码前缀"), max_length=15, db_index=True)

    class Meta:
        verbose_name = _("跨辖区服务范围")
        constraints = [models.UniqueConstraint(fields=["org", "region"], name="service_area_unique")]

    def __str__(self) -> str:
        return f"{self.org} → {self.region}"


class Room(models.Model):
    """A functional room in one of a center's three zones."""

    class Zone(models.TextChoices):
        INTAKE = "intake", _("引导受理区")
        RESOLUTION = "resolution", _("多元化解区")
        DISPATCH = "dispatch", _("指挥调度区")

    class Kind(models.TextChoices):
        WINDOW = "window", _("受理窗口")
        MEDIATION = "mediation", _("调解室")
        ADMIN_REVIEW = "admin_review", _("行政复议室")
        LEGAL_AID = "legal_aid", _("法律援助室")
        COUNSELLING = "counselling", _("心理咨询室")
        FAST_TRACK_COURT = "fast_track_court", _("速裁法庭")
        FOREIGN_MEDIATION = "foreign_mediation", _("涉外调解室")
        BRAND = "brand", _("品牌调解室")
        DISPATCH_HALL = "dispatch_hall", _("指挥调度大厅")

    ZONE_OF_KIND = {
        Kind.WINDOW: Zone.INTAKE,
        Kind.DISPATCH_HALL: Zone.DISPATCH,
    }

    center = models.ForeignKey(Center, models.CASCADE, related_name="rooms", verbose_name=_("中心"))
    zone = models.CharField(_("功能区"), max_length=20, choices=Zone.choices)
    kind = models.CharField(_("功能室类型"), max_length=30, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    org = models.ForeignKey(
        Org, models.SET_NULL, null=True, blank=True, related_name="rooms", verbose_name=_("使用单位")
    )

    class Meta:
        verbose_name = _("功能室")
        ordering = ["center", "zone", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["center", "name"], name="room_unique_name_per_center")]

    def __str__(self) -> str:
        return self.name


class Presence(models.Model):
    """An org stationed at a center: resident every working day, rotating on rota days, or on call."""

    class Mode(models.TextChoices):
        RESIDENT = "resident", _("常驻")
        ROTATING = "rotating", _("轮驻")
        ON_CALL = "on_call", _("随驻")

    org = models.ForeignKey(Org, models.CASCADE, related_name="presences", verbose_name=_("单位"))
    center = models.ForeignKey(Center, models.CASCADE, related_name="presences", verbose_name=_("中心"))
    mode = models.CharField(_("入驻方式"), max_length=10, choices=Mode.choices)
    # ISO weekdays (1 = Monday … 7 = Sunday) a rotating org is at the center.
    weekdays = models.JSONField(_("轮驻日"), default=list, blank=True)

    class Meta:
        verbose_name = _("入驻")
        constraints = [models.UniqueConstraint(fields=["org", "center"], name="presence_unique_org_center")]

    def __str__(self) -> str:
        return f"{self.org} @ {self.center}"

    def rota_display(self) -> str:
        return "、".join(str(WEEKDAY_NAMES[d]) for d in self.weekdays if d in WEEKDAY_NAMES)

    def on_duty(self, day: datetime.date) -> bool:
        """Whether the org staffs its desk at the center on `day` (on-call orgs come when called)."""
        if self.mode == self.Mode.RESIDENT:
            return day.isoweekday() <= 5
        if self.mode == self.Mode.ROTATING:
            return day.isoweekday() in self.weekdays
        return False
