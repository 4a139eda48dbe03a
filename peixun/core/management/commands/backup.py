"""`peixun backup [--out DIR]`: one archive of the database and the uploaded files (see core/backup.py)."""

from django.core.management.base import BaseCommand, CommandError

from peixun.core.backup import BackupError, backup_summary, create_backup


class Command(BaseCommand):
    help = "备份数据库和上传文件，写成一个 peixun-backup-YYYYmmdd-HHMMSS.tar.gz（含清单 manifest.json）；服务运行时也可备份"

    def add_arguments(self, parser):
        parser.add_argument("--out", help="备份目录（默认 var/backups）")

    def handle(self, *args, out=None, **options):
        try:
            result = create_backup(out)
        except BackupError as exc:
            raise CommandError(f"备份失败：{exc}") from exc
        self.stdout.write(str(result.path))
        for line in backup_summary(result):
            self.stdout.write(line)
