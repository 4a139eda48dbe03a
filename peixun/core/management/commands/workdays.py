import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from peixun.core.errors import CalendarMissing
from peixun.core.workdays import add_workdays


class Command(BaseCommand):
    help = "工作日计算。`peixun workdays add DATE N` 打印 DATE 之后第 N 个工作日（YYYY-MM-DD）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="DATE 之后第 N 个工作日（从次日起算）")
        add.add_argument("date", help="YYYY-MM-DD")
        add.add_argument("n", type=int, help="工作日数（≥0）")

    def handle(self, *args, **options):
        try:
            start = dt.date.fromisoformat(options["date"])
        except ValueError as exc:
            raise CommandError(f"日期格式应为 YYYY-MM-DD：{options['date']}") from exc
        if options["n"] < 0:
            raise CommandError("工作日数不能为负数")
        try:
            due = add_workdays(start, options["n"])
        except CalendarMissing as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(due.isoformat())
