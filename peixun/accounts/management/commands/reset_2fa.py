from django.core.management.base import BaseCommand, CommandError

from peixun.accounts.models import User
from peixun.accounts.second_factor import second_factor_reset


class Command(BaseCommand):
    help = "重置用户的动态口令（手机丢失或更换）：下次登录时重新绑定。记入审计日志。"

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户{username}不存在")
        removed = second_factor_reset(user=user, actor=None)
        self.stdout.write(f"已重置{user.get_full_name()}（{username}）的动态口令，删除{removed}个绑定")
