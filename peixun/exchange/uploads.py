"""Saving uploaded files for a background job, with the limits hostile input needs: known names
only, size limits, and ZIP archives whose entries cannot escape their folder (no `..`, no absolute
paths, no links). Everything lands flat in one folder, so two files that would land on the same
name (a/classes.csv and b/classes.csv, or classes.csv and classes.xlsx of one data package) are
refused instead of one silently replacing the other."""

import shutil
import uuid
import zipfile
from pathlib import Path, PurePosixPath

from django.conf import settings

from peixun.core.errors import PeixunError

MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024  # a province's attendance file is large
MAX_ZIP_MEMBERS = 50


def upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "uploads" / uuid.uuid4().hex
    path.mkdir(parents=True)
    return path


def _safe_name(name: str, allowed: set[str] | None) -> str:
    base = Path(name).name
    if not base or base.startswith(".") or not base.lower().endswith((".csv", ".xlsx", ".zip")):
        raise PeixunError(f"不接受的文件：{name}（只接受 .csv、.xlsx 或 .zip）")
    if allowed is not None and base.rsplit(".", 1)[0] + ".csv" not in allowed:
        raise PeixunError(f"文件名“{base}”不是数据包文件，应为：{'、'.join(sorted(allowed))}")
    return base


def _claim(name: str, source: str, allowed: set[str] | None, seen: dict[str, str]) -> None:
    """Refuse a second file landing on a name already taken (case-insensitively; in a data package
    the .csv and the .xlsx of one contract file count as the same file)."""
    stem = name.rsplit(".", 1)[0]
    key = (stem if allowed is not None else name).lower()
    if key in seen:
        if allowed is not None:
            raise PeixunError(
                f"数据包文件重复：“{seen[key]}”与“{source}”都是{stem}.csv（.csv或.xlsx只能上传一份），"
                "请删去其中一个"
            )
        raise PeixunError(f"文件重名：“{seen[key]}”与“{source}”，同名文件只能上传一份，请删去其中一个")
    seen[key] = source


def save_uploads(files, *, allowed: set[str] | None = None) -> Path:
    target = upload_dir()
    seen: dict[str, str] = {}
    try:
        for upload in files:
            if upload.size > MAX_FILE_BYTES:
                raise PeixunError(f"文件“{upload.name}”超过大小上限")
            if upload.name.lower().endswith(".zip"):
                _extract_zip(upload, target, allowed, seen)
                continue
            name = _safe_name(upload.name, allowed)
            _claim(name, upload.name, allowed, seen)
            with open(target / name, "wb") as fh:
                for chunk in upload.chunks():
                    fh.write(chunk)
    except PeixunError:
        shutil.rmtree(target, ignore_errors=True)  # a refused upload leaves nothing behind
        raise
    return target


def _extract_zip(upload, target: Path, allowed: set[str] | None, seen: dict[str, str]) -> None:
    try:
        archive = zipfile.ZipFile(upload)
    except zipfile.BadZipFile as exc:
        raise PeixunError("压缩包已损坏或不是ZIP格式") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            raise PeixunError("压缩包内文件过多")
        for member in members:
            path = PurePosixPath(member.filename)
            if path.is_absolute() or ".." in path.parts or "\\" in member.filename:
                raise PeixunError(f"压缩包内的路径不安全：{member.filename}")
            if (member.external_attr >> 16) & 0o170000 == 0o120000:
                raise PeixunError(f"压缩包内含链接文件：{member.filename}")
            if member.file_size > MAX_FILE_BYTES:
                raise PeixunError(f"压缩包内文件“{member.filename}”超过大小上限")
            name = _safe_name(path.name, allowed)
            _claim(name, member.filename, allowed, seen)
            with archive.open(member) as source, open(target / name, "wb") as dest:
                shutil.copyfileobj(source, dest, length=1 << 20)
