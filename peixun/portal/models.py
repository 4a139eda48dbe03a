from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.base import BaseModel
from peixun.core.models import Area
from peixun.core.scoping import ScopePaths


class Notice(BaseModel):
    """政策与通知 (第五条): published by the region or a city for the public."""

    class Category(models.TextChoices):
        POLICY = "POLICY", _("培训政策")
        NOTICE = "NOTICE", _("通知公告")

    category = models.CharField(_("栏目"), max_length=8, choices=Category.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    document_no = models.CharField(_("文号"), max_length=100, blank=True)
    area = models.ForeignKey(
        Area, verbose_name=_("发布单位所在地区"), on_delete=models.PROTECT, related_name="+"
    )
    published_on = models.DateField(_("发布日期"))
    published = models.BooleanField(_("已发布"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    scope_paths = ScopePaths(area="area")

    class Meta:
        ordering = ["-published_on", "-id"]
        verbose_name = _("政策通知")
        verbose_name_plural = _("政策通知")

    def __str__(self) -> str:
        return self.title
