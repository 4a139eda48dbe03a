from django.core.management.base import BaseCommand

from peixun.web.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "生成演示数据：各角色的演示账户、单位和人员（身份证号有效）。可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--quiet-logins", action="store_true", help="不打印演示账户")

    def handle(self, *args, **options):
        logins = seed_demo(seed=options["seed"])
        if options["quiet_logins"]:
            return
        self.stdout.write("")
        self.stdout.write(f"演示账户（密码均为 {DEMO_PASSWORD}）：")
        width = max(len(item.username) for item in logins)
        for item in logins:
            self.stdout.write(
                f"  {item.username.ljust(width)}  {item.role}  {item.name}  {item.organisation}"
            )
        self.stdout.write("")
