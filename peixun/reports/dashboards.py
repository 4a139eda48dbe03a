"""统计分析: the numbers of the dashboards, read from the fact tables and scoped first.

Every query starts from `restrict(queryset, user)`; the level the user chose (region, a city, a
county, an institution) narrows it further and can never widen it. Region and city levels read
`AreaMonthFact`; county and institution levels read `ClassMonthFact` (a county's classes are few,
and only the class-level table knows institutions). Every chart is a `Chart`: a table whose rows the
chart draws and the Excel export writes, so the three always agree.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.apps import apps
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth
from django.http import Http404

from peixun.accounts.scope import areas_covered, restrict, scope_of
from peixun.catalog.models import Occupation, TrainingType
from peixun.checks.catalog import RULES
from peixun.checks.models import Finding
from peixun.core.models import Area
from peixun.institutions.models import Institution
from peixun.training.models import Category

from . import employment as rules
from .models import AreaMonthFact, AreaTotalFact, ClassMonthFact, FactMeasures, InstitutionYearFact

logger = logging.getLogger(__name__)
MEASURES = FactMeasures.MEASURES
# what each grouping needs (fewer sums, faster queries)
VOLUME = ("trainees", "completed", "certified", "ended")
RATES = (*VOLUME, "emp3_due", "emp3_employed", "emp3_study", "emp6_due", "emp6_employed", "emp6_study")
TOP_OCCUPATIONS = 15
TOP_RULES = 15
MONTH_LABELS = [f"{m}月" for m in range(1, 13)]
CATEGORY_LABELS = {k: str(v) for k, v in Category.choices}
TYPE_LABELS = {k: str(v) for k, v in TrainingType.choices}


# --- sums and rates ---------------------------------------------------------------------------------


class Sums(dict):
    """Summed measures of some fact rows, with the rates the regulation's reports use (as %)."""

    @classmethod
    def of(cls, rows: Iterable[dict]) -> Sums:
        total = cls({m: 0 for m in MEASURES})
        for row in rows:
            for m in MEASURES:
                total[m] += row.get(m) or 0
        return total

    def __missing__(self, key):
        return 0

    @staticmethod
    def percent(share: Decimal | None) -> Decimal | None:
        return None if share is None else (share * 100).quantize(Decimal("0.1"))

    @property
    def completion_rate(self) -> Decimal | None:
        return self.percent(rules.completion_rate(completed=self["completed"], ended=self["ended"]))

    @property
    def certificate_rate(self) -> Decimal | None:
        return self.percent(rules.certificate_rate(certified=self["certified"], completed=self["completed"]))

    @property
    def employment3_rate(self) -> Decimal | None:
        return self.percent(
            rules.employment_rate(
                employed=self["emp3_employed"], reached=self["emp3_due"], further_study=self["emp3_study"]
            )
        )

    @property
    def employment6_rate(self) -> Decimal | None:
        return self.percent(
            rules.employment_rate(
                employed=self["emp6_employed"], reached=self["emp6_due"], further_study=self["emp6_study"]
            )
        )

    def on_time_rate(self, stage: str) -> Decimal | None:
        return self.percent(rules.rate(self[f"{stage}_on_time"], self[f"{stage}_decided"]))


def grouped(qs: QuerySet, by: str | Sequence[str], measures: Sequence[str] = MEASURES) -> dict:
    """{key: Sums} of the fact rows grouped by one or more dimensions."""
    keys = [by] if isinstance(by, str) else list(by)
    rows = qs.values(*keys).annotate(**{f"s_{m}": Sum(m) for m in measures}).order_by()
    out = {}
    for row in rows:
        key = row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)
        out[key] = Sums({m: row[f"s_{m}"] or 0 for m in measures})
    return out


# --- filters and levels -----------------------------------------------------------------------------


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Filters:
    year: int
    area: str = ""  # area code
    occupation: str = ""  # occupation code
    training_type: str = ""
    institution: int | None = None  # an official looking at one institution

    @classmethod
    def from_query(cls, query, *, today: dt.date) -> Filters:
        year = _int(query.get("year"))
        if year is None or not 2000 <= year <= today.year + 1:
            year = today.year
        training_type = query.get("type", "")
        return cls(
            year=year,
            area=(query.get("area") or "").strip()[:6],
            occupation=(query.get("occupation") or "").strip().split(" ")[0][:20],
            training_type=training_type if training_type in TYPE_LABELS else "",
            institution=_int(query.get("institution")),
        )

    def query(self, **override) -> str:
        values = {
            "year": self.year,
            "area": self.area,
            "occupation": self.occupation,
            "type": self.training_type,
            "institution": self.institution or "",
        }
        values.update(override)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


@dataclass
class Level:
    key: str  # "region", "city", "county" or "institution"
    name: str
    area: Area | None = None
    institution: Institution | None = None
    area_ids: frozenset[int] | None = None  # None: the whole region

    @property
    def label(self) -> str:
        return {"region": "自治区级", "city": "盟市级", "county": "旗县区级", "institution": "培训机构"}[
            self.key
        ]

    @property
    def children_label(self) -> str:
        return {"region": "盟市", "city": "旗县区", "county": "培训机构", "institution": "职业（工种）"}[
            self.key
        ]

    @property
    def reads_class_facts(self) -> bool:
        return self.key in ("county", "institution")


def _level_of_area(area: Area) -> str:
    if area.kind == Area.Kind.REGION:
        return "region"
    if area.kind == Area.Kind.CITY:
        return "city"
    return "county"


class NotAnInstitution(Http404):
    """An institution operator whose organisation is not (yet) a registered training institution:
    there is nothing of theirs to count. Pages say so instead of a bare 404."""


def resolve_level(user, filters: Filters) -> Level:
    """The level the user asked for, inside their scope; 404 for a user with nothing to see."""
    scope = scope_of(user)
    if scope.organisation_id:
        institution = Institution.objects.filter(organisation_id=scope.organisation_id).first()
        if institution is None:
            raise NotAnInstitution("页面不存在")
        return Level("institution", institution.name, area=institution.area, institution=institution)
    if scope.everything:
        base = Area.objects.filter(kind=Area.Kind.REGION).first()
    elif scope.area_ids and user.organisation_id:
        base = user.organisation.area
    else:
        raise Http404("页面不存在")
    area = base
    if filters.area:
        chosen = Area.objects.filter(code=filters.area).first()
        if chosen is not None and (scope.everything or chosen.id in scope.area_ids):
            area = chosen
    if filters.institution:
        institution = (
            restrict(Institution.objects.select_related("area"), user).filter(pk=filters.institution).first()
        )
        if institution is not None:
            return Level("institution", institution.name, area=institution.area, institution=institution)
    key = _level_of_area(area)
    ids = None if key == "region" else areas_covered(area)
    if not scope.everything and ids is not None:
        ids = ids & scope.area_ids
    return Level(key, area.name, area=area, area_ids=ids)


MONTHLY, BY_OCCUPATION = "monthly", "by_occupation"


def facts(
    user, level: Level, filters: Filters, *, year: bool = True, occupation: bool = True, grain: str = MONTHLY
) -> QuerySet:
    """The fact rows of the level and filters, restricted to the user's scope first.

    `grain` MONTHLY keeps month and person category (county and institution: the class rows; region
    and city: the rows summed over occupations, or per occupation when one is chosen); BY_OCCUPATION
    keeps occupation and institution, summed over the year (InstitutionYearFact)."""
    if grain == BY_OCCUPATION:
        qs = restrict(InstitutionYearFact.objects.all(), user)
        if level.institution is not None:
            qs = qs.filter(institution=level.institution)
    elif level.reads_class_facts:
        qs = restrict(ClassMonthFact.objects.all(), user)
        if level.institution is not None:
            qs = qs.filter(institution=level.institution)
    elif occupation and filters.occupation:
        qs = restrict(AreaMonthFact.objects.all(), user)
    else:
        qs = restrict(AreaTotalFact.objects.all(), user)
    if level.area_ids is not None and level.institution is None:
        qs = qs.filter(area_id__in=level.area_ids)
    if year:
        qs = qs.filter(year=filters.year)
    if occupation and filters.occupation:
        qs = qs.filter(occupation_code=filters.occupation)
    if filters.training_type:
        qs = qs.filter(training_type=filters.training_type)
    return qs


# --- tables and charts ------------------------------------------------------------------------------

INT, PCT, MONEY, TEXT = "int", "pct", "money", "text"


@dataclass
class Column:
    label: str
    kind: str = INT


@dataclass
class Chart:
    key: str
    title: str
    columns: list[Column]
    rows: list[list]
    spec: dict
    note: str = ""
    total: list | None = None
    icon: str = "bar-chart"
    wide: bool = False
    # per row, the filter (area=… or institution=…) that narrows the dashboard to it
    links: list[dict | None] | None = None

    @property
    def empty(self) -> bool:
        return not any(v for s in self.spec.get("series", ()) for v in s["data"] if v)

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.columns]

    def export_rows(self) -> list[list]:
        return [*self.rows, *([self.total] if self.total else [])]

    @property
    def display(self) -> list[tuple[list[tuple[str, bool]], dict | None]]:
        """The first DISPLAY_ROWS rows as text (formatted here, not cell by cell in the template),
        each with its drill-down filter; the Excel export holds them all."""
        kinds = [c.kind for c in self.columns]
        links = self.links or []
        return [
            (
                [(format_cell(v, k), k != TEXT) for v, k in zip(row, kinds, strict=False)],
                links[i] if i < len(links) else None,
            )
            for i, row in enumerate(self.rows[:DISPLAY_ROWS])
        ]

    @property
    def display_total(self) -> list[tuple[str, bool]] | None:
        if not self.total:
            return None
        return [
            (format_cell(v, c.kind), c.kind != TEXT) for v, c in zip(self.total, self.columns, strict=False)
        ]

    @property
    def truncated(self) -> bool:
        return len(self.rows) > DISPLAY_ROWS


DISPLAY_ROWS = 100


def format_cell(value, kind: str) -> str:
    """Counts with thousands separators, rates as 85.3%, money as ¥1,200.00 (ui.md)."""
    if value is None or value == "":
        return "" if kind == TEXT else "—"
    if kind == PCT:
        return f"{Decimal(value):.1f}%"
    if kind == MONEY:
        return f"¥{Decimal(value):,.2f}"
    if kind == INT:
        return f"{int(value):,}"
    return str(value)


def _num(value) -> float | None:
    return None if value is None else float(value)


def _series(name: str, values: Iterable, **extra) -> dict:
    return {"name": name, "data": [_num(v) for v in values], **extra}


# --- the dashboard ----------------------------------------------------------------------------------


@dataclass
class Kpi:
    label: str
    value: object
    kind: str = INT
    hint: str = ""


@dataclass
class Dashboard:
    level: Level
    filters: Filters
    kpis: list[Kpi]
    charts: list[Chart]
    totals: Sums
    children: dict = field(default_factory=dict)

    def chart(self, key: str) -> Chart | None:
        return next((c for c in self.charts if c.key == key), None)


def _child_names(level: Level, keys: Iterable) -> dict:
    keys = [k for k in keys if k is not None]
    if level.key == "region":
        return {a.id: a.name for a in Area.objects.filter(kind__in=(Area.Kind.CITY, Area.Kind.COUNTY_DIRECT))}
    if level.key == "city":
        return dict(Area.objects.filter(id__in=level.area_ids or ()).values_list("id", "name"))
    if level.key == "county":
        return dict(Institution.objects.filter(id__in=keys).values_list("id", "name"))
    return occupation_names(keys)


def occupation_names(codes: Iterable[str]) -> dict[str, str]:
    codes = list(codes)
    return dict(Occupation.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}


@dataclass
class Child:
    name: str
    sums: Sums
    drill: dict | None = None  # the filter that narrows the dashboard to this child

    def __iter__(self):  # unpacks as (name, sums)
        return iter((self.name, self.sums))


def children_of(level: Level, qs: QuerySet, measures: Sequence[str] = RATES) -> list[Child]:
    """(name, sums) per child of the level: the 14 city-level areas side by side for the region
    (zeros included), the areas of a city, the institutions of a county, an institution's
    occupations."""
    dimension = {
        "region": "city_id",
        "city": "area_id",
        "county": "institution_id",
        "institution": "occupation_code",
    }[level.key]
    sums = grouped(qs, dimension, measures)
    names = _child_names(level, sums)
    if level.key == "region":
        cities = Area.objects.filter(kind__in=(Area.Kind.CITY, Area.Kind.COUNTY_DIRECT)).order_by("code")
        return [Child(a.name, sums.get(a.id, Sums()), {"area": a.code}) for a in cities]
    if level.key == "city":
        areas = Area.objects.filter(id__in=level.area_ids or ()).order_by("code")
        return [
            Child(a.name, sums.get(a.id, Sums()), {"area": a.code} if a.id != level.area.id else None)
            for a in areas
            if a.id in sums or a.id != level.area.id
        ]
    ordered = sorted(sums.items(), key=lambda kv: -kv[1]["trainees"])
    drill = "institution" if level.key == "county" else "occupation"
    return [Child(names.get(k, str(k)), s, {drill: k}) for k, s in ordered]


def trainees_by_month(by_month: dict) -> Chart:
    months = [by_month.get(m, Sums()) for m in range(1, 13)]
    rows = [
        [MONTH_LABELS[i], s["classes"], s["trainees"], s["completed"], s["certified"]]
        for i, s in enumerate(months)
    ]
    total = Sums.of(months)
    return Chart(
        "month",
        "培训人数按月",
        [Column("月份", TEXT), Column("开班数"), Column("培训人数"), Column("结业人数"), Column("取证人数")],
        rows,
        {
            "type": "bar",
            "unit": "人",
            "categories": MONTH_LABELS,
            "series": [
                _series("培训人数", (s["trainees"] for s in months)),
                _series("结业人数", (s["completed"] for s in months)),
                _series("取证人数", (s["certified"] for s in months)),
            ],
        },
        note="培训人数计入开班月份，结业、取证人数计入结业月份。",
        total=["合计", total["classes"], total["trainees"], total["completed"], total["certified"]],
        icon="calendar3",
    )


def by_occupation(by_code: dict) -> Chart:
    ordered = sorted(by_code.items(), key=lambda kv: (-kv[1]["trainees"], kv[0]))
    names = occupation_names(k for k, _ in ordered)
    rows = [
        [code, names.get(code, code), s["trainees"], s["completed"], s["certified"], s.completion_rate]
        for code, s in ordered
    ]
    top = [r for r in rows if r[2] or r[3]][:TOP_OCCUPATIONS][::-1]
    total = Sums.of(s for _, s in ordered)
    return Chart(
        "occupation",
        "培训人数按职业（工种）",
        [
            Column("职业编码", TEXT),
            Column("职业（工种）", TEXT),
            Column("培训人数"),
            Column("结业人数"),
            Column("取证人数"),
            Column("结业率（%）", PCT),
        ],
        rows,
        {
            "type": "hbar",
            "unit": "人",
            "categories": [r[1] for r in top],
            "series": [_series("培训人数", (r[2] for r in top)), _series("结业人数", (r[3] for r in top))],
        },
        note=f"图中为培训人数最多的{TOP_OCCUPATIONS}个职业（工种），表格列出全部。",
        total=["", "合计", total["trainees"], total["completed"], total["certified"], total.completion_rate],
        icon="tools",
    )


def by_category(by_cat: dict) -> Chart:
    rows = []
    for value, label in CATEGORY_LABELS.items():
        s = by_cat.get(value, Sums())
        rows.append([label, s["trainees"], s["completed"], s["certified"], s.employment6_rate])
    total = Sums.of(s for k, s in by_cat.items() if k)
    return Chart(
        "category",
        "培训人数按人员类别",
        [
            Column("人员类别", TEXT),
            Column("培训人数"),
            Column("结业人数"),
            Column("取证人数"),
            Column("6个月就业率（%）", PCT),
        ],
        rows,
        {
            "type": "pie",
            "unit": "人",
            "categories": [r[0] for r in rows],
            "series": [_series("培训人数", (r[1] for r in rows))],
        },
        total=["合计", total["trainees"], total["completed"], total["certified"], total.employment6_rate],
        icon="people",
    )


def by_child(level: Level, children: list[Child]) -> Chart:
    rows = [
        [
            name,
            s["trainees"],
            s["completed"],
            s["certified"],
            s.completion_rate,
            s.certificate_rate,
            s.employment6_rate,
        ]
        for name, s in children
    ]
    total = Sums.of(s for _, s in children)
    title = {"region": "各盟市培训人数", "city": "各旗县区培训人数", "county": "各培训机构培训人数"}.get(
        level.key, "各职业培训人数"
    )
    return Chart(
        "area",
        title,
        [
            Column(level.children_label, TEXT),
            Column("培训人数"),
            Column("结业人数"),
            Column("取证人数"),
            Column("结业率（%）", PCT),
            Column("取证率（%）", PCT),
            Column("6个月就业率（%）", PCT),
        ],
        rows,
        {
            "type": "bar",
            "unit": "人",
            "rotate": len(rows) > 8,
            "categories": [r[0] for r in rows],
            "series": [
                _series("培训人数", (r[1] for r in rows)),
                _series("结业人数", (r[2] for r in rows)),
                _series("取证人数", (r[3] for r in rows)),
            ],
        },
        note="满洲里市、二连浩特市计划单列，与12个盟市并列。" if level.key == "region" else "",
        total=[
            "合计",
            total["trainees"],
            total["completed"],
            total["certified"],
            total.completion_rate,
            total.certificate_rate,
            total.employment6_rate,
        ],
        icon="geo-alt",
        wide=True,
        links=[c.drill for c in children],
    )


def rates_by_child(level: Level, children: list[Child], totals: Sums) -> Chart:
    shown = [c for c in children if c.sums["ended"] or c.sums["emp3_due"] or c.sums["emp6_due"]]
    rows = [
        [
            name,
            s["ended"],
            s["completed"],
            s.completion_rate,
            s.certificate_rate,
            s["emp3_due"],
            s.employment3_rate,
            s["emp6_due"],
            s.employment6_rate,
        ]
        for name, s in shown
    ]
    return Chart(
        "rates",
        f"结业率、取证率和就业率（按{level.children_label}）",
        [
            Column(level.children_label, TEXT),
            Column("已结束班级学员"),
            Column("结业人数"),
            Column("结业率（%）", PCT),
            Column("取证率（%）", PCT),
            Column("3个月应跟踪"),
            Column("3个月就业率（%）", PCT),
            Column("6个月应跟踪"),
            Column("6个月就业率（%）", PCT),
        ],
        rows,
        {
            "type": "bar",
            "unit": "%",
            "max": 100,
            "rotate": len(rows) > 8,
            "categories": [r[0] for r in rows],
            "series": [
                _series("结业率", (r[3] for r in rows)),
                _series("取证率", (r[4] for r in rows)),
                _series("3个月就业率", (r[6] for r in rows)),
                _series("6个月就业率", (r[8] for r in rows)),
            ],
        },
        note="结业率＝结业人数÷已结束班级的学员；取证率＝取证人数÷结业人数；就业率＝就业人数÷（已到跟踪节点人数－升学深造人数），计入结业月份。",
        total=[
            "合计",
            totals["ended"],
            totals["completed"],
            totals.completion_rate,
            totals.certificate_rate,
            totals["emp3_due"],
            totals.employment3_rate,
            totals["emp6_due"],
            totals.employment6_rate,
        ],
        icon="percent",
        wide=True,
        links=[c.drill for c in shown],
    )


def subsidies_by_month(by_month: dict) -> Chart:
    months = [by_month.get(m, Sums()) for m in range(1, 13)]
    rows = [
        [
            MONTH_LABELS[i],
            s["subsidy_applied"],
            s["subsidy_applied_amount"],
            s["subsidy_approved"],
            s["subsidy_approved_amount"],
            s["subsidy_paid"],
            s["subsidy_paid_amount"],
        ]
        for i, s in enumerate(months)
    ]
    t = Sums.of(months)
    return Chart(
        "subsidy",
        "补贴申请、审核通过与拨付",
        [
            Column("月份", TEXT),
            Column("申请人数"),
            Column("申请金额（元）", MONEY),
            Column("审核通过人数"),
            Column("审核通过金额（元）", MONEY),
            Column("已拨付人数"),
            Column("已拨付金额（元）", MONEY),
        ],
        rows,
        {
            "type": "bar",
            "unit": "元",
            "categories": MONTH_LABELS,
            "series": [
                _series("申请金额", (r[2] for r in rows)),
                _series("审核通过金额", (r[4] for r in rows)),
                _series("已拨付金额", (r[6] for r in rows)),
            ],
        },
        note="申请计入提交月份，审核通过计入审核办结月份，拨付计入支付日期所在月份。",
        total=[
            "合计",
            t["subsidy_applied"],
            t["subsidy_applied_amount"],
            t["subsidy_approved"],
            t["subsidy_approved_amount"],
            t["subsidy_paid"],
            t["subsidy_paid_amount"],
        ],
        icon="cash-coin",
    )


STAGES = (
    ("opening", "开班审核", "第九条"),
    ("completion", "结业审核", "第十一条"),
    ("subsidy", "补贴审核", "第十四条"),
)


def timeliness(totals: Sums, current: dict[str, dict] | None, limits: dict[str, int]) -> Chart:
    """办结 and 按时办结 from the facts (the year's decisions); 待审核 / 即将到期 / 已逾期 now, from the
    审核时效 page's own computation (web/workload.py) when it covers the same area."""
    rows = []
    for key, label, article in STAGES:
        now = (current or {}).get(key, {})
        rows.append(
            [
                f"{label}（{article}）",
                limits.get(key),
                totals[f"{key}_decided"],
                totals[f"{key}_on_time"],
                totals.on_time_rate(key),
                now.get("pending"),
                now.get("due_soon"),
                now.get("overdue"),
            ]
        )
    return Chart(
        "timeliness",
        "审核时效",
        [
            Column("审核环节", TEXT),
            Column("时限（工作日）"),
            Column("本年办结"),
            Column("按时办结"),
            Column("按时办结率（%）", PCT),
            Column("当前待审核"),
            Column("即将到期"),
            Column("已逾期"),
        ],
        rows,
        {
            "type": "bar",
            "unit": "%",
            "max": 100,
            "categories": [label for _, label, _ in STAGES],
            "series": [_series("按时办结率", (r[4] for r in rows))],
        },
        note="按时办结：从提交次日起所用工作日（退回补正期间停止计时）不超过法定时限。当前待审核、即将到期和已逾期与“审核时效”页面一致。",
        icon="stopwatch",
    )


def findings_by_rule(user, level: Level, filters: Filters) -> Chart:
    qs = restrict(Finding.objects.filter(is_current=True), user).filter(
        training_class__start_date__year=filters.year
    )
    if level.institution is not None:
        qs = qs.filter(training_class__institution=level.institution)
    elif level.area_ids is not None:
        qs = qs.filter(training_class__area_id__in=level.area_ids)
    if filters.occupation:
        qs = qs.filter(training_class__occupation_code=filters.occupation)
    if filters.training_type:
        qs = qs.filter(training_class__training_type=filters.training_type)
    counts = (
        qs.values("rule_code")
        .annotate(
            open=Count("id", filter=Q(status=Finding.Status.OPEN)),
            confirmed=Count("id", filter=Q(status=Finding.Status.CONFIRMED)),
            dismissed=Count("id", filter=Q(status=Finding.Status.DISMISSED)),
        )
        .order_by()
    )
    rows = []
    for c in counts:
        spec = RULES.get(c["rule_code"])
        title = spec.title if spec else c["rule_code"]
        rows.append(
            [
                c["rule_code"],
                title,
                spec.article if spec else "",
                c["open"],
                c["confirmed"],
                c["dismissed"],
                c["open"] + c["confirmed"] + c["dismissed"],
            ]
        )
    rows.sort(key=lambda r: (-r[6], r[0]))
    top = rows[:TOP_RULES][::-1]
    return Chart(
        "findings",
        "问题线索按规则",
        [
            Column("规则", TEXT),
            Column("问题", TEXT),
            Column("依据", TEXT),
            Column("待处理"),
            Column("已确认"),
            Column("已排除"),
            Column("合计"),
        ],
        rows,
        {
            "type": "hbar",
            "unit": "条",
            "stack": True,
            "categories": [r[1] for r in top],
            "series": [
                _series("待处理", (r[3] for r in top)),
                _series("已确认", (r[4] for r in top)),
                _series("已排除", (r[5] for r in top)),
            ],
        },
        note="当前有效的问题线索，按培训班开班年度统计。",
        total=["", "合计", "", *(sum(r[i] for r in rows) for i in (3, 4, 5, 6))],
        icon="shield-exclamation",
    )


# --- supervision (another app; shown only where its models exist) ---------------------------------

SUPERVISION_MODELS = (("Inspection", "督导检查"), ("Violation", "违规认定"), ("Sanction", "处理措施"))
DATE_FIELDS = ("inspected_on", "found_on", "decided_on", "date", "decided_at")


def _supervision_model(name: str):
    if not apps.is_installed("peixun.supervision"):
        return None
    try:
        return apps.get_model("supervision", name)
    except LookupError:
        return None


def _date_field(model) -> str | None:
    names = {f.name for f in model._meta.get_fields()}
    return next((n for n in DATE_FIELDS if n in names), None)


def supervision_by_month(user, level: Level, filters: Filters) -> Chart | None:
    """Inspections and sanctions per month, if the supervision app has such models; None otherwise."""
    series, table = [], {}
    for name, label in SUPERVISION_MODELS:
        model = _supervision_model(name)
        if model is None or getattr(model, "scope_paths", None) is None:
            continue
        date_field = _date_field(model)
        if date_field is None:
            continue
        try:
            qs = restrict(model._default_manager.all(), user).filter(**{f"{date_field}__year": filters.year})
            paths = model.scope_paths
            if level.institution is not None and paths.organisation:
                qs = qs.filter(**{paths.organisation: level.institution.organisation_id})
            elif level.area_ids is not None and paths.area:
                qs = qs.filter(**{f"{paths.area}__in": level.area_ids})
            counts = dict(
                qs.annotate(m=ExtractMonth(date_field))
                .values("m")
                .annotate(n=Count("pk"))
                .values_list("m", "n")
                .order_by()
            )
        except Exception:  # another app's schema may move; leave the chart out, not the page
            logger.exception("supervision chart: %s left out", name)
            continue
        table[label] = [counts.get(m, 0) for m in range(1, 13)]
        series.append(_series(label, table[label]))
    if not series:
        return None
    labels = list(table)
    rows = [[MONTH_LABELS[m], *(table[label][m] for label in labels)] for m in range(12)]
    return Chart(
        "supervision",
        "督导检查与违规处理",
        [Column("月份", TEXT), *(Column(f"{label}（次）") for label in labels)],
        rows,
        {"type": "bar", "unit": "次", "categories": MONTH_LABELS, "series": series},
        total=["合计", *(sum(table[label]) for label in labels)],
        icon="clipboard-check",
    )


# --- assembling -------------------------------------------------------------------------------------


def dashboard_for(
    user,
    filters: Filters,
    *,
    current_timeliness: Callable[[Level], dict | None] | None = None,
    limits: dict[str, int] | None = None,
) -> Dashboard:
    level = resolve_level(user, filters)
    qs = facts(user, level, filters)
    by_month = grouped(qs, "month")
    totals = Sums.of(by_month.values())
    children = children_of(level, qs) if level.key != "institution" else None
    occupation = grouped(facts(user, level, filters, grain=BY_OCCUPATION), "occupation_code", RATES)
    if level.key == "institution":
        names = occupation_names(occupation)
        children = sorted(
            (Child(names.get(k, k), s, {"occupation": k}) for k, s in occupation.items()),
            key=lambda c: -c.sums["trainees"],
        )
    # halves in pairs, the wide area charts between them
    charts = [trainees_by_month(by_month), by_occupation(occupation)]
    if level.key != "institution":
        charts.append(by_child(level, children))
    charts += [
        rates_by_child(level, children, totals),
        by_category(grouped(qs, "category", RATES)),
        subsidies_by_month(by_month),
        timeliness(totals, current_timeliness(level) if current_timeliness else None, limits or {}),
        findings_by_rule(user, level, filters),
    ]
    supervision = supervision_by_month(user, level, filters)
    if supervision is not None and not supervision.empty:
        charts.append(supervision)
    findings = next(c for c in charts if c.key == "findings")
    kpis = [
        Kpi("培训人数", totals["trainees"], hint=f"开班{totals['classes']}个"),
        Kpi("结业率", totals.completion_rate, PCT, hint=f"结业{totals['completed']}人"),
        Kpi("取证率", totals.certificate_rate, PCT, hint=f"取证{totals['certified']}人"),
        Kpi("6个月就业率", totals.employment6_rate, PCT, hint=f"3个月 {_pct_text(totals.employment3_rate)}"),
        Kpi("已拨付补贴", totals["subsidy_paid_amount"], MONEY, hint=f"{totals['subsidy_paid']}人次"),
        Kpi("问题线索", findings.total[-1] if findings.total else 0, hint="当前有效"),
    ]
    return Dashboard(level, filters, kpis, charts, totals)


def _pct_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def occupation_options(user, level: Level, filters: Filters) -> list[tuple[str, str]]:
    """The occupations with numbers in this scope and year (the occupation filter's choices)."""
    key = f"peixun:reports:occupations:{user.pk}:{level.key}:{level.area and level.area.id}:" + (
        f"{level.institution and level.institution.id}:{filters.year}"
    )
    codes = cache.get(key)
    if codes is None:
        qs = facts(user, level, filters, occupation=False, grain=BY_OCCUPATION)
        codes = sorted(set(qs.values_list("occupation_code", flat=True).distinct()))
        cache.set(key, codes, 600)
    names = occupation_names(codes)
    return [(c, names.get(c, c)) for c in codes]


def area_options(user) -> list[Area]:
    """Areas the user may narrow the dashboard to, in code order (city-level areas first in each city)."""
    scope = scope_of(user)
    if scope.everything:
        return list(Area.objects.exclude(kind=Area.Kind.REGION).order_by("code"))
    if scope.area_ids and len(scope.area_ids) > 1:
        return list(Area.objects.filter(id__in=scope.area_ids).order_by("code"))
    return []


def cities_side_by_side(user, filters: Filters) -> list[tuple[Area, Sums]]:
    """The region's 14 city-level areas (12 盟市, 满洲里市, 二连浩特市) with their sums; region only."""
    if not scope_of(user).everything:
        raise Http404("页面不存在")
    table = AreaMonthFact if filters.occupation else AreaTotalFact
    qs = restrict(table.objects.filter(year=filters.year), user)
    if filters.occupation:
        qs = qs.filter(occupation_code=filters.occupation)
    if filters.training_type:
        qs = qs.filter(training_type=filters.training_type)
    sums = grouped(qs, "city_id")
    cities = Area.objects.filter(kind__in=(Area.Kind.CITY, Area.Kind.COUNTY_DIRECT)).order_by("code")
    return [(a, sums.get(a.id, Sums())) for a in cities]


def findings_by_city(user, filters: Filters) -> dict[int, int]:
    """Current findings per city-level area, for the side-by-side view."""
    from .refresh import AreaIndex

    index = AreaIndex()
    qs = restrict(Finding.objects.filter(is_current=True), user).filter(
        training_class__start_date__year=filters.year
    )
    if filters.occupation:
        qs = qs.filter(training_class__occupation_code=filters.occupation)
    if filters.training_type:
        qs = qs.filter(training_class__training_type=filters.training_type)
    out: dict[int, int] = {}
    for area_id, n in qs.values_list("training_class__area_id").annotate(n=Count("id")).order_by():
        city = index.city_of(area_id)
        out[city] = out.get(city, 0) + n
    return out


def cities_charts(user, filters: Filters) -> list[Chart]:
    """The region's 14 city-level areas side by side: volume, rates, money, timeliness, findings."""
    cities = cities_side_by_side(user, filters)
    findings = findings_by_city(user, filters)
    names = [a.name for a, _ in cities]
    total = Sums.of(s for _, s in cities)
    overview = Chart(
        "cities_overview",
        "各盟市培训规模",
        [
            Column("盟市", TEXT),
            Column("开班数"),
            Column("培训人数"),
            Column("结业人数"),
            Column("取证人数"),
            Column("审核按时办结率（%）", PCT),
            Column("问题线索"),
        ],
        [
            [
                a.name,
                s["classes"],
                s["trainees"],
                s["completed"],
                s["certified"],
                _on_time(s),
                findings.get(a.id, 0),
            ]
            for a, s in cities
        ],
        {
            "type": "bar",
            "unit": "人",
            "rotate": True,
            "categories": names,
            "series": [
                _series("培训人数", (s["trainees"] for _, s in cities)),
                _series("结业人数", (s["completed"] for _, s in cities)),
                _series("取证人数", (s["certified"] for _, s in cities)),
            ],
        },
        note="12个盟市与计划单列的满洲里市、二连浩特市并列；审核按时办结率合并开班、结业和补贴审核。",
        total=[
            "全区",
            total["classes"],
            total["trainees"],
            total["completed"],
            total["certified"],
            _on_time(total),
            sum(findings.values()),
        ],
        icon="grid-3x3-gap",
        wide=True,
    )
    rates = Chart(
        "cities_rates",
        "各盟市结业率、取证率和就业率",
        [
            Column("盟市", TEXT),
            Column("结业率（%）", PCT),
            Column("取证率（%）", PCT),
            Column("3个月就业率（%）", PCT),
            Column("6个月就业率（%）", PCT),
        ],
        [
            [a.name, s.completion_rate, s.certificate_rate, s.employment3_rate, s.employment6_rate]
            for a, s in cities
        ],
        {
            "type": "bar",
            "unit": "%",
            "max": 100,
            "rotate": True,
            "categories": names,
            "series": [
                _series("结业率", (s.completion_rate for _, s in cities)),
                _series("取证率", (s.certificate_rate for _, s in cities)),
                _series("6个月就业率", (s.employment6_rate for _, s in cities)),
            ],
        },
        total=[
            "全区",
            total.completion_rate,
            total.certificate_rate,
            total.employment3_rate,
            total.employment6_rate,
        ],
        icon="percent",
        wide=True,
    )
    money = Chart(
        "cities_subsidy",
        "各盟市补贴申请、审核通过与拨付",
        [
            Column("盟市", TEXT),
            Column("申请金额（元）", MONEY),
            Column("审核通过金额（元）", MONEY),
            Column("已拨付金额（元）", MONEY),
            Column("已拨付人数"),
        ],
        [
            [
                a.name,
                s["subsidy_applied_amount"],
                s["subsidy_approved_amount"],
                s["subsidy_paid_amount"],
                s["subsidy_paid"],
            ]
            for a, s in cities
        ],
        {
            "type": "bar",
            "unit": "元",
            "rotate": True,
            "categories": names,
            "series": [
                _series("申请金额", (s["subsidy_applied_amount"] for _, s in cities)),
                _series("审核通过金额", (s["subsidy_approved_amount"] for _, s in cities)),
                _series("已拨付金额", (s["subsidy_paid_amount"] for _, s in cities)),
            ],
        },
        total=[
            "全区",
            total["subsidy_applied_amount"],
            total["subsidy_approved_amount"],
            total["subsidy_paid_amount"],
            total["subsidy_paid"],
        ],
        icon="cash-stack",
        wide=True,
    )
    return [overview, rates, money]


def _on_time(s: Sums) -> Decimal | None:
    decided = s["opening_decided"] + s["completion_decided"] + s["subsidy_decided"]
    on_time = s["opening_on_time"] + s["completion_on_time"] + s["subsidy_on_time"]
    return Sums.percent(rules.rate(on_time, decided))
