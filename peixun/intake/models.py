"""数据采集: attendance devices (考勤设备) and filed online training platforms (线上培训平台, 第十八条).

Both hold an API secret for signed batch requests. The secret is needed in clear to check an
HMAC, so it cannot be stored as a one-way hash: it is kept AES-GCM encrypted with a key derived
(HKDF) from PEIXUN_IDENTITY_KEY, like ID numbers (see services.encrypt_secret). It is shown to the
user once, when it is issued, and never again.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.accounts.models import Organisation
from peixun.core.base import BaseModel
from peixun.core.models import Area
from peixun.core.scoping import ScopePaths
from peixun.institutions.models import Institution


class Device(BaseModel):
    """考勤设备: registered by an institution to one training site."""

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("启用")
        REVOKED = "REVOKED", _("已吊销")

    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.PROTECT, related_name="devices"
    )
    code = models.CharField(_("设备编码"), max_length=32, unique=True)
    name = models.CharField(_("设备名称"), max_length=100)
    serial_no = models.CharField(_("出厂序列号"), max_length=64, blank=True)
    site_address = models.CharField(_("安装地点"), max_length=200)
    site_lat = models.FloatField(_("纬度"), null=True, blank=True)
    site_lon = models.FloatField(_("经度"), null=True, blank=True)
    secret_cipher = models.TextField(editable=False)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    revoked_reason = models.CharField(_("吊销原因"), max_length=200, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近上传"), null=True, blank=True)

    scope_paths = ScopePaths(area="institution__area", organisation="institution__organisation")

    class Meta:
        ordering = ["institution__name", "code"]
        verbose_name = _("考勤设备")
        verbose_name_plural = _("考勤设备")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Platform(BaseModel):
    """线上培训平台备案 (第十八条): filed with a city (盟市) or the region, reviewed, then given API
    credentials. Status changes only through services.platform_transition (PLATFORM_TRANSITIONS)."""

    class Status(models.TextChoices):
        SUBMITTED = "SUBMITTED", _("待审核")
        RETURNED = "RETURNED", _("退回修改")
        REJECTED = "REJECTED", _("不予备案")
        APPROVED = "APPROVED", _("已备案")
        SUSPENDED = "SUSPENDED", _("暂停")

    class SecurityLevel(models.TextChoices):
        L2 = "2", _("第二级")
        L3 = "3", _("第三级")
        L4 = "4", _("第四级")

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("备案单位"), on_delete=models.PROTECT, related_name="platforms"
    )
    filed_with = models.ForeignKey(
        Area, verbose_name=_("备案机关所在地区"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("平台名称"), max_length=100)
    operator_name = models.CharField(_("运营单位"), max_length=128)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18)
    address = models.CharField(_("运营单位地址"), max_length=200)
    website = models.CharField(_("平台网址"), max_length=200)
    contact_name = models.CharField(_("联系人"), max_length=64)
    contact_phone = models.CharField(_("联系电话"), max_length=32)
    security_level = models.CharField(_("网络安全等级保护级别"), max_length=2, choices=SecurityLevel.choices)
    security_cert_no = models.CharField(_("等保备案证明编号"), max_length=64)
    stability_info = models.TextField(_("安全稳定运行情况"), help_text=_("服务器部署、容灾备份、运维保障等"))
    cap_real_name = models.BooleanField(_("实名注册"), default=False)
    cap_identity_category = models.BooleanField(_("身份类别识别"), default=False)
    cap_course_time_control = models.BooleanField(_("课程与学时控制"), default=False)
    cap_assessment = models.BooleanField(_("考核"), default=False)
    cap_process_record = models.BooleanField(_("学习过程记录"), default=False)
    cap_learning_archive = models.BooleanField(_("学习档案与培训证明"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    code = models.CharField(_("平台编码"), max_length=32, unique=True, null=True, blank=True)
    secret_cipher = models.TextField(blank=True, editable=False)
    secret_issued_at = models.DateTimeField(_("密钥签发时间"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    last_used_at = models.DateTimeField(_("最近上传"), null=True, blank=True)

    CAPABILITIES = (
        "cap_real_name",
        "cap_identity_category",
        "cap_course_time_control",
        "cap_assessment",
        "cap_process_record",
        "cap_learning_archive",
    )

    scope_paths = ScopePaths(area="filed_with", organisation="organisation")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("线上培训平台")
        verbose_name_plural = _("线上培训平台")

    def __str__(self) -> str:
        return self.name

    def capabilities(self) -> list[tuple[str, bool]]:
        return [(str(self._meta.get_field(f).verbose_name), getattr(self, f)) for f in self.CAPABILITIES]


class PlatformCourse(BaseModel):
    """A course the platform offers, with its hours, against a national standard (第十八条)."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="courses")
    occupation_code = models.CharField(_("职业编码"), max_length=20)
    name = models.CharField(_("课程名称"), max_length=100)
    hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1)
    standard = models.CharField(_("依据标准"), max_length=200)

    class Meta:
        ordering = ["id"]
        verbose_name = _("平台课程")
        verbose_name_plural = _("平台课程")

    def __str__(self) -> str:
        return self.name


class PlatformEvent(BaseModel):
    """The filing's history: submission, review decisions with reasons, suspension, key issue."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=16)
    label = models.CharField(_("操作名称"), max_length=32)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    reason = models.TextField(_("意见"), blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("平台备案记录")
        verbose_name_plural = _("平台备案记录")

    def __str__(self) -> str:
        return f"{self.platform} {self.label}"


class Nonce(BaseModel):
    """Replay protection: a (key, nonce) pair is accepted once; rows older than the window are
    pruned (services.nonce_prune)."""

    key = models.CharField(max_length=32)
    nonce = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "nonce"], name="uniq_intake_nonce")]

    def __str__(self) -> str:
        return f"{self.key}:{self.nonce}"
