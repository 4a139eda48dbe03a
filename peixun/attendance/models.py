from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.models import Person
from peixun.core.scoping import ScopePaths
from peixun.training.models import TrainingClass


class AttendanceRecord(models.Model):
    """考勤记录: one check-in/check-out of a trainee in a class. Never edited or deleted (第二十条);
    the attendance issue adds corrections and the per-class hash chain."""

    class Method(models.TextChoices):
        FACE = "FACE", _("人脸识别")
        FINGERPRINT = "FINGERPRINT", _("指纹")
        CARD = "CARD", _("刷卡")
        MANUAL = "MANUAL", _("手工补录")

    training_class = models.ForeignKey(TrainingClass, on_delete=models.PROTECT, related_name="attendance")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    check_in = models.DateTimeField(_("签到时间"))
    check_out = models.DateTimeField(_("签退时间"), null=True, blank=True)
    method = models.CharField(_("方式"), max_length=12, choices=Method.choices)
    photo_sha256 = models.CharField(_("照片哈希"), max_length=64, blank=True, db_index=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation", person="person"
    )

    class Meta:
        ordering = ["check_in"]
        constraints = [
            models.UniqueConstraint(fields=["training_class", "person", "check_in"], name="uniq_attendance")
        ]
        indexes = [models.Index(fields=["person", "check_in"])]
        verbose_name = _("考勤记录")
        verbose_name_plural = _("考勤记录")

    def __str__(self) -> str:
        return f"{self.training_class.code} {self.check_in:%Y-%m-%d %H:%M}"


class OnlineSession(models.Model):
    """线上学习记录 pushed by a filed platform (第十八至二十条)."""

    training_class = models.ForeignKey(
        TrainingClass, on_delete=models.PROTECT, related_name="online_sessions"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    platform_code = models.CharField(_("平台编码"), max_length=64)
    start_at = models.DateTimeField(_("开始时间"))
    end_at = models.DateTimeField(_("结束时间"))
    ip = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    face_checks_passed = models.PositiveIntegerField(_("人脸核验通过次数"), default=0)
    face_checks_failed = models.PositiveIntegerField(_("人脸核验失败次数"), default=0)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation", person="person"
    )

    class Meta:
        ordering = ["start_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["training_class", "person", "start_at"], name="uniq_online_session"
            )
        ]
        indexes = [models.Index(fields=["person", "start_at"]), models.Index(fields=["ip", "start_at"])]
        verbose_name = _("线上学习记录")
        verbose_name_plural = _("线上学习记录")

    def __str__(self) -> str:
        return f"{self.training_class.code} {self.start_at:%Y-%m-%d %H:%M}"
