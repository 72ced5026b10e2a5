"""The append-only audit log, chained by HMAC-SM3 and anchored by signed checkpoints (docs/audit.md)."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One security-relevant event; `hash` chains it to the entry before (HMAC-SM3 under the key `key_id`)."""

    class Action(models.TextChoices):
        LOGIN = "login", _("登录成功")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOCKED = "locked", _("账号锁定")
        LOGIN_WHILE_LOCKED = "login_while_locked", _("锁定期间尝试登录")
        UNLOCKED = "unlocked", _("账号解锁")
        LOGOUT = "logout", _("退出登录")
        IDLE_TIMEOUT = "idle_timeout", _("空闲超时退出")
        TOTP_ENROLLED = "totp_enrolled", _("绑定动态口令")
        TOTP_RESET = "totp_reset", _("重置动态口令")
        USER_CREATED = "user_created", _("创建账号")
        USER_UPDATED = "user_updated", _("修改账号")
        ROLE_GRANTED = "role_granted", _("授予角色")
        ROLE_REVOKED = "role_revoked", _("撤销角色")
        JURISDICTION_GRANTED = "jurisdiction_granted", _("授予辖区")
        JURISDICTION_REVOKED = "jurisdiction_revoked", _("撤销辖区")
        REGION_CREATED = "region_created", _("新增区划")
        PRESENCE_SET = "presence_set", _("设置入驻")
        TOKEN_ISSUED = "token_issued", _("签发 API 令牌")
        TOKEN_ROTATED = "token_rotated", _("轮换 API 令牌")
        TOKEN_REVOKED = "token_revoked", _("吊销 API 令牌")
        TOKEN_REFUSED = "token_refused", _("无效令牌被拒绝")
        API_CALL = "api_call", _("服务账号调用接口")
        SERVICE_ACCOUNT_CREATED = "service_account_created", _("创建服务账号")
        SERVICE_ACCOUNT_UPDATED = "service_account_updated", _("修改服务账号")
        UNMASK = "unmask", _("查看完整证件号或电话")
        CONFIG_CHANGED = "config_changed", _("修改业务配置")
        DATA_IMPORTED = "data_imported", _("批量导入")
        DATA_EXPORTED = "data_exported", _("导出列表")
        WEBHOOK_SUBSCRIBED = "webhook_subscribed", _("订阅事件推送")
        WEBHOOK_REDELIVERED = "webhook_redelivered", _("重新投递事件")
        ADMIN_REFUSED = "admin_refused", _("管理操作被拒绝")
        CREDENTIAL_RESET_REQUESTED = "credential_reset_requested", _("申请重置凭据")
        CREDENTIAL_RESET_CONFIRMED = "credential_reset_confirmed", _("复核并重置凭据")
        CREDENTIAL_RESET_CANCELLED = "credential_reset_cancelled", _("撤销凭据重置申请")
        PASSWORD_SET = "password_set", _("设置初始密码")
        PASSWORD_CHANGED = "password_changed", _("本人修改密码")
        SERVICE_AREA_ADDED = "service_area_added", _("设置跨辖区服务范围")
        SERVICE_AREA_REMOVED = "service_area_removed", _("取消跨辖区服务范围")
        DATA_MOVED = "data_moved", _("试点数据迁入 PostgreSQL")
        SEASONAL_SWITCH = "seasonal_switch", _("牧户季节转场")
        CASE_ACTION = "case_action", _("办理案件")
        DOCUMENT_PRINTED = "document_printed", _("打印文书")
        DOCUMENT_PRINTED_UNMASKED = "document_printed_unmasked", _("打印含当事人完整信息的文书")
        FILE_DOWNLOADED = "file_downloaded", _("下载文件")
        FILES_PURGED = "files_purged", _("删除过期文件")

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    # PROTECT: an account with a history is deactivated, never deleted (the log is append-only).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("操作人")
    )
    actor_name = models.CharField(_("操作账号"), max_length=150, blank=True)
    # No `choices` on the column: the list of actions grows with the platform, and each new one would
    # otherwise be a migration of this table. `record` only takes members of `Action`.
    action = models.CharField(_("事件"), max_length=30, db_index=True)
    target = models.CharField(_("对象"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    # The chain key the hash was made with ("": an entry from before the chain had a key, plain SM3).
    key_id = models.CharField(max_length=16, blank=True, default="")
    hash = models.CharField(max_length=64, unique=True)
    # Which of the parallel chains the entry is on (`services.audit_record`): writers in different lanes
    # never wait for each other. Entries from before lanes, and every entry on SQLite, are on lane 0.
    lane = models.PositiveSmallIntegerField(default=0, db_default=0)

    class Meta:
        verbose_name = _("审计日志")
        ordering = ["-id"]
        indexes = [models.Index(fields=["lane", "-id"], name="audit_lane_head")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("audit entries are append-only")

    @property
    def action_label(self) -> str:
        """The action's Chinese name (the code itself for one no longer in `Action`)."""
        try:
            return str(self.Action(self.action).label)
        except ValueError:
            return self.action
