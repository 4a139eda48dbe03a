from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import Level, TrainingType
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


class TrainingClass(models.Model):
    """培训班 (班期): one subsidised class of one institution (第八条).

    The lifecycle (opening → review → … → payment) is added by the lifecycle issue; classes handed
    over in a data package arrive with source IMPORT.
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
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    scope_paths = ScopePaths(area="area", organisation="institution__organisation")

    class Meta:
        ordering = ["-start_date", "code"]
        verbose_name = _("培训班")
        verbose_name_plural = _("培训班")

    def __str__(self) -> str:
        return f"{self.code} {self.occupation_name}"


class Lesson(models.Model):
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


class Enrollment(models.Model):
    """花名册 row: a trainee in a class with the category claimed for them."""

    training_class = models.ForeignKey(TrainingClass, on_delete=models.CASCADE, related_name="enrollments")
    person = models.ForeignKey(
        Person, verbose_name=_("学员"), on_delete=models.PROTECT, related_name="enrollments"
    )
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    category = models.CharField(_("人员类别"), max_length=24, choices=Category.choices)
    enrolled_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    scope_paths = ScopePaths(
        area="training_class__area", organisation="training_class__institution__organisation", person="person"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["training_class", "person"], name="uniq_enrollment")]
        verbose_name = _("学员")
        verbose_name_plural = _("花名册")

    def __str__(self) -> str:
        return f"{self.training_class.code} {self.person.name}"


class ExamResult(models.Model):
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
