from django.core.management.base import BaseCommand

from peixun.training.services import deadline_reminders


class Command(BaseCommand):
    help = "提醒即将到期的审核，逾期的提请盟市督办（每天运行一次）"

    def handle(self, *args, **options):
        sent = deadline_reminders()
        self.stdout.write(f"已发送{sent}条期限提醒")
