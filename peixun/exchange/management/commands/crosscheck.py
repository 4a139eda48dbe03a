import time

from django.core.management.base import BaseCommand, CommandError

from peixun.checks.run import crosscheck_run
from peixun.training.models import TrainingClass


class Command(BaseCommand):
    help = "按规则目录（rules.md）核查全部培训班或指定培训班，保存问题线索。"

    def add_arguments(self, parser):
        parser.add_argument("--class", dest="class_code", help="只核查该班级编号")

    def handle(self, *args, class_code: str | None = None, **options):
        class_ids = None
        if class_code:
            cls = TrainingClass.objects.filter(code=class_code).first()
            if cls is None:
                raise CommandError(f"班级“{class_code}”不存在")
            class_ids = [cls.id]
        started = time.monotonic()
        result = crosscheck_run(class_ids=class_ids)
        s = result.stored
        self.stdout.write(
            f"核查完成（{time.monotonic() - started:.1f}秒）：命中{result.hits}条；新发现{s.opened}，再次发现{s.reopened}，"
            f"保持{s.kept}，原因消除{s.closed}"
        )
