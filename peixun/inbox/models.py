from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.base import BaseModel


class Notification(BaseModel):
    """站内消息: what arrived for the user or is due (第九、十一、十四条 deadlines, returns, decisions)."""

    class Level(models.TextChoices):
        INFO = "info", _("通知")
        WARNING = "warning", _("提醒")
        DANGER = "danger", _("逾期")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    level = models.CharField(_("级别"), max_length=8, choices=Level.choices, default=Level.INFO)
    # Reminders of one deadline are sent once: the key names the deadline (e.g. "overdue:review:12").
    dedupe_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="uniq_notification_key",
            )
        ]
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")

    def __str__(self) -> str:
        return self.title
