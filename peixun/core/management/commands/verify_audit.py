from django.core.management.base import BaseCommand, CommandError

from peixun.core.audit import verify_chain
from peixun.core.models import AuditEntry


class Command(BaseCommand):
    help = "校验审计链：任何记录被直接修改、删除或调换顺序时，以非零状态退出并指出第一条有问题的记录。"

    def handle(self, *args, **options):
        problem = verify_chain()
        if problem is not None:
            raise CommandError(f"审计链校验失败：{problem.message}")
        self.stdout.write(f"审计链完整：共 {AuditEntry.objects.count()} 条")
