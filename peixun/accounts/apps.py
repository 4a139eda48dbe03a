from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "peixun.accounts"
    label = "accounts"
    verbose_name = "用户与单位"
