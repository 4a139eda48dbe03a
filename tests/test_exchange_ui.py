"""数据交换 pages: uploads become background jobs with progress and row-level errors."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from peixun.core.models import Job
from peixun.training.models import TrainingClass
from tests.test_exchange import package

pytestmark = pytest.mark.django_db


def uploads(directory):
    return [
        SimpleUploadedFile(p.name, p.read_bytes(), content_type="text/csv")
        for p in sorted(directory.iterdir())
    ]


def test_a_package_uploaded_by_the_region_admin_is_imported_as_a_job(
    client, world, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(world.region_admin)
    (tmp_path / "pkg").mkdir()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("exchange:home"),
            {"which": "package", "package-files": uploads(package(tmp_path / "pkg"))},
        )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "exchange:job", args=[job.public_id]
    )
    assert job.status == Job.Status.SUCCEEDED  # no broker: the task ran in-process
    assert TrainingClass.objects.filter(code="C2026001").exists()
    page = client.get(reverse("exchange:job", args=[job.public_id])).content.decode()
    assert "已完成" in page and "classes.csv" in page


def test_a_bad_package_fails_with_its_rows_listed_and_writes_nothing(
    client, world, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "pkg").mkdir()
    package(tmp_path / "pkg")
    text = (tmp_path / "pkg" / "classes.csv").read_text(encoding="utf-8").replace("EMPLOYMENT", "HOBBY")
    (tmp_path / "pkg" / "classes.csv").write_text(text, encoding="utf-8")
    client.force_login(world.region_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("exchange:home"), {"which": "package", "package-files": uploads(tmp_path / "pkg")}
        )
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert any(e.startswith("classes.csv:2: training_type:") for e in job.errors)
    assert not TrainingClass.objects.exists()
    page = client.get(reverse("exchange:job", args=[job.public_id])).content.decode()
    assert "未写入任何数据" in page and "classes.csv:2: training_type" in page


def test_a_zip_with_a_path_escaping_its_folder_is_refused(client, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../etc/classes.csv", "class_code\n")
    client.force_login(world.region_admin)
    response = client.post(
        reverse("exchange:home"),
        {"which": "package", "package-files": [SimpleUploadedFile("pkg.zip", buffer.getvalue())]},
    )
    assert response.status_code == 200
    assert "压缩包内的路径不安全" in response.content.decode()
    assert not Job.objects.exists()
    assert not (tmp_path / "etc").exists()


def test_files_with_other_names_are_refused(client, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(world.region_admin)
    response = client.post(
        reverse("exchange:home"),
        {"which": "package", "package-files": [SimpleUploadedFile("payload.sh", b"rm -rf /")]},
    )
    assert "不接受的文件" in response.content.decode()
    assert not Job.objects.exists()


def test_only_the_region_may_import(client, world):
    for user in (world.hohhot_admin, world.xincheng_reviewer, world.inst_a_operator):
        client.force_login(user)
        assert client.get(reverse("exchange:home")).status_code == 404


def test_another_users_job_is_not_visible(client, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    job = Job.objects.create(kind="import_history", title="x", params={}, created_by=world.hohhot_admin)
    client.force_login(world.region_admin)
    assert client.get(reverse("exchange:job", args=[job.public_id])).status_code == 404
