"""An import run (uploaded file, options, progress, report) that a background task carries out."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One upload: the worker runs it, the page polls its progress, its owner may cancel it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已取消")
        FAILED = "failed", _("出错")

    class Phase(models.TextChoices):
        VALIDATE = "validate", _("检查")
        WRITE = "write", _("写入")

    kind = models.CharField(_("类型"), max_length=20)
    file_name = models.CharField(_("文件名"), max_length=200)
    path = models.CharField(max_length=500)  # the upload, kept under var/imports until the job ends
    dry_run = models.BooleanField(_("试运行"), default=False)
    accept_valid = models.BooleanField(_("只导入正确的行"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(_("阶段"), max_length=10, choices=Phase.choices, default=Phase.VALIDATE)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    report = models.JSONField(null=True, blank=True)
    rejects_path = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("导入任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"

    @property
    def percent(self) -> int:
        """Checking is the first half of the bar, writing the second."""
        if self.status == self.Status.DONE:
            return 100
        share = min(self.done / self.total, 1.0) if self.total else 0.0
        return int(50 * share) + (50 if self.phase == self.Phase.WRITE else 0)

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.CANCELLED, self.Status.FAILED)


class ExportJob(models.Model):
    """One list export asked for through the API: the worker writes the file, its owner downloads it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("出错")

    list_name = models.CharField(_("列表"), max_length=30)
    fmt = models.CharField(_("格式"), max_length=4)
    filters = models.JSONField(_("筛选条件"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(null=True, blank=True)
    # Progress while running: rows written so far, of the rows the scoped list counted at the start.
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)  # under var/exports, masked like every export
    error = models.TextField(blank=True)
    # The worker's last sign of life (claim, each progress update): a running job silent for
    # EXPORT_STALE_MINUTES lost its worker and is marked failed.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Shown to the owner in Chinese: why the job failed, or that its file went after the retention period.
    reason = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("导出任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.list_name}.{self.fmt}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(99 * min(self.done / self.total, 1.0)) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
