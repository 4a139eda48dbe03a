from django.apps import AppConfig


class SubsidiesConfig(AppConfig):
    name = "peixun.subsidies"
    label = "subsidies"
    verbose_name = "培训补贴"

    def ready(self) -> None:
        from . import pending  # noqa: F401 - registers the pending-work providers
