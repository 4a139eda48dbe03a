import csv
from pathlib import Path

from django.core.management.base import BaseCommand

from peixun.checks.services import EXPORT_COLUMNS, findings_export_rows


class Command(BaseCommand):
    help = "将当前问题线索导出为CSV（rule_code、severity、class_code、id_number、status、evidence、article、rules_version）。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        count = 0
        with open(file, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(EXPORT_COLUMNS)
            for row in findings_export_rows():
                writer.writerow(row)
                count += 1
        self.stdout.write(f"已导出{count}条问题线索到 {file}")
