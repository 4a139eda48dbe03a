from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import CatalogEntry
from peixun.certificates.models import Certificate
from peixun.core.base import BaseModel
from peixun.core.models import Person
from peixun.core.scoping import ScopePaths
from peixun.institutions.models import Institution
from peixun.training.models import Enrollment, TrainingClass


class SubsidyApplication(BaseModel):
    """补贴申请 (第十四条): the institution applies for the trainees of a class, or a person for themself.

    The application carries the review clock (8 working days, stopped while returned); each trainee is
    a `SubsidyLine` that then goes through 公示, objections and payment on its own.
    """

    class Applicant(models.TextChoices):
        INSTITUTION = "INSTITUTION", _("培训机构申请")
        PERSON = "PERSON", _("个人申请")

    class Status(models.TextChoices):
        SUBMITTED = "SUBMITTED", _("待审核")
        RETURNED = "RETURNED", _("退回补正")
        REJECTED = "REJECTED", _("不予补贴")
        NOTICE = "NOTICE", _("审核通过，公示中")
        CLOSED = "CLOSED", _("公示结束")
        WITHDRAWN = "WITHDRAWN", _("已撤回")

    code = models.CharField(_("申请编号"), max_length=32, unique=True)
    applicant_kind = models.CharField(_("申请方式"), max_length=12, choices=Applicant.choices)
    training_class = models.ForeignKey(
        TrainingClass, verbose_name=_("培训班"), on_delete=models.PROTECT, related_name="subsidy_applications"
    )
    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.PROTECT, related_name="subsidy_applications"
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subsidy_applications",
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    submitted_at = models.DateTimeField(_("申请时间"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请经办人"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_on = models.DateField(_("本轮提交日期"))
    limit_workdays = models.PositiveSmallIntegerField(_("审核时限（工作日）"))
    workdays_used = models.PositiveSmallIntegerField(_("已用工作日"), default=0)
    due_date = models.DateField(_("审核截止日期"), null=True, blank=True)
    returned_reasons = models.TextField(_("补正事项"), blank=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_reason = models.TextField(_("审核意见"), blank=True)
    notice_start = models.DateField(_("公示开始"), null=True, blank=True)
    notice_end = models.DateField(_("公示截止"), null=True, blank=True)
    payee_name = models.CharField(_("收款人"), max_length=128, blank=True)
    payee_account = models.CharField(_("收款账号"), max_length=64, blank=True)
    payee_bank = models.CharField(_("开户银行"), max_length=128, blank=True)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="institution__organisation", person="person"
    )

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("补贴申请")
        verbose_name_plural = _("补贴申请")

    def __str__(self) -> str:
        return self.code


class SubsidyLine(BaseModel):
    """One trainee's subsidy within an application: amount, eligibility, 公示, payment."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("待审核")
        REFUSED = "REFUSED", _("不予补贴")
        NOTICE = "NOTICE", _("公示中")
        SUSPENDED = "SUSPENDED", _("异议处理中")
        PAYABLE = "PAYABLE", _("待拨付")
        PAID = "PAID", _("已拨付")

    # A trainee is subsidised once per class; a refused line does not stand in the way of a new one.
    LIVE = (Status.PENDING, Status.NOTICE, Status.SUSPENDED, Status.PAYABLE, Status.PAID)

    application = models.ForeignKey(SubsidyApplication, on_delete=models.CASCADE, related_name="lines")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="subsidy_lines")
    person = models.ForeignKey(
        Person, verbose_name=_("学员"), on_delete=models.PROTECT, related_name="subsidy_lines"
    )
    certificate = models.ForeignKey(
        Certificate, verbose_name=_("证书"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    catalog_entry = models.ForeignKey(
        CatalogEntry,
        verbose_name=_("目录条目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.DecimalField(_("补贴金额"), max_digits=9, decimal_places=2)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # Why the system or the reviewer says no, in Chinese; empty when eligible.
    problems = models.TextField(_("不符合条件的原因"), blank=True)
    payments_failed = models.PositiveSmallIntegerField(_("支付失败次数"), default=0)

    scope_paths = ScopePaths(
        area="application__training_class__area",
        organisation="application__institution__organisation",
        person="person",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=models.Q(status__in=["PENDING", "NOTICE", "SUSPENDED", "PAYABLE", "PAID"]),
                name="uniq_live_subsidy_line",
            )
        ]
        verbose_name = _("补贴明细")
        verbose_name_plural = _("补贴明细")

    def __str__(self) -> str:
        return f"{self.application.code} {self.person.name}"


class Objection(BaseModel):
    """异议 lodged by anyone during 公示: suspends the line until a reviewer decides (第十四条)."""

    class Status(models.TextChoices):
        OPEN = "OPEN", _("待处理")
        UPHELD = "UPHELD", _("异议成立")
        DISMISSED = "DISMISSED", _("异议不成立")

    line = models.ForeignKey(
        SubsidyLine, verbose_name=_("补贴明细"), on_delete=models.CASCADE, related_name="objections"
    )
    lodged_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    name = models.CharField(_("异议人姓名"), max_length=64)
    phone = models.CharField(_("联系电话"), max_length=32)
    content = models.TextField(_("异议内容"))
    status = models.CharField(_("处理状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_reason = models.TextField(_("处理意见"), blank=True)

    scope_paths = ScopePaths(
        area="line__application__training_class__area",
        organisation="line__application__institution__organisation",
    )

    class Meta:
        ordering = ["-lodged_at"]
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")

    def __str__(self) -> str:
        return f"{self.line} {self.get_status_display()}"

    @property
    def receipt_no(self) -> str:
        """受理编号 the citizen can quote when calling: YY + date + serial."""
        return f"YY{timezone.localtime(self.lodged_at):%Y%m%d}{self.pk:05d}"


class Payment(BaseModel):
    """拨付记录: one transfer to the institution's account or the person's social security card.

    A failed transfer is recorded too (with the bank's reason); the lines return to payable and the
    finance officer retries with a new voucher."""

    class PayeeKind(models.TextChoices):
        INSTITUTION_ACCOUNT = "INSTITUTION_ACCOUNT", _("培训机构基本账户")
        SOCIAL_SECURITY_CARD = "SOCIAL_SECURITY_CARD", _("个人社会保障卡")

    class Outcome(models.TextChoices):
        PAID = "PAID", _("支付成功")
        FAILED = "FAILED", _("支付失败")

    application = models.ForeignKey(SubsidyApplication, on_delete=models.PROTECT, related_name="payments")
    lines = models.ManyToManyField(SubsidyLine, verbose_name=_("补贴明细"), related_name="payments")
    payee_kind = models.CharField(_("收款方式"), max_length=24, choices=PayeeKind.choices)
    payee_name = models.CharField(_("收款人"), max_length=128)
    payee_account = models.CharField(_("收款账号"), max_length=64)
    voucher_no = models.CharField(_("凭证号"), max_length=64)
    paid_on = models.DateField(_("支付日期"))
    amount = models.DecimalField(_("金额"), max_digits=12, decimal_places=2)
    outcome = models.CharField(_("结果"), max_length=8, choices=Outcome.choices)
    failure_reason = models.CharField(_("失败原因"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    scope_paths = ScopePaths(
        area="application__training_class__area", organisation="application__institution__organisation"
    )

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            # A voucher pays once: a double-submitted form cannot record two payments.
            models.UniqueConstraint(
                fields=["voucher_no"], condition=models.Q(outcome="PAID"), name="uniq_paid_voucher"
            )
        ]
        verbose_name = _("拨付记录")
        verbose_name_plural = _("拨付记录")

    def __str__(self) -> str:
        return f"{self.voucher_no} {self.amount}"
