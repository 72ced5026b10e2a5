from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "zongzhi.transfer"
    verbose_name = "导入导出"
