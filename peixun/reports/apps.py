from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "peixun.reports"
    label = "reports"
    verbose_name = "统计报表"
