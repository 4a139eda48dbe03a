"""`peixun restore ARCHIVE --yes`: replace the database and the uploaded files with a backup's, then
verify row counts and the audit and attendance hash chains (see core/backup.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from peixun.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "从 peixun backup 的归档恢复数据库和上传文件（会替换当前数据，须加 --yes），恢复后核验行数和哈希链"

    def add_arguments(self, parser):
        parser.add_argument("archive", help="peixun-backup-….tar.gz")
        parser.add_argument("--yes", action="store_true", help="确认用备份替换当前数据库和上传文件")

    def handle(self, *args, archive, yes=False, **options):
        if not yes:
            raise CommandError(
                f"恢复会用备份中的数据替换当前数据库（{connection.settings_dict['NAME']}）的全部内容和上传文件目录，"
                "备份之后的改动都将丢失。确认无误后加 --yes 重新运行：peixun restore ARCHIVE --yes"
            )
        if not Path(archive).is_file():
            raise CommandError(f"备份文件不存在：{archive}")
        try:
            report = restore_backup(archive)
        except BackupError as exc:
            raise CommandError(f"恢复被拒绝：{exc}") from exc
        for note in report.notes:
            self.stdout.write(note)
        for ok, line in report.checks:
            self.stdout.write(f"[{'通过' if ok else '未通过'}] {line}")
        if not report.ok:
            raise CommandError("恢复后的核验未通过：见上面标为“未通过”的项目")
        self.stdout.write(f"恢复完成，核验全部通过，用时{report.seconds:.1f}秒")
