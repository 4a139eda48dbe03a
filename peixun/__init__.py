"""peixun — 内蒙古自治区职业技能培训管理系统."""

from .celery import app as celery_app

__all__ = ["celery_app"]
