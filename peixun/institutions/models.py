from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.accounts.models import Organisation
from peixun.catalog.models import Level, Occupation
from peixun.core.base import BaseModel
from peixun.core.models import Area, Person
from peixun.core.scoping import ScopePaths


class Institution(BaseModel):
    """职业培训机构 (第四条): enterprise, vocational college, technical school or private training school."""

    class Type(models.TextChoices):
        ENTERPRISE = "ENTERPRISE", _("企业")
        VOCATIONAL_COLLEGE = "VOCATIONAL_COLLEGE", _("职业院校")
        TECHNICAL_SCHOOL = "TECHNICAL_SCHOOL", _("技工院校")
        PRIVATE_SCHOOL = "PRIVATE_SCHOOL", _("民办职业培训学校")

    class Status(models.TextChoices):
        # Not yet in the subsidised-provider directory: may not apply to open classes.
        UNLISTED = "UNLISTED", _("未入目录")
        LISTED = "LISTED", _("已列入目录")
        SUSPENDED = "SUSPENDED", _("暂停")
        REMOVED = "REMOVED", _("移出目录")

    organisation = models.OneToOneField(
        Organisation, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="institution"
    )
    code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    code_warning = models.CharField(_("代码校验提示"), max_length=100, blank=True)
    name = models.CharField(_("机构名称"), max_length=128)
    type = models.CharField(_("机构类型"), max_length=24, choices=Type.choices)
    area = models.ForeignKey(Area, verbose_name=_("所在地区"), on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("地址"), max_length=200, blank=True)
    licence_no = models.CharField(_("办学许可证号"), max_length=64, blank=True)
    licence_valid_to = models.DateField(_("许可证有效期至"), null=True, blank=True)
    licensed_occupations = models.ManyToManyField(
        Occupation, verbose_name=_("许可培训职业（工种）"), blank=True, related_name="+"
    )
    premises = models.TextField(_("培训场地"), blank=True, help_text=_("地址、面积、教室与实训场所"))
    equipment = models.TextField(_("设施设备"), blank=True)
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    # Denormalised current status (the history is InstitutionListing); written only by the
    # directory service in the same transaction as the history row.
    status = models.CharField(_("目录状态"), max_length=12, choices=Status.choices, default=Status.UNLISTED)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    scope_paths = ScopePaths(area="area", organisation="organisation")

    class Meta:
        ordering = ["area__code", "name"]
        verbose_name = _("培训机构")
        verbose_name_plural = _("培训机构")

    def __str__(self) -> str:
        return self.name


class SiteAssessment(BaseModel):
    """实地考察评估 (第六条): first-time providers are assessed on site before they can be listed."""

    class Conclusion(models.TextChoices):
        PASS = "PASS", _("通过")
        FAIL = "FAIL", _("不通过")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="assessments")
    assessed_on = models.DateField(_("考察日期"))
    assessors = models.CharField(_("考察人员"), max_length=200)
    premises_ok = models.BooleanField(_("培训场地核实"))
    equipment_ok = models.BooleanField(_("设施设备核实"))
    teachers_ok = models.BooleanField(_("师资力量核实"))
    conclusion = models.CharField(_("结论"), max_length=8, choices=Conclusion.choices)
    notes = models.TextField(_("考察意见"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    scope_paths = ScopePaths(area="institution__area", organisation="institution__organisation")

    class Meta:
        ordering = ["-assessed_on", "-id"]
        verbose_name = _("实地考察评估")
        verbose_name_plural = _("实地考察评估")

    def __str__(self) -> str:
        return f"{self.institution} {self.assessed_on}"


class AssessmentPhoto(BaseModel):
    assessment = models.ForeignKey(SiteAssessment, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("照片"), upload_to="assessments/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    caption = models.CharField(_("说明"), max_length=100, blank=True)

    def __str__(self) -> str:
        return self.caption or self.image.name


class InstitutionListing(BaseModel):
    """培训机构目录 history: every listing, suspension and removal, with the decision (第二十一条)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="listings")
    status = models.CharField(_("目录状态"), max_length=12, choices=Institution.Status.choices)
    effective_date = models.DateField(_("生效日期"))
    reason = models.CharField(_("原因"), max_length=300)
    decision_no = models.CharField(_("决定文号"), max_length=100, blank=True)
    decision_file = models.FileField(_("决定文书"), upload_to="decisions/%Y/", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    scope_paths = ScopePaths(area="institution__area", organisation="institution__organisation")

    class Meta:
        ordering = ["-effective_date", "-id"]
        verbose_name = _("目录变更记录")
        verbose_name_plural = _("目录变更记录")

    def __str__(self) -> str:
        return f"{self.institution} {self.get_status_display()} {self.effective_date}"


class Teacher(BaseModel):
    """授课教师 (第六条). Either employed by an institution or in a city's shared pool (共享师资库)."""

    class HighSkillTitle(models.TextChoices):
        MASTER = "MASTER", _("技能大师")
        MODEL_WORKER = "MODEL_WORKER", _("劳动模范")
        CRAFTSMAN = "CRAFTSMAN", _("能工巧匠")
        HERITAGE = "HERITAGE", _("非遗传承人")

    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="teacher_roles"
    )
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("所在机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teachers",
    )
    qualification = models.CharField(_("任教资格"), max_length=200)
    certificates = models.TextField(_("证书"), blank=True, help_text=_("每行一个：证书名称、编号、等级"))
    high_skill_title = models.CharField(
        _("高技能人才称号"), max_length=16, choices=HighSkillTitle.choices, blank=True
    )
    occupations = models.ManyToManyField(
        Occupation, verbose_name=_("可授课职业"), blank=True, related_name="+"
    )
    # 共享师资库: the city whose pool lists the teacher; institutions of that city may engage them.
    shared_pool_area = models.ForeignKey(
        Area,
        verbose_name=_("共享师资库（盟市）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    active = models.BooleanField(_("在岗"), default=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    scope_paths = ScopePaths(area="institution__area", organisation="institution__organisation")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "institution"], name="uniq_teacher_per_institution")
        ]
        verbose_name = _("教师")
        verbose_name_plural = _("教师")

    def __str__(self) -> str:
        return self.person.name


class EvaluationBody(BaseModel):
    """职业技能评价机构 (第五条、第十三条) and the occupations and levels it may certify."""

    organisation = models.OneToOneField(
        Organisation, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="evaluation_body"
    )
    code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("机构名称"), max_length=128)
    area = models.ForeignKey(Area, verbose_name=_("所在地区"), on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("地址"), max_length=200, blank=True)
    filing_no = models.CharField(_("备案编号"), max_length=64, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    active = models.BooleanField(_("有效"), default=True)

    scope_paths = ScopePaths(area="area", organisation="organisation")

    class Meta:
        ordering = ["area__code", "name"]
        verbose_name = _("评价机构")
        verbose_name_plural = _("评价机构")

    def __str__(self) -> str:
        return self.name


class EvaluationScope(BaseModel):
    body = models.ForeignKey(EvaluationBody, on_delete=models.CASCADE, related_name="scopes")
    occupation = models.ForeignKey(Occupation, verbose_name=_("职业（工种）"), on_delete=models.PROTECT)
    level = models.CharField(_("等级"), max_length=8, choices=Level.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["body", "occupation", "level"], name="uniq_evaluation_scope")
        ]
        verbose_name = _("评价范围")
        verbose_name_plural = _("评价范围")

    def __str__(self) -> str:
        return f"{self.occupation} {self.get_level_display()}"
