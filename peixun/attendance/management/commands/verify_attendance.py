"""`peixun verify_attendance [--class CODE]`: walk every class's attendance and online-session hash
chains; exit non-zero naming the first bad record of each broken chain (第二十条)."""

from django.core.management.base import BaseCommand, CommandError

from peixun.attendance.services import verify_attendance
from peixun.training.models import TrainingClass


class Command(BaseCommand):
    help = "核验考勤记录和线上学习记录的哈希链，发现被直接改动、删除或调换顺序的记录"

    def add_arguments(self, parser):
        parser.add_argument("--class", dest="class_code", help="只核验这个班级")

    def handle(self, *args, class_code=None, **options):
        training_class = None
        if class_code:
            training_class = TrainingClass.objects.filter(code=class_code).first()
            if training_class is None:
                raise CommandError(f"班级“{class_code}”不存在")
        problems = verify_attendance(training_class)
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(f"考勤哈希链校验未通过：{len(problems)}条链被改动")
        self.stdout.write("考勤记录和线上学习记录的哈希链完整")
