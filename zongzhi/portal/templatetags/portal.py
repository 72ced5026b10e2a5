"""Names in the visitor's language: (text, in_that_language). Templates mark the rest lang="zh-Hans"."""

from django import template

from zongzhi.centers.models import Center
from zongzhi.portal import selectors
from zongzhi.regions.models import Region

register = template.Library()


@register.simple_tag
def center_label(center: Center) -> tuple[str, bool]:
    return selectors.center_name(center)


@register.simple_tag
def region_label(region: Region) -> tuple[str, bool]:
    return selectors.region_name(region)
