"""Employment follow-up (第十七条) and the pre-aggregated statistics behind the dashboards.

`FollowUp` is what a person wrote down (a phone call, a visit); `EmploymentOutcome` and the two
fact tables are derived and rebuilt by `reports/refresh.py` — never edited by hand. See
docs/decisions/0006-statistics-fact-tables.md for why the dashboards read fact tables.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.accounts.models import Organisation
from peixun.core.base import BaseModel
from peixun.core.models import Area
from peixun.core.scoping import ScopePaths
from peixun.institutions.models import Institution
from peixun.training.models import Enrollment, TrainingClass


class Checkpoint(models.IntegerChoices):
    """The two follow-up points after completion (第十七条 培训后就业跟踪)."""

    M3 = 3, _("结业后3个月")
    M6 = 6, _("结业后6个月")


class FollowUp(BaseModel):
    """就业跟踪回访记录: what the institution or the bureau learned about a completed trainee at one
    checkpoint, by phone, visit or from the employer. One record per trainee and checkpoint; a later
    call replaces it (the audit chain keeps the earlier version)."""

    class Outcome(models.TextChoices):
        EMPLOYED = "EMPLOYED", _("单位就业")
        SELF_EMPLOYED = "SELF_EMPLOYED", _("自主创业、灵活就业")
        FURTHER_STUDY = "FURTHER_STUDY", _("升学、继续深造")
        UNEMPLOYED = "UNEMPLOYED", _("未就业")
        UNREACHABLE = "UNREACHABLE", _("无法联系")

    class Method(models.TextChoices):
        PHONE = "PHONE", _("电话回访")
        VISIT = "VISIT", _("上门走访")
        EMPLOYER = "EMPLOYER", _("用人单位核实")
        OTHER = "OTHER", _("其他方式")

    # outcomes that count as employed in the employment rate
    EMPLOYED_OUTCOMES = (Outcome.EMPLOYED, Outcome.SELF_EMPLOYED)

    enrollment = models.ForeignKey(
        Enrollment, verbose_name=_("学员"), on_delete=models.CASCADE, related_name="+"
    )
    training_class = models.ForeignKey(
        TrainingClass, verbose_name=_("培训班"), on_delete=models.CASCADE, related_name="+"
    )
    checkpoint = models.PositiveSmallIntegerField(_("跟踪节点"), choices=Checkpoint.choices)
    outcome = models.CharField(_("就业情况"), max_length=16, choices=Outcome.choices)
    method = models.CharField(_("回访方式"), max_length=12, choices=Method.choices)
    contacted_on = models.DateField(_("回访日期"))
    employer_name = models.CharField(_("就业单位或创业项目"), max_length=200, blank=True)
    employed_since = models.DateField(_("就业（创业）开始日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    recorder_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("登记单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("登记时间"))

    scope_paths = ScopePaths(
        area="training_class__area",
        organisation="training_class__institution__organisation",
        person="enrollment__person",
    )

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "checkpoint"], name="uniq_follow_up_checkpoint")
        ]
        verbose_name = _("就业跟踪回访")
        verbose_name_plural = _("就业跟踪回访")

    def __str__(self) -> str:
        return f"{self.enrollment_id} {self.get_checkpoint_display()} {self.get_outcome_display()}"


class EmploymentOutcome(BaseModel):
    """Derived: a completed trainee's employment at one checkpoint, with the evidence it rests on.

    Written only by `reports/refresh.py` from the registries and the follow-up records, by the rule of
    `reports/employment.py`; only checkpoints already reached have a row.
    """

    class Status(models.TextChoices):
        EMPLOYED = "EMPLOYED", _("已就业")
        FURTHER_STUDY = "FURTHER_STUDY", _("升学深造")
        NOT_EMPLOYED = "NOT_EMPLOYED", _("未就业")
        # no registry period covers the day and nobody has followed up yet: counted as not employed
        UNKNOWN = "UNKNOWN", _("未查到就业信息")

    class Source(models.TextChoices):
        SOCIAL_INSURANCE = "social_insurance", _("社会保险参保信息")
        EMPLOYMENT_FILING = "employment_filing", _("劳动用工备案")
        FOLLOW_UP = "follow_up", _("回访记录")
        NONE = "", _("无")

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="+")
    training_class = models.ForeignKey(TrainingClass, on_delete=models.CASCADE, related_name="+")
    checkpoint = models.PositiveSmallIntegerField(_("跟踪节点"), choices=Checkpoint.choices)
    completed_on = models.DateField(_("结业日期"))
    check_date = models.DateField(_("跟踪日期"))
    status = models.CharField(_("就业状态"), max_length=16, choices=Status.choices)
    source = models.CharField(_("依据"), max_length=20, choices=Source.choices, blank=True)
    employer_code = models.CharField(_("用人单位代码"), max_length=18, blank=True)
    employer_name = models.CharField(_("就业单位"), max_length=200, blank=True)
    employed_since = models.DateField(_("就业开始日期"), null=True, blank=True)
    follow_up = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_paths = ScopePaths(
        area="training_class__area",
        organisation="training_class__institution__organisation",
        person="enrollment__person",
    )

    class Meta:
        ordering = ["check_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "checkpoint"], name="uniq_outcome_checkpoint")
        ]
        indexes = [models.Index(fields=["status", "check_date"])]
        verbose_name = _("就业跟踪结果")
        verbose_name_plural = _("就业跟踪结果")

    def __str__(self) -> str:
        return f"{self.enrollment_id} {self.checkpoint} {self.status}"


class FactMeasures(BaseModel):
    """The numbers every fact row carries. Each is attributed to the month its event happened:
    trainees and classes to the start month, completion and employment to the completion month,
    subsidy lines to the month applied / approved / paid, reviews to the month decided."""

    classes = models.PositiveIntegerField(_("开班数"), default=0)
    trainees = models.PositiveIntegerField(_("培训人数"), default=0)
    ended = models.PositiveIntegerField(_("已结束班级学员数"), default=0)
    completed = models.PositiveIntegerField(_("结业人数"), default=0)
    certified = models.PositiveIntegerField(_("取证人数"), default=0)
    emp3_due = models.PositiveIntegerField(_("3个月应跟踪人数"), default=0)
    emp3_employed = models.PositiveIntegerField(_("3个月就业人数"), default=0)
    emp3_study = models.PositiveIntegerField(_("3个月升学人数"), default=0)
    emp6_due = models.PositiveIntegerField(_("6个月应跟踪人数"), default=0)
    emp6_employed = models.PositiveIntegerField(_("6个月就业人数"), default=0)
    emp6_study = models.PositiveIntegerField(_("6个月升学人数"), default=0)
    subsidy_applied = models.PositiveIntegerField(_("申请补贴人数"), default=0)
    subsidy_applied_amount = models.DecimalField(
        _("申请补贴金额"), max_digits=14, decimal_places=2, default=0
    )
    subsidy_approved = models.PositiveIntegerField(_("审核通过人数"), default=0)
    subsidy_approved_amount = models.DecimalField(
        _("审核通过金额"), max_digits=14, decimal_places=2, default=0
    )
    subsidy_paid = models.PositiveIntegerField(_("已拨付人数"), default=0)
    subsidy_paid_amount = models.DecimalField(_("已拨付金额"), max_digits=14, decimal_places=2, default=0)
    opening_decided = models.PositiveIntegerField(_("开班审核办结数"), default=0)
    opening_on_time = models.PositiveIntegerField(_("开班审核按时办结数"), default=0)
    completion_decided = models.PositiveIntegerField(_("结业审核办结数"), default=0)
    completion_on_time = models.PositiveIntegerField(_("结业审核按时办结数"), default=0)
    subsidy_decided = models.PositiveIntegerField(_("补贴审核办结数"), default=0)
    subsidy_on_time = models.PositiveIntegerField(_("补贴审核按时办结数"), default=0)

    MEASURES = (
        "classes",
        "trainees",
        "ended",
        "completed",
        "certified",
        "emp3_due",
        "emp3_employed",
        "emp3_study",
        "emp6_due",
        "emp6_employed",
        "emp6_study",
        "subsidy_applied",
        "subsidy_applied_amount",
        "subsidy_approved",
        "subsidy_approved_amount",
        "subsidy_paid",
        "subsidy_paid_amount",
        "opening_decided",
        "opening_on_time",
        "completion_decided",
        "completion_on_time",
        "subsidy_decided",
        "subsidy_on_time",
    )
    AMOUNTS = ("subsidy_applied_amount", "subsidy_approved_amount", "subsidy_paid_amount")

    # dimensions shared by both tables
    area = models.ForeignKey(
        Area, verbose_name=_("培训地区"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # the city-level area (盟市, or 满洲里市 / 二连浩特市) the area reports to: the region's 14 columns
    city = models.ForeignKey(
        Area, verbose_name=_("盟市"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    occupation_code = models.CharField(_("职业编码"), max_length=20)
    training_type = models.CharField(_("培训类型"), max_length=16)
    # "" on rows that carry class-level numbers only (classes, reviews)
    category = models.CharField(_("人员类别"), max_length=24, blank=True)
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))

    class Meta:
        abstract = True


class ClassMonthFact(FactMeasures):
    """The numbers of one class, per person category and month: the unit of incremental refresh, and
    what institution- and county-level pages read."""

    # indexes below, not one per foreign key: the table is rewritten in bulk
    training_class = models.ForeignKey(
        TrainingClass, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+", db_index=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_index=False)

    scope_paths = ScopePaths(area="area", organisation="organisation")

    class Meta:
        indexes = [
            models.Index(fields=["training_class"]),
            models.Index(fields=["organisation", "year"]),
            models.Index(fields=["area", "year"]),
        ]
        verbose_name = _("班级月度统计")
        verbose_name_plural = _("班级月度统计")

    def __str__(self) -> str:
        return f"{self.training_class_id} {self.year}-{self.month:02d} {self.category}"


class AreaMonthFact(FactMeasures):
    """The same numbers summed over classes: one row per area, occupation, training type, person
    category and month. What region- and city-level dashboards read; rebuilt from ClassMonthFact for
    the (area, occupation, type) groups a refresh touched."""

    scope_paths = ScopePaths(area="area")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area", "occupation_code", "training_type", "category", "year", "month"],
                name="uniq_area_month_fact",
            )
        ]
        indexes = [
            models.Index(fields=["year", "city"]),
            models.Index(fields=["year", "area"]),
            models.Index(fields=["year", "occupation_code"]),
        ]
        verbose_name = _("地区月度统计")
        verbose_name_plural = _("地区月度统计")

    def __str__(self) -> str:
        return f"{self.area_id} {self.occupation_code} {self.year}-{self.month:02d}"


class AreaTotalFact(FactMeasures):
    """AreaMonthFact summed over occupations (`occupation_code` is always ""): per area, training
    type, person category and month. What region and city pages read when no occupation is chosen —
    a few rows per area and month instead of one per occupation."""

    scope_paths = ScopePaths(area="area")

    class Meta:
        indexes = [models.Index(fields=["year", "city"]), models.Index(fields=["year", "area"])]
        verbose_name = _("地区月度合计")
        verbose_name_plural = _("地区月度合计")

    def __str__(self) -> str:
        return f"{self.area_id} {self.year}-{self.month:02d} {self.category}"


class InstitutionYearFact(FactMeasures):
    """ClassMonthFact summed over classes, person categories and months: per institution, area,
    occupation, training type and year (`category` "", `month` 0). What the occupation and institution
    tables, the employment rate of an institution and the needs match read."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+", db_index=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_index=False)

    scope_paths = ScopePaths(area="area", organisation="organisation")

    class Meta:
        indexes = [
            models.Index(fields=["year", "area"]),
            models.Index(fields=["year", "city"]),
            models.Index(fields=["institution", "year"]),
            models.Index(fields=["organisation", "year"]),
        ]
        verbose_name = _("机构年度统计")
        verbose_name_plural = _("机构年度统计")

    def __str__(self) -> str:
        return f"{self.institution_id} {self.occupation_code} {self.year}"


class StatsState(BaseModel):
    """The single row that serialises refreshes and remembers how far they got: the last audit entry
    whose changes are in the facts, and the day the time-driven numbers were last brought forward."""

    singleton = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_audit_id = models.BigIntegerField(default=0)
    as_of = models.DateField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    full_refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("统计刷新状态")
        verbose_name_plural = _("统计刷新状态")

    def __str__(self) -> str:
        return f"stats @ audit #{self.last_audit_id}"
