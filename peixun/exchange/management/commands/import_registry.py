from pathlib import Path

from django.core.management.base import BaseCommand

from peixun.checks.importing import REGISTRY_COLUMNS, import_registry
from peixun.core.tabular import ImportFailed

from ._common import fail_with_rows


class Command(BaseCommand):
    help = "以文件替换一类外部数据的快照（death、public_payroll、business_license、hospitalization、social_insurance、employment_filing、unemployment_registration、skill_certificate）。"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(REGISTRY_COLUMNS))
        parser.add_argument("file", type=Path)

    def handle(self, *args, kind: str, file: Path, **options):
        if not file.exists():
            from django.core.management.base import CommandError

            raise CommandError(f"文件不存在：{file}")
        try:
            snapshot = import_registry(kind=kind, path=file, actor=None)
        except ImportFailed as exc:
            fail_with_rows(exc, self.stderr)
        self.stdout.write(
            f"{snapshot.get_kind_display()}：{snapshot.row_count} 行，文件哈希 {snapshot.sha256[:16]}…"
        )
