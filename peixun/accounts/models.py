from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.base import BaseModel
from peixun.core.models import Area, Person
from peixun.core.scoping import ScopePaths

from .roles import Role


class Organisation(BaseModel):
    """单位: a bureau at some level, a training institution, an evaluation body or an online platform."""

    class Kind(models.TextChoices):
        REGION_DEPT = "REGION_DEPT", _("自治区人社厅")
        CITY_BUREAU = "CITY_BUREAU", _("盟市人社局")
        COUNTY_BUREAU = "COUNTY_BUREAU", _("旗县区人社局/就业服务机构")
        INSTITUTION = "INSTITUTION", _("职业培训机构")
        EVALUATION_BODY = "EVALUATION_BODY", _("职业技能评价机构")
        ONLINE_PLATFORM = "ONLINE_PLATFORM", _("线上培训平台")

    GOVERNMENT_KINDS = (Kind.REGION_DEPT, Kind.CITY_BUREAU, Kind.COUNTY_BUREAU)

    name = models.CharField(_("单位名称"), max_length=128)
    kind = models.CharField(_("单位类别"), max_length=16, choices=Kind.choices)
    area = models.ForeignKey(Area, verbose_name=_("所在地区"), on_delete=models.PROTECT, related_name="+")
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    scope_paths = ScopePaths(area="area", organisation="pk")

    class Meta:
        ordering = ["area__code", "kind", "name"]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")

    def __str__(self) -> str:
        return self.name

    @property
    def is_government(self) -> bool:
        return self.kind in self.GOVERNMENT_KINDS


class User(AbstractUser):
    """A login. Each user belongs to one organisation (a trainee to none) and has one role."""

    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    role = models.CharField(_("角色"), max_length=24, choices=Role.choices)
    person = models.OneToOneField(
        Person, verbose_name=_("本人"), null=True, blank=True, on_delete=models.PROTECT, related_name="user"
    )
    failed_logins = models.PositiveSmallIntegerField(_("连续登录失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)

    objects = UserManager()

    scope_paths = ScopePaths(area="organisation__area", organisation="organisation", person="person")

    class Meta:
        ordering = ["username"]
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def get_full_name(self) -> str:
        return self.display_name or self.username

    def __str__(self) -> str:
        return self.get_full_name()


class PersonAffiliation(BaseModel):
    """A person registered by an organisation (an institution's 学员库 or 教师, an agency's client).

    Institutions see the people they registered and no others.
    """

    class Kind(models.TextChoices):
        TRAINEE = "TRAINEE", _("学员")
        TEACHER = "TEACHER", _("教师")
        STAFF = "STAFF", _("工作人员")

    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="affiliations"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="affiliations"
    )
    kind = models.CharField(_("关系"), max_length=16, choices=Kind.choices)
    since = models.DateField(_("起始日期"), auto_now_add=True)

    scope_paths = ScopePaths(area="person__area", organisation="organisation", person="person")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "organisation", "kind"], name="uniq_person_affiliation")
        ]
        verbose_name = _("人员所属关系")
        verbose_name_plural = _("人员所属关系")

    def __str__(self) -> str:
        return f"{self.person} @ {self.organisation}"
