from django.apps import AppConfig


class SubsidiesConfig(AppConfig):
    name = "peixun.subsidies"
    label = "subsidies"
    verbose_name = "培训补贴"

    def ready(self) -> None:
        from peixun.attendance.trainee_status import register_status_source

        from . import pending  # noqa: F401 - registers the pending-work providers
        from .trainee_status import subsidy_status

        register_status_source(subsidy_status)
