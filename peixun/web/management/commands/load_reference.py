from django.core.management.base import BaseCommand
from django.db import transaction

from peixun.catalog.models import Occupation
from peixun.catalog.reference import load_occupations
from peixun.core.models import Area, CalendarDay, CalendarYear, RuleSettings
from peixun.core.reference import ensure_rule_settings, load_areas, seed_calendar_days


class Command(BaseCommand):
    help = "载入参考数据：内蒙古行政区划、职业分类（2022版）、节假日（chinesecalendar 2004–2026）、规则参数默认值。可重复执行。"

    def handle(self, *args, **options):
        with transaction.atomic():
            areas = load_areas(Area)
            ensure_rule_settings(RuleSettings)
            years = seed_calendar_days(CalendarYear, CalendarDay)
            occupations = load_occupations(Occupation)
        self.stdout.write(
            f"行政区划 {Area.objects.count()} 个（本次写入 {areas}），职业 {Occupation.objects.count()} 个（本次写入 {occupations}），"
            f"工作日历 {CalendarYear.objects.count()} 年（本次新增 {years}），规则参数第 "
            f"{RuleSettings.objects.order_by('-version').first().version} 版"
        )
