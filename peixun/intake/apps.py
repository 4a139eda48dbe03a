from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "peixun.intake"
    label = "intake"
    verbose_name = "数据采集：考勤设备与线上培训平台"
