from django.apps import AppConfig


class CentersConfig(AppConfig):
    name = "zongzhi.centers"
    label = "centers"
