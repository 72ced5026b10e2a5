"""Small helpers shared by the staff forms."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, each message under the field it names."""
    for field, messages in error.message_dict.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def by_code(model: type[models.Model], raw: str, label: str, field: str = "code") -> Any:
    """The row whose natural key is `raw`, or a Chinese error naming what was not found."""
    code = raw.strip()
    if not code:
        return None
    found = model._default_manager.filter(**{field: code}).first()
    if found is None:
        raise ValidationError(_("%(label)s“%(code)s”不存在。") % {"label": label, "code": code})
    return found


def flash_errors(request: Any, error: Exception) -> None:
    """Show a refused action's reasons (ValidationError by field, or PermissionDenied) as page messages."""
    from django.contrib import messages

    if isinstance(error, ValidationError):
        for problem in error.messages:
            messages.error(request, problem)
    else:
        messages.error(request, str(error))
