"""Retention of personal data (个人信息保护法 第十九条: kept no longer than needed).

What goes, and when (settings in `peixun/settings.py`, documented in docs/configuration.md):
- check-in photo files and their face features, a set time after the class ended — the row stays
  (when, which class, the photo's hash) so the archive still proves a photo was taken;
- files uploaded for import jobs, once the job is over (the data is in the database; the files hold
  full ID numbers in clear);
- the rows of a registry snapshot older than its retention (the snapshot's record — who imported
  which file — stays; the checks then need a fresh import).
This module sits at the top layer because it reaches into faces, exchange and checks alike.
"""

import datetime as dt
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from peixun.checks.models import RegistryRow, RegistrySnapshot
from peixun.core.audit import audit_record
from peixun.faces.models import FacePhoto


@dataclass(frozen=True)
class PurgeReport:
    checkin_photos: int
    upload_dirs: int
    registry_rows: int
    dry_run: bool

    def lines(self) -> list[str]:
        verb = "将删除" if self.dry_run else "已删除"
        return [
            f"签到照片文件及人脸特征：{verb}{self.checkin_photos}张（保留{settings.PEIXUN_RETAIN_CHECKIN_PHOTO_DAYS}天）",
            f"导入任务上传文件：{verb}{self.upload_dirs}批（保留{settings.PEIXUN_RETAIN_UPLOAD_DAYS}天）",
            f"外部数据快照明细：{verb}{self.registry_rows}行（保留{settings.PEIXUN_RETAIN_REGISTRY_DAYS}天）",
        ]


def _expired_photos(today: dt.date):
    cutoff = today - dt.timedelta(days=settings.PEIXUN_RETAIN_CHECKIN_PHOTO_DAYS)
    return FacePhoto.objects.filter(kind=FacePhoto.Kind.CHECKIN, training_class__end_date__lt=cutoff).exclude(
        image=""
    )


def _expired_upload_dirs(now: float) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "uploads"
    if not root.is_dir():
        return []
    cutoff = now - settings.PEIXUN_RETAIN_UPLOAD_DAYS * 86400
    return [p for p in root.iterdir() if p.is_dir() and p.stat().st_mtime < cutoff]


def _expired_snapshots(now: dt.datetime):
    cutoff = now - dt.timedelta(days=settings.PEIXUN_RETAIN_REGISTRY_DAYS)
    return RegistrySnapshot.objects.filter(imported_at__lt=cutoff)


def retention_purge(*, dry_run: bool = False, actor=None) -> PurgeReport:
    now = timezone.now()
    today = timezone.localdate(now)
    photos = _expired_photos(today)
    uploads = _expired_upload_dirs(time.time())
    snapshots = _expired_snapshots(now)
    rows = RegistryRow.objects.filter(snapshot__in=snapshots)
    report = PurgeReport(
        checkin_photos=photos.count(), upload_dirs=len(uploads), registry_rows=rows.count(), dry_run=dry_run
    )
    if dry_run:
        return report
    files = []
    with transaction.atomic():
        for photo in photos.only("pk", "image"):
            files.append(photo.image.name)
        photos.update(image="", embedding=None)
        rows.delete()
        audit_record(
            actor=actor,
            action="retention.purged",
            object_type="retention",
            object_id=today.isoformat(),
            object_repr="个人信息保存期限到期清理",
            after={
                "checkin_photos": report.checkin_photos,
                "upload_dirs": report.upload_dirs,
                "registry_rows": report.registry_rows,
            },
        )
    # Files go only after the database no longer points at them.
    storage = FacePhoto._meta.get_field("image").storage
    for name in files:
        if name:
            storage.delete(name)
    for path in uploads:
        shutil.rmtree(path, ignore_errors=True)
    return report
