from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import Level, TrainingType
from peixun.core.base import BaseModel
from peixun.core.models import Area, Person
from peixun.core.scoping import ScopePaths
from peixun.institutions.models import Institution


class Category(models.TextChoices):
    """人员类别 (财社〔2023〕181号 第五条), judged at the time of training."""

    POVERTY_MONITORED = "POVERTY_MONITORED", _("防止返贫监测对象")
    GRADUATE = "GRADUATE", _("毕业年度高校毕业生")
    SCHOOL_LEAVER = "SCHOOL_LEAVER", _("城乡未继续升学的应届初高中毕业生")
    RURAL_MIGRANT = "RURAL_MIGRANT", _("农村转移就业劳动者")
    REGISTERED_UNEMPLOYED = "REGISTERED_UNEMPLOYED", _("城镇登记失业人员")
    EMPLOYMENT_DIFFICULTY = "EMPLOYMENT_DIFFICULTY", _("就业困难人员")
    ENTERPRISE_EMPLOYEE = "ENTERPRISE_EMPLOYEE", _("企业职工")


class ClassStatus(models.TextChoices):
    """The states of a class's life (第八-十一条); `training/workflow.py` holds the moves between them."""

    DRAFT = "DRAFT", _("草稿")
    OPENING_REVIEW = "OPENING_REVIEW", _("开班待审核")
    OPENING_RETURNED = "OPENING_RETURNED", _("开班退回补正")
    OPENING_REJECTED = "OPENING_REJECTED", _("开班不予批准")
    APPROVED = "APPROVED", _("已批准开班")
    COMPLETION_REVIEW = "COMPLETION_REVIEW", _("结业待审核")
    COMPLETION_RETURNED = "COMPLETION_RETURNED", _("结业退回补正")
    COMPLETION_REJECTED = "COMPLETION_REJECTED", _("结业不予通过")
    COMPLETED = "COMPLETED", _("已结业")
    WITHDRAWN = "WITHDRAWN", _("已撤回")
    # Classes handed over in a data package: their life happened elsewhere; peixun only checks them.
    IMPORTED = "IMPORTED", _("数据包导入")


class TrainingClass(BaseModel):
    """培训班 (班期): one subsidised class of one institution (第八条).

    A class the institution applies for starts as DRAFT and moves through `ClassStatus`; classes
    handed over in a data package arrive with source IMPORT and status IMPORTED.
    """

    class Source(models.TextChoices):
        SYSTEM = "SYSTEM", _("系统申报")
        IMPORT = "IMPORT", _("数据包导入")

    code = models.CharField(_("班级编号"), max_length=40, unique=True)
    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.PROTECT, related_name="classes"
    )
    area = models.ForeignKey(Area, verbose_name=_("培训地区"), on_delete=models.PROTECT, related_name="+")
    occupation_code = models.CharField(_("职业编码"), max_length=20, db_index=True)
    occupation_name = models.CharField(_("职业（工种）"), max_length=100)
    level = models.CharField(_("等级"), max_length=8, choices=Level.choices)
    training_type = models.CharField(_("培训类型"), max_length=16, choices=TrainingType.choices)
    start_date = models.DateField(_("开班日期"), db_index=True)
    end_date = models.DateField(_("结业日期"))
    total_hours = models.DecimalField(_("总课时"), max_digits=6, decimal_places=1)
    online_hours = models.DecimalField(_("线上课时"), max_digits=6, decimal_places=1, default=0)
    site_address = models.CharField(_("培训地点"), max_length=200, blank=True)
    site_lat = models.FloatField(_("培训地点纬度"), null=True, blank=True)
    site_lon = models.FloatField(_("培训地点经度"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices, default=Source.SYSTEM)
    status = models.CharField(
        _("状态"), max_length=20, choices=ClassStatus.choices, default=ClassStatus.DRAFT, db_index=True
    )
    teaching_resources = models.TextField(_("教学资源"), blank=True, help_text=_("教材、讲义、实训设备等"))
    assessment_plan = models.TextField(_("考核方案"), blank=True)
    planned_size = models.PositiveIntegerField(_("计划人数"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    scope_paths = ScopePaths(area="area", organisation="institution__organisation")

    class Meta:
        ordering = ["-start_date", "code"]
        verbose_name = _("培训班")
        verbose_name_plural = _("培训班")

    def __str__(self) -> str:
        return f"{self.code} {self.occupation_name}"


class Lesson(BaseModel):
    """课程表 entry: one lesson of a class, offline or online, with its teacher."""

    class Mode(models.TextChoices):
        OFFLINE = "OFFLINE", _("线下")
        ONLINE = "ONLINE", _("线上")

    training_class = models.ForeignKey(TrainingClass, on_delete=models.CASCADE, related_name="lessons")
    date = models.DateField(_("日期"))
    start_time = models.TimeField(_("开始时间"))
    end_time = models.TimeField(_("结束时间"))
    hours = models.DecimalField(_("课时"), max_digits=4, decimal_places=1)
    mode = models.CharField(_("方式"), max_length=8, choices=Mode.choices)
    teacher = models.ForeignKey(
        Person, verbose_name=_("授课教师"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation"
    )

    class Meta:
        ordering = ["date", "start_time"]
        constraints = [
            models.UniqueConstraint(fields=["training_class", "date", "start_time"], name="uniq_lesson_start")
        ]
        verbose_name = _("课程")
        verbose_name_plural = _("课程")

    def __str__(self) -> str:
        return f"{self.date} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class Enrollment(BaseModel):
    """花名册 row: a trainee in a class with the category claimed for them.

    Removal (by an approved change request or a confirmed finding) keeps the row: the archive and the
    rules must still see who was on the roster and why they left (第二十三条).
    """

    training_class = models.ForeignKey(TrainingClass, on_delete=models.CASCADE, related_name="enrollments")
    person = models.ForeignKey(
        Person, verbose_name=_("学员"), on_delete=models.PROTECT, related_name="enrollments"
    )
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    category = models.CharField(_("人员类别"), max_length=24, choices=Category.choices)
    enrolled_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    removed_at = models.DateTimeField(_("移出时间"), null=True, blank=True)
    removed_reason = models.CharField(_("移出原因"), max_length=200, blank=True)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation", person="person"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["training_class", "person"], name="uniq_enrollment")]
        verbose_name = _("学员")
        verbose_name_plural = _("花名册")

    def __str__(self) -> str:
        return f"{self.training_class.code} {self.person.name}"


class ExamResult(BaseModel):
    """结业考试成绩 and the certificate that followed (第十、十三条)."""

    class CertificateType(models.TextChoices):
        QUALIFICATION = "QUALIFICATION", _("职业资格证书")
        SKILL_LEVEL = "SKILL_LEVEL", _("职业技能等级证书")
        SPECIAL = "SPECIAL", _("专项职业能力证书")
        TRAINING = "TRAINING", _("培训合格证")
        STARTUP = "STARTUP", _("创业培训合格证")

    training_class = models.ForeignKey(TrainingClass, on_delete=models.CASCADE, related_name="exams")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    exam_date = models.DateField(_("考试日期"))
    score = models.DecimalField(_("成绩"), max_digits=5, decimal_places=1, null=True, blank=True)
    passed = models.BooleanField(_("是否合格"))
    certificate_type = models.CharField(
        _("证书类型"), max_length=16, choices=CertificateType.choices, blank=True
    )
    certificate_no = models.CharField(_("证书编号"), max_length=64, blank=True)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation", person="person"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["training_class", "person"], name="uniq_exam")]
        verbose_name = _("考试成绩")
        verbose_name_plural = _("考试成绩")

    def __str__(self) -> str:
        return f"{self.training_class.code} {self.exam_date}"


class TeachingModule(BaseModel):
    """教学计划 module: what is taught, how many hours, offline or on which filed platform (第八、十八条)."""

    training_class = models.ForeignKey(TrainingClass, on_delete=models.CASCADE, related_name="modules")
    order = models.PositiveSmallIntegerField(_("序号"))
    name = models.CharField(_("模块名称"), max_length=100)
    hours = models.DecimalField(_("课时"), max_digits=5, decimal_places=1)
    mode = models.CharField(_("方式"), max_length=8, choices=Lesson.Mode.choices)
    platform = models.ForeignKey(
        "intake.Platform",
        verbose_name=_("线上培训平台"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    content = models.CharField(_("主要内容"), max_length=300, blank=True)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation"
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("教学计划模块")
        verbose_name_plural = _("教学计划")

    def __str__(self) -> str:
        return self.name


class ClassTeacher(BaseModel):
    """A teacher engaged for the class (授课师资, 第六条、第二十一条)."""

    training_class = models.ForeignKey(TrainingClass, on_delete=models.CASCADE, related_name="class_teachers")
    teacher = models.ForeignKey(
        "institutions.Teacher", verbose_name=_("教师"), on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(_("承担课程"), max_length=100, blank=True)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["training_class", "teacher"], name="uniq_class_teacher")
        ]
        verbose_name = _("授课教师")
        verbose_name_plural = _("授课教师")

    def __str__(self) -> str:
        return f"{self.training_class_id} {self.teacher_id}"


class ClassDocument(BaseModel):
    """A file of the class's archive (第二十三条): undertakings, plans, vouchers, photos. Never replaced
    in place: a new upload is a new row, and the hash proves what was filed."""

    class Kind(models.TextChoices):
        INSTITUTION_UNDERTAKING = "INSTITUTION_UNDERTAKING", _("机构承诺书")
        TRAINEE_UNDERTAKING = "TRAINEE_UNDERTAKING", _("学员承诺书")
        TEACHING_RESOURCES = "TEACHING_RESOURCES", _("教学资源材料")
        ASSESSMENT_PLAN = "ASSESSMENT_PLAN", _("考核方案材料")
        COMPLETION_MATERIAL = "COMPLETION_MATERIAL", _("结业材料")
        ONSITE_PHOTO = "ONSITE_PHOTO", _("培训过程照片或视频")
        SUPERVISION = "SUPERVISION", _("监督检查记录")
        OTHER = "OTHER", _("其他材料")

    training_class = models.ForeignKey(TrainingClass, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("材料类别"), max_length=24, choices=Kind.choices)
    title = models.CharField(_("材料名称"), max_length=200)
    file = models.FileField(_("文件"), upload_to="classes/%Y/%m/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation"
    )

    class Meta:
        ordering = ["kind", "uploaded_at"]
        verbose_name = _("班级材料")
        verbose_name_plural = _("班级材料")

    def __str__(self) -> str:
        return self.title


class Review(BaseModel):
    """One review case of a class (开班审核 第九条 / 结业审核 第十一条) with its legal clock.

    The clock runs in working days from the day after submission. Returning the application for
    correction stops it (the days used are kept); resubmission restarts it with the days left.
    """

    class Stage(models.TextChoices):
        OPENING = "OPENING", _("开班审核")
        COMPLETION = "COMPLETION", _("结业审核")

    class State(models.TextChoices):
        PENDING = "PENDING", _("审核中")
        RETURNED = "RETURNED", _("退回补正")
        APPROVED = "APPROVED", _("通过")
        REJECTED = "REJECTED", _("不予通过")
        WITHDRAWN = "WITHDRAWN", _("已撤回")

    training_class = models.ForeignKey(TrainingClass, on_delete=models.CASCADE, related_name="reviews")
    stage = models.CharField(_("审核环节"), max_length=12, choices=Stage.choices)
    state = models.CharField(_("审核状态"), max_length=10, choices=State.choices, default=State.PENDING)
    limit_workdays = models.PositiveSmallIntegerField(_("审核时限（工作日）"))
    first_submitted_at = models.DateTimeField(_("首次提交时间"))
    submitted_on = models.DateField(_("本轮提交日期"))
    workdays_used = models.PositiveSmallIntegerField(_("已用工作日"), default=0)
    due_date = models.DateField(_("审核截止日期"), null=True, blank=True)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_reason = models.TextField(_("审核意见"), blank=True)
    # 结业审核 records how it was reviewed (第十一条).
    material_review = models.TextField(_("材料审核情况"), blank=True)
    crosscheck_review = models.TextField(_("部门数据比对情况"), blank=True)
    onsite_check = models.TextField(_("现场核查情况"), blank=True)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation"
    )

    class Meta:
        ordering = ["-first_submitted_at"]
        verbose_name = _("审核")
        verbose_name_plural = _("审核")

    def __str__(self) -> str:
        return f"{self.training_class.code} {self.get_stage_display()}"


class ReviewRound(BaseModel):
    """One submission of a review case and, if it was returned, the 一次性告知 list that went back."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("轮次"))
    submitted_at = models.DateTimeField(_("提交时间"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提交人"), on_delete=models.PROTECT, related_name="+"
    )
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("退回人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["review", "number"], name="uniq_review_round")]
        verbose_name = _("审核轮次")
        verbose_name_plural = _("审核轮次")

    def __str__(self) -> str:
        return f"{self.review} 第{self.number}轮"


class Deficiency(BaseModel):
    """一项需补正的问题: found by the system at submission, or added by the reviewer when returning."""

    class Source(models.TextChoices):
        SYSTEM = "SYSTEM", _("系统检查")
        REVIEWER = "REVIEWER", _("审核员")

    round = models.ForeignKey(ReviewRound, on_delete=models.CASCADE, related_name="deficiencies")
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    text = models.CharField(_("问题"), max_length=500)

    class Meta:
        ordering = ["id"]
        verbose_name = _("补正事项")
        verbose_name_plural = _("补正事项")

    def __str__(self) -> str:
        return self.text


class ChangeRequest(BaseModel):
    """变更申请 during training: roster and schedule change only with the reviewer's approval
    (擅自变更培训内容、减少培训课时 is a violation, 第二十二条)."""

    class Kind(models.TextChoices):
        ADD_TRAINEE = "ADD_TRAINEE", _("增加学员")
        REMOVE_TRAINEE = "REMOVE_TRAINEE", _("减少学员")
        MOVE_LESSON = "MOVE_LESSON", _("调整课程时间")
        CHANGE_TEACHER = "CHANGE_TEACHER", _("更换授课教师")

    class State(models.TextChoices):
        PENDING = "PENDING", _("待审核")
        APPROVED = "APPROVED", _("已同意")
        REJECTED = "REJECTED", _("不同意")

    training_class = models.ForeignKey(
        TrainingClass, on_delete=models.CASCADE, related_name="change_requests"
    )
    kind = models.CharField(_("变更类型"), max_length=16, choices=Kind.choices)
    # What the change is, in the service's own terms (person, lesson, new times, teacher); the summary
    # is the Chinese sentence reviewers and the archive read.
    payload = models.JSONField(_("变更内容"))
    summary = models.CharField(_("变更说明"), max_length=300)
    reason = models.CharField(_("变更理由"), max_length=500)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_reason = models.CharField(_("审核意见"), max_length=500, blank=True)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation"
    )

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("变更申请")
        verbose_name_plural = _("变更申请")

    def __str__(self) -> str:
        return self.summary
