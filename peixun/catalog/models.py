from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.base import BaseModel
from peixun.core.models import Area
from peixun.core.scoping import ScopePaths


class Level(models.TextChoices):
    """培训等级 (contract.md): numeric levels are ordered, 1 is highest."""

    L5 = "5", _("五级/初级工")
    L4 = "4", _("四级/中级工")
    L3 = "3", _("三级/高级工")
    L2 = "2", _("二级/技师")
    L1 = "1", _("一级/高级技师")
    SPECIAL = "SPECIAL", _("专项职业能力")
    STARTUP = "STARTUP", _("创业培训")
    BASIC = "BASIC", _("培训合格")


class TrainingType(models.TextChoices):
    EMPLOYMENT = "EMPLOYMENT", _("就业技能培训")
    UPGRADE = "UPGRADE", _("岗位技能提升培训")
    STARTUP = "STARTUP", _("创业培训")
    SPECIAL = "SPECIAL", _("专项能力培训")


class Occupation(BaseModel):
    """职业（工种）: 国家职业分类大典 (2022) codes, and region codes for 专项职业能力 projects."""

    class Source(models.TextChoices):
        NATIONAL = "NATIONAL", _("国家职业分类大典")
        REGION_SPECIAL = "REGION_SPECIAL", _("自治区专项职业能力")

    code = models.CharField(_("职业编码"), max_length=20, unique=True)
    name = models.CharField(_("职业名称"), max_length=100)
    major_group = models.CharField(_("大类"), max_length=2, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.NATIONAL)
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("职业（工种）")
        verbose_name_plural = _("职业（工种）")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SubsidyCatalog(BaseModel):
    """A version of the region's 职业技能培训补贴目录 (培训需求指导目录) or of one city's (第七条).

    A new version is a new row; the previous one ends the day before. A class is judged against
    the versions in force on its start date.
    """

    area = models.ForeignKey(
        Area,
        verbose_name=_("发布地区"),
        on_delete=models.PROTECT,
        help_text=_("自治区或盟市"),
        related_name="+",
    )
    title = models.CharField(_("目录名称"), max_length=200)
    document_no = models.CharField(_("文号"), max_length=100, blank=True)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("失效日期"), null=True, blank=True, help_text=_("为空表示长期有效"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    # Catalogs are public documents: every official may read every catalog.
    scope_paths = ScopePaths(area="area")

    class Meta:
        ordering = ["area__code", "-valid_from"]
        verbose_name = _("补贴目录")
        verbose_name_plural = _("补贴目录")

    def __str__(self) -> str:
        return self.title

    def in_force_on(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class CatalogEntry(BaseModel):
    catalog = models.ForeignKey(SubsidyCatalog, on_delete=models.CASCADE, related_name="entries")
    occupation = models.ForeignKey(Occupation, verbose_name=_("职业（工种）"), on_delete=models.PROTECT)
    level = models.CharField(_("等级"), max_length=8, choices=Level.choices)
    training_type = models.CharField(_("培训类型"), max_length=16, choices=TrainingType.choices)
    subsidy_amount = models.DecimalField(_("补贴标准（元/人）"), max_digits=8, decimal_places=2)
    min_hours = models.PositiveSmallIntegerField(_("最低课时"))

    class Meta:
        ordering = ["occupation__code", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["catalog", "occupation", "level", "training_type"], name="uniq_catalog_entry"
            )
        ]
        verbose_name = _("目录条目")
        verbose_name_plural = _("目录条目")

    def __str__(self) -> str:
        return f"{self.occupation} {self.get_level_display()}"
