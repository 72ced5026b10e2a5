"""Template context shared by all staff pages."""

from typing import Any

from django.http import HttpRequest

from zongzhi import access


def persona(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "business": access.may_read_business(user),
            "accounts": access.may_manage_accounts(user),
            "security": access.may_manage_security(user),
            "audit": access.may_read_audit(user),
            "resets": access.may_handle_credential_resets(user),
            "sms": access.may_set_sms_notices(user),
        }
    }
