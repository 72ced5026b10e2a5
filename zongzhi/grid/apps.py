from django.apps import AppConfig


class GridConfig(AppConfig):
    name = "zongzhi.grid"
    label = "grid"
