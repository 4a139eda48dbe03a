"""培训需求对接 (第五条): the demand pool (企业用工需求 and 劳动者培训需求 of the year's survey) set
against the classes actually run that year, by area and occupation — where demand was not met.

Demand is matched on the occupation (any level) in the same area: the city for the region's view,
the county (or zone) for a city's and a county's. "Trained" counts the trainees of classes that ran
(started in the survey year, not drafts or refused classes), from the fact tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.http import Http404

from peixun.accounts.scope import restrict
from peixun.core.models import Area
from peixun.demand.models import DemandReport

from . import employment as rules
from .dashboards import (
    BY_OCCUPATION,
    INT,
    PCT,
    TEXT,
    Chart,
    Column,
    Filters,
    Level,
    _series,
    facts,
    grouped,
    occupation_names,
    resolve_level,
)
from .refresh import AreaIndex

TOP = 15


@dataclass
class NeedRow:
    area: Area
    occupation_code: str
    occupation_name: str
    enterprise: int
    worker: int
    reports: int
    classes: int
    trainees: int

    @property
    def demand(self) -> int:
        return self.enterprise + self.worker

    @property
    def gap(self) -> int:
        return max(self.demand - self.trainees, 0)

    @property
    def met_rate(self) -> Decimal | None:
        share = rules.rate(min(self.trainees, self.demand), self.demand)
        return None if share is None else (share * 100).quantize(Decimal("0.1"))

    @property
    def status(self) -> str:
        if not self.demand:
            return "no_demand"
        if self.trainees == 0:
            return "unmet"
        return "partial" if self.gap else "met"


STATUS_LABELS = {"unmet": "未开班", "partial": "部分满足", "met": "已满足", "no_demand": "无调查需求"}


def needs_match(user, filters: Filters) -> tuple[Level, list[NeedRow]]:
    level = resolve_level(user, filters)
    if level.key == "institution":
        raise Http404("页面不存在")
    index = AreaIndex()
    by_city = level.key == "region"

    def group_of(area_id: int) -> int:
        return index.city_of(area_id) if by_city else area_id

    demand = restrict(DemandReport.objects.filter(survey_year=filters.year), user)
    if level.area_ids is not None:
        demand = demand.filter(area_id__in=level.area_ids)
    if filters.occupation:
        demand = demand.filter(occupation__code=filters.occupation)
    cells: dict[tuple[int, str], list[int]] = {}
    counts = (
        demand.values("area_id", "occupation__code")
        .annotate(
            enterprise=Sum("headcount", filter=Q(kind=DemandReport.Kind.ENTERPRISE)),
            worker=Sum("headcount", filter=Q(kind=DemandReport.Kind.WORKER)),
            n=Count("id"),
        )
        .order_by()
    )
    for row in counts:
        cell = cells.setdefault((group_of(row["area_id"]), row["occupation__code"]), [0, 0, 0, 0, 0])
        cell[0] += row["enterprise"] or 0
        cell[1] += row["worker"] or 0
        cell[2] += row["n"]
    supply = grouped(
        facts(user, level, filters, grain=BY_OCCUPATION),
        ("city_id" if by_city else "area_id", "occupation_code"),
        ("classes", "trainees"),
    )
    for (area_id, code), s in supply.items():
        if not (s["classes"] or s["trainees"]):
            continue
        cell = cells.setdefault((area_id, code), [0, 0, 0, 0, 0])
        cell[3] += s["classes"]
        cell[4] += s["trainees"]
    names = occupation_names({code for _, code in cells})
    rows = [
        NeedRow(index.areas[area_id], code, names.get(code, code), *cell)
        for (area_id, code), cell in cells.items()
    ]
    rows.sort(key=lambda r: (r.demand == 0, -r.gap, r.area.code, r.occupation_code))
    return level, rows


def needs_chart(level: Level, rows: list[NeedRow]) -> Chart:
    table = [
        [
            r.area.name,
            r.occupation_code,
            r.occupation_name,
            r.enterprise,
            r.worker,
            r.demand,
            r.classes,
            r.trainees,
            r.gap,
            r.met_rate,
            STATUS_LABELS[r.status],
        ]
        for r in rows
    ]
    drawn = [r for r in rows if r.gap][:TOP][::-1]
    return Chart(
        "needs",
        "培训需求与实际开班对比",
        [
            Column("盟市" if level.key == "region" else "旗县区", TEXT),
            Column("职业编码", TEXT),
            Column("职业（工种）", TEXT),
            Column("企业用工需求（人）", INT),
            Column("劳动者培训需求（人）", INT),
            Column("需求合计（人）", INT),
            Column("实际开班（个）", INT),
            Column("实际培训（人）", INT),
            Column("未满足（人）", INT),
            Column("满足率（%）", PCT),
            Column("对接情况", TEXT),
        ],
        table,
        {
            "type": "hbar",
            "unit": "人",
            "categories": [f"{r.area.name} {r.occupation_name}" for r in drawn],
            "series": [
                _series("需求人数", (r.demand for r in drawn)),
                _series("实际培训人数", (r.trainees for r in drawn)),
            ],
        },
        note=f"图中为未满足人数最多的{TOP}项（地区×职业）。需求按调查年度，培训按开班年度，按职业（不分等级）匹配。",
        total=[
            "合计",
            "",
            "",
            sum(r.enterprise for r in rows),
            sum(r.worker for r in rows),
            sum(r.demand for r in rows),
            sum(r.classes for r in rows),
            sum(r.trainees for r in rows),
            sum(r.gap for r in rows),
            None,
            "",
        ],
        icon="diagram-2",
        wide=True,
    )
