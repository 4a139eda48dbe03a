from django.apps import AppConfig


class CheckinConfig(AppConfig):
    name = "peixun.checkin"
    verbose_name = "扫码自助签到"
