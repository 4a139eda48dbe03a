"""就业跟踪 (第十七条): employment rates by institution, occupation, area, person category and year,
and the follow-up list — completed trainees whose checkpoint is reached and for whom neither a
registry nor a follow-up record says anything yet."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

from peixun.accounts.scope import restrict
from peixun.institutions.models import Institution
from peixun.training.models import Category

from .dashboards import (
    BY_OCCUPATION,
    PCT,
    TEXT,
    Chart,
    Column,
    Filters,
    Level,
    Sums,
    _series,
    children_of,
    facts,
    grouped,
    occupation_names,
)
from .models import EmploymentOutcome

EMP_MEASURES = ("emp3_due", "emp3_employed", "emp3_study", "emp6_due", "emp6_employed", "emp6_study")
TOP = 15

EMP_COLUMNS = [
    Column("3个月应跟踪"),
    Column("3个月就业"),
    Column("3个月升学"),
    Column("3个月就业率（%）", PCT),
    Column("6个月应跟踪"),
    Column("6个月就业"),
    Column("6个月升学"),
    Column("6个月就业率（%）", PCT),
]


def _values(s: Sums) -> list:
    return [
        s["emp3_due"],
        s["emp3_employed"],
        s["emp3_study"],
        s.employment3_rate,
        s["emp6_due"],
        s["emp6_employed"],
        s["emp6_study"],
        s.employment6_rate,
    ]


def _chart(
    key: str,
    title: str,
    label: str,
    named: list[tuple[str, Sums]],
    *,
    note: str = "",
    top: bool = False,
    wide: bool | None = None,
) -> Chart:
    named = [(n, s) for n, s in named if s["emp3_due"] or s["emp6_due"]]
    rows = [[name, *_values(s)] for name, s in named]
    drawn = sorted(rows, key=lambda r: -(r[1] + r[5]))[:TOP] if top else rows
    total = Sums.of(s for _, s in named)
    return Chart(
        key,
        title,
        [Column(label, TEXT), *EMP_COLUMNS],
        rows,
        {
            "type": "bar",
            "unit": "%",
            "max": 100,
            "rotate": len(drawn) > 6,
            "categories": [r[0] for r in drawn],
            "series": [
                _series("3个月就业率", (r[4] for r in drawn)),
                _series("6个月就业率", (r[8] for r in drawn)),
            ],
        },
        note=note,
        total=["合计", *_values(total)],
        icon="briefcase",
        wide=top if wide is None else wide,
    )


def employment_charts(user, level: Level, filters: Filters) -> list[Chart]:
    yearly = grouped(facts(user, level, filters, year=False), "year", EMP_MEASURES)
    qs = facts(user, level, filters)
    charts = [
        _chart(
            "emp_year",
            "就业率按结业年度",
            "结业年度",
            [(f"{y}年", yearly[y]) for y in sorted(yearly)],
            note="按培训班结业日期所在年度，各年全部列出（不受年度筛选影响）。",
        )
    ]
    if level.key != "institution":
        charts.append(
            _chart(
                "emp_area",
                f"就业率按{level.children_label}",
                level.children_label,
                children_of(level, qs),
            )
        )
        by_inst = grouped(facts(user, level, filters, grain=BY_OCCUPATION), "institution_id", EMP_MEASURES)
        names = dict(Institution.objects.filter(id__in=list(by_inst)).values_list("id", "name"))
        charts.append(
            _chart(
                "emp_institution",
                "就业率按培训机构",
                "培训机构",
                sorted(((names.get(k, str(k)), s) for k, s in by_inst.items()), key=lambda kv: kv[0]),
                note=f"图中为应跟踪人数最多的{TOP}家机构，表格列出全部。该就业率（6个月）用于培训机构诚信评价。",
                top=True,
            )
        )
    by_occ = grouped(facts(user, level, filters, grain=BY_OCCUPATION), "occupation_code", EMP_MEASURES)
    names = occupation_names(by_occ)
    charts.append(
        _chart(
            "emp_occupation",
            "就业率按职业（工种）",
            "职业（工种）",
            sorted(((names.get(k, k), s) for k, s in by_occ.items()), key=lambda kv: kv[0]),
            note=f"图中为应跟踪人数最多的{TOP}个职业（工种）。",
            top=True,
            wide=False,
        )
    )
    by_cat = grouped(qs, "category", EMP_MEASURES)
    charts.append(
        _chart(
            "emp_category",
            "就业率按人员类别",
            "人员类别",
            [(str(label), by_cat.get(value, Sums())) for value, label in Category.choices],
        )
    )
    return charts


def follow_up_list(user, level: Level, filters: Filters) -> QuerySet:
    """Trainees to call: a checkpoint reached in the year, and nothing known (未查到就业信息)."""
    qs = restrict(EmploymentOutcome.objects.all(), user).filter(
        status=EmploymentOutcome.Status.UNKNOWN, check_date__year=filters.year
    )
    if level.institution is not None:
        qs = qs.filter(training_class__institution=level.institution)
    elif level.area_ids is not None:
        qs = qs.filter(training_class__area_id__in=level.area_ids)
    if filters.occupation:
        qs = qs.filter(training_class__occupation_code=filters.occupation)
    if filters.training_type:
        qs = qs.filter(training_class__training_type=filters.training_type)
    # (check date, id) follows the (status, check_date) index: the first page needs no sort of all rows
    return qs.select_related(
        "training_class__institution", "training_class__area", "enrollment__person"
    ).order_by("check_date", "id")


class CappedPaginator(Paginator):
    """Counts at most CAP rows: a province's follow-up list can hold hundreds of thousands, and an
    exact count of them costs more than the page itself. Beyond the cap the page says "N+"."""

    CAP = 3000

    @cached_property
    def count(self) -> int:
        return self.object_list.values("pk")[: self.CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.CAP
