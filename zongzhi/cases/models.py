"""Disputes (矛盾纠纷) and everything that happens to them, from intake to follow-up.

Every case-side table carries `region_code` (the case's region), so scoping and, at national
scale, sharding work the same way on every table.
"""

import functools
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zongzhi.centers.models import Center, DisputeDomain, Org, Room
from zongzhi.crypto import EncryptedTextField
from zongzhi.regions.models import Region


class Category(models.Model):
    """A node of the configurable dispute taxonomy (seeded with the league's dispute domains)."""

    code = models.CharField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children")
    domain = models.ForeignKey(DisputeDomain, models.PROTECT, null=True, blank=True, related_name="categories")
    active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("纠纷类别")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


def _label(choices: type[models.TextChoices], value: str) -> str:
    """The label of `value` in the current language, or the value itself (as Django's display does)."""
    return _translated_label(choices, value, get_language())


@functools.lru_cache(maxsize=1024)
def _translated_label(choices: type[models.TextChoices], value: str, language: str | None) -> str:
    # Per language: a list page shows 2–3 labels a row, each a catalogue lookup through a lazy string.
    if value not in choices._value2member_map_:  # not `choices.values`: a list built on each call
        return value
    return str(choices(value).label)


class State(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    ACCEPTED = "accepted", _("已受理")
    ASSIGNED = "assigned", _("已分流")
    IN_PROGRESS = "in_progress", _("办理中")
    RESOLVED = "resolved", _("已化解")
    UNRESOLVED = "unresolved", _("未化解")
    CLOSED = "closed", _("已结案")
    REJECTED = "rejected", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_STATES = (State.REGISTERED, State.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS)


class Case(models.Model):
    """One dispute, registered once, owned by whoever received it (首问负责)."""

    class Channel(models.TextChoices):
        WINDOW = "window", _("窗口受理")
        GRID = "grid", _("网格员上报")
        DEPARTMENT = "department", _("部门移送")
        MOBILE = "mobile", _("乌日特走访")
        PORTAL = "portal", _("网上申请")
        IMPORT = "import", _("历史导入")
        HOTLINE = "hotline", _("12345热线")  # through Open311 by the hotline's service account

    class Risk(models.TextChoices):
        RED = "red", _("红色")
        ORANGE = "orange", _("橙色")
        YELLOW = "yellow", _("黄色")
        BLUE = "blue", _("蓝色")

    class Outcome(models.TextChoices):
        AGREEMENT = "agreement", _("达成调解协议")
        RESOLVED_OTHER = "resolved_other", _("其他方式化解")
        LITIGATION = "litigation", _("引导诉讼")
        ARBITRATION = "arbitration", _("引导仲裁")
        ADMIN_RECONSIDERATION = "admin_reconsideration", _("引导行政复议")
        COURT = "court", _("转速裁法庭")
        OTHER = "other", _("其他")

    number = models.CharField(_("案件编号"), max_length=18, unique=True)
    channel = models.CharField(_("来源渠道"), max_length=20, choices=Channel.choices)
    category = models.ForeignKey(Category, models.PROTECT, related_name="cases", verbose_name=_("纠纷类别"))
    title = models.CharField(_("事由"), max_length=100)
    description = models.TextField(_("纠纷情况"))
    region = models.ForeignKey(Region, models.PROTECT, related_name="cases", verbose_name=_("发生地"))
    region_code = models.CharField(_("区划代码"), max_length=15)
    location = models.CharField(_("具体地点"), max_length=200, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    amount = models.DecimalField(_("涉及金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    people_involved = models.PositiveIntegerField(_("涉及人数"), default=1)
    foreign_related = models.BooleanField(_("涉外"), default=False)
    risk_level = models.CharField(_("风险等级"), max_length=10, choices=Risk.choices)
    risk_suggested = models.CharField(_("建议风险等级"), max_length=10, choices=Risk.choices)
    risk_reasons = models.JSONField(_("风险依据"), default=list)
    risk_override_reason = models.CharField(_("调整风险等级的理由"), max_length=200, blank=True)
    major = models.BooleanField(_("重大疑难"), default=False)
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.REGISTERED)
    version = models.PositiveIntegerField(_("版本"), default=1)
    center = models.ForeignKey(Center, models.PROTECT, related_name="cases", verbose_name=_("办理中心"))
    escalations = models.PositiveSmallIntegerField(_("上提次数"), default=0)
    # After 上提 the receiving center's director keeps or changes the lead; until then the case waits on them.
    awaiting_director = models.BooleanField(_("待接收中心主任确定承办"), default=False, db_default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="owned_cases", verbose_name=_("首问责任人")
    )
    registered_at = models.DateTimeField(_("登记时间"))
    occurred_on = models.DateField(_("发生日期"), null=True, blank=True)
    # The deadline of the stage the case is in: acceptance while registered, handling once assigned.
    due_at = models.DateTimeField(_("期限"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    outcome = models.CharField(_("结案方式"), max_length=30, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("结案说明"), blank=True)
    original_number = models.CharField(_("原编号"), max_length=50, blank=True)
    related = models.ManyToManyField("self", blank=True, verbose_name=_("关联案件"))

    class Meta:
        verbose_name = _("矛盾纠纷")
        ordering = ["-registered_at", "-id"]
        indexes = [
            models.Index(fields=["region_code", "state"], name="case_region_state"),
            models.Index(fields=["state", "due_at"], name="case_state_due"),
            models.Index(fields=["center", "state"], name="case_center_state"),
        ]
        constraints = [
            # The natural key of an imported case (a re-import finds it by an index, and two imports of
            # one ledger at once cannot both insert it).
            models.UniqueConstraint(
                fields=["original_number"],
                condition=models.Q(channel="import") & ~models.Q(original_number=""),
                name="case_import_original_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    # Django's own get_FOO_display builds a dict of every choice on each call, translating each label
    # to hash it: ~20 translations per row of a list page. These look the value up in the enum.
    def get_state_display(self) -> str:  # type: ignore[no-redef]
        return _label(State, self.state)

    def get_risk_level_display(self) -> str:  # type: ignore[no-redef]
        return _label(Case.Risk, self.risk_level)

    def get_channel_display(self) -> str:  # type: ignore[no-redef]
        return _label(Case.Channel, self.channel)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def deadline_label(self) -> str:
        """What `due_at` is the deadline of, for the pages."""
        return str(_("受理期限") if self.state == State.REGISTERED else _("办理期限"))


class Party(models.Model):
    """A party to a case: a person (resident ID), an organisation (USCC) or a foreigner (passport)."""

    class Kind(models.TextChoices):
        PERSON = "person", _("自然人")
        ORGANISATION = "organisation", _("单位")
        FOREIGNER = "foreigner", _("外籍人员")

    class Role(models.TextChoices):
        APPLICANT = "applicant", _("申请人")
        RESPONDENT = "respondent", _("被申请人")
        THIRD = "third", _("第三人")

    case = models.ForeignKey(Case, models.CASCADE, related_name="parties")
    region_code = models.CharField(max_length=15)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    role = models.CharField(_("身份"), max_length=20, choices=Role.choices)
    name = models.CharField(_("姓名/名称"), max_length=100)
    id_number = EncryptedTextField(_("证件号码"), blank=True)
    id_index = models.CharField(max_length=64, blank=True, db_index=True)
    nationality = models.CharField(_("国籍"), max_length=3, blank=True)
    phone = EncryptedTextField(_("联系电话"), blank=True)
    address = models.CharField(_("住址"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("当事人")
        ordering = ["case", "role", "id"]

    def __str__(self) -> str:
        return self.name


class CaseEvent(models.Model):
    """The append-only timeline of a case: audit trail, UI history and statistics source."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="events")
    region_code = models.CharField(max_length=15)
    kind = models.CharField(_("事件"), max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(_("时间"))
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    version = models.PositiveIntegerField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("流转记录")
        ordering = ["case", "id"]
        indexes = [models.Index(fields=["region_code", "at"], name="event_region_at")]


class Assignment(models.Model):
    """A case pushed to an org: the lead handler or a co-handler (联合调处), with a deadline."""

    class Role(models.TextChoices):
        LEAD = "lead", _("主办")
        CO = "co", _("协办")

    class Status(models.TextChoices):
        PENDING = "pending", _("待签收")
        SIGNED = "signed", _("已签收")
        RETURNED = "returned", _("已退回")
        TRANSFERRED = "transferred", _("已转办")
        DONE = "done", _("已办结")

    case = models.ForeignKey(Case, models.CASCADE, related_name="assignments")
    region_code = models.CharField(max_length=15)
    org = models.ForeignKey(Org, models.PROTECT, related_name="assignments", verbose_name=_("承办单位"))
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PENDING)
    deadline = models.DateTimeField(_("办理期限"))
    # The working days the director gave (None: by the deadline policy); a transfer keeps such a deadline.
    handle_days = models.PositiveSmallIntegerField(_("指定办理时限（工作日）"), null=True, blank=True)
    sign_for_due = models.DateTimeField(_("签收期限"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField()
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.CharField(_("退回理由"), max_length=300, blank=True)
    part = models.TextField(_("承办情况"), blank=True, db_default="")  # what a co-handler did, as it finishes
    finished_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    finished_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("分流指派")
        ordering = ["case", "role", "id"]
        indexes = [models.Index(fields=["org", "status"], name="assignment_org_status")]


class CoordinationRequest(models.Model):
    """One agency asking another for help on a case (协调联动)."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="coordination_requests")
    region_code = models.CharField(max_length=15)
    from_org = models.ForeignKey(Org, models.PROTECT, related_name="+", verbose_name=_("请求单位"))
    to_org = models.ForeignKey(Org, models.PROTECT, related_name="coordination_requests", verbose_name=_("协调单位"))
    message = models.TextField(_("请求事项"))
    reply = models.TextField(_("答复"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    replied_at = models.DateTimeField(null=True, blank=True)


class RoomBooking(models.Model):
    """A center room reserved for a session on a case."""

    room = models.ForeignKey(Room, models.PROTECT, related_name="bookings", verbose_name=_("功能室"))
    case = models.ForeignKey(Case, models.CASCADE, related_name="bookings")
    region_code = models.CharField(max_length=15)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["room", "starts_at"], name="booking_room_start")]


class MediationSession(models.Model):
    """A mediation meeting: when, where (a room, a yurt station, on site), who, and the record."""

    class Place(models.TextChoices):
        ROOM = "room", _("中心功能室")
        STATION = "station", _("蒙古包调解驿站")
        ON_SITE = "on_site", _("现场")

    case = models.ForeignKey(Case, models.CASCADE, related_name="sessions")
    region_code = models.CharField(max_length=15)
    held_at = models.DateTimeField(_("调解时间"))
    place_kind = models.CharField(_("地点类型"), max_length=10, choices=Place.choices)
    room = models.ForeignKey(Room, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("功能室"))
    place = models.CharField(_("地点"), max_length=200, blank=True)
    mediators = models.CharField(_("调解员"), max_length=200)
    attendees = models.CharField(_("参加人员"), max_length=300, blank=True)
    record = models.TextField(_("调解记录"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")

    class Meta:
        ordering = ["held_at"]


class Agreement(models.Model):
    """The written mediation agreement (调解协议书)."""

    case = models.OneToOneField(Case, models.CASCADE, related_name="agreement")
    region_code = models.CharField(max_length=15)
    number = models.CharField(_("协议编号"), max_length=40)
    facts = models.TextField(_("纠纷事实"))
    terms = models.TextField(_("协议内容"))
    amount = models.DecimalField(_("协议金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    performance_method = models.CharField(_("履行方式"), max_length=200)
    performance_place = models.CharField(_("履行地点"), max_length=200, blank=True)
    performance_due = models.DateField(_("履行期限"))
    signed_on = models.DateField(_("签订日期"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")


class Instalment(models.Model):
    """One instalment of an agreement's performance, with its receipt when paid."""

    agreement = models.ForeignKey(Agreement, models.CASCADE, related_name="instalments")
    region_code = models.CharField(max_length=15)
    due_on = models.DateField(_("应付日期"))
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2)
    paid_on = models.DateField(_("实付日期"), null=True, blank=True)
    paid_amount = models.DecimalField(_("实付金额"), max_digits=14, decimal_places=2, null=True, blank=True)
    receipt_number = models.CharField(_("收据号"), max_length=50, blank=True)

    class Meta:
        ordering = ["due_on"]

    # `paid_amount` is the sum of the payments received so far; `paid_on` the day the last of them
    # paid the instalment in full (None while anything is outstanding). The payments are the history.

    @property
    def outstanding(self) -> Decimal:
        """What is still to be paid of this instalment."""
        return max(self.amount - (self.paid_amount or Decimal(0)), Decimal("0.00"))


class InstalmentPayment(models.Model):
    """One payment received against an instalment (履行登记): part of it or the whole, with its receipt."""

    instalment = models.ForeignKey(Instalment, models.CASCADE, related_name="payments")
    region_code = models.CharField(max_length=15)
    paid_on = models.DateField(_("实付日期"))
    amount = models.DecimalField(_("实付金额"), max_digits=14, decimal_places=2)
    receipt_number = models.CharField(_("收据号"), max_length=50, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("履行登记")
        ordering = ["paid_on", "id"]


class CourtReferral(models.Model):
    """诉调对接 to the fast-track court, or a request for judicial confirmation (司法确认)."""

    class Kind(models.TextChoices):
        LITIGATION = "litigation", _("转诉讼（诉调对接）")
        CONFIRMATION = "confirmation", _("司法确认")

    class Result(models.TextChoices):
        PENDING = "pending", _("审查中")
        CONFIRMED = "confirmed", _("确认有效")
        REJECTED = "rejected", _("不予确认")
        ACCEPTED = "accepted", _("已立案")

    case = models.ForeignKey(Case, models.CASCADE, related_name="court_referrals")
    region_code = models.CharField(max_length=15)
    court = models.ForeignKey(Org, models.PROTECT, related_name="+", verbose_name=_("法院"))
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    result = models.CharField(_("结果"), max_length=20, choices=Result.choices, default=Result.PENDING)
    referred_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)


class FollowUp(models.Model):
    """回访: was the agreement performed, and how satisfied are the parties."""

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASICALLY = "basically", _("基本满意")
        DISSATISFIED = "dissatisfied", _("不满意")

    class Performance(models.TextChoices):
        PERFORMED = "performed", _("已履行")
        PARTLY = "partly", _("部分履行")
        NOT_PERFORMED = "not_performed", _("未履行")
        NOT_APPLICABLE = "na", _("不涉及")

    case = models.ForeignKey(Case, models.CASCADE, related_name="follow_ups")
    region_code = models.CharField(max_length=15)
    at = models.DateTimeField(_("回访时间"))
    method = models.CharField(_("回访方式"), max_length=50)
    performance = models.CharField(_("履行情况"), max_length=20, choices=Performance.choices)
    satisfaction = models.CharField(_("满意度"), max_length=20, choices=Satisfaction.choices)
    note = models.TextField(_("回访记录"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")


class Supervision(models.Model):
    """督办 ("三单两函"): a document issued on an overdue or difficult case, with reply and effect."""

    class Kind(models.TextChoices):
        HANDOVER = "handover", _("交办单")
        SUPERVISION = "supervision", _("督办单")
        FEEDBACK = "feedback", _("反馈单")
        REMINDER = "reminder", _("提示函")
        LETTER = "letter", _("督办函")

    class Status(models.TextChoices):
        OPEN = "open", _("待反馈")
        REPLIED = "replied", _("已反馈")
        ASSESSED = "assessed", _("已问效")

    class Effect(models.TextChoices):
        EFFECTIVE = "effective", _("成效明显")
        PARTLY = "partly", _("部分见效")
        INEFFECTIVE = "ineffective", _("未见成效")

    case = models.ForeignKey(Case, models.CASCADE, related_name="supervisions")
    region_code = models.CharField(max_length=15)
    kind = models.CharField(_("文书"), max_length=20, choices=Kind.choices)
    number = models.CharField(_("文号"), max_length=40)
    issuer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    issuer_center = models.ForeignKey(Center, models.PROTECT, related_name="+", verbose_name=_("督办中心"))
    target_org = models.ForeignKey(Org, models.PROTECT, null=True, blank=True, related_name="supervisions")
    # Addressed to a center when no org holds the case: it is to be accepted, or waits on the director.
    target_center = models.ForeignKey(
        Center, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("被督办中心")
    )
    reason = models.TextField(_("督办事由"))
    deadline = models.DateTimeField(_("反馈期限"))
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.OPEN)
    issued_at = models.DateTimeField()
    reply = models.TextField(_("反馈内容"), blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    effect = models.CharField(_("督办问效"), max_length=20, choices=Effect.choices, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["region_code", "status"], name="supervision_region_status")]


class Attachment(models.Model):
    """A file on a case: photo, signed agreement, audio. Served only after an access check."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="attachments")
    region_code = models.CharField(max_length=15)
    file = models.FileField(upload_to="cases/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()


class CaseNumberSequence(models.Model):
    """The last sequence number issued per county and day, for `{county}{yyyymmdd}{nnnn}`."""

    county = models.CharField(max_length=6)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county", "day"], name="case_number_sequence_unique")]


class CalendarDay(models.Model):
    """An exception to the Monday–Friday working week: a holiday, or a weekend working day (调休)."""

    day = models.DateField(unique=True)
    workday = models.BooleanField(_("上班"))
    name = models.CharField(_("名称"), max_length=50, blank=True)

    class Meta:
        ordering = ["day"]


class DeadlinePolicy(models.Model):
    """Working days allowed, by category and risk (the most specific matching row wins)."""

    category = models.ForeignKey(Category, models.CASCADE, null=True, blank=True, related_name="+")
    risk_level = models.CharField(max_length=10, choices=Case.Risk.choices, blank=True)
    accept_days = models.PositiveSmallIntegerField(_("受理时限（工作日）"), default=1)
    sign_for_days = models.PositiveSmallIntegerField(_("签收时限（工作日）"), default=1)
    handle_days = models.PositiveSmallIntegerField(_("办理时限（工作日）"))
    name = models.CharField(_("名称"), max_length=50)

    class Meta:
        ordering = ["id"]


class SupervisionName(models.Model):
    """The configurable display names of the supervision documents ("三单两函")."""

    kind = models.CharField(max_length=20, choices=Supervision.Kind.choices, unique=True)
    name = models.CharField(max_length=30)
