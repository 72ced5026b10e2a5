"""Monthly joint dispatch meetings (联席调度会议) of a jurisdiction, with their agenda of cases."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zongzhi.cases.models import Case, Supervision
from zongzhi.centers.models import Center
from zongzhi.regions.models import Region

LEVELS = (Region.Level.LEAGUE, Region.Level.COUNTY, Region.Level.TOWNSHIP)  # where joint meetings are held


class DispatchMeeting(models.Model):
    """One jurisdiction's meeting for one month: agenda drawn from its cases, minutes, decisions."""

    class Status(models.TextChoices):
        PREPARING = "preparing", _("筹备中")
        HELD = "held", _("已召开")

    region = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("辖区"))
    region_code = models.CharField(_("区划代码"), max_length=15)
    center = models.ForeignKey(Center, models.PROTECT, related_name="+", verbose_name=_("召集中心"))
    month = models.DateField(_("月份"))  # the first day of the month
    held_on = models.DateField(_("会议日期"))
    title = models.CharField(_("会议名称"), max_length=200)
    chair = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("主持人"))
    attendees = models.TextField(_("参会单位和人员"), blank=True)
    minutes = models.TextField(_("会议纪要"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PREPARING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("联席调度会议")
        ordering = ["-month", "region_code"]
        indexes = [models.Index(fields=["region_code", "month"], name="meeting_region_month")]
        constraints = [models.UniqueConstraint(fields=["region", "month"], name="meeting_one_per_month")]

    def __str__(self) -> str:
        return self.title


class AgendaItem(models.Model):
    """A case on the agenda, why it is there (as it stood when the agenda was drawn), and the decision."""

    class Reason(models.TextChoices):
        MAJOR = "major", _("重大疑难")
        ESCALATED = "escalated", _("已上提")
        SUPERVISED = "supervised", _("督办中")
        OVERDUE = "overdue", _("已超期")

    meeting = models.ForeignKey(DispatchMeeting, models.CASCADE, related_name="items")
    region_code = models.CharField(max_length=15)
    order = models.PositiveIntegerField(_("序号"))
    case = models.ForeignKey(Case, models.PROTECT, related_name="+")
    reasons = models.CharField(_("列入原因"), max_length=60)  # Reason values, comma-separated
    state = models.CharField(_("当时状态"), max_length=20)
    due_at = models.DateTimeField(_("办理期限"), null=True, blank=True)
    lead_org = models.CharField(_("主办单位"), max_length=100, blank=True)
    discussion = models.TextField(_("会商情况"), blank=True)
    decision = models.TextField(_("会议决定"), blank=True)
    supervision = models.ForeignKey(
        Supervision, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("督办文书")
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("会议议题")
        ordering = ["meeting", "order"]
        constraints = [models.UniqueConstraint(fields=["meeting", "case"], name="agenda_case_once")]

    def reason_labels(self) -> list[str]:
        return [str(AgendaItem.Reason(r).label) for r in self.reasons.split(",") if r]
