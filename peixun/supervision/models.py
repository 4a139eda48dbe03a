"""Supervision and enforcement (第二十至二十五条): 双随机一公开 draws, inspections, violations and the
sanctions ladder, recovery of subsidies paid, integrity records, annual inspections, clue transfers to
other departments, joint enforcement and the training of the bureaus' own staff.

Every status here is written only by `services.py`, in the transaction that also writes the audit
chain; the allowed moves are the tables of `workflow.py`.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.accounts.models import Organisation
from peixun.checks.models import Finding
from peixun.core.base import BaseModel
from peixun.core.models import Area, Person
from peixun.core.scoping import ScopePaths
from peixun.institutions.models import Institution
from peixun.subsidies.models import SubsidyLine
from peixun.training.models import Enrollment, TrainingClass


class CodeCounter(BaseModel):
    """The last number given per prefix, area and year (抽查、检查、违规、移送编号), locked while counting
    so that two clerks at once never get the same code."""

    prefix = models.CharField(max_length=4)
    area_code = models.CharField(max_length=6)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "area_code", "year"], name="uniq_supervision_counter")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}{self.area_code}{self.year}:{self.last}"


# --- the inspectors (执法检查人员名录) -----------------------------------------------------------------


class Inspector(BaseModel):
    """检查人员名录: the people a draw may pick — the bureaus' inspectors (who log in and record) and
    invited experts (特邀专家, e.g. a teacher of a technical college), each with their organisation,
    which decides whom they may not inspect (回避)."""

    class Kind(models.TextChoices):
        OFFICIAL = "OFFICIAL", _("执法检查人员")
        EXPERT = "EXPERT", _("特邀专家")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("系统账户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspector",
    )
    name = models.CharField(_("姓名"), max_length=64)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("所在单位"), on_delete=models.PROTECT, related_name="+"
    )
    speciality = models.CharField(_("专业领域"), max_length=100, blank=True)
    active = models.BooleanField(_("在库"), default=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    scope_paths = ScopePaths(area="organisation__area")

    class Meta:
        ordering = ["organisation__area__code", "kind", "name", "id"]
        verbose_name = _("检查人员")
        verbose_name_plural = _("检查人员名录")

    def __str__(self) -> str:
        return self.name

    @property
    def key(self) -> str:
        """The inspector's key in a published pool (draw.py)."""
        return f"P{self.pk}"


class Conflict(BaseModel):
    """利害关系申报 (回避): an inspector declares a tie to an institution (worked there, a relative is the
    legal representative …); draws do not assign them to it while the declaration stands."""

    inspector = models.ForeignKey(
        Inspector, verbose_name=_("检查人员"), on_delete=models.PROTECT, related_name="conflicts"
    )
    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("回避事由"), max_length=300)
    declared_at = models.DateTimeField(_("申报时间"), auto_now_add=True)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    scope_paths = ScopePaths(area="inspector__organisation__area")

    class Meta:
        ordering = ["-declared_at", "-id"]
        verbose_name = _("回避申报")
        verbose_name_plural = _("回避申报")

    def __str__(self) -> str:
        return f"{self.inspector} — {self.institution}"


# --- 双随机一公开 (第二十一条) ------------------------------------------------------------------------


class Draw(BaseModel):
    """双随机抽查: one draw of targets and, for each, inspectors. Created once with its pools frozen and
    the SHA-256 of its secret seed published (COMMITTED); executed once (DRAWN); the seed is shown
    with the results. A draw is never re-run: a new draw is a new record, and a cancelled one stays
    listed with its reason."""

    class Status(models.TextChoices):
        # pools frozen, seed hash published, waiting for the draw
        COMMITTED = "COMMITTED", _("已公布种子哈希，待抽取")
        # targets and inspectors drawn; inspections under way
        DRAWN = "DRAWN", _("已抽取")
        # cancelled before the draw, with its reason (stays public)
        CANCELLED = "CANCELLED", _("已作废")

    class TargetKind(models.TextChoices):
        INSTITUTION = "INSTITUTION", _("目录内培训机构")
        CLASS = "CLASS", _("在训培训班")

    code = models.CharField(_("抽查编号"), max_length=24, unique=True)
    title = models.CharField(_("抽查任务"), max_length=200)
    area = models.ForeignKey(Area, verbose_name=_("抽查范围"), on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="+"
    )
    target_kind = models.CharField(_("抽查对象"), max_length=12, choices=TargetKind.choices)
    # 抽查比例, default 5% (a setting of the draw, published with its pools)
    sample_share = models.DecimalField(_("抽查比例"), max_digits=5, decimal_places=4)
    inspectors_per_target = models.PositiveSmallIntegerField(_("每个对象的检查人员数"))
    stratify = models.BooleanField(_("按风险分层抽取"), default=False)
    # findings per 100 trainees at or above which a target is in the high-risk stratum
    high_risk_threshold = models.DecimalField(
        _("高风险阈值（每百名学员问题线索数）"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    high_risk_share = models.DecimalField(
        _("高风险层抽查比例"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    inspection_due = models.DateField(_("检查完成期限"))
    publish_within_days = models.PositiveSmallIntegerField(_("结果公开期限（检查后工作日）"), default=20)
    # The frozen pools in their canonical form (draw.py: canonical_pool) and its hash.
    pool_text = models.TextField(_("抽取池（规范文本）"))
    pool_sha256 = models.CharField(_("抽取池哈希"), max_length=64)
    pool_targets = models.PositiveIntegerField(_("对象池数量"))
    pool_inspectors = models.PositiveIntegerField(_("检查人员池数量"))
    seed_sha256 = models.CharField(_("种子哈希"), max_length=64)
    # Secret until the draw; shown with the results. Never edited after creation.
    seed = models.CharField(_("随机种子"), max_length=64)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.COMMITTED)
    created_at = models.DateTimeField(_("公布时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("组织人"), on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField(_("抽取时间"), null=True, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("抽取人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    result_sha256 = models.CharField(_("抽取结果哈希"), max_length=64, blank=True)
    cancelled_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("作废原因"), max_length=300, blank=True)

    scope_paths = ScopePaths(area="area")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("双随机抽查")
        verbose_name_plural = _("双随机抽查")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class DrawTarget(BaseModel):
    """One drawn target, in the order of the draw, with its stratum and the HMAC that ranked it."""

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="targets")
    rank = models.PositiveIntegerField(_("序号"))
    key = models.CharField(_("对象标识"), max_length=40)
    stratum = models.CharField(_("风险层"), max_length=8)
    score = models.CharField(_("排序值"), max_length=64)
    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.PROTECT, related_name="+"
    )
    training_class = models.ForeignKey(
        TrainingClass,
        verbose_name=_("培训班"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    scope_paths = ScopePaths(area="draw__area")

    class Meta:
        ordering = ["draw", "rank"]
        constraints = [models.UniqueConstraint(fields=["draw", "key"], name="uniq_draw_target")]
        verbose_name = _("抽中对象")
        verbose_name_plural = _("抽中对象")

    def __str__(self) -> str:
        return f"{self.draw.code} #{self.rank} {self.key}"


class DrawAssignment(BaseModel):
    """An inspector drawn for a target. A replacement (illness, a conflict found later) is the next
    inspector in the same HMAC order, recorded with its reason; the replaced row stays."""

    target = models.ForeignKey(DrawTarget, on_delete=models.CASCADE, related_name="assignments")
    inspector = models.ForeignKey(
        Inspector, verbose_name=_("检查人员"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.CharField(_("排序值"), max_length=64)
    replaced_at = models.DateTimeField(_("被替换时间"), null=True, blank=True)
    replaced_reason = models.CharField(_("替换原因"), max_length=300, blank=True)
    replaces = models.ForeignKey(
        "self", verbose_name=_("替换"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["target", "id"]
        verbose_name = _("抽中检查人员")
        verbose_name_plural = _("抽中检查人员")

    def __str__(self) -> str:
        return f"{self.target} {self.inspector}"


# --- inspections (第二十一条) -------------------------------------------------------------------------


class CheckItem(models.TextChoices):
    """The elements 第二十一条 names for 实地督导评估."""

    ELIGIBILITY = "ELIGIBILITY", _("培训对象报名资格")
    PLAN = "PLAN", _("培训计划落实")
    TEACHERS = "TEACHERS", _("授课师资资格")
    PREMISES = "PREMISES", _("教学场地")
    EQUIPMENT = "EQUIPMENT", _("设施设备")
    SAFETY = "SAFETY", _("实训安全")


class Inspection(BaseModel):
    """检查记录: one inspection of one institution (and, where it ran, one class), with its checklist,
    photos, phone checks, outcome and follow-up."""

    class Kind(models.TextChoices):
        DRAW = "DRAW", _("双随机抽查")
        ON_SITE = "ON_SITE", _("实地督导评估")
        UNANNOUNCED = "UNANNOUNCED", _("明察暗访")
        SPOT = "SPOT", _("随机现场抽查")
        PHONE = "PHONE", _("电话抽查")

    class Status(models.TextChoices):
        PLANNED = "PLANNED", _("待检查")
        # checked; problems found: rectification or a violation case follows
        FOLLOW_UP = "FOLLOW_UP", _("跟进处理中")
        CLOSED = "CLOSED", _("已办结")

    class Outcome(models.TextChoices):
        PASS = "PASS", _("未发现问题")
        RECTIFY = "RECTIFY", _("发现问题，责令整改")
        VIOLATION = "VIOLATION", _("发现违规，移交立案处理")

    code = models.CharField(_("检查编号"), max_length=24, unique=True)
    kind = models.CharField(_("检查方式"), max_length=12, choices=Kind.choices)
    draw_target = models.OneToOneField(
        DrawTarget, null=True, blank=True, on_delete=models.PROTECT, related_name="inspection"
    )
    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.PROTECT, related_name="inspections"
    )
    training_class = models.ForeignKey(
        TrainingClass,
        verbose_name=_("培训班"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    inspectors = models.ManyToManyField(Inspector, verbose_name=_("检查人员"), related_name="inspections")
    planned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    planned_at = models.DateTimeField(_("安排时间"), auto_now_add=True)
    due_date = models.DateField(_("检查期限"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    inspected_on = models.DateField(_("检查日期"), null=True, blank=True)
    place = models.CharField(_("检查地点"), max_length=200, blank=True)
    trainees_present = models.PositiveIntegerField(_("实到学员人数"), null=True, blank=True)
    trainees_on_roster = models.PositiveIntegerField(_("花名册人数"), null=True, blank=True)
    summary = models.TextField(_("检查情况"), blank=True)
    outcome = models.CharField(_("检查结论"), max_length=10, choices=Outcome.choices, blank=True)
    follow_up = models.TextField(_("整改要求"), blank=True)
    follow_up_due = models.DateField(_("整改期限"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_note = models.TextField(_("整改复查意见"), blank=True)
    # 一公开: the last day by which the result must be public, and when it was published
    publish_by = models.DateField(_("结果公开期限"), null=True, blank=True)
    published_at = models.DateTimeField(_("结果公开时间"), null=True, blank=True)

    scope_paths = ScopePaths(area="institution__area", organisation="institution__organisation")

    class Meta:
        ordering = ["-inspected_on", "-planned_at", "-id"]
        verbose_name = _("检查记录")
        verbose_name_plural = _("检查记录")

    def __str__(self) -> str:
        return f"{self.code} {self.institution}"


class InspectionItem(BaseModel):
    """One element of the 第二十一条 checklist as found on site."""

    class Result(models.TextChoices):
        OK = "OK", _("符合")
        PROBLEM = "PROBLEM", _("不符合")
        NOT_CHECKED = "NOT_CHECKED", _("未检查")

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="items")
    item = models.CharField(_("检查要素"), max_length=12, choices=CheckItem.choices)
    result = models.CharField(_("结果"), max_length=12, choices=Result.choices)
    note = models.CharField(_("情况说明"), max_length=500, blank=True)

    class Meta:
        ordering = ["inspection", "id"]
        constraints = [models.UniqueConstraint(fields=["inspection", "item"], name="uniq_inspection_item")]
        verbose_name = _("检查要素")
        verbose_name_plural = _("检查要素")

    def __str__(self) -> str:
        return f"{self.get_item_display()}：{self.get_result_display()}"


class InspectionPhoto(BaseModel):
    """现场照片, hashed on upload; never replaced (第二十三条 培训监管记录)."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("照片"), upload_to="inspections/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["inspection", "id"]
        verbose_name = _("现场照片")
        verbose_name_plural = _("现场照片")

    def __str__(self) -> str:
        return self.caption or self.image.name


class PhoneCheck(BaseModel):
    """电话抽查: a trainee on the roster is called — did you attend, what was taught?"""

    class Attended(models.TextChoices):
        YES = "YES", _("本人确认参训")
        NO = "NO", _("本人称未参训")
        PARTLY = "PARTLY", _("本人称部分参训")

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="phone_checks")
    enrollment = models.ForeignKey(
        Enrollment, verbose_name=_("学员"), on_delete=models.PROTECT, related_name="+"
    )
    called_at = models.DateTimeField(_("通话时间"))
    reached = models.BooleanField(_("接通"))
    attended = models.CharField(_("是否参训"), max_length=8, choices=Attended.choices, blank=True)
    taught = models.CharField(_("学员所述培训内容"), max_length=300, blank=True)
    matches_plan = models.BooleanField(_("与教学计划相符"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["inspection", "called_at", "id"]
        verbose_name = _("电话抽查记录")
        verbose_name_plural = _("电话抽查记录")

    def __str__(self) -> str:
        return f"{self.inspection.code} {self.enrollment.person.name}"

    @property
    def suspicious(self) -> bool:
        return self.reached and (
            self.attended in (self.Attended.NO, self.Attended.PARTLY) or self.matches_plan is False
        )


class Rectification(BaseModel):
    """整改报告: what the institution reports it has put right, for an inspection or a 责令整改 sanction."""

    inspection = models.ForeignKey(
        Inspection, null=True, blank=True, on_delete=models.PROTECT, related_name="rectifications"
    )
    sanction = models.ForeignKey(
        "Sanction", null=True, blank=True, on_delete=models.PROTECT, related_name="rectifications"
    )
    text = models.TextField(_("整改情况"))
    file = models.FileField(_("整改材料"), upload_to="rectifications/%Y/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["submitted_at", "id"]
        verbose_name = _("整改报告")
        verbose_name_plural = _("整改报告")

    def __str__(self) -> str:
        return f"{self.submitted_at:%Y-%m-%d}"


# --- violations, sanctions, recovery (第二十二条) ------------------------------------------------------


class ViolationType(models.TextChoices):
    """The behaviours 第二十二条 (and 第二十条, 第二十一条) name."""

    OUT_OF_LICENCE = "OUT_OF_LICENCE", _("超越办学许可范围开展培训")
    CONTENT_CHANGED = "CONTENT_CHANGED", _("擅自变更培训内容")
    HOURS_CUT = "HOURS_CUT", _("减少培训课时")
    INEFFECTIVE = "INEFFECTIVE", _("组织低效无效、滥竽充数式培训")
    FALSE_ADVERTISING = "FALSE_ADVERTISING", _("虚假招生宣传")
    FALSE_ROSTER = "FALSE_ROSTER", _("虚假参训人员名单")
    FALSE_IDENTITY = "FALSE_IDENTITY", _("虚假参训人员身份")
    FALSE_ATTENDANCE = "FALSE_ATTENDANCE", _("虚假上课记录")
    FALSE_EXAM = "FALSE_EXAM", _("虚假结业考核成绩")
    COURSE_BRUSHING = "COURSE_BRUSHING", _("使用外挂软件刷课、组织或代替培训对象刷课")
    REPEATED_TRAINING = "REPEATED_TRAINING", _("同一人员多次重复参加同一工种培训")
    MISMANAGEMENT = "MISMANAGEMENT", _("管理混乱等其他问题")


class Violation(BaseModel):
    """违规立案: one behaviour of one institution, with its evidence (an inspection, findings) and the
    responsible person. Sanctions and recoveries hang off it; it is closed when they are done."""

    class Status(models.TextChoices):
        OPEN = "OPEN", _("处理中")
        CLOSED = "CLOSED", _("已结案")

    code = models.CharField(_("案件编号"), max_length=24, unique=True)
    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.PROTECT, related_name="violations"
    )
    training_class = models.ForeignKey(
        TrainingClass,
        verbose_name=_("培训班"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    type = models.CharField(_("违规类型"), max_length=20, choices=ViolationType.choices)
    description = models.TextField(_("违规事实"))
    found_on = models.DateField(_("发现日期"))
    inspection = models.ForeignKey(
        Inspection,
        verbose_name=_("来源检查"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="violations",
    )
    findings = models.ManyToManyField(Finding, verbose_name=_("问题线索"), blank=True, related_name="+")
    responsible_name = models.CharField(_("责任人"), max_length=64, blank=True)
    responsible_role = models.CharField(_("责任人职务"), max_length=64, blank=True)
    responsible_person = models.ForeignKey(
        Person,
        verbose_name=_("责任人身份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.OPEN)
    recorded_at = models.DateTimeField(_("立案时间"), auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    close_note = models.CharField(_("结案意见"), max_length=500, blank=True)

    scope_paths = ScopePaths(area="institution__area", organisation="institution__organisation")

    class Meta:
        ordering = ["-found_on", "-id"]
        verbose_name = _("违规案件")
        verbose_name_plural = _("违规案件")

    def __str__(self) -> str:
        return f"{self.code} {self.get_type_display()}"


class SanctionKind(models.TextChoices):
    """The sanctions ladder, mildest first (第二十二条)."""

    INTERVIEW = "INTERVIEW", _("约谈")
    RECTIFY = "RECTIFY", _("责令整改")
    SUSPEND = "SUSPEND", _("暂停开班")
    REMOVE = "REMOVE", _("移出目录")
    PENALTY = "PENALTY", _("行政处罚")
    JUDICIAL = "JUDICIAL", _("移送司法机关")


class Sanction(BaseModel):
    """One rung of the ladder applied to a violation: the decision, its document and dates."""

    class Status(models.TextChoices):
        IN_FORCE = "IN_FORCE", _("执行中")
        DONE = "DONE", _("已执行完毕")
        LIFTED = "LIFTED", _("已解除")

    violation = models.ForeignKey(Violation, on_delete=models.PROTECT, related_name="sanctions")
    kind = models.CharField(_("处理措施"), max_length=10, choices=SanctionKind.choices)
    decided_on = models.DateField(_("决定日期"))
    effective_from = models.DateField(_("生效日期"))
    # 责令整改: the deadline; 暂停开班: the end of the suspension (open-ended when empty)
    effective_to = models.DateField(_("期限至"), null=True, blank=True)
    document_no = models.CharField(_("文书编号"), max_length=100)
    document = models.FileField(_("决定文书"), upload_to="sanctions/%Y/", blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    content = models.TextField(_("决定内容"))
    fine_amount = models.DecimalField(_("罚款金额"), max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.IN_FORCE)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    ended_on = models.DateField(_("执行完毕/解除日期"), null=True, blank=True)
    end_note = models.CharField(_("执行情况"), max_length=500, blank=True)

    scope_paths = ScopePaths(
        area="violation__institution__area", organisation="violation__institution__organisation"
    )

    class Meta:
        ordering = ["violation", "decided_on", "id"]
        verbose_name = _("处理措施")
        verbose_name_plural = _("处理措施")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.document_no}"


class Recovery(BaseModel):
    """追回: subsidy paid for a violation, ordered back from the institution and tracked until every
    yuan has come in. The subsidy records stay as they are; this is the record of the money's way back."""

    class Status(models.TextChoices):
        ORDERED = "ORDERED", _("待追回")
        PARTIAL = "PARTIAL", _("部分追回")
        COMPLETED = "COMPLETED", _("已全额追回")

    violation = models.ForeignKey(Violation, on_delete=models.PROTECT, related_name="recoveries")
    lines = models.ManyToManyField(SubsidyLine, verbose_name=_("追回的补贴明细"), related_name="+")
    amount_due = models.DecimalField(_("应追回金额"), max_digits=12, decimal_places=2)
    amount_recovered = models.DecimalField(_("已追回金额"), max_digits=12, decimal_places=2, default=0)
    ordered_on = models.DateField(_("下达日期"))
    due_date = models.DateField(_("缴回期限"))
    document_no = models.CharField(_("追回通知书编号"), max_length=100)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ORDERED)
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed_on = models.DateField(_("追回完成日期"), null=True, blank=True)

    scope_paths = ScopePaths(
        area="violation__institution__area", organisation="violation__institution__organisation"
    )

    class Meta:
        ordering = ["-ordered_on", "-id"]
        verbose_name = _("资金追回")
        verbose_name_plural = _("资金追回")

    def __str__(self) -> str:
        return f"{self.document_no}"

    @property
    def outstanding(self):
        return self.amount_due - self.amount_recovered


class RecoveryReceipt(BaseModel):
    """One payment back into the fund account (缴款), with the bank voucher."""

    recovery = models.ForeignKey(Recovery, on_delete=models.PROTECT, related_name="receipts")
    amount = models.DecimalField(_("到账金额"), max_digits=12, decimal_places=2)
    received_on = models.DateField(_("到账日期"))
    voucher_no = models.CharField(_("缴款凭证号"), max_length=64)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        ordering = ["received_on", "id"]
        constraints = [models.UniqueConstraint(fields=["voucher_no"], name="uniq_recovery_voucher")]
        verbose_name = _("追回到账")
        verbose_name_plural = _("追回到账")

    def __str__(self) -> str:
        return self.voucher_no


# --- integrity and annual inspection (第二十条, 第二十一条) ----------------------------------------------


class IntegrityRecord(BaseModel):
    """诚信记录: an entry about an institution and, where known, its responsible person. Append-only;
    written by the services when a violation is found, a sanction decided or an annual inspection failed."""

    class Kind(models.TextChoices):
        VIOLATION = "VIOLATION", _("违规行为")
        SANCTION = "SANCTION", _("处理措施")
        ANNUAL_FAIL = "ANNUAL_FAIL", _("年度检查不合格")
        RECOVERY = "RECOVERY", _("追回补贴资金")

    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.PROTECT, related_name="integrity_records"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("责任人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person_name = models.CharField(_("责任人姓名"), max_length=64, blank=True)
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices)
    text = models.CharField(_("内容"), max_length=500)
    recorded_on = models.DateField(_("记录日期"))
    violation = models.ForeignKey(
        Violation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sanction = models.ForeignKey(Sanction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    annual = models.ForeignKey(
        "AnnualInspection", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    scope_paths = ScopePaths(area="institution__area", organisation="institution__organisation")

    class Meta:
        ordering = ["-recorded_on", "-id"]
        verbose_name = _("诚信记录")
        verbose_name_plural = _("诚信记录")

    def __str__(self) -> str:
        return f"{self.institution} {self.get_kind_display()}"


class AnnualInspection(BaseModel):
    """年度检查 of one institution for one year: 合格 or 不合格. Organising or doing 刷课 is 不合格
    (第二十条)."""

    class Result(models.TextChoices):
        PASS = "PASS", _("合格")
        FAIL = "FAIL", _("不合格")

    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.PROTECT, related_name="annual_inspections"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    result = models.CharField(_("结论"), max_length=4, choices=Result.choices)
    reasons = models.TextField(_("结论依据"))
    # the facts the decision saw (counts, grade), frozen with it
    basis = models.JSONField(_("检查时的情况"), default=dict)
    decided_on = models.DateField(_("决定日期"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    scope_paths = ScopePaths(area="institution__area", organisation="institution__organisation")

    class Meta:
        ordering = ["-year", "institution"]
        constraints = [models.UniqueConstraint(fields=["institution", "year"], name="uniq_annual_inspection")]
        verbose_name = _("年度检查")
        verbose_name_plural = _("年度检查")

    def __str__(self) -> str:
        return f"{self.institution} {self.year} {self.get_result_display()}"


# --- hand-over to other departments (第二十五条) ------------------------------------------------------


class Department(models.TextChoices):
    CYBERSPACE = "CYBERSPACE", _("网信部门")
    PUBLIC_SECURITY = "PUBLIC_SECURITY", _("公安机关")
    MARKET_REGULATION = "MARKET_REGULATION", _("市场监管部门")
    FINANCE = "FINANCE", _("财政部门")
    EDUCATION = "EDUCATION", _("教育部门")
    OTHER = "OTHER", _("其他部门")


class ClueTransfer(BaseModel):
    """线索移送: what was sent to which department, when, with which evidence package (a ZIP with a
    manifest of SHA-256 hashes, frozen when sent), the reply and the outcome."""

    class Status(models.TextChoices):
        SENT = "SENT", _("已移送，待回复")
        REPLIED = "REPLIED", _("已回复")
        CLOSED = "CLOSED", _("已办结")

    code = models.CharField(_("移送编号"), max_length=24, unique=True)
    area = models.ForeignKey(Area, verbose_name=_("移送单位地区"), on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("移送单位"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.CharField(_("接收部门类别"), max_length=20, choices=Department.choices)
    recipient = models.CharField(_("接收单位"), max_length=128)
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("涉及机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    violation = models.ForeignKey(
        Violation,
        verbose_name=_("违规案件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clues",
    )
    sanction = models.ForeignKey(
        Sanction, null=True, blank=True, on_delete=models.PROTECT, related_name="clues"
    )
    summary = models.TextField(_("移送内容"))
    sent_on = models.DateField(_("移送日期"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    evidence = models.FileField(_("证据包"), upload_to="clues/%Y/")
    evidence_sha256 = models.CharField(_("证据包哈希"), max_length=64)
    manifest_sha256 = models.CharField(_("清单哈希"), max_length=64)
    evidence_files = models.PositiveIntegerField(_("证据文件数"), default=0)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.SENT)
    reply_on = models.DateField(_("回复日期"), null=True, blank=True)
    reply = models.TextField(_("回复内容"), blank=True)
    outcome = models.TextField(_("处理结果"), blank=True)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)

    scope_paths = ScopePaths(area="area")

    class Meta:
        ordering = ["-sent_on", "-id"]
        verbose_name = _("线索移送")
        verbose_name_plural = _("线索移送")

    def __str__(self) -> str:
        return f"{self.code} {self.recipient}"


class JointEnforcement(BaseModel):
    """联合执法 log: who took part, where, which institutions, what was found and done (第二十五条)."""

    area = models.ForeignKey(Area, verbose_name=_("地区"), on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("牵头单位"), on_delete=models.PROTECT, related_name="+"
    )
    held_on = models.DateField(_("执法日期"))
    departments = models.JSONField(_("参加部门"), default=list)
    partner_units = models.CharField(_("参加单位"), max_length=300)
    place = models.CharField(_("地点"), max_length=200)
    institutions = models.ManyToManyField(
        Institution, verbose_name=_("检查机构"), blank=True, related_name="+"
    )
    summary = models.TextField(_("执法情况"))
    outcome = models.TextField(_("处理结果与反馈"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    scope_paths = ScopePaths(area="area")

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("联合执法记录")
        verbose_name_plural = _("联合执法记录")

    def __str__(self) -> str:
        return f"{self.held_on} {self.place}"

    def department_labels(self) -> list[str]:
        return [str(Department(d).label) for d in self.departments if d in Department.values]


# --- staff training (第二十四条) -----------------------------------------------------------------------


class StaffTraining(BaseModel):
    """经办人员培训: a session for the bureaus' own staff — policy, procedures, the system (第二十四条)."""

    class Topic(models.TextChoices):
        POLICY = "POLICY", _("政策业务")
        PROCEDURE = "PROCEDURE", _("操作流程")
        SYSTEM = "SYSTEM", _("信息系统")
        DISCIPLINE = "DISCIPLINE", _("廉政与纪律")

    area = models.ForeignKey(Area, verbose_name=_("地区"), on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("培训主题"), max_length=200)
    topic = models.CharField(_("类别"), max_length=12, choices=Topic.choices)
    held_on = models.DateField(_("培训日期"))
    hours = models.DecimalField(_("学时"), max_digits=4, decimal_places=1)
    form = models.CharField(_("形式"), max_length=64, help_text=_("集中授课、视频会议、岗位练兵等"))
    teacher = models.CharField(_("授课人"), max_length=64, blank=True)
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("参训人员"), related_name="+")
    notes = models.TextField(_("内容摘要"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    scope_paths = ScopePaths(area="area")

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("经办人员培训")
        verbose_name_plural = _("经办人员培训")

    def __str__(self) -> str:
        return f"{self.held_on} {self.title}"
