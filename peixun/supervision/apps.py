from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "peixun.supervision"
    label = "supervision"
    verbose_name = "监督检查"

    def ready(self) -> None:
        from . import pending  # noqa: F401 - registers the pending-work providers
