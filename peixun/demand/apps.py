from django.apps import AppConfig


class DemandConfig(AppConfig):
    name = "peixun.demand"
    label = "demand"
    verbose_name = "培训需求与开班公告"
