"""Backup and restore (`peixun backup`, `peixun restore`).

A backup is one `peixun-backup-YYYYmmdd-HHMMSS.tar.gz` holding the database dump, the uploaded files
(MEDIA_ROOT) under `media/`, and `manifest.json` (written last): when and by which version it was
made, the database vendor, the latest applied migration per app, the row count of every table, the
audit chain head, and the SHA-256 of every other member.

The dump and the numbers in the manifest describe the same moment: SQLite is copied with the online
backup API and counted in the copy; PostgreSQL is counted inside a repeatable-read transaction whose
snapshot pg_dump then uses (`--snapshot`). Both are safe while the server runs.

A restore first extracts the archive into a temporary directory and checks every member against the
manifest, the vendor and the migrations: any refusal leaves the database and the files untouched.
It then replaces the database (SQLite: backup API into the live connection; PostgreSQL: pg_restore
in one transaction), swaps the media directory (the old one is kept beside it), and verifies the
row counts, the audit chain head, the audit chain and the attendance chains.
"""

import datetime as dt
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from importlib import metadata
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from .models import AuditChainHead

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media"
DUMP_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
VENDOR_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
PG_ENV_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
}


class BackupError(Exception):
    """A refusal or a failure, worded for the operator; nothing was changed unless it says so."""


@dataclass(frozen=True)
class Snapshot:
    """What the manifest records about the database: counted in the very state that was dumped."""

    row_counts: dict[str, int]
    migrations: dict[str, str]
    audit_head: dict | None


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict
    seconds: float


@dataclass
class RestoreReport:
    manifest: dict
    checks: list[tuple[bool, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(ok for ok, _line in self.checks)


# --- reading the database -----------------------------------------------------------------------


def read_snapshot(cursor, vendor: str) -> Snapshot:
    """Row counts of every table, the latest migration per app and the audit chain head."""
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) != 'sqlite_'"
        )
    else:
        cursor.execute("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()")
    tables = sorted(row[0] for row in cursor.fetchall())
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 - a name from the catalog
        counts[table] = cursor.fetchone()[0]
    migrations = {}
    if "django_migrations" in counts:
        cursor.execute("SELECT app, MAX(name) FROM django_migrations GROUP BY app ORDER BY app")
        migrations = {app: name for app, name in cursor.fetchall()}
    head = None
    head_table = AuditChainHead._meta.db_table
    if head_table in counts:
        cursor.execute(
            f"SELECT last_hash, entry_count, last_entry_id FROM {_quote(head_table)} WHERE singleton = 1"  # noqa: S608
        )
        row = cursor.fetchone()
        if row is not None:
            head = {"last_hash": row[0], "entry_count": int(row[1]), "last_entry_id": int(row[2])}
    return Snapshot(counts, migrations, head)


def live_snapshot() -> Snapshot:
    with connection.cursor() as cursor:
        return read_snapshot(cursor, connection.vendor)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_vendor() -> str:
    if connection.vendor not in DUMP_NAMES:
        raise BackupError(f"不支持的数据库类型：{connection.vendor}（只支持 SQLite 和 PostgreSQL）")
    if connection.in_atomic_block:
        raise BackupError("备份和恢复不能在数据库事务中进行")
    return connection.vendor


# --- PostgreSQL client tools ----------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: from PATH, else the newest Debian install under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found

    def major(path: str) -> float:
        match = re.search(r"/postgresql/([\d.]+)/bin/", path)
        return float(match.group(1)) if match else 0.0

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=major)
    if candidates:
        return candidates[-1]
    raise BackupError(f"找不到 {name}：请安装 PostgreSQL 客户端工具（主版本不低于数据库服务器）")


def pg_env(settings_dict: dict) -> dict[str, str]:
    """The connection settings of Django's DATABASES as libpq environment (the password never
    appears on a command line)."""
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    options = settings_dict.get("OPTIONS") or {}
    for key, var in PG_ENV_OPTIONS.items():
        if options.get(key):
            env[var] = str(options[key])
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tool = Path(args[0]).name
        raise BackupError(f"{tool} 失败（退出码 {done.returncode}）：{done.stderr.strip()[-2000:]}")


# --- backup ---------------------------------------------------------------------------------------


def _dump_sqlite(target: Path) -> Snapshot:
    connection.ensure_connection()
    dest = sqlite3.connect(target)
    try:
        # One step copies every page under a read lock: a consistent copy while others write.
        connection.connection.backup(dest)
        return read_snapshot(dest.cursor(), "sqlite")
    finally:
        dest.close()


def _dump_postgresql(target: Path) -> Snapshot:
    snap = connection.copy()  # its own session: the snapshot transaction must stay open
    try:
        with snap.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot_id = cursor.fetchone()[0]
            state = read_snapshot(cursor, "postgresql")
            _run(
                [
                    pg_tool("pg_dump"),
                    "--format=custom",
                    f"--snapshot={snapshot_id}",
                    f"--file={target}",
                    "--no-password",
                    str(snap.settings_dict["NAME"]),
                ],
                pg_env(snap.settings_dict),
            )
            cursor.execute("COMMIT")
        return state
    finally:
        snap.close()


class _Hashing:
    """A file wrapper that hashes what tarfile reads, so the hash is of the bytes archived."""

    def __init__(self, fileobj):
        self.fileobj = fileobj
        self.sha256 = hashlib.sha256()

    def read(self, size=-1):
        data = self.fileobj.read(size)
        self.sha256.update(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> dict:
    with open(path, "rb") as f:
        info = tar.gettarinfo(arcname=name, fileobj=f)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        hashing = _Hashing(f)
        tar.addfile(info, hashing)
    return {"sha256": hashing.sha256.hexdigest(), "size": info.size}


def media_files(media_root: Path) -> list[Path]:
    """Regular files under MEDIA_ROOT (symbolic links are not followed)."""
    if not media_root.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(media_root):
        dirnames.sort()
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            if path.is_file() and not path.is_symlink():
                found.append(path)
    return found


def _archive_path(out_dir: Path, created: dt.datetime) -> Path:
    stem = f"peixun-backup-{created:%Y%m%d-%H%M%S}"
    path, n = out_dir / f"{stem}.tar.gz", 1
    while path.exists() or path.with_name(path.name + ".part").exists():
        n += 1
        path = out_dir / f"{stem}-{n}.tar.gz"
    return path


def peixun_version() -> str:
    try:
        return metadata.version("peixun")
    except metadata.PackageNotFoundError:
        return "unknown"


def create_backup(out_dir: str | Path | None = None) -> BackupResult:
    """Write one archive of the database and the uploaded files into out_dir (var/backups)."""
    started = time.monotonic()
    vendor = _check_vendor()
    out = Path(out_dir) if out_dir else Path(settings.VAR_DIR) / "backups"
    if not out.exists():
        out.mkdir(parents=True, mode=0o700)  # the archive holds personal data
    created = timezone.localtime()
    path = _archive_path(out, created)
    part = path.with_name(path.name + ".part")
    with tempfile.TemporaryDirectory(dir=out, prefix=".peixun-backup-") as work:
        dump = Path(work) / DUMP_NAMES[vendor]
        state = _dump_sqlite(dump) if vendor == "sqlite" else _dump_postgresql(dump)
        manifest = {
            "format": FORMAT,
            "created_at": created.isoformat(timespec="seconds"),
            "peixun_version": peixun_version(),
            "database": {"vendor": vendor, "name": str(connection.settings_dict["NAME"]), "dump": dump.name},
            "migrations": state.migrations,
            "row_counts": state.row_counts,
            "audit_chain_head": state.audit_head,
            "files": {},
        }
        try:
            with tarfile.open(part, "w:gz", compresslevel=6) as tar:
                manifest["files"][dump.name] = _add_file(tar, dump, dump.name)
                media_root = Path(settings.MEDIA_ROOT)
                for file in media_files(media_root):
                    name = f"{MEDIA}/{file.relative_to(media_root).as_posix()}"
                    manifest["files"][name] = _add_file(tar, file, name)
                data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
                tar.addfile(info, BytesIO(data))
            os.chmod(part, 0o600)
            os.replace(part, path)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    return BackupResult(path, manifest, time.monotonic() - started)


def backup_summary(result: BackupResult) -> list[str]:
    m = result.manifest
    counts = m["row_counts"]
    media = [meta for name, meta in m["files"].items() if name.startswith(f"{MEDIA}/")]
    head = m["audit_chain_head"] or {"entry_count": 0, "last_hash": "0" * 64}
    return [
        f"备份完成：{result.path}",
        f"数据库：{VENDOR_LABELS[m['database']['vendor']]}（{m['database']['name']}），"
        f"{len(counts)}张表共{sum(counts.values())}行，迁移状态记录了{len(m['migrations'])}个应用",
        f"上传文件：{len(media)}个，共{_mb(sum(f['size'] for f in media))}",
        f"审计链：{head['entry_count']}条，末条哈希 {head['last_hash'][:16]}…",
        f"归档大小：{_mb(result.path.stat().st_size)}，用时{result.seconds:.1f}秒",
        "请把备份复制到另一台机器或离线介质保存；PEIXUN_IDENTITY_KEY 不在备份中，须另行保管。",
    ]


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 100 * 1024 else f"{size / 1024:.1f} KB"


# --- restore --------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_archive(archive: str | Path, workdir: Path) -> dict:
    """Extract the archive into workdir and check every member against the manifest; the manifest.
    Refuses (BackupError) an unreadable, incomplete or altered archive."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                parts = Path(member.name).parts
                if not (member.isfile() or member.isdir()) or member.name.startswith("/") or ".." in parts:
                    raise BackupError(f"备份文件含有不允许的成员“{member.name}”，拒绝恢复，未做任何改动")
            tar.extractall(workdir, filter="data")
    except (OSError, EOFError, zlib.error, tarfile.TarError) as exc:
        raise BackupError(f"无法读取备份文件 {archive}（{exc}），未做任何改动") from exc
    try:
        manifest = json.loads((workdir / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
        dump = manifest["database"]["dump"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError("备份文件缺少有效的 manifest.json，不是 peixun 备份，未做任何改动") from exc
    present = {m.name for m in members if m.isfile()} - {MANIFEST}
    missing, extra = sorted(set(files) - present), sorted(present - set(files))
    if missing or extra or dump not in files:
        detail = "；".join(
            part
            for part in (
                f"缺少 {', '.join(missing[:5])}" if missing else "",
                f"清单外多出 {', '.join(extra[:5])}" if extra else "",
                "清单未列出数据库文件" if dump not in files else "",
            )
            if part
        )
        raise BackupError(f"备份文件与其清单不符（{detail}），可能被篡改或损坏，未做任何改动")
    bad = [name for name, meta in sorted(files.items()) if _sha256(workdir / name) != meta.get("sha256")]
    if bad:
        raise BackupError(
            f"备份文件校验失败：{len(bad)}个成员的 SHA-256 与清单不符（{', '.join(bad[:5])}），"
            "备份可能被篡改或损坏，未做任何改动"
        )
    return manifest


def _check_compatible(manifest: dict, vendor: str) -> None:
    theirs = manifest["database"].get("vendor")
    if theirs != vendor:
        raise BackupError(
            f"这份备份来自 {VENDOR_LABELS.get(theirs, theirs)} 数据库，当前使用的是 {VENDOR_LABELS[vendor]}："
            "不能跨数据库类型恢复（请在同类数据库上恢复，或用 dumpdata/loaddata 迁移数据），未做任何改动"
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [
        f"{app}.{name}" for app, name in manifest.get("migrations", {}).items() if (app, name) not in known
    ]
    if unknown:
        raise BackupError(
            f"这份备份来自更新的 peixun 版本 {manifest.get('peixun_version', '?')}（当前代码没有迁移 "
            f"{', '.join(unknown[:5])}）：请先升级 peixun 再恢复，未做任何改动"
        )


def _restore_sqlite(dump: Path) -> None:
    connection.ensure_connection()
    source = sqlite3.connect(dump)
    try:
        # Replaces every page of the live database in one write transaction; other connections
        # wait (busy timeout) and then see the restored state.
        source.backup(connection.connection)
    finally:
        source.close()


def _restore_postgresql(dump: Path, manifest: dict) -> list[str]:
    settings_dict = connection.settings_dict
    _run(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",  # all or nothing: a failed restore leaves the database as it was
            "--exit-on-error",
            "--no-password",
            f"--dbname={settings_dict['NAME']}",
            str(dump),
        ],
        pg_env(settings_dict),
    )
    # Tables the archive does not know (made by a later migration) would survive --clean and make
    # the next `migrate` fail: drop them, so the database is the archive's as on SQLite.
    extra = sorted(set(live_snapshot().row_counts) - set(manifest["row_counts"]))
    if extra:
        with connection.cursor() as cursor:
            for table in extra:
                cursor.execute(f"DROP TABLE IF EXISTS {_quote(table)} CASCADE")
    return extra


def _restore_media(source: Path, media_root: Path) -> Path | None:
    """Put the archive's media in place of MEDIA_ROOT; the old directory is kept beside it."""
    source.mkdir(exist_ok=True)
    aside = None
    if media_root.exists():
        if media_root.is_dir() and not any(media_root.iterdir()):
            media_root.rmdir()
        else:
            stamp = f"{timezone.localtime():%Y%m%d-%H%M%S}"
            aside, n = media_root.with_name(f"{media_root.name}.before-restore-{stamp}"), 1
            while aside.exists():
                n += 1
                aside = media_root.with_name(f"{media_root.name}.before-restore-{stamp}-{n}")
            media_root.rename(aside)
    source.rename(media_root)
    return aside


def verify_restored(manifest: dict) -> list[tuple[bool, str]]:
    """Row counts and audit chain head as in the manifest; the audit and attendance chains intact."""
    from peixun.attendance.services import verify_attendance

    from .audit import verify_chain

    checks: list[tuple[bool, str]] = []
    live = live_snapshot()
    expected = manifest["row_counts"]
    diffs = [
        (table, expected.get(table), live.row_counts.get(table))
        for table in sorted(set(expected) | set(live.row_counts))
        if expected.get(table) != live.row_counts.get(table)
    ]
    if diffs:
        shown = "；".join(
            f"{t} 备份{'无此表' if e is None else f'{e}行'}、现在{'无此表' if n is None else f'{n}行'}"
            for t, e, n in diffs[:10]
        )
        checks.append((False, f"行数不符：{len(diffs)}张表（{shown}）"))
    else:
        checks.append((True, f"行数一致：{len(expected)}张表共{sum(expected.values())}行"))
    if live.audit_head == manifest.get("audit_chain_head"):
        count = (live.audit_head or {}).get("entry_count", 0)
        checks.append((True, f"审计链头与备份一致：{count}条"))
    else:
        checks.append(
            (False, f"审计链头与备份不符：备份{manifest.get('audit_chain_head')}，现在{live.audit_head}")
        )
    problem = verify_chain()
    if problem is None:
        checks.append((True, "审计链完整"))
    else:
        checks.append((False, f"审计链校验失败：{problem.message}"))
    problems = verify_attendance()
    if not problems:
        checks.append((True, "考勤记录和线上学习记录的哈希链完整"))
    else:
        shown = "；".join(str(p) for p in problems[:5])
        checks.append((False, f"考勤哈希链校验未通过：{len(problems)}条链被改动（{shown}）"))
    return checks


def restore_backup(archive: str | Path) -> RestoreReport:
    """Replace the database and the uploaded files with the archive's, then verify them."""
    from django.contrib.contenttypes.models import ContentType

    started = time.monotonic()
    vendor = _check_vendor()
    media_root = Path(settings.MEDIA_ROOT)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    # Extracted beside MEDIA_ROOT so that the media directory is swapped by a rename.
    with tempfile.TemporaryDirectory(dir=media_root.parent, prefix=".peixun-restore-") as tmp:
        work = Path(tmp)
        manifest = open_archive(archive, work)
        _check_compatible(manifest, vendor)
        report = RestoreReport(manifest)
        report.notes.append(
            f"备份时间 {manifest.get('created_at')}，peixun {manifest.get('peixun_version')}，"
            f"{VENDOR_LABELS[vendor]} 数据库 {manifest['database'].get('name')}"
        )
        dump = work / manifest["database"]["dump"]
        if vendor == "sqlite":
            _restore_sqlite(dump)
        else:
            dropped = _restore_postgresql(dump, manifest)
            if dropped:
                report.notes.append(f"删除了备份中没有的表：{', '.join(dropped)}")
        ContentType.objects.clear_cache()
        report.notes.append(f"数据库已恢复到备份时的状态：{connection.settings_dict['NAME']}")
        media_count = sum(1 for name in manifest["files"] if name.startswith(f"{MEDIA}/"))
        aside = _restore_media(work / MEDIA, media_root)
        report.notes.append(f"上传文件已恢复：{media_count}个，目录 {media_root}")
        if aside is not None:
            report.notes.append(f"原上传文件目录已改名保留为 {aside}，确认恢复无误后可删除")
    report.checks = verify_restored(manifest)
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        report.notes.append("备份的数据库迁移状态早于当前代码：请运行 peixun migrate")
    report.seconds = time.monotonic() - started
    return report
