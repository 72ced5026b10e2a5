from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "zongzhi.portal"
    label = "portal"
