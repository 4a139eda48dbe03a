from pathlib import Path

from django.core.management.base import BaseCommand

from peixun.checks.services import EXPORT_COLUMNS, findings_export_rows
from peixun.core.tabular import csv_write


class Command(BaseCommand):
    help = "将当前问题线索导出为CSV（rule_code、severity、class_code、id_number、status、evidence、article、rules_version）。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        # tabular's writer, like every other export: a text cell starting with = + - @ (a class
        # code or evidence copied from an imported file) is written with a leading ' so a
        # spreadsheet shows it instead of running it; rows stream, nothing is held in memory
        with open(file, "w", encoding="utf-8", newline="") as fh:
            count = csv_write(fh, EXPORT_COLUMNS, findings_export_rows())
        self.stdout.write(f"已导出{count}条问题线索到 {file}")
