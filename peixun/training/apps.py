from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "peixun.training"
    label = "training"
    verbose_name = "培训班"
