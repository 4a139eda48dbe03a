from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "peixun.web"
    label = "web"
    verbose_name = "页面框架"
