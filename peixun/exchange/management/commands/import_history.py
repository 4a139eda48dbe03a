from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from peixun.checks.importing import import_history
from peixun.core.tabular import ImportFailed

from ._common import fail_with_rows


class Command(BaseCommand):
    help = "导入原系统的历史补贴培训记录（history.csv）。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.exists():
            raise CommandError(f"文件不存在：{file}")
        try:
            result = import_history(path=file, actor=None)
        except ImportFailed as exc:
            fail_with_rows(exc, self.stderr)
        self.stdout.write(
            f"历史培训记录：{result['rows']} 行（新增 {result['created']}，更新 {result['updated']}）"
        )
