from django.apps import AppConfig


class InstitutionsConfig(AppConfig):
    name = "peixun.institutions"
    label = "institutions"
    verbose_name = "培训机构、师资与评价机构"
