import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import Level
from peixun.core.base import BaseModel
from peixun.core.models import Area, Person
from peixun.core.scoping import ScopePaths
from peixun.institutions.models import EvaluationBody
from peixun.training.models import ExamResult, TrainingClass


def new_verify_token() -> str:
    # In the QR code and the public URL; unguessable so certificates cannot be enumerated.
    return secrets.token_urlsafe(18)


class Certificate(BaseModel):
    """A certificate held by a person (第十二、十三条).

    培训合格证 and 创业培训合格证 are issued by peixun when a completion is approved, numbered by the city
    (培训合格证) or the region (创业培训合格证). Certificates of evaluation bodies (职业资格、技能等级、
    专项能力) are recorded against the person with the number the body gave.
    """

    class Kind(models.TextChoices):
        TRAINING = "TRAINING", _("培训合格证")
        STARTUP = "STARTUP", _("创业培训合格证")
        QUALIFICATION = "QUALIFICATION", _("职业资格证书")
        SKILL_LEVEL = "SKILL_LEVEL", _("职业技能等级证书")
        SPECIAL = "SPECIAL", _("专项职业能力证书")

    ISSUED_BY_PEIXUN = (Kind.TRAINING, Kind.STARTUP)

    number = models.CharField(_("证书编号"), max_length=64, unique=True)
    kind = models.CharField(_("证书类型"), max_length=16, choices=Kind.choices)
    person = models.ForeignKey(
        Person, verbose_name=_("持证人"), on_delete=models.PROTECT, related_name="certificates"
    )
    training_class = models.ForeignKey(
        TrainingClass,
        verbose_name=_("培训班"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    exam = models.OneToOneField(
        ExamResult, null=True, blank=True, on_delete=models.PROTECT, related_name="certificate"
    )
    evaluation_body = models.ForeignKey(
        EvaluationBody,
        verbose_name=_("评价机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    occupation_code = models.CharField(_("职业编码"), max_length=20)
    occupation_name = models.CharField(_("职业（工种）"), max_length=100)
    level = models.CharField(_("等级"), max_length=8, blank=True)
    issued_on = models.DateField(_("发证日期"))
    # Who numbers it: the city (培训合格证), the region (创业培训合格证), or the evaluation body's area.
    issuer_area = models.ForeignKey(
        Area, verbose_name=_("发证地区"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    serial = models.PositiveIntegerField(_("流水号"), null=True, blank=True)
    verify_token = models.CharField(max_length=32, unique=True, default=new_verify_token, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_reason = models.CharField(_("撤销原因"), max_length=500, blank=True)

    scope_paths = ScopePaths(
        area="issuer_area", organisation="training_class__institution__organisation", person="person"
    )

    class Meta:
        ordering = ["-issued_on", "number"]
        constraints = [
            # Gap-free numbering: one serial per issuer, year and kind (第十二条).
            models.UniqueConstraint(
                fields=["issuer_area", "year", "kind", "serial"],
                condition=models.Q(serial__isnull=False),
                name="uniq_certificate_serial",
            )
        ]
        verbose_name = _("证书")
        verbose_name_plural = _("证书")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def level_display(self) -> str:
        """The level in words (四级/中级工); "" when the certificate names none."""
        return str(Level(self.level).label) if self.level in Level.values else self.level

    @property
    def issued_by_peixun(self) -> bool:
        return self.kind in self.ISSUED_BY_PEIXUN


class CertificateCounter(BaseModel):
    """The last serial given per issuer, year and kind. Locked (SELECT … FOR UPDATE) while numbering,
    so two approvals in one city at once take turns and never share or skip a number."""

    issuer_area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=Certificate.Kind.choices)
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer_area", "year", "kind"], name="uniq_certificate_counter")
        ]
        verbose_name = _("证书编号计数器")
        verbose_name_plural = _("证书编号计数器")

    def __str__(self) -> str:
        return f"{self.issuer_area_id} {self.year} {self.kind} {self.last_serial}"
