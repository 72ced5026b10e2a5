"""Field work: grid workers' visits (走访/巡查), mobile units (乌日特), yurt stations, village risk reviews.

Every table carries `region_code` so the jurisdiction scope applies as everywhere else: a visit and
its items carry the grid's code, a station and a review the village's, a mobile unit the county's.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zongzhi.cases.models import Case
from zongzhi.centers.models import Center, Org
from zongzhi.crypto import EncryptedTextField
from zongzhi.grid.models import GridWorker, Household
from zongzhi.regions.models import Region

if TYPE_CHECKING:
    from zongzhi.accounts.models import User


class Visit(models.Model):
    """A grid worker's visit to a household (走访) or patrol past it (巡查)."""

    class Kind(models.TextChoices):
        VISIT = "visit", _("走访")
        PATROL = "patrol", _("巡查")

    worker = models.ForeignKey(GridWorker, models.PROTECT, related_name="visits", verbose_name=_("网格员"))
    household = models.ForeignKey(Household, models.PROTECT, related_name="visits", verbose_name=_("户"))
    grid = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("网格"))
    region_code = models.CharField(_("区划代码"), max_length=15)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.VISIT)
    visited_at = models.DateTimeField(_("走访时间"))
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    notes = models.TextField(_("走访情况"))
    case = models.ForeignKey(
        Case, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("上报的矛盾纠纷")
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("走访巡查")
        ordering = ["-visited_at", "-id"]
        indexes = [models.Index(fields=["region_code", "visited_at"], name="visit_region_at")]

    def __str__(self) -> str:
        return f"{self.household} {self.visited_at:%Y-%m-%d}"


class VisitPhoto(models.Model):
    """A photo taken on a visit (JPEG or PNG only), served only after an access check."""

    visit = models.ForeignKey(Visit, models.CASCADE, related_name="photos")
    region_code = models.CharField(max_length=15, db_index=True)
    file = models.FileField(upload_to="field/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=30)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)


class FieldItem(models.Model):
    """A safety hazard (安全隐患) or a request of the people (民意诉求) found on a visit or a 乌日特 stop."""

    class Kind(models.TextChoices):
        SAFETY = "safety", _("安全隐患")
        OPINION = "opinion", _("民意诉求")

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        HANDLED = "handled", _("已处理")

    visit = models.ForeignKey(
        Visit, models.PROTECT, null=True, blank=True, related_name="items", verbose_name=_("走访")
    )
    mobile_visit = models.ForeignKey(
        "MobileVisit", models.PROTECT, null=True, blank=True, related_name="items", verbose_name=_("乌日特服务")
    )
    region_code = models.CharField(_("区划代码"), max_length=15)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("事项"), max_length=100)
    description = models.TextField(_("情况说明"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    raised_at = models.DateTimeField()
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    handling_note = models.TextField(_("处理情况"), blank=True)

    class Meta:
        verbose_name = _("安全隐患与民意诉求")
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["region_code", "status"], name="fielditem_region_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(visit__isnull=False, mobile_visit__isnull=True)
                | models.Q(visit__isnull=True, mobile_visit__isnull=False),
                name="fielditem_one_source",
            )
        ]

    def __str__(self) -> str:
        return self.title


# ---- mobile units and stations ------------------------------------------------------------------


class ServiceType(models.Model):
    """A service a mobile unit delivers (矛盾调解、法治宣传 …); configurable, seeded with six."""

    code = models.CharField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)
    active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("乌日特服务项目")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class Station(models.Model):
    """A yurt mediation station (蒙古包调解驿站) in a village, where mediation sessions are held."""

    name = models.CharField(_("名称"), max_length=100)
    village = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("嘎查村"))
    region_code = models.CharField(_("区划代码"), max_length=15, db_index=True)
    households = models.ManyToManyField(Household, blank=True, related_name="stations", verbose_name=_("服务户"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("蒙古包调解驿站")
        ordering = ["region_code", "name"]
        constraints = [models.UniqueConstraint(fields=["region_code", "name"], name="station_unique_name")]

    def __str__(self) -> str:
        return self.name


class MobileUnit(models.Model):
    """A mobile center (乌日特) of a county, serving 20–30 herder households on a circuit."""

    name = models.CharField(_("名称"), max_length=100)
    county = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("旗县"))
    region_code = models.CharField(_("区划代码"), max_length=15, db_index=True)
    households = models.ManyToManyField(Household, blank=True, related_name="mobile_units", verbose_name=_("服务牧户"))
    orgs = models.ManyToManyField(Org, blank=True, related_name="mobile_units", verbose_name=_("成员单位"))
    members: "models.ManyToManyField[User, MobileUnitMember]" = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        through="MobileUnitMember",
        related_name="mobile_units",
        verbose_name=_("成员"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("乌日特")
        ordering = ["region_code", "name"]

    def __str__(self) -> str:
        return self.name


class MobileUnitMember(models.Model):
    """A person riding with a mobile unit, with the unit's region code: the units a member reads (units_visible)
    are bounded by the codes of their rows, since a member's own jurisdiction need not hold the unit's county."""

    mobileunit = models.ForeignKey(MobileUnit, models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE)
    region_code = models.CharField(max_length=15)

    class Meta:
        db_table = "field_mobileunit_members"  # the table of the many-to-many it was before it carried the code
        unique_together = [("mobileunit", "user")]


class CircuitStop(models.Model):
    """One stop of a unit's circuit plan: a household or a place (a station, a summer camp), on a date."""

    unit = models.ForeignKey(MobileUnit, models.CASCADE, related_name="stops")
    region_code = models.CharField(max_length=15)
    order = models.PositiveSmallIntegerField(_("顺序"))
    planned_on = models.DateField(_("计划日期"))
    household = models.ForeignKey(Household, models.PROTECT, null=True, blank=True, related_name="+")
    station = models.ForeignKey(Station, models.PROTECT, null=True, blank=True, related_name="+")
    place = models.CharField(_("地点"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("巡回站点")
        ordering = ["unit", "order"]
        constraints = [models.UniqueConstraint(fields=["unit", "order"], name="circuitstop_unique_order")]

    def __str__(self) -> str:
        return self.place or str(self.household or self.station)


class MobileVisit(models.Model):
    """What a mobile unit did at one stop on one day."""

    unit = models.ForeignKey(MobileUnit, models.PROTECT, related_name="visits")
    stop = models.ForeignKey(CircuitStop, models.PROTECT, null=True, blank=True, related_name="visits")
    region_code = models.CharField(max_length=15, db_index=True)
    visited_on = models.DateField(_("日期"))
    people_served = models.PositiveIntegerField(_("服务人数"), default=0)
    notes = models.TextField(_("情况"), blank=True)
    cases = models.ManyToManyField(Case, blank=True, related_name="+", verbose_name=_("上报的矛盾纠纷"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("乌日特服务记录")
        ordering = ["-visited_on", "-id"]


class MobileVisitService(models.Model):
    """One service delivered on a mobile visit, with how many times and a note."""

    visit = models.ForeignKey(MobileVisit, models.CASCADE, related_name="services")
    region_code = models.CharField(max_length=15)
    service = models.ForeignKey(ServiceType, models.PROTECT, related_name="+")
    count = models.PositiveIntegerField(_("次数"), default=1)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["visit", "service"], name="mobilevisitservice_unique")]


# ---- village risk reviews -----------------------------------------------------------------------


class RiskReview(models.Model):
    """A village's periodic risk review (研判会): items drawn from open cases, open items, recent visits."""

    village = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("嘎查村"))
    region_code = models.CharField(_("区划代码"), max_length=15)
    held_on = models.DateField(_("研判日期"))
    chair = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("主持人"))
    attendees = models.CharField(_("参加人员"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("嘎查村风险研判")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["region_code", "held_on"], name="riskreview_region_on")]

    def __str__(self) -> str:
        return f"{self.village} {self.held_on}"


class RiskItem(models.Model):
    """One matter on a review, with the decision and the level that handles it (分级联动处置)."""

    class Source(models.TextChoices):
        CASE = "case", _("矛盾纠纷")
        ITEM = "item", _("隐患诉求")
        VISIT = "visit", _("走访发现")

    class Grade(models.TextChoices):
        VILLAGE = "village", _("嘎查村处置")
        TOWNSHIP = "township", _("苏木乡镇处置")
        COUNTY = "county", _("旗县处置")

    class Status(models.TextChoices):
        PENDING = "pending", _("待研判")
        ASSIGNED = "assigned", _("已交办")
        DONE = "done", _("已办结")

    review = models.ForeignKey(RiskReview, models.CASCADE, related_name="items")
    region_code = models.CharField(max_length=15)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    case = models.ForeignKey(Case, models.PROTECT, null=True, blank=True, related_name="+")
    field_item = models.ForeignKey(FieldItem, models.PROTECT, null=True, blank=True, related_name="+")
    visit = models.ForeignKey(Visit, models.PROTECT, null=True, blank=True, related_name="+")
    summary = models.CharField(_("事项"), max_length=200)
    decision = models.TextField(_("研判意见"), blank=True)
    grade = models.CharField(_("处置层级"), max_length=10, choices=Grade.choices, blank=True)
    handling_center = models.ForeignKey(
        Center, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("承办中心")
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    handled_note = models.TextField(_("办理结果"), blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("研判事项")
        ordering = ["review", "id"]
        indexes = [
            models.Index(fields=["region_code", "status"], name="riskitem_region_status"),
            models.Index(fields=["handling_center", "status"], name="riskitem_center_status"),
        ]


# ---- the offline field app's sync ---------------------------------------------------------------


class SyncRecord(models.Model):
    """A record made on a phone, by its client-generated id: the answer it got, kept for every replay.

    Inserted in the transaction that wrote the record, so a replay (any number of times, from any
    connection) finds it and answers the same without running the service again.
    """

    class Status(models.TextChoices):
        DONE = "done", _("已同步")
        CONFLICT = "conflict", _("有冲突")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    client_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices)
    region_code = models.CharField(max_length=15, db_index=True)
    answer = EncryptedTextField()  # the JSON answered the phone (messages may name residents)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("离线同步记录")
        constraints = [models.UniqueConstraint(fields=["user", "client_id"], name="syncrecord_one_per_client_id")]


class PhotoUpload(models.Model):
    """A photo sent from a phone in chunks at offsets, resumable after a dropped connection.

    The bytes collect in a file under MEDIA_ROOT until `received == size` and the SHA-256 matches;
    a visit then takes it (`visit` set) and the partial file is removed.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    upload_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=30)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    received = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    visit = models.ForeignKey(Visit, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "upload_id"], name="photoupload_one_per_upload_id")]
