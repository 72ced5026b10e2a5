from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "zongzhi.demo"
    label = "demo"
