from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "peixun.portal"
    label = "portal"
    verbose_name = "公共服务门户"
