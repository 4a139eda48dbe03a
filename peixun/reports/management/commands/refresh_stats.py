import time

from django.core.management.base import BaseCommand

from peixun.reports.refresh import stats_refresh


class Command(BaseCommand):
    help = (
        "更新统计数据（就业跟踪结果、班级和地区月度统计）：默认只重算自上次更新以来有变化的培训班"
        "（按审计日志）和跟踪节点到期的培训班；--full 全部重算。建议每晚运行一次。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="全部重算")

    def handle(self, *args, full: bool = False, **options):
        started = time.monotonic()
        result = stats_refresh(full=full)
        self.stdout.write(
            f"统计数据已更新（{'全部重算' if result.full else '增量'}，{time.monotonic() - started:.1f}秒）："
            f"培训班{result.classes}个，就业跟踪结果{result.outcomes}条，班级月度统计{result.class_facts}行，"
            f"地区月度统计{result.area_facts}行"
        )
