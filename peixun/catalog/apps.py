from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "peixun.catalog"
    label = "catalog"
    verbose_name = "职业与补贴目录"
