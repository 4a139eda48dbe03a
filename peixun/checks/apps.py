from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "peixun.checks"
    label = "checks"
    verbose_name = "实名核查与问题线索"
