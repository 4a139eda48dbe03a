from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "peixun.attendance"
    label = "attendance"
    verbose_name = "考勤与线上学习"
