"""Celery application.

Long jobs (imports, cross-checks, reports) are Celery tasks. Without CELERY_BROKER_URL they run
in-process (eager), so a county trial on one machine needs no Redis.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peixun.settings")

app = Celery("peixun")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
