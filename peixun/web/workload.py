"""审核时效: how the reviews in the user's area keep their legal deadlines — opening reviews (第九条,
5 working days), completion reviews (第十一条, 3) and subsidy applications (第十四条, 8).

Counts are done set-wise in SQL (pending, due within one working day, overdue); the average time of
the items decided in the last 90 days is counted in working days on one loaded calendar. A city
admin sees one row per county, the region one row per city (满洲里、二连浩特 report to the region and
get rows of their own); a county reviewer sees their county's totals.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from peixun.accounts.http import require_perm
from peixun.accounts.roles import Perm
from peixun.accounts.scope import restrict, scope_of
from peixun.core.errors import CalendarMissing
from peixun.core.models import Area
from peixun.core.services import current_rule_settings
from peixun.core.workdays import WorkdayCalendar
from peixun.subsidies.models import SubsidyApplication
from peixun.training.models import Review

AREA = "training_class__area"
DECIDED_WINDOW_DAYS = 90
OVERDUE_LIMIT = 200


@dataclass(frozen=True)
class Kind:
    """One kind of review case and how to read its clock fields."""

    key: str
    label: str
    article: str
    limit_field: str  # the RuleSettings field holding the legal limit

    def base(self) -> QuerySet:
        if self.key == "subsidy":
            return SubsidyApplication.objects.all()
        stage = Review.Stage.OPENING if self.key == "opening" else Review.Stage.COMPLETION
        return Review.objects.filter(stage=stage)

    def pending(self) -> Q:
        if self.key == "subsidy":
            return Q(status=SubsidyApplication.Status.SUBMITTED)
        return Q(state=Review.State.PENDING)

    def decided(self) -> Q:
        if self.key == "subsidy":
            return Q(decided_at__isnull=False) & ~Q(status=SubsidyApplication.Status.WITHDRAWN)
        return Q(decided_at__isnull=False, state__in=[Review.State.APPROVED, Review.State.REJECTED])

    @property
    def first_submitted(self) -> str:
        return "submitted_at" if self.key == "subsidy" else "first_submitted_at"


KINDS = (
    Kind("opening", "开班审核", "第九条", "opening_review_workdays"),
    Kind("completion", "结业审核", "第十一条", "completion_review_workdays"),
    Kind("subsidy", "补贴审核", "第十四条", "subsidy_review_workdays"),
)


@dataclass
class Stats:
    pending: int = 0
    due_soon: int = 0
    overdue: int = 0
    decided: int = 0
    days_total: int = 0

    @property
    def average(self) -> float | None:
        return round(self.days_total / self.decided, 1) if self.decided else None


@dataclass
class KindSummary:
    kind: Kind
    limit: int
    stats: Stats

    @property
    def slow(self) -> bool:
        return self.stats.average is not None and self.stats.average > self.limit


@dataclass
class AreaRow:
    area: Area
    stats: dict[str, Stats] = field(default_factory=lambda: {k.key: Stats() for k in KINDS})

    @property
    def cells(self) -> list[Stats]:
        return [self.stats[k.key] for k in KINDS]


@dataclass(frozen=True)
class OverdueItem:
    kind: Kind
    code: str  # the class code for a class review, the application code for a subsidy application
    title: str
    detail_code: str  # the class code beside the title when `code` is the application's
    institution: str
    area: Area
    submitted_on: dt.date
    due_date: dt.date
    days_over: int | None
    url: str


@dataclass
class Workload:
    today: dt.date
    since: dt.date
    summaries: list[KindSummary]
    rows: list[AreaRow]
    row_level: str  # "city", "county" or "" (no breakdown)
    overdue: list[OverdueItem]
    overdue_more: bool
    calendar_problem: str = ""


def _group_of(area: Area, areas: dict[int, Area], level: str) -> Area:
    """The row an area's items belong to: its city-level area for the region, itself for a city."""
    if level != "city":
        return area
    current = area
    while not current.is_city_level and current.parent_id and current.parent_id in areas:
        parent = areas[current.parent_id]
        if parent.kind == Area.Kind.REGION:
            break
        current = parent
    return current


def _row_level(user) -> str:
    scope = scope_of(user)
    if scope.everything:
        return "city"
    if len(scope.area_ids) > 1:
        return "county"
    return ""


def _safe_reverse(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def workload_for(user, *, today: dt.date | None = None) -> Workload:
    today = today or timezone.localdate()
    now = timezone.now()
    since = today - dt.timedelta(days=DECIDED_WINDOW_DAYS)
    calendar = WorkdayCalendar()
    between = functools.cache(calendar.between)  # the same pair of days recurs in every area
    problem = ""
    try:
        soon = calendar.add(today, 1)
    except CalendarMissing as exc:
        # Without the calendar "within one working day" is unknown; a calendar day stands in and the
        # page says why (the calendar page asks the region to enter the year).
        soon, problem = today + dt.timedelta(days=1), exc.message
    level = _row_level(user)
    rule = current_rule_settings()

    per_area: dict[int, dict[str, Stats]] = defaultdict(lambda: {k.key: Stats() for k in KINDS})
    summaries = []
    for kind in KINDS:
        total = Stats()
        scoped = restrict(kind.base(), user)
        counts = (
            scoped.filter(kind.pending())
            .values(AREA)
            .annotate(
                pending=Count("id"),
                due_soon=Count("id", filter=Q(due_date__gte=today, due_date__lte=soon)),
                overdue=Count("id", filter=Q(due_date__lt=today)),
            )
        )
        for row in counts:
            cell = per_area[row[AREA]][kind.key]
            for name in ("pending", "due_soon", "overdue"):
                setattr(cell, name, row[name])
                setattr(total, name, getattr(total, name) + row[name])
        decided = scoped.filter(kind.decided(), decided_at__gte=now - dt.timedelta(days=DECIDED_WINDOW_DAYS))
        # Grouped by area and (submitted, decided) day in the database, the working days counted once
        # per pair of days: item by item, a province's 7,000 decisions of 60 days took 0.4 s.
        grouped = (
            decided.values(
                AREA, first_day=TruncDate(kind.first_submitted), decided_day=TruncDate("decided_at")
            )
            .annotate(n=Count("id"))
            .values_list(AREA, "first_day", "decided_day", "n")
        )
        for area_id, first_day, decided_day, n in grouped:
            try:
                days = between(first_day, decided_day)
            except CalendarMissing as exc:
                problem = problem or exc.message
                continue
            cell = per_area[area_id][kind.key]
            cell.decided += n
            cell.days_total += days * n
            total.decided += n
            total.days_total += days * n
        summaries.append(KindSummary(kind, getattr(rule, kind.limit_field), total))

    rows: list[AreaRow] = []
    if level:
        areas = {a.id: a for a in Area.objects.all()}
        grouped: dict[int, AreaRow] = {}
        for area_id, stats in per_area.items():
            group = _group_of(areas[area_id], areas, level)
            row = grouped.setdefault(group.id, AreaRow(group))
            for key, s in stats.items():
                target = row.stats[key]
                for name in ("pending", "due_soon", "overdue", "decided", "days_total"):
                    setattr(target, name, getattr(target, name) + getattr(s, name))
        rows = sorted(grouped.values(), key=lambda r: r.area.code)

    overdue, more = _overdue_items(user, today, calendar)
    return Workload(today, since, summaries, rows, level, overdue, more, problem)


def _overdue_items(user, today: dt.date, calendar: WorkdayCalendar) -> tuple[list[OverdueItem], bool]:
    items: list[OverdueItem] = []
    more = False
    for kind in KINDS:
        qs = (
            restrict(kind.base(), user)
            .filter(kind.pending(), due_date__lt=today)
            .select_related("training_class__institution", "training_class__area")
            .order_by("due_date", "id")
        )
        found = list(qs[: OVERDUE_LIMIT + 1])
        more = more or len(found) > OVERDUE_LIMIT
        for obj in found[:OVERDUE_LIMIT]:
            c = obj.training_class
            try:
                days_over = calendar.between(obj.due_date, today)
            except CalendarMissing:
                days_over = None
            if kind.key == "subsidy":
                code, url = obj.code, _safe_reverse("subsidies:application_detail", obj.pk)
            else:
                code, url = c.code, _safe_reverse("training:detail", c.pk)
            items.append(
                OverdueItem(
                    kind=kind,
                    code=code,
                    title=f"{c.occupation_name}（{c.get_level_display()}）",
                    detail_code=c.code if kind.key == "subsidy" else "",
                    institution=c.institution.name,
                    area=c.area,
                    submitted_on=obj.submitted_on,
                    due_date=obj.due_date,
                    days_over=days_over,
                    url=url,
                )
            )
    items.sort(key=lambda i: (i.due_date, i.code))
    return items[:OVERDUE_LIMIT], more or len(items) > OVERDUE_LIMIT


@require_perm(Perm.VIEW_WORKLOAD)
def workload(request):
    data = workload_for(request.user)
    return render(request, "web/workload.html", {"w": data, "kinds": KINDS})
