import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from peixun.subsidies.services import notices_close


class Command(BaseCommand):
    help = (
        "公示期满处理：公示期已结束且无未处理异议的补贴转为待拨付，全部处理完的申请公示结束。每天运行一次。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="按此日期处理（YYYY-MM-DD，默认今天）")

    def handle(self, *args, **options):
        today = None
        if options.get("date"):
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"日期格式应为 YYYY-MM-DD：{options['date']}") from exc
        result = notices_close(today)
        self.stdout.write(f"转为待拨付{result.lines_payable}人，公示结束{result.applications_closed}个申请")
