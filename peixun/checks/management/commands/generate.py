from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from peixun.checks.catalog import RULES
from peixun.checks.generator import generate


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


class Command(BaseCommand):
    help = (
        "生成一套模拟数据包（8个数据包文件、8类外部数据、history.csv）和预期核查结果 labels.csv："
        "`peixun generate --trainees N --out DIR --seed S`。同一种子生成的文件完全相同。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--trainees", type=int, required=True, help="学员人数（≥300）")
        parser.add_argument("--out", required=True, help="输出目录（不存在则创建，同名文件覆盖）")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")

    def handle(self, *args, **options):
        try:
            summary = generate(trainees=options["trainees"], out=Path(options["out"]), seed=options["seed"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        out = self.stdout.write
        out(
            f"已生成模拟数据：{summary.out}（种子 {summary.seed}，学员 {summary.trainees} 人，"
            f"班级 {summary.classes} 个，机构 {summary.institutions} 家，教师 {summary.teachers} 人，"
            f"用时 {summary.seconds:.1f} 秒）"
        )
        out("文件：")
        for name, rows in summary.rows.items():
            out(f"  {name:<42} {rows:>12,} 行  {_size(summary.sizes[name]):>10}")
        out("预期核查结果（labels.csv，按规则）：")
        for code, n in summary.findings.items():
            out(f"  {code:<28} {RULES[code].title:<16} {n:>8,} 条")
        out("埋入的问题（场景：人次/班次）：")
        for name, n in summary.scenarios.items():
            out(f"  {name:<36} {n:>8,}")
        out("埋入的临界情形（不应触发）：")
        for name, n in summary.near_misses.items():
            out(f"  {name:<36} {n:>8,}")
