from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "zongzhi.regions"
    label = "regions"
