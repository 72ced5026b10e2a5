"""Template filters for the case timeline."""

from django import template

from zongzhi.cases import events
from zongzhi.cases.models import CaseEvent

register = template.Library()


@register.filter
def event_label(event: CaseEvent) -> str:
    return events.label(event)


@register.filter
def state_label(state: str) -> str:
    return events.state_label(state)


@register.filter
def field_errors(errors: dict[str, list[str]] | None, name: str) -> list[str]:
    """The messages a refused action gave for one form field (`instalments.0.amount` included)."""
    return (errors or {}).get(name, [])
