from pathlib import Path

from django.core.management.base import BaseCommand

from peixun.core.tabular import ImportFailed
from peixun.exchange.package import import_package

from ._common import fail_with_rows


class Command(BaseCommand):
    help = "导入数据包（institutions/teachers/classes/lessons/enrollments/attendance/online_sessions/exams.csv，任意子集）。全部成功才写入。"

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)

    def handle(self, *args, directory: Path, **options):
        try:
            result = import_package(
                directory=directory,
                actor=None,
                progress=lambda done, total, message: self.stdout.write(message),
            )
        except ImportFailed as exc:
            fail_with_rows(exc, self.stderr)
        for name, stats in result.files.items():
            detail = "，".join(f"{k}={v}" for k, v in stats.items())
            self.stdout.write(f"{name}：{detail}")
        self.stdout.write("数据包导入完成")
