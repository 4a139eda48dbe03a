from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import Level, Occupation
from peixun.core.base import BaseModel
from peixun.core.models import Area
from peixun.core.scoping import ScopePaths
from peixun.institutions.models import Institution


class DemandReport(BaseModel):
    """One answer to a demand survey (第五条): an enterprise's labour need or a worker's training wish.

    Both feed the 培训需求资源库, aggregated by area × occupation × level.
    """

    class Kind(models.TextChoices):
        ENTERPRISE = "ENTERPRISE", _("企业用工需求")
        WORKER = "WORKER", _("劳动者培训需求")

    class Channel(models.TextChoices):
        PUBLIC_FORM = "PUBLIC_FORM", _("网上填报")
        BUREAU = "BUREAU", _("人社部门录入")

    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices)
    channel = models.CharField(_("来源"), max_length=12, choices=Channel.choices)
    area = models.ForeignKey(Area, verbose_name=_("地区"), on_delete=models.PROTECT, related_name="+")
    occupation = models.ForeignKey(Occupation, verbose_name=_("职业（工种）"), on_delete=models.PROTECT)
    level = models.CharField(_("等级"), max_length=8, choices=Level.choices, blank=True)
    headcount = models.PositiveIntegerField(_("人数"), default=1)
    # enterprise reports
    enterprise_name = models.CharField(_("企业名称"), max_length=128, blank=True)
    enterprise_uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    # contact (personal data: visible to officials of the area only, never on public pages)
    contact_name = models.CharField(_("联系人"), max_length=64)
    contact_phone = models.CharField(_("联系电话"), max_length=32)
    preferred_period = models.CharField(_("期望培训时间"), max_length=64, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    survey_year = models.PositiveSmallIntegerField(_("调查年度"))
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    scope_paths = ScopePaths(area="area")

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("培训需求")
        verbose_name_plural = _("培训需求")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occupation} ×{self.headcount}"


class ClassAnnouncement(BaseModel):
    """开班公告 (第五条): an institution tells the public of an upcoming class."""

    class Status(models.TextChoices):
        DRAFT = "DRAFT", _("草稿")
        PUBLISHED = "PUBLISHED", _("已发布")
        WITHDRAWN = "WITHDRAWN", _("已撤回")

    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.PROTECT, related_name="announcements"
    )
    title = models.CharField(_("标题"), max_length=200)
    occupation = models.ForeignKey(Occupation, verbose_name=_("职业（工种）"), on_delete=models.PROTECT)
    level = models.CharField(_("等级"), max_length=8, choices=Level.choices)
    start_date = models.DateField(_("开班日期"))
    end_date = models.DateField(_("结业日期"))
    place = models.CharField(_("培训地点"), max_length=200)
    area = models.ForeignKey(Area, verbose_name=_("地区"), on_delete=models.PROTECT, related_name="+")
    capacity = models.PositiveSmallIntegerField(_("招生人数"))
    employment_destination = models.CharField(_("就业去向"), max_length=200, blank=True)
    contact_phone = models.CharField(_("报名电话"), max_length=32)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    scope_paths = ScopePaths(area="area", organisation="institution__organisation")

    class Meta:
        ordering = ["start_date", "id"]
        verbose_name = _("开班公告")
        verbose_name_plural = _("开班公告")

    def __str__(self) -> str:
        return self.title
