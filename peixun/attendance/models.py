from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peixun.core.base import BaseModel
from peixun.core.models import Person
from peixun.core.scoping import ScopePaths
from peixun.training.models import TrainingClass

GENESIS = "0" * 64


class Source(models.TextChoices):
    """Where a record came from."""

    DEVICE = "DEVICE", _("考勤设备")
    IMPORT = "IMPORT", _("数据包导入")
    MANUAL = "MANUAL", _("手工补录")
    SELF = "SELF", _("学员自助签到")
    PLATFORM = "PLATFORM", _("线上平台推送")


class ChainedRecord(BaseModel):
    """What attendance records and online sessions share: append-only, hash-chained per class
    (第二十条). Rows are only ever inserted through peixun.attendance.services; a correction is a new
    row pointing at the one it corrects."""

    seq = models.PositiveIntegerField(_("序号"), editable=False)
    prev_hash = models.CharField(_("前序哈希"), max_length=64, editable=False)
    hash = models.CharField(_("哈希"), max_length=64, editable=False)
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices, default=Source.IMPORT)
    device_code = models.CharField(_("设备编码"), max_length=64, blank=True)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("更正的记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        db_index=False,  # a partial index (few rows are corrections) keeps bulk appends cheap
    )
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # never searched by; every index slows the bulk append
    )
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    CHAIN_KIND = ""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        """Only inserts. A row created directly (objects.create) is appended to its class's chain
        like any other; the services insert sealed rows themselves. An update is refused."""
        from peixun.core.errors import PeixunError

        if not self._state.adding:
            raise PeixunError("考勤和线上学习记录不能修改（第二十条），如需更正请提交更正记录")
        if self.hash:
            return super().save(*args, **kwargs)
        from .services import append_sealed

        append_sealed(self, lambda: super(ChainedRecord, self).save(*args, **kwargs))

    def delete(self, *args, **kwargs):
        from peixun.core.errors import PeixunError

        raise PeixunError("考勤和线上学习记录不能删除（第二十条）")


class AttendanceRecord(ChainedRecord):
    """考勤记录: one check-in/check-out of a trainee in a class. Never edited or deleted (第二十条)."""

    Source = Source
    CHAIN_KIND = "ATTENDANCE"

    class Method(models.TextChoices):
        FACE = "FACE", _("人脸识别")
        FINGERPRINT = "FINGERPRINT", _("指纹")
        CARD = "CARD", _("刷卡")
        MANUAL = "MANUAL", _("手工补录")

    # No separate index: the (training_class, seq) and (training_class, person, check_in) ones lead with it.
    training_class = models.ForeignKey(
        TrainingClass, on_delete=models.PROTECT, related_name="attendance", db_index=False
    )
    # (person, check_in) serves every lookup by person: no index of its own.
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", db_index=False)
    check_in = models.DateTimeField(_("签到时间"))
    check_out = models.DateTimeField(_("签退时间"), null=True, blank=True)
    method = models.CharField(_("方式"), max_length=12, choices=Method.choices)
    photo_sha256 = models.CharField(_("照片哈希"), max_length=64, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation", person="person"
    )

    class Meta:
        ordering = ["check_in"]
        constraints = [
            # Idempotency key of every ingestion path; corrections may repeat the check-in time.
            models.UniqueConstraint(
                fields=["training_class", "person", "check_in"],
                condition=Q(corrects__isnull=True),
                name="uniq_attendance",
            ),
            models.UniqueConstraint(fields=["training_class", "seq"], name="uniq_attendance_seq"),
        ]
        # Every index costs each appended row (issue: ≥ 20,000 records/s), so each is partial where it
        # can be. Photo hashes compare byte-wise (pattern ops), not by the database's collation.
        indexes = [
            models.Index(fields=["person", "check_in"]),
            models.Index(
                fields=["photo_sha256"],
                name="att_photo_sha256",
                condition=~Q(photo_sha256=""),
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["corrects"], name="att_corrects", condition=Q(corrects__isnull=False)),
        ]
        verbose_name = _("考勤记录")
        verbose_name_plural = _("考勤记录")

    def __str__(self) -> str:
        return f"{self.training_class.code} {self.check_in:%Y-%m-%d %H:%M}"


class OnlineSession(ChainedRecord):
    """线上学习记录 pushed by a filed platform (第十八至二十条)."""

    Source = Source
    CHAIN_KIND = "ONLINE"

    training_class = models.ForeignKey(
        TrainingClass, on_delete=models.PROTECT, related_name="online_sessions", db_index=False
    )
    # (person, start_at) serves every lookup by person: no index of its own.
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", db_index=False)
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
                fields=["training_class", "person", "start_at"],
                condition=Q(corrects__isnull=True),
                name="uniq_online_session",
            ),
            models.UniqueConstraint(fields=["training_class", "seq"], name="uniq_online_session_seq"),
        ]
        indexes = [
            models.Index(fields=["person", "start_at"]),
            models.Index(fields=["ip", "start_at"]),
            models.Index(fields=["corrects"], name="online_corrects", condition=Q(corrects__isnull=False)),
        ]
        verbose_name = _("线上学习记录")
        verbose_name_plural = _("线上学习记录")

    def __str__(self) -> str:
        return f"{self.training_class.code} {self.start_at:%Y-%m-%d %H:%M}"


class ChainHead(BaseModel):
    """The end of one class's chain of one kind. Locked (select_for_update) while appending, so
    concurrent writers take turns; its count and last hash reveal a deleted tail record."""

    class Kind(models.TextChoices):
        ATTENDANCE = "ATTENDANCE", _("考勤记录")
        ONLINE = "ONLINE", _("线上学习记录")

    training_class = models.ForeignKey(TrainingClass, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    last_seq = models.PositiveIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["training_class", "kind"], name="uniq_chain_head")]

    def __str__(self) -> str:
        return f"{self.training_class_id} {self.kind} #{self.last_seq}"
