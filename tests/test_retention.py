"""Personal data is kept no longer than needed (个人信息保护法 第十九条): `peixun purge`."""

import datetime as dt
import os
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from peixun.checks.models import RegistryRow, RegistrySnapshot
from peixun.core.models import AuditEntry
from peixun.web.retention import retention_purge
from tests.test_faces import Setup, astronaut_png

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PEIXUN_RETAIN_CHECKIN_PHOTO_DAYS = 30
    settings.PEIXUN_RETAIN_UPLOAD_DAYS = 7
    settings.PEIXUN_RETAIN_REGISTRY_DAYS = 365


def snapshot(kind, days_ago, rows=2):
    snap = RegistrySnapshot.objects.create(
        kind=kind, file_name=f"{kind}.csv", sha256="0" * 64, row_count=rows
    )
    RegistrySnapshot.objects.filter(pk=snap.pk).update(
        imported_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    for line in range(rows):
        RegistryRow.objects.create(
            snapshot=snap,
            kind=kind,
            line=line + 2,
            id_hmac=f"h{kind}{line}",
            id_masked="150102********1234",
            name="某",
        )
    return snap


def test_expired_photos_uploads_and_registry_rows_go_and_the_records_of_them_stay(world, settings):
    s = Setup(world)  # its classes ended on 2026-03-20
    photo = s.checkin(s.li_ming, s.class_a, astronaut_png())
    enrolment = s.enrolment_photo(s.li_ming, astronaut_png())
    image_path = Path(photo.image.path)
    assert image_path.exists()
    old_upload = Path(settings.MEDIA_ROOT) / "uploads" / "old"
    new_upload = Path(settings.MEDIA_ROOT) / "uploads" / "new"
    for folder in (old_upload, new_upload):
        folder.mkdir(parents=True)
        (folder / "enrollments.csv").write_text("class_code,id_number\n")
    stale = time.time() - 8 * 86400
    os.utime(old_upload, (stale, stale))
    old = snapshot("hospitalization", 400)
    fresh = snapshot("death", 10)

    planned = retention_purge(dry_run=True)
    assert (planned.checkin_photos, planned.upload_dirs, planned.registry_rows) == (1, 1, 2)
    assert image_path.exists() and RegistryRow.objects.count() == 4  # a dry run changes nothing

    out = StringIO()
    call_command("purge", stdout=out)
    assert "签到照片文件及人脸特征：已删除1张" in out.getvalue()
    photo.refresh_from_db()
    assert not photo.image and photo.embedding is None and photo.sha256  # the evidence of the photo stays
    assert not image_path.exists()
    enrolment.refresh_from_db()
    assert enrolment.image and enrolment.embedding is not None  # the reference photo is not a check-in
    assert not old_upload.exists() and new_upload.exists()
    assert not RegistryRow.objects.filter(snapshot=old).exists()
    assert RegistryRow.objects.filter(snapshot=fresh).count() == 2
    assert RegistrySnapshot.objects.filter(pk=old.pk).exists()  # who imported which file stays
    assert AuditEntry.objects.filter(action="retention.purged").count() == 1
    again = retention_purge()
    assert (again.checkin_photos, again.upload_dirs, again.registry_rows) == (0, 0, 0)
