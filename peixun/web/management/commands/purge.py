from django.core.management.base import BaseCommand

from peixun.web.retention import retention_purge


class Command(BaseCommand):
    help = "按保存期限清理个人信息：过期的签到照片及人脸特征、导入上传文件、外部数据快照明细（每天运行）"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只统计将要删除的数量，不删除")

    def handle(self, *args, dry_run=False, **options):
        report = retention_purge(dry_run=dry_run)
        for line in report.lines():
            self.stdout.write(line)
