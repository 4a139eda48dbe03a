import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import BaseModel
from .identity import decrypt_id_number
from .scoping import ScopePaths


class Area(BaseModel):
    """行政区划 (GB/T 2260): the region, 盟市, 旗县市区 and development zones."""

    class Kind(models.TextChoices):
        REGION = "REGION", _("自治区")
        CITY = "CITY", _("盟市")
        COUNTY = "COUNTY", _("旗县市区")
        # 满洲里市 and 二连浩特市 report directly to the region in HR matters.
        COUNTY_DIRECT = "COUNTY_DIRECT", _("计划单列市")
        ZONE = "ZONE", _("开发区")

    code = models.CharField(_("区划代码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    # An official sees the areas of their scope (the area filter of the people list).
    scope_paths = ScopePaths(area="pk")

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name as lists show it: a county or zone after its 盟市 (呼和浩特市 新城区)."""
        if self.parent_id and self.kind not in (self.Kind.CITY, self.Kind.COUNTY_DIRECT):
            return f"{self.parent.name} {self.name}"
        return self.name

    @property
    def is_city_level(self) -> bool:
        return self.kind in (self.Kind.CITY, self.Kind.COUNTY_DIRECT)

    def city_level(self) -> "Area":
        """The 盟市 over a county or zone; a city-level area (or the region) is its own."""
        if self.kind in (self.Kind.COUNTY, self.Kind.ZONE) and self.parent_id:
            return self.parent
        return self


class AuditChainHead(BaseModel):
    """The single row that serialises appends to the audit chain and remembers its end.

    Locking it orders concurrent writers; keeping the last hash and count here lets verify_audit
    notice a deleted tail entry, which no remaining entry could reveal.
    """

    singleton = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_entry_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    entry_count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"audit head #{self.last_entry_id}"


class AuditEntry(BaseModel):
    """审计日志: one state change or change of personal data. Append-only, hash-chained (第二十条)."""

    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("操作人姓名"), max_length=64, blank=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象标识"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    area = models.ForeignKey(Area, verbose_name=_("地区"), null=True, blank=True, on_delete=models.PROTECT)
    organisation = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("单位"), null=True, blank=True, on_delete=models.PROTECT
    )
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    scope_paths = ScopePaths(area="area", organisation="organisation")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr}"


class CalendarYear(BaseModel):
    """A year whose official holiday arrangement (放假、调休) has been entered."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=200)
    loaded_at = models.DateTimeField(_("录入时间"), auto_now=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("节假日年度")
        verbose_name_plural = _("节假日年度")

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(BaseModel):
    """A day that differs from the Monday-to-Friday rule: an official holiday or a 调休 working day."""

    class Kind(models.TextChoices):
        HOLIDAY = "HOLIDAY", _("放假")
        WORKDAY = "WORKDAY", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类别"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("节日"), max_length=32, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class RuleSettings(BaseModel):
    """The numbers of rules.md. Never edited in place: each change is a new version (findings name it)."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    created_at = models.DateTimeField(_("生效时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("修改原因"), max_length=200, blank=True)

    exam_min_attendance_share = models.DecimalField(
        _("参加结业考试的最低学时比例"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.95"),
        help_text=_("第十条：不低于总课时的95%"),
    )
    online_max_share = models.DecimalField(
        _("线上学时占总课时的最高比例"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.40"),
        help_text=_("第十九条"),
    )
    online_max_hours_per_day = models.DecimalField(
        _("每人每天线上学时上限（课时）"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("8"),
        help_text=_("第十九条"),
    )
    minutes_per_class_hour = models.PositiveSmallIntegerField(_("每课时分钟数"), default=45)
    opening_review_workdays = models.PositiveSmallIntegerField(
        _("开班审核时限（工作日）"), default=5, help_text=_("第九条")
    )
    completion_review_workdays = models.PositiveSmallIntegerField(
        _("结业审核时限（工作日）"), default=3, help_text=_("第十一条")
    )
    subsidy_review_workdays = models.PositiveSmallIntegerField(
        _("补贴审核时限（工作日）"), default=8, help_text=_("第十四条")
    )
    public_notice_workdays = models.PositiveSmallIntegerField(_("公示期（工作日）"), default=5)
    subsidy_application_months = models.PositiveSmallIntegerField(_("取证后申请补贴期限（月）"), default=12)
    lifetime_subsidy_cap = models.PositiveSmallIntegerField(
        _("每人终身职业培训补贴次数上限"), default=3, help_text=_("财社〔2023〕181号 第五条")
    )
    yearly_subsidy_cap = models.PositiveSmallIntegerField(
        _("每人每年职业培训补贴次数上限"), null=True, blank=True, help_text=_("为空表示不限")
    )
    checkin_distance_m = models.PositiveIntegerField(_("签到位置与培训地点的最大距离（米）"), default=1000)
    batch_checkin_count = models.PositiveSmallIntegerField(_("同一秒签到视为批量代签的记录数"), default=10)
    ip_farm_persons = models.PositiveSmallIntegerField(_("同一IP同时在线学员数（刷课）"), default=5)
    lesson_min_coverage = models.DecimalField(
        _("考勤记录覆盖课程时长的最低比例"), max_digits=4, decimal_places=2, default=Decimal("0.90")
    )

    # The fields a region admin edits; everything else is bookkeeping.
    RULE_FIELDS = (
        "exam_min_attendance_share",
        "online_max_share",
        "online_max_hours_per_day",
        "minutes_per_class_hour",
        "opening_review_workdays",
        "completion_review_workdays",
        "subsidy_review_workdays",
        "public_notice_workdays",
        "subsidy_application_months",
        "lifetime_subsidy_cap",
        "yearly_subsidy_cap",
        "checkin_distance_m",
        "batch_checkin_count",
        "ip_farm_persons",
        "lesson_min_coverage",
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = _("规则参数")
        verbose_name_plural = _("规则参数")

    def __str__(self) -> str:
        return f"v{self.version}"

    def as_dict(self) -> dict:
        return {f: (str(v) if isinstance(v := getattr(self, f), Decimal) else v) for f in self.RULE_FIELDS}


class Person(BaseModel):
    """自然人: one row per real person, whoever enters them (trainee, teacher, staff).

    The ID number is kept encrypted (id_cipher) and found through id_hmac; see core.identity.
    """

    class Sex(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    id_hmac = models.CharField(max_length=64, unique=True, editable=False)
    id_cipher = models.TextField(editable=False)
    id_masked = models.CharField(_("身份证号"), max_length=18, editable=False)
    name = models.CharField(_("姓名"), max_length=64)
    birth_date = models.DateField(_("出生日期"), editable=False)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, editable=False)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    area = models.ForeignKey(
        Area,
        verbose_name=_("所属地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("常住地或户籍地，决定哪一级人社部门可见"),
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    scope_paths = ScopePaths(area="area", organisation="affiliations__organisation", person="pk")

    class Meta:
        ordering = ["id"]
        verbose_name = _("人员")
        verbose_name_plural = _("人员")

    def __str__(self) -> str:
        return f"{self.name}（{self.id_masked}）"

    def reveal_id_number(self) -> str:
        """The full number. Call only through core.services.person_reveal_id, which logs the view."""
        return decrypt_id_number(self.id_cipher)


class PersonAccessLog(BaseModel):
    """个人信息访问记录: every view of a person's file and every display of a full ID number."""

    class Kind(models.TextChoices):
        VIEW_FILE = "VIEW_FILE", _("查看人员档案")
        REVEAL_ID = "REVEAL_ID", _("查看完整身份证号")
        EXPORT = "EXPORT", _("导出个人信息")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("查看人"), on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("人员"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    detail = models.CharField(_("说明"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("个人信息访问记录")
        verbose_name_plural = _("个人信息访问记录")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class Job(BaseModel):
    """A long job (import, cross-check, report) run in the background, with its progress and result.

    Live progress goes through the cache (core.jobs) because the job's own work runs inside one
    transaction that other connections cannot see until it commits.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", _("排队中")
        RUNNING = "RUNNING", _("进行中")
        SUCCEEDED = "SUCCEEDED", _("已完成")
        FAILED = "FAILED", _("失败")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("任务类型"), max_length=40)
    title = models.CharField(_("任务"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    params = models.JSONField(_("参数"), default=dict)
    result = models.JSONField(_("结果"), null=True, blank=True)
    errors = models.JSONField(_("错误"), default=list)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(_("执行次数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")

    def __str__(self) -> str:
        return self.title

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
