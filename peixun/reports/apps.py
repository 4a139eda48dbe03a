from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "peixun.reports"
    label = "reports"
    verbose_name = "统计报表"

    def ready(self) -> None:
        from . import jobs  # noqa: F401 - registers the job functions
