from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "peixun.exchange"
    label = "exchange"
    verbose_name = "数据交换"

    def ready(self) -> None:
        from . import jobs  # noqa: F401 - registers the job functions
