from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "zongzhi.accounts"
    label = "accounts"
