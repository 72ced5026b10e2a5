"""Per-resource rights of service accounts on the API: `require_resource(request, "residents:read")`.

Every API route calls it first with the resource it reads or writes. People are governed by their
roles and the jurisdiction-scoped selectors, so for them it does nothing. A service account (a
department system, a hotline, the regional platform) may use a route only when the security
administrator granted it that right; otherwise the request is refused with 403 and a Chinese message.

The bearer authentication (`zongzhi.api.BearerToken`) puts the account on `request.service_account`;
an account's `permissions` is the list of names of `PERMISSIONS` it was granted.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The resources of the API, each readable and writable. A new kind of route adds its resource here.
RESOURCES: dict[str, Any] = {
    "cases": gettext_lazy("矛盾纠纷"),
    "residents": gettext_lazy("实有人口"),
    "households": gettext_lazy("户"),
    "claims": gettext_lazy("认领"),
    "visits": gettext_lazy("走访"),
    "items": gettext_lazy("走访与研判事项"),
    "mobile_units": gettext_lazy("乌日特与驿站"),
    "reviews": gettext_lazy("风险研判"),
    "meetings": gettext_lazy("联席调度会议"),
    "regions": gettext_lazy("区划"),
    "centers": gettext_lazy("中心、单位与入驻"),
    "imports": gettext_lazy("批量导入"),
    "exports": gettext_lazy("导出"),
    "dashboards": gettext_lazy("指挥调度数据"),
    "open_days": gettext_lazy("开放日"),
    "events": gettext_lazy("事件流"),
    "webhooks": gettext_lazy("事件推送"),
    "sms": gettext_lazy("短信回复（网关）"),
}
ACCESS = {"read": gettext_lazy("读取"), "write": gettext_lazy("写入")}
PERMISSIONS: tuple[str, ...] = tuple(f"{r}:{a}" for r in RESOURCES for a in ACCESS)


def permission_label(name: str) -> str:
    """`cases:write` → 矛盾纠纷（写入）."""
    resource, _sep, level = name.partition(":")
    return f"{RESOURCES[resource]}（{ACCESS[level]}）"


def require_resource(request: HttpRequest, permission: str) -> None:
    """Refuse (403) a service account without `permission`; a person passes (roles and selectors decide)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown API permission {permission!r}: add its resource to api_access.RESOURCES")
    account = getattr(request, "service_account", None)
    if account is None:
        return
    if permission not in account.permissions:
        raise PermissionDenied(
            _("服务账号“%(name)s”未获授权：%(what)s（%(permission)s）。请联系安全管理员授权。")
            % {"name": account.name, "what": permission_label(permission), "permission": permission}
        )
