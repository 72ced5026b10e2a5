"""The contract of `require_resource`: people pass, service accounts only with the right granted.

The end-to-end check (a real token against the live server) is in tests/test_service_accounts.py.
"""

from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from zongzhi.api_access import PERMISSIONS, permission_label, require_resource


def test_a_person_passes_whatever_the_resource() -> None:
    request = RequestFactory().get("/api/v1/residents")
    for permission in PERMISSIONS:
        require_resource(request, permission)


def test_a_service_account_needs_the_right_it_asks_for() -> None:
    request = RequestFactory().get("/api/v1/residents")
    request.service_account = SimpleNamespace(name="12345热线", permissions=["cases:read", "cases:write"])  # type: ignore[attr-defined]
    require_resource(request, "cases:write")
    with pytest.raises(PermissionDenied) as refused:
        require_resource(request, "residents:read")
    assert (
        str(refused.value) == "服务账号“12345热线”未获授权：实有人口（读取）（residents:read）。请联系安全管理员授权。"
    )


def test_an_unknown_permission_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="residnets:read"):
        require_resource(RequestFactory().get("/"), "residnets:read")


def test_every_resource_has_a_read_and_a_write_right() -> None:
    assert "cases:read" in PERMISSIONS and "webhooks:write" in PERMISSIONS
    assert permission_label("events:read") == "事件流（读取）"
