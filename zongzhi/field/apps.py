from django.apps import AppConfig


class FieldConfig(AppConfig):
    name = "zongzhi.field"
    label = "field"
    verbose_name = "走访巡查、乌日特与研判"
