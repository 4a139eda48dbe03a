from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.base import BaseModel
from peixun.core.models import Person
from peixun.core.scoping import ScopePaths
from peixun.training.models import TrainingClass


class RegistryKind(models.TextChoices):
    """Other departments' data (contract.md, 第十五条)."""

    DEATH = "death", _("公安死亡信息")
    PUBLIC_PAYROLL = "public_payroll", _("财政供养信息")
    BUSINESS_LICENSE = "business_license", _("工商营业执照信息")
    HOSPITALIZATION = "hospitalization", _("医保住院信息")
    SOCIAL_INSURANCE = "social_insurance", _("社会保险参保信息")
    EMPLOYMENT_FILING = "employment_filing", _("劳动用工备案")
    UNEMPLOYMENT_REGISTRATION = "unemployment_registration", _("就业失业登记")
    SKILL_CERTIFICATE = "skill_certificate", _("技能人才评价")


class RegistrySnapshot(BaseModel):
    """One import of one registry: who imported which file, when. The newest replaces the rows."""

    kind = models.CharField(_("类别"), max_length=32, choices=RegistryKind.choices)
    file_name = models.CharField(_("文件名"), max_length=200)
    sha256 = models.CharField(_("文件哈希"), max_length=64)
    row_count = models.PositiveIntegerField(_("行数"))
    imported_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-imported_at"]
        verbose_name = _("外部数据快照")
        verbose_name_plural = _("外部数据快照")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"


class RegistryRow(BaseModel):
    """One row of a registry snapshot, in one shape for all kinds so rules can join set-wise.

    The person is identified by the ID number's HMAC (core.identity), never the number itself.
    Periods are inclusive; a month period is stored as its first and last day.
    """

    snapshot = models.ForeignKey(RegistrySnapshot, on_delete=models.CASCADE, related_name="rows")
    kind = models.CharField(max_length=32, choices=RegistryKind.choices)
    line = models.PositiveIntegerField()
    id_hmac = models.CharField(max_length=64)
    id_masked = models.CharField(max_length=18)
    name = models.CharField(max_length=64)
    date_from = models.DateField(null=True)
    date_to = models.DateField(null=True)
    org_code = models.CharField(max_length=18, blank=True)
    org_name = models.CharField(max_length=200, blank=True)
    occupation_code = models.CharField(max_length=20, blank=True)
    level = models.CharField(max_length=8, blank=True)
    certificate_no = models.CharField(max_length=64, blank=True)

    class Meta:
        # (kind, id_hmac) for the set-wise rules, id_hmac alone for one class's people
        indexes = [models.Index(fields=["kind", "id_hmac"]), models.Index(fields=["id_hmac"])]
        verbose_name = _("外部数据记录")
        verbose_name_plural = _("外部数据记录")

    def __str__(self) -> str:
        return f"{self.kind} {self.id_masked}"


class HistoryTraining(BaseModel):
    """A completed subsidised training from the previous system (history.csv)."""

    id_hmac = models.CharField(max_length=64, db_index=True)
    id_masked = models.CharField(_("身份证号"), max_length=18)
    name = models.CharField(_("姓名"), max_length=64)
    occupation_code = models.CharField(_("职业编码"), max_length=20)
    level = models.CharField(_("等级"), max_length=8)
    training_type = models.CharField(_("培训类型"), max_length=16)
    completed_on = models.DateField(_("结业日期"))
    institution_code = models.CharField(_("机构代码"), max_length=18)
    subsidy_amount = models.DecimalField(_("补贴金额"), max_digits=9, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["id_hmac", "occupation_code", "level", "completed_on", "institution_code"],
                name="uniq_history_training",
            )
        ]
        verbose_name = _("历史培训记录")
        verbose_name_plural = _("历史培训记录")

    def __str__(self) -> str:
        return f"{self.id_masked} {self.occupation_code} {self.completed_on}"


class Finding(BaseModel):
    """问题线索: one rule firing for one class and one person (or the class itself).

    Identified by (rule_code, class, subject): re-running the check keeps the reviewer's decision;
    a finding whose cause has gone stays in history with is_current False.
    """

    class Severity(models.TextChoices):
        BLOCK = "BLOCK", _("阻断")
        REVIEW = "REVIEW", _("需复核")

    class Status(models.TextChoices):
        OPEN = "OPEN", _("待处理")
        CONFIRMED = "CONFIRMED", _("已确认")
        DISMISSED = "DISMISSED", _("已排除")

    class Consequence(models.TextChoices):
        REMOVE_TRAINEE = "REMOVE_TRAINEE", _("学员移出本班")
        REFUSE_SUBSIDY = "REFUSE_SUBSIDY", _("不予补贴")
        OTHER = "OTHER", _("其他处理")

    rule_code = models.CharField(_("规则"), max_length=40)
    severity = models.CharField(_("严重程度"), max_length=8, choices=Severity.choices)
    training_class = models.ForeignKey(
        TrainingClass, verbose_name=_("培训班"), on_delete=models.CASCADE, related_name="findings"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("人员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # the person's id_hmac, or "" for a class-level finding: part of the identity (NULLs are never equal)
    subject_key = models.CharField(max_length=64, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    evidence = models.TextField(_("证据"))
    article = models.CharField(_("依据"), max_length=60)
    rules_version = models.PositiveIntegerField(_("规则参数版本"))
    is_current = models.BooleanField(_("当前有效"), default=True)
    first_found_at = models.DateTimeField(_("首次发现"), auto_now_add=True)
    last_found_at = models.DateTimeField(_("最近发现"))
    closed_at = models.DateTimeField(_("原因消除时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_reason = models.CharField(_("处理意见"), max_length=500, blank=True)
    consequence = models.CharField(_("处理结果"), max_length=16, choices=Consequence.choices, blank=True)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation"
    )

    class Meta:
        ordering = ["-last_found_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_code", "training_class", "subject_key"], name="uniq_finding"
            )
        ]
        indexes = [models.Index(fields=["is_current", "status"])]
        verbose_name = _("问题线索")
        verbose_name_plural = _("问题线索")

    def __str__(self) -> str:
        return f"{self.rule_code} {self.training_class.code}"


class FindingEvent(BaseModel):
    """The history of a finding: found, cause gone, found again, confirmed, dismissed."""

    class Kind(models.TextChoices):
        OPENED = "OPENED", _("发现")
        CLOSED = "CLOSED", _("原因消除")
        REOPENED = "REOPENED", _("再次发现")
        CONFIRMED = "CONFIRMED", _("确认")
        DISMISSED = "DISMISSED", _("排除")

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"))
    kind = models.CharField(_("事件"), max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("问题线索记录")
        verbose_name_plural = _("问题线索记录")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
