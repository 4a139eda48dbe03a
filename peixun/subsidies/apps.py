from django.apps import AppConfig


class SubsidiesConfig(AppConfig):
    name = "peixun.subsidies"
    label = "subsidies"
    verbose_name = "培训补贴"
