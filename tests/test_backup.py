"""`peixun backup` / `peixun restore` on the database in use (SQLite or PostgreSQL): the archive,
the restore of an earlier state with row counts and hash chains verified, and the refusals."""

import hashlib
import io
import json
import re
import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from peixun.attendance.models import AttendanceRecord
from peixun.attendance.services import verify_attendance
from peixun.core import backup
from peixun.core.audit import audit_record, verify_chain
from peixun.core.models import AuditChainHead, AuditEntry
from peixun.training.models import Lesson
from tests.test_attendance_chain import ClassSetup

pytestmark = pytest.mark.django_db(transaction=True)  # a dump sees committed data only

MEDIA = {
    "photos/li_ming.jpg": b"\xff\xd8\xff\xe0 not really a jpeg " * 50,
    "documents/培训计划.pdf": b"%PDF-1.7 plan",
}


def media_state(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    for name, data in MEDIA.items():
        path = settings.MEDIA_ROOT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return settings.MEDIA_ROOT


@pytest.fixture
def backed_up(world, media, tmp_path):
    """A class with two attendance records, uploaded files, and a backup of it all."""
    setup = ClassSetup(world)
    result = setup.append([setup.item(), setup.item(setup.chen_jing, photo_sha256="b" * 64)])
    assert result.created == 2
    out = StringIO()
    call_command("backup", "--out", str(tmp_path / "backups"), stdout=out)
    path = Path(out.getvalue().splitlines()[0])
    return path, out.getvalue()


def read_manifest(path: Path) -> dict:
    with tarfile.open(path) as tar:
        return json.load(tar.extractfile("manifest.json"))


def rewrite(src: Path, dst: Path, change=None, extra: dict[str, bytes] | None = None) -> Path:
    """A copy of the archive with some members' bytes changed (the manifest kept as it was)."""
    with tarfile.open(src) as old, tarfile.open(dst, "w:gz") as new:
        for member in old.getmembers():
            data = old.extractfile(member).read()
            data = change(member.name, data) if change else data
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))
    return dst


def change_after_backup(media: Path) -> None:
    """Rows deleted and added, an attendance record removed behind the chain's back, files changed."""
    Lesson.objects.filter(date__day=3).delete()
    AttendanceRecord.objects.filter(seq=2).delete()  # queryset delete: as if done in the database
    with transaction.atomic():
        audit_record(actor=None, action="test.after_backup", object_repr="备份之后")
    (media / "photos/li_ming.jpg").unlink()
    (media / "documents/培训计划.pdf").write_bytes(b"%PDF-1.7 changed")
    (media / "new.txt").write_text("备份之后上传")


def test_backup_writes_one_archive_with_dump_media_and_manifest(backed_up, media):
    path, output = backed_up
    assert re.fullmatch(r"peixun-backup-\d{8}-\d{6}\.tar\.gz", path.name)
    assert path.parent.name == "backups"
    assert "备份完成" in output and "上传文件：2个" in output
    manifest = read_manifest(path)
    dump = backup.DUMP_NAMES[connection.vendor]
    assert manifest["database"] == {
        "vendor": connection.vendor,
        "name": str(connection.settings_dict["NAME"]),
        "dump": dump,
    }
    assert manifest["peixun_version"] == backup.peixun_version()
    assert manifest["created_at"]
    assert manifest["migrations"]["core"].startswith("0")
    assert manifest["row_counts"] == backup.live_snapshot().row_counts
    assert manifest["row_counts"]["attendance_attendancerecord"] == 2
    head = AuditChainHead.objects.get()
    assert head.entry_count > 0
    assert manifest["audit_chain_head"]["last_hash"] == head.last_hash
    assert manifest["audit_chain_head"]["entry_count"] == head.entry_count
    with tarfile.open(path) as tar:
        assert set(tar.getnames()) == {"manifest.json", *manifest["files"]}
        assert set(manifest["files"]) == {dump, *(f"media/{name}" for name in MEDIA)}
        for name, meta in manifest["files"].items():
            assert hashlib.sha256(tar.extractfile(name).read()).hexdigest() == meta["sha256"]


def test_restore_brings_back_the_backed_up_rows_files_and_chains(backed_up, media):
    path, _output = backed_up
    manifest = read_manifest(path)
    change_after_backup(media)
    assert backup.live_snapshot().row_counts != manifest["row_counts"]
    assert verify_attendance()  # the deleted record breaks the chain

    out = StringIO()
    call_command("restore", str(path), "--yes", stdout=out)

    assert backup.live_snapshot().row_counts == manifest["row_counts"]
    assert verify_chain() is None
    assert verify_attendance() == []
    head = AuditChainHead.objects.get()
    assert (head.last_hash, head.entry_count) == (
        manifest["audit_chain_head"]["last_hash"],
        manifest["audit_chain_head"]["entry_count"],
    )
    assert not AuditEntry.objects.filter(action="test.after_backup").exists()
    assert AttendanceRecord.objects.filter(seq=2).exists()
    assert media_state(media) == MEDIA
    kept = list(media.parent.glob("media.before-restore-*"))
    assert len(kept) == 1 and (kept[0] / "new.txt").exists()
    report = out.getvalue()
    assert "[通过] 行数一致" in report and "[通过] 审计链完整" in report
    assert "未通过" not in report and "恢复完成" in report


def test_restore_without_yes_refuses_and_changes_nothing(backed_up, media):
    path, _output = backed_up
    change_after_backup(media)
    before, files = backup.live_snapshot(), media_state(media)
    with pytest.raises(CommandError, match=r"替换当前数据库.*--yes"):
        call_command("restore", str(path))
    assert backup.live_snapshot() == before
    assert media_state(media) == files


@pytest.mark.parametrize("target", ["dump", "media", "extra"])
def test_a_tampered_archive_is_refused_and_nothing_changes(backed_up, media, tmp_path, target):
    path, _output = backed_up
    dump = backup.DUMP_NAMES[connection.vendor]

    def flip(name, data):
        wanted = dump if target == "dump" else "media/photos/li_ming.jpg"
        if name != wanted:
            return data
        return data[:-10] + bytes([data[-10] ^ 1]) + data[-9:]

    extra = {"media/planted.txt": b"x"} if target == "extra" else None
    tampered = rewrite(path, tmp_path / "tampered.tar.gz", None if extra else flip, extra)
    change_after_backup(media)
    before, files = backup.live_snapshot(), media_state(media)
    with pytest.raises(CommandError, match="篡改或损坏，未做任何改动"):
        call_command("restore", str(tampered), "--yes")
    assert backup.live_snapshot() == before
    assert media_state(media) == files
    assert not list(media.parent.glob("media.before-restore-*"))


def test_an_archive_of_the_other_database_vendor_is_refused(backed_up, media, tmp_path):
    path, _output = backed_up
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"

    def relabel(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["database"]["vendor"] = other
        return json.dumps(manifest).encode()

    foreign = rewrite(path, tmp_path / "foreign.tar.gz", relabel)
    before = backup.live_snapshot()
    with pytest.raises(CommandError, match="不能跨数据库类型恢复"):
        call_command("restore", str(foreign), "--yes")
    assert backup.live_snapshot() == before


def test_an_archive_from_a_newer_version_is_refused(backed_up, media, tmp_path):
    path, _output = backed_up

    def future(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["migrations"]["core"] = "9999_from_the_future"
        return json.dumps(manifest).encode()

    with pytest.raises(CommandError, match="请先升级 peixun"):
        call_command("restore", str(rewrite(path, tmp_path / "future.tar.gz", future)), "--yes")


def test_a_disagreement_after_restoring_exits_non_zero(backed_up, media, tmp_path):
    """The manifest says one row more than the dump holds: the restore runs, the check fails."""
    path, _output = backed_up

    def miscount(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["row_counts"]["training_lesson"] += 1
        return json.dumps(manifest).encode()

    out = StringIO()
    with pytest.raises(CommandError, match="核验未通过"):
        call_command(
            "restore", str(rewrite(path, tmp_path / "miscount.tar.gz", miscount)), "--yes", stdout=out
        )
    assert "[未通过] 行数不符：1张表（training_lesson 备份3行、现在2行）" in out.getvalue()
    assert verify_chain() is None and verify_attendance() == []
