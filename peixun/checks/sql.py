"""The bulk path of the rule catalog (rules.md): every rule as a few set-wise SQL statements.

The Python path (engine.run_python) loads one class's facts and applies pure functions; this path
asks the database for the hits of all classes at once, for a province-scale run (a million
trainees, tens of millions of attendance rows). Both must produce the same (rule, class, subject)
set — tests/checks/test_sql_path.py holds them to it.

Portability: the statements run on SQLite and PostgreSQL. Where the two differ (local dates of
stored UTC moments, seconds between moments, formatting) a small method of `_Dialect` writes the
vendor's form. Asia/Shanghai has had no daylight saving since 1991, so a fixed +8 h is exact.

Exactness: hours are compared in integers (seconds of class time scaled by a common factor), never
in floating point, so a trainee at exactly 95 % is not flagged by a rounding error.
"""

# Every statement here is assembled from table names (Model._meta), constants of the code and
# int()-converted numbers; nothing typed by a user reaches the SQL text.
# ruff: noqa: S608

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from django.db import OperationalError, connection

from peixun.attendance.models import AttendanceRecord, OnlineSession
from peixun.core.models import Person
from peixun.institutions.models import Institution, InstitutionListing
from peixun.training.models import Category, Enrollment, ExamResult, Lesson, TrainingClass

from .catalog import PACKAGE_RULES, Hit
from .facts import current_snapshot_ids
from .models import HistoryTraining, RegistryKind, RegistryRow

SHANGHAI_OFFSET = 8 * 3600
EARTH_RADIUS_M = 6_371_000
NUMERIC_LEVELS = "('1', '2', '3', '4', '5')"
# Class ids are written into the statement (they are integers); a long list is split.
CLASS_CHUNK = 2000


class ParamsLike(Protocol):
    """The RuleSettings values the rules read (facts.RuleParams or core.RuleSettings)."""

    exam_min_attendance_share: object
    online_max_share: object
    online_max_hours_per_day: object
    minutes_per_class_hour: int
    lifetime_subsidy_cap: int
    checkin_distance_m: int
    batch_checkin_count: int
    ip_farm_persons: int
    lesson_min_coverage: object


T = {
    "cls": TrainingClass._meta.db_table,
    "les": Lesson._meta.db_table,
    "enr": Enrollment._meta.db_table,
    "exm": ExamResult._meta.db_table,
    "att": AttendanceRecord._meta.db_table,
    "ses": OnlineSession._meta.db_table,
    "per": Person._meta.db_table,
    "reg": RegistryRow._meta.db_table,
    "his": HistoryTraining._meta.db_table,
    "lst": InstitutionListing._meta.db_table,
    "lic": Institution.licensed_occupations.through._meta.db_table,
    "occ": Institution.licensed_occupations.field.related_model._meta.db_table,
}


# --- vendor differences ---------------------------------------------------------------------------


class _Dialect:
    """SQL fragments where SQLite and PostgreSQL differ. Stored moments are UTC; lesson date and
    times are local (Asia/Shanghai)."""

    def __init__(self, vendor: str):
        if vendor not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"the set-wise checks support SQLite and PostgreSQL, not {vendor}")
        self.pg = vendor == "postgresql"

    # dates of stored moments
    def local_date(self, ts: str) -> str:
        if self.pg:
            return f"CAST(({ts} AT TIME ZONE 'Asia/Shanghai') AS DATE)"
        return f"date({ts}, '+8 hours')"

    def local_date_minus_1(self, ts: str) -> str:
        if self.pg:
            return f"(CAST(({ts} AT TIME ZONE 'Asia/Shanghai') AS DATE) - 1)"
        return f"date({ts}, '+8 hours', '-1 day')"

    def day_start(self, d: str) -> str:
        """The UTC moment a local day begins (comparable with stored moments)."""
        if self.pg:
            return f"(CAST({d} AS TIMESTAMP) AT TIME ZONE 'Asia/Shanghai')"
        return f"datetime({d}, '-8 hours')"

    def day_after_start(self, d: str) -> str:
        """The UTC moment the local day after `d` begins."""
        if self.pg:
            return f"(CAST({d} + 1 AS TIMESTAMP) AT TIME ZONE 'Asia/Shanghai')"
        return f"datetime({d}, '+16 hours')"

    def shift(self, ts: str, seconds: int) -> str:
        """A stored moment moved by a whole number of seconds."""
        seconds = int(seconds)
        if self.pg:
            return f"({ts} + ({seconds}) * INTERVAL '1 second')"
        return f"datetime({ts}, '{seconds:+d} seconds')"

    def epoch(self, ts: str) -> str:
        """Whole seconds since 1970 of a stored moment (fractions dropped on both vendors)."""
        if self.pg:
            return f"CAST(FLOOR(EXTRACT(EPOCH FROM {ts})) AS BIGINT)"
        # %% because Django's SQLite cursor turns format-style placeholders into qmarks.
        return f"CAST(strftime('%%s', {ts}) AS INTEGER)"

    # lessons: local date + time; an end before the start runs past midnight (hours.lesson_bounds)
    def lesson_start(self, les: str) -> str:
        if self.pg:
            return f"(({les}.date + {les}.start_time) AT TIME ZONE 'Asia/Shanghai')"
        return f"datetime({les}.date || ' ' || {les}.start_time, '-8 hours')"

    def lesson_end(self, les: str) -> str:
        if self.pg:
            return (
                f"(({les}.date + {les}.end_time + CASE WHEN {les}.end_time < {les}.start_time "
                f"THEN INTERVAL '1 day' ELSE INTERVAL '0 days' END) AT TIME ZONE 'Asia/Shanghai')"
            )
        return (
            f"datetime({les}.date || ' ' || {les}.end_time, CASE WHEN {les}.end_time < {les}.start_time "
            f"THEN '+16 hours' ELSE '-8 hours' END)"
        )

    def lesson_start_epoch(self, les: str) -> str:
        if self.pg:
            return f"(CAST(FLOOR(EXTRACT(EPOCH FROM ({les}.date + {les}.start_time))) AS BIGINT) - {SHANGHAI_OFFSET})"
        return (
            f"(CAST(strftime('%%s', {les}.date || ' ' || {les}.start_time) AS INTEGER) - {SHANGHAI_OFFSET})"
        )

    def lesson_end_epoch(self, les: str) -> str:
        midnight = f"CASE WHEN {les}.end_time < {les}.start_time THEN 86400 ELSE 0 END"
        if self.pg:
            return (
                f"(CAST(FLOOR(EXTRACT(EPOCH FROM ({les}.date + {les}.end_time))) AS BIGINT) "
                f"- {SHANGHAI_OFFSET} + {midnight})"
            )
        return (
            f"(CAST(strftime('%%s', {les}.date || ' ' || {les}.end_time) AS INTEGER) "
            f"- {SHANGHAI_OFFSET} + {midnight})"
        )

    def to_second(self, ts: str) -> str:
        """A stored moment truncated to the second (for identical check-ins)."""
        if self.pg:
            return f"date_trunc('second', {ts})"
        return f"substr({ts}, 1, 19)"

    # integers from dates, for age and month comparisons
    def ymd(self, d: str) -> str:
        if self.pg:
            return (
                f"CAST(EXTRACT(YEAR FROM {d}) * 10000 + EXTRACT(MONTH FROM {d}) * 100 "
                f"+ EXTRACT(DAY FROM {d}) AS INTEGER)"
            )
        return f"CAST(replace({d}, '-', '') AS INTEGER)"

    def ym(self, d: str) -> str:
        if self.pg:
            return f"CAST(EXTRACT(YEAR FROM {d}) * 100 + EXTRACT(MONTH FROM {d}) AS INTEGER)"
        return f"CAST(replace(substr({d}, 1, 7), '-', '') AS INTEGER)"

    @property
    def materialized(self) -> str:
        """Plan this CTE on its own: PostgreSQL otherwise inlines it and misjudges its size.
        (SQLite ≥ 3.35 knows the hint too; it is left out there for older builds.)"""
        return "MATERIALIZED" if self.pg else ""

    def least(self, *exprs: str) -> str:
        return f"{'LEAST' if self.pg else 'min'}({', '.join(exprs)})"

    def greatest(self, *exprs: str) -> str:
        return f"{'GREATEST' if self.pg else 'max'}({', '.join(exprs)})"

    def tenths(self, num: str) -> str:
        """A decimal of one place (hours) as an integer number of tenths."""
        return f"CAST(ROUND({num} * 10) AS BIGINT)" if self.pg else f"CAST(ROUND({num} * 10) AS INTEGER)"

    def ip_present(self, col: str) -> str:
        return f"{col} IS NOT NULL" if self.pg else f"({col} IS NOT NULL AND {col} <> '')"

    # text for evidence (sortable, so MIN() picks the earliest)
    def date_text(self, d: str) -> str:
        return f"TO_CHAR({d}, 'YYYY-MM-DD')" if self.pg else f"{d}"

    def time_text(self, t: str) -> str:
        return f"TO_CHAR({t}, 'HH24:MI')" if self.pg else f"substr({t}, 1, 5)"

    def local_text(self, ts: str) -> str:
        if self.pg:
            return f"TO_CHAR(({ts} AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD HH24:MI:SS')"
        return f"datetime({ts}, '+8 hours')"

    def local_hm(self, ts: str) -> str:
        if self.pg:
            return f"TO_CHAR(({ts} AT TIME ZONE 'Asia/Shanghai'), 'HH24:MI:SS')"
        return f"time({ts}, '+8 hours')"

    def ip_text(self, col: str) -> str:
        return f"host({col})" if self.pg else col

    def num_text(self, expr: str) -> str:
        return f"CAST({expr} AS TEXT)"


def _ensure_sqlite_math(cursor) -> None:
    """SQLite has sin/cos/asin/sqrt/radians only when built with its math functions; add them
    to this connection when missing (LOCATION_MISMATCH computes great-circle distances)."""
    try:
        cursor.execute("SELECT sin(0), cos(0), asin(0), sqrt(1), radians(0)", [])
        cursor.fetchall()
    except OperationalError:  # no such function
        raw = connection.connection
        for name, fn in (
            ("sin", math.sin),
            ("cos", math.cos),
            ("asin", math.asin),
            ("sqrt", math.sqrt),
            ("radians", math.radians),
        ):
            raw.create_function(name, 1, fn, deterministic=True)


# --- the run ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scale:
    """Hours as exact integers: 1 class hour = 60 × minutes_per_class_hour seconds, and every
    quantity below is in seconds × `k`, with `k` chosen so the settings' fractions vanish."""

    k: int
    seconds_per_hour: int
    per_tenth_hour: int  # one tenth of a class hour
    day_cap: int  # online_max_hours_per_day
    share_cap_per_tenth: int  # online_max_share × (one tenth of total hours)
    exam_min_per_tenth: int  # exam_min_attendance_share × (one tenth of total hours)
    coverage: Fraction

    @classmethod
    def of(cls, params: ParamsLike) -> _Scale:
        seconds = 60 * int(params.minutes_per_class_hour)
        daily = Fraction(str(params.online_max_hours_per_day)) * seconds
        share = Fraction(str(params.online_max_share)) * seconds / 10
        exam = Fraction(str(params.exam_min_attendance_share)) * seconds / 10
        tenth = Fraction(seconds, 10)
        k = math.lcm(*(x.denominator for x in (daily, share, exam, tenth)))
        return cls(
            k=k,
            seconds_per_hour=seconds,
            per_tenth_hour=int(tenth * k),
            day_cap=int(daily * k),
            share_cap_per_tenth=int(share * k),
            exam_min_per_tenth=int(exam * k),
            coverage=Fraction(str(params.lesson_min_coverage)),
        )

    def hours(self, scaled: int) -> str:
        """A scaled quantity as class hours for evidence, two places."""
        value = Fraction(int(scaled), self.k * self.seconds_per_hour)
        return f"{float(value):.2f}".rstrip("0").rstrip(".")


class _Run:
    def __init__(self, params: ParamsLike, class_ids: list[int] | None):
        self.p = params
        self.d = _Dialect(connection.vendor)
        self.scale = _Scale.of(params)
        self.class_ids = None if class_ids is None else sorted({int(i) for i in class_ids})
        self._max_seconds: dict[str, int] = {}
        # only the newest snapshot of each registry counts (an import replaces the kind)
        snapshots = ", ".join(str(int(i)) for i in current_snapshot_ids())
        self._snapshots = f"IN ({snapshots})" if snapshots else "IS NULL"

    def current(self, reg: str) -> str:
        """The registry row `reg` belongs to a current snapshot."""
        return f"{reg}.snapshot_id {self._snapshots}"

    # class filter on the "this class" side of a rule; chunks of ids keep the statement short
    def chunks(self) -> Iterable[Callable[[str], str]]:
        if self.class_ids is None:
            yield lambda col: "1 = 1"
            return
        for start in range(0, len(self.class_ids), CLASS_CHUNK):
            ids = ", ".join(str(i) for i in self.class_ids[start : start + CLASS_CHUNK]) or "NULL"
            yield lambda col, ids=ids: f"{col} IN ({ids})"

    def rows(self, build: Callable[[Callable[[str], str]], str]) -> list[tuple]:
        out: list[tuple] = []
        with connection.cursor() as cursor:
            for cls in self.chunks():
                cursor.execute(build(cls), [])
                out.extend(cursor.fetchall())
        return out

    def scalar(self, sql: str) -> object:
        with connection.cursor() as cursor:
            cursor.execute(sql, [])
            return cursor.fetchone()[0]

    def max_seconds(self, table: str, start: str, end: str) -> int:
        """The longest interval in a table, in seconds (+1): bounds range joins so that an
        overlap search on (person, start) reads only nearby rows."""
        key = f"{table}.{start}"
        if key not in self._max_seconds:
            d = self.d
            value = self.scalar(
                f"SELECT MAX({d.epoch(end)} - {d.epoch(start)}) FROM {table} "
                f"WHERE {end} IS NOT NULL AND {end} > {start}"
            )
            self._max_seconds[key] = int(value or 0) + 1
        return self._max_seconds[key]


def run_sql(*, params: ParamsLike, class_ids: list[int] | None = None) -> list[Hit]:
    """The hits of every rule of PACKAGE_RULES, for the given classes (None: every class).

    Evidence from other classes is always considered; `class_ids` only chooses which classes'
    findings are produced.
    """
    run = _Run(params, class_ids)
    if not run.d.pg:
        with connection.cursor() as cursor:
            _ensure_sqlite_math(cursor)
    hits: dict[tuple, Hit] = {}
    for code in PACKAGE_RULES:
        for hit in RULE_QUERIES[code](run):
            hits.setdefault(hit.key, hit)
    return sorted(hits.values())


def _more(count, unit="项") -> str:
    count = int(count)
    return f"（共{count}{unit}）" if count > 1 else ""


def _level_at_or_above(other: str, this: str) -> str:
    """rules.md REPEAT_TRAINING: numeric levels — a number ≤ this class's (1 is highest); other
    levels — the same level."""
    return f"({other} = {this} OR ({other} IN {NUMERIC_LEVELS} AND {this} IN {NUMERIC_LEVELS} AND {other} <= {this}))"


def _covers(lo: str, hi: str, day: str) -> str:
    """An inclusive period [lo, hi] (hi NULL: still open) contains the date `day`."""
    return f"(({lo}) IS NULL OR ({lo}) <= {day}) AND (({hi}) IS NULL OR ({hi}) >= {day})"


def _overlaps(a_start: str, a_end: str, b_start: str, b_end: str) -> str:
    """rules.md: two intervals overlap when each starts before the other ends (touching ends do
    not). An interval with no length — a check-in without check-out — is an instant: it overlaps
    an interval containing it (start included, end excluded), and another instant only when they
    are the same moment (docs/rules-interpretation.md; rules.intervals_overlap)."""
    a_point, b_point = f"{a_start} >= {a_end}", f"{b_start} >= {b_end}"
    a_span, b_span = f"{a_start} < {a_end}", f"{b_start} < {b_end}"
    return (
        f"(({a_span} AND {b_span} AND {a_start} < {b_end} AND {b_start} < {a_end})"
        f" OR ({a_point} AND {b_span} AND {b_start} <= {a_start} AND {a_start} < {b_end})"
        f" OR ({a_span} AND {b_point} AND {a_start} <= {b_start} AND {b_start} < {a_end})"
        f" OR ({a_point} AND {b_point} AND {a_start} = {b_start}))"
    )


def _record_end(a: str) -> str:
    """A record without check-out ends when it starts (an instant)."""
    return f"COALESCE({a}.check_out, {a}.check_in)"


def _trainees(subjects: str) -> str:
    """(cid, pid) of the classes whose trainees — on the roster, or with an attendance, online or
    exam record in the class — include the persons of `subjects` (a query of person ids)."""
    return " UNION ".join(
        f"SELECT training_class_id AS cid, person_id AS pid FROM {T[table]} WHERE person_id IN ({subjects})"
        for table in ("enr", "att", "ses", "exm")
    )


# --- eligibility: registries against the class dates ----------------------------------------------


def rule_age_under_16(run: _Run) -> list[Hit]:
    d = run.d
    rows = run.rows(
        lambda cls: (
            f"""
        SELECT c.code, p.id_hmac, {d.date_text("p.birth_date")}, {d.date_text("c.start_date")}
        FROM {T["enr"]} e
        JOIN {T["cls"]} c ON c.id = e.training_class_id
        JOIN {T["per"]} p ON p.id = e.person_id
        WHERE {cls("c.id")}
          AND {d.ymd("c.start_date")} - {d.ymd("p.birth_date")} < 160000
        """
        )
    )
    return [
        Hit("AGE_UNDER_16", code, hmac, f"身份证号出生日期{birth}，开班日期{start}时未满16周岁")
        for code, hmac, birth, start in rows
    ]


def rule_deceased(run: _Run) -> list[Hit]:
    d = run.d
    rows = run.rows(
        lambda cls: (
            f"""
        WITH dead AS (
            SELECT p.id AS pid, p.id_hmac AS hmac, MIN(r.date_from) AS dd
            FROM {T["reg"]} r JOIN {T["per"]} p ON p.id_hmac = r.id_hmac
            WHERE r.kind = '{RegistryKind.DEATH}' AND {run.current("r")} AND r.date_from IS NOT NULL
            GROUP BY p.id, p.id_hmac
        ),
        trainee AS ({_trainees("SELECT pid FROM dead")}),
        ev AS (
            SELECT trainee.cid AS cid, dead.hmac AS hmac, dead.dd AS dd,
                   {d.date_text("c.start_date")} || ' 开班' AS what
            FROM dead JOIN trainee ON trainee.pid = dead.pid
            JOIN {T["cls"]} c ON c.id = trainee.cid
            WHERE c.start_date > dead.dd
            UNION ALL
            SELECT a.training_class_id, dead.hmac, dead.dd, {d.local_text("a.check_in")} || ' 考勤签到'
            FROM dead JOIN {T["att"]} a ON a.person_id = dead.pid
            WHERE a.check_in >= {d.day_after_start("dead.dd")}
            UNION ALL
            SELECT s.training_class_id, dead.hmac, dead.dd, {d.local_text("s.start_at")} || ' 线上学习'
            FROM dead JOIN {T["ses"]} s ON s.person_id = dead.pid
            WHERE s.start_at >= {d.day_after_start("dead.dd")}
            UNION ALL
            SELECT x.training_class_id, dead.hmac, dead.dd, {d.date_text("x.exam_date")} || ' 结业考试'
            FROM dead JOIN {T["exm"]} x ON x.person_id = dead.pid
            WHERE x.exam_date > dead.dd
        )
        SELECT c.code, ev.hmac, {d.date_text("ev.dd")}, MIN(ev.what), COUNT(*)
        FROM ev JOIN {T["cls"]} c ON c.id = ev.cid
        WHERE {cls("c.id")}
        GROUP BY c.code, ev.hmac, ev.dd
        """
        )
    )
    return [
        Hit("DECEASED", code, hmac, f"公安死亡信息：死亡日期{dd}；{first}晚于死亡日期{_more(n)}")
        for code, hmac, dd, first, n in rows
    ]


def _registry_overlap_rule(
    run: _Run, *, rule: str, kind: str, join_on: str, label: str, tail: str, roster_where: str | None = None
) -> list[Hit]:
    """Trainees with a current registry row of `kind` meeting `join_on` (aliases c, p, r).

    With `roster_where` (alias e) only the roster is judged (the rule needs the category);
    otherwise every trainee of the class — on the roster or with a record in it."""
    d = run.d
    period = (
        f"{d.date_text('r.date_from')} || '至' || COALESCE({d.date_text('r.date_to')}, '今')"
        f" || CASE WHEN r.org_name <> '' THEN '（' || r.org_name || '）' ELSE '' END"
    )
    if roster_where is None:
        subjects = (
            f"SELECT p.id FROM {T['reg']} r JOIN {T['per']} p ON p.id_hmac = r.id_hmac "
            f"WHERE r.kind = '{kind}' AND {run.current('r')}"
        )
        source = f"({_trainees(subjects)}) t"
        where = "1 = 1"
    else:
        source = f"(SELECT training_class_id AS cid, person_id AS pid, category FROM {T['enr']}) e"
        where = roster_where
    alias = "t" if roster_where is None else "e"
    rows = run.rows(
        lambda cls: (
            f"""
        SELECT c.code, p.id_hmac, MIN({period}), COUNT(*),
               {d.date_text("c.start_date")}, {d.date_text("c.end_date")}
        FROM {source}
        JOIN {T["cls"]} c ON c.id = {alias}.cid
        JOIN {T["per"]} p ON p.id = {alias}.pid
        JOIN {T["reg"]} r ON r.kind = '{kind}' AND {run.current("r")} AND r.id_hmac = p.id_hmac AND {join_on}
        WHERE {cls("c.id")} AND {where}
        GROUP BY c.code, p.id_hmac, c.start_date, c.end_date
        """
        )
    )
    return [
        Hit(rule, code, hmac, f"{label}：{first}{_more(n, '条')}；{tail.format(start=start, end=end)}")
        for code, hmac, first, n, start, end in rows
    ]


def rule_public_payroll(run: _Run) -> list[Hit]:
    return _registry_overlap_rule(
        run,
        rule="PUBLIC_PAYROLL",
        kind=RegistryKind.PUBLIC_PAYROLL,
        join_on="(r.date_from IS NULL OR r.date_from <= c.end_date) AND (r.date_to IS NULL OR r.date_to >= c.start_date)",
        label="财政供养信息",
        tail="与培训期{start}至{end}重叠",
    )


def rule_unemployed_not_registered(run: _Run) -> list[Hit]:
    d = run.d
    rows = run.rows(
        lambda cls: (
            f"""
        SELECT c.code, p.id_hmac, {d.date_text("c.start_date")}
        FROM {T["enr"]} e
        JOIN {T["cls"]} c ON c.id = e.training_class_id
        JOIN {T["per"]} p ON p.id = e.person_id
        WHERE {cls("c.id")} AND e.category = '{Category.REGISTERED_UNEMPLOYED}'
          AND NOT EXISTS (
            SELECT 1 FROM {T["reg"]} r
            WHERE r.kind = '{RegistryKind.UNEMPLOYMENT_REGISTRATION}' AND {run.current("r")}
              AND r.id_hmac = p.id_hmac
              AND {_covers("r.date_from", "r.date_to", "c.start_date")}
          )
        """
        )
    )
    return [
        Hit(
            "UNEMPLOYED_NOT_REGISTERED",
            code,
            hmac,
            f"人员类别为城镇登记失业人员，但就业失业登记中没有覆盖开班日期{start}的失业登记",
        )
        for code, hmac, start in rows
    ]


def rule_unemployed_but_insured(run: _Run) -> list[Hit]:
    d = run.d
    cats = ", ".join(
        f"'{c}'" for c in (Category.REGISTERED_UNEMPLOYED, Category.RURAL_MIGRANT, Category.SCHOOL_LEAVER)
    )
    start_month = d.ym("c.start_date")
    return _registry_overlap_rule(
        run,
        rule="UNEMPLOYED_BUT_INSURED",
        kind=RegistryKind.SOCIAL_INSURANCE,
        roster_where=f"e.category IN ({cats})",
        join_on=(
            f"(r.date_from IS NULL OR {d.ym('r.date_from')} <= {start_month}) "
            f"AND (r.date_to IS NULL OR {d.ym('r.date_to')} >= {start_month})"
        ),
        label="社会保险参保信息",
        tail="参保期覆盖开班日期{start}所在月份",
    )


def rule_unemployed_but_business(run: _Run) -> list[Hit]:
    return _registry_overlap_rule(
        run,
        rule="UNEMPLOYED_BUT_BUSINESS",
        kind=RegistryKind.BUSINESS_LICENSE,
        roster_where=f"e.category = '{Category.REGISTERED_UNEMPLOYED}' AND c.training_type <> 'STARTUP'",
        join_on=_covers("r.date_from", "r.date_to", "c.start_date"),
        label="工商营业执照信息（成立至注销）",
        tail="开班日期{start}营业执照有效",
    )


def rule_hospitalized_present(run: _Run) -> list[Hit]:
    d = run.d
    # the hospital is not named: health data; the stay's dates identify the row
    detail = (
        f"{d.local_text('a.check_in')} || ' 签到，住院期间' || {d.date_text('r.date_from')} || '至'"
        f" || COALESCE({d.date_text('r.date_to')}, '今（未出院）')"
    )
    rows = run.rows(
        lambda cls: (
            f"""
        SELECT c.code, p.id_hmac, MIN({detail}), COUNT(*)
        FROM {T["reg"]} r
        JOIN {T["per"]} p ON p.id_hmac = r.id_hmac
        JOIN {T["att"]} a ON a.person_id = p.id
             AND (r.date_from IS NULL OR a.check_in >= {d.day_start("r.date_from")})
             AND (r.date_to IS NULL OR a.check_in < {d.day_after_start("r.date_to")})
        JOIN {T["cls"]} c ON c.id = a.training_class_id
        WHERE r.kind = '{RegistryKind.HOSPITALIZATION}' AND {run.current("r")} AND {cls("c.id")}
        GROUP BY c.code, p.id_hmac
        """
        )
    )
    return [
        Hit(
            "HOSPITALIZED_PRESENT",
            code,
            hmac,
            f"医保住院信息：住院期间有考勤记录，{first}{_more(n, '条考勤')}",
        )
        for code, hmac, first, n in rows
    ]


# --- repeat training, certificates, lifetime cap ---------------------------------------------------


def rule_repeat_training(run: _Run) -> list[Hit]:
    d = run.d
    rows = run.rows(
        lambda cls: (
            f"""
        SELECT code, hmac, MIN(what), COUNT(*) FROM (
            SELECT c.code AS code, p.id_hmac AS hmac,
                   '历史补贴培训：' || h.occupation_code || ' 等级' || h.level || ' '
                   || {d.date_text("h.completed_on")} || '结业' AS what
            FROM {T["enr"]} e
            JOIN {T["cls"]} c ON c.id = e.training_class_id
            JOIN {T["per"]} p ON p.id = e.person_id
            JOIN {T["his"]} h ON h.id_hmac = p.id_hmac AND h.occupation_code = c.occupation_code
                 AND {_level_at_or_above("h.level", "c.level")}
            WHERE {cls("c.id")}
            UNION ALL
            SELECT c.code, p.id_hmac,
                   '已参加培训班' || c2.code || '：' || c2.occupation_code || ' 等级' || c2.level || ' '
                   || {d.date_text("c2.start_date")} || '开班'
            FROM {T["enr"]} e
            JOIN {T["cls"]} c ON c.id = e.training_class_id
            JOIN {T["per"]} p ON p.id = e.person_id
            JOIN {T["enr"]} e2 ON e2.person_id = e.person_id AND e2.training_class_id <> e.training_class_id
            JOIN {T["cls"]} c2 ON c2.id = e2.training_class_id AND c2.occupation_code = c.occupation_code
                 AND c2.start_date <= c.start_date AND {_level_at_or_above("c2.level", "c.level")}
            WHERE {cls("c.id")}
        ) x
        GROUP BY code, hmac
        """
        )
    )
    return [
        Hit("REPEAT_TRAINING", code, hmac, f"已有同一工种同等或更高等级的补贴培训，{first}{_more(n, '次')}")
        for code, hmac, first, n in rows
    ]


def rule_already_certified(run: _Run) -> list[Hit]:
    d = run.d
    detail = (
        f"r.occupation_code || ' 等级' || r.level || ' 证书' || COALESCE(NULLIF(r.certificate_no, ''), '')"
        f" || ' ' || {d.date_text('r.date_from')} || '颁发'"
    )
    rows = run.rows(
        lambda cls: (
            f"""
        WITH certified AS (
            SELECT p.id AS pid FROM {T["reg"]} r JOIN {T["per"]} p ON p.id_hmac = r.id_hmac
            WHERE r.kind = '{RegistryKind.SKILL_CERTIFICATE}' AND {run.current("r")}
        ),
        trainee AS ({_trainees("SELECT pid FROM certified")})
        SELECT c.code, p.id_hmac, MIN({detail}), COUNT(*), {d.date_text("c.start_date")}
        FROM trainee
        JOIN {T["cls"]} c ON c.id = trainee.cid
        JOIN {T["per"]} p ON p.id = trainee.pid
        JOIN {T["reg"]} r ON r.kind = '{RegistryKind.SKILL_CERTIFICATE}' AND {run.current("r")}
             AND r.id_hmac = p.id_hmac
             AND r.occupation_code = c.occupation_code AND r.date_from < c.start_date
             AND {_level_at_or_above("r.level", "c.level")}
        WHERE {cls("c.id")}
        GROUP BY c.code, p.id_hmac, c.start_date
        """
        )
    )
    return [
        Hit(
            "ALREADY_CERTIFIED",
            code,
            hmac,
            f"技能人才评价：开班日期{start}前已取得同一工种同等或更高等级证书，{first}{_more(n, '本')}",
        )
        for code, hmac, first, n, start in rows
    ]


def rule_lifetime_cap(run: _Run) -> list[Hit]:
    cap = int(run.p.lifetime_subsidy_cap)
    rows = run.rows(
        lambda cls: (
            f"""
        WITH people AS (
            SELECT DISTINCT e.person_id AS pid
            FROM {T["enr"]} e JOIN {T["cls"]} c ON c.id = e.training_class_id
            WHERE {cls("c.id")}
        ),
        ranked AS (
            SELECT e.training_class_id AS cid, e.person_id AS pid,
                   ROW_NUMBER() OVER (PARTITION BY e.person_id ORDER BY c.start_date, c.code) AS rn
            FROM {T["enr"]} e
            JOIN people ON people.pid = e.person_id
            JOIN {T["cls"]} c ON c.id = e.training_class_id
        ),
        hist AS (SELECT id_hmac, COUNT(*) AS n FROM {T["his"]} GROUP BY id_hmac)
        SELECT c.code, p.id_hmac, COALESCE(hist.n, 0), ranked.rn
        FROM ranked
        JOIN {T["cls"]} c ON c.id = ranked.cid
        JOIN {T["per"]} p ON p.id = ranked.pid
        LEFT JOIN hist ON hist.id_hmac = p.id_hmac
        WHERE {cls("c.id")} AND COALESCE(hist.n, 0) + ranked.rn > {cap}
        """
        )
    )
    return [
        Hit(
            "LIFETIME_CAP",
            code,
            hmac,
            f"历史补贴培训{int(h)}次，本班为在本系统的第{int(rn)}个培训班，"
            f"合计第{int(h) + int(rn)}次补贴培训，超过终身{cap}次上限",
        )
        for code, hmac, h, rn in rows
    ]


# --- attendance against attendance, lessons and places ---------------------------------------------


def rule_overlapping_classes(run: _Run) -> list[Hit]:
    d = run.d
    bound = run.max_seconds(T["att"], "check_in", "check_out")
    a1_end, a2_end = _record_end("a1"), _record_end("a2")
    detail = (
        f"{d.local_text('a1.check_in')} || COALESCE('至' || {d.local_hm('a1.check_out')}, '（无签退）')"
        f" || ' 与培训班' || c2.code || ' ' || {d.local_text('a2.check_in')}"
        f" || COALESCE('至' || {d.local_hm('a2.check_out')}, '（无签退）')"
    )
    # Only (person, class) pairs whose overall spans meet can hold overlapping records: the few
    # trainees in two classes at once. Within them a record's partners start at most the longest
    # record's length before it, which keeps the (person, check_in) index scans short.
    m = d.materialized
    rows = run.rows(
        lambda cls: (
            f"""
        WITH span AS {m} (
            SELECT person_id AS pid, training_class_id AS cid, MIN(check_in) AS lo,
                   MAX({d.greatest("check_in", "COALESCE(check_out, check_in)")}) AS hi
            FROM {T["att"]}
            GROUP BY person_id, training_class_id
        ),
        pair AS {m} (
            SELECT s1.pid, s1.cid AS c1, s2.cid AS c2
            FROM span s1 JOIN span s2 ON s2.pid = s1.pid AND s2.cid <> s1.cid
                 AND s1.lo <= s2.hi AND s2.lo <= s1.hi
            WHERE {cls("s1.cid")}
        ),
        a1 AS {m} (
            SELECT pair.c1, pair.c2, a.person_id, a.check_in, a.check_out
            FROM pair JOIN {T["att"]} a ON a.person_id = pair.pid AND a.training_class_id = pair.c1
        ),
        found AS {m} (
            SELECT a1.c1 AS cid, a1.person_id AS pid, MIN({detail}) AS what, COUNT(*) AS n
            FROM a1
            JOIN {T["att"]} a2 ON a2.person_id = a1.person_id AND a2.training_class_id = a1.c2
                 AND a2.check_in >= {d.shift("a1.check_in", -bound)}
                 AND a2.check_in <= {d.greatest("a1.check_in", a1_end)}
                 AND {_overlaps("a1.check_in", a1_end, "a2.check_in", a2_end)}
            JOIN {T["cls"]} c2 ON c2.id = a1.c2
            GROUP BY a1.c1, a1.person_id
        )
        SELECT c.code, p.id_hmac, found.what, found.n
        FROM found
        JOIN {T["cls"]} c ON c.id = found.cid
        JOIN {T["per"]} p ON p.id = found.pid
        """
        )
    )
    return [
        Hit("OVERLAPPING_CLASSES", code, hmac, f"考勤时间重叠：本班{first}{_more(n, '对')}")
        for code, hmac, first, n in rows
    ]


def rule_teacher_double_booked(run: _Run) -> list[Hit]:
    d = run.d
    detail = (
        f"{d.date_text('l1.date')} || ' ' || {d.time_text('l1.start_time')} || '-' || {d.time_text('l1.end_time')}"
        f" || ' 与培训班' || c2.code || ' ' || {d.time_text('l2.start_time')} || '-' || {d.time_text('l2.end_time')}"
    )
    # same date, and the scheduled moments overlap (a lesson past midnight ends the next day)
    rows = run.rows(
        lambda cls: (
            f"""
        SELECT c.code, t.id_hmac, MIN({detail}), COUNT(*)
        FROM {T["les"]} l1
        JOIN {T["les"]} l2 ON l2.teacher_id = l1.teacher_id AND l2.date = l1.date
             AND l2.training_class_id <> l1.training_class_id
        JOIN {T["cls"]} c ON c.id = l1.training_class_id
        JOIN {T["cls"]} c2 ON c2.id = l2.training_class_id
        JOIN {T["per"]} t ON t.id = l1.teacher_id
        WHERE l1.teacher_id IS NOT NULL AND {cls("c.id")}
          AND {_overlaps(d.lesson_start("l1"), d.lesson_end("l1"), d.lesson_start("l2"), d.lesson_end("l2"))}
        GROUP BY c.code, t.id_hmac
        """
        )
    )
    return [
        Hit("TEACHER_DOUBLE_BOOKED", code, hmac, f"同一教师同时段在两个班授课：本班{first}{_more(n, '对')}")
        for code, hmac, first, n in rows
    ]


def rule_attendance_outside_schedule(run: _Run) -> list[Hit]:
    d = run.d
    detail = f"{d.local_text('a.check_in')} || COALESCE('至' || {d.local_hm('a.check_out')}, '（无签退）')"
    a_end = _record_end("a")
    # PostgreSQL hashes the class's lessons once; SQLite probes them per record, so it narrows the
    # probe to lessons dated from the day before the check-in (a lesson past midnight) on.
    near = (
        ""
        if d.pg
        else f"AND lesson.day >= {d.local_date_minus_1('a.check_in')}"
        f" AND lesson.day <= {d.local_date(d.greatest('a.check_in', a_end))}"
    )
    rows = run.rows(
        lambda cls: (
            f"""
        WITH lesson AS {d.materialized} (
            SELECT l.training_class_id AS cid, l.date AS day,
                   {d.lesson_start("l")} AS ls_at, {d.lesson_end("l")} AS le_at
            FROM {T["les"]} l WHERE l.mode = 'OFFLINE'
        )
        SELECT c.code, p.id_hmac, MIN({detail}), COUNT(*)
        FROM {T["att"]} a
        JOIN {T["cls"]} c ON c.id = a.training_class_id
        JOIN {T["per"]} p ON p.id = a.person_id
        WHERE {cls("c.id")}
          AND NOT EXISTS (
            SELECT 1 FROM lesson
            WHERE lesson.cid = a.training_class_id {near}
              AND {_overlaps("a.check_in", a_end, "lesson.ls_at", "lesson.le_at")}
          )
        GROUP BY c.code, p.id_hmac
        """
        )
    )
    return [
        Hit(
            "ATTENDANCE_OUTSIDE_SCHEDULE",
            code,
            hmac,
            f"考勤记录{first}与本班任何线下课程时段均不重叠{_more(n, '条')}",
        )
        for code, hmac, first, n in rows
    ]


def rule_duplicate_photo(run: _Run) -> list[Hit]:
    d = run.d
    # the other carrier is not named here: each is reported in their own finding
    detail = (
        f"{d.local_text('a.check_in')} || '签到照片（哈希' || substr(a.photo_sha256, 1, 12) || '…）与'"
        f" || CASE WHEN b.person_id <> a.person_id THEN '其他人员' ELSE '本人另一天' END"
        f" || '在培训班' || c2.code || '于' || {d.local_text('b.check_in')} || '的考勤照片相同'"
    )
    rows = run.rows(
        lambda cls: (
            f"""
        WITH dup AS {d.materialized} (
            SELECT photo_sha256 FROM {T["att"]}
            WHERE photo_sha256 <> '' GROUP BY photo_sha256 HAVING COUNT(*) > 1
        )
        SELECT c.code, p.id_hmac, MIN({detail}), COUNT(*)
        FROM dup
        JOIN {T["att"]} a ON a.photo_sha256 = dup.photo_sha256
        JOIN {T["att"]} b ON b.photo_sha256 = dup.photo_sha256 AND b.id <> a.id
             AND (b.person_id <> a.person_id
                  OR {d.local_date("b.check_in")} <> {d.local_date("a.check_in")})
        JOIN {T["cls"]} c ON c.id = a.training_class_id
        JOIN {T["cls"]} c2 ON c2.id = b.training_class_id
        JOIN {T["per"]} p ON p.id = a.person_id
        WHERE {cls("c.id")}
        GROUP BY c.code, p.id_hmac
        """
        )
    )
    return [
        Hit("DUPLICATE_PHOTO", code, hmac, f"考勤照片重复：{first}{_more(n, '处')}")
        for code, hmac, first, n in rows
    ]


def rule_location_mismatch(run: _Run) -> list[Hit]:
    d = run.d
    limit = int(run.p.checkin_distance_m)
    # haversine, operation for operation as rules.distance_m (the same libm on both sides, so a
    # record right at the limit is judged alike); asin's argument is clamped to 1 against
    # rounding (PostgreSQL raises on > 1)
    dp = "(radians(a.lat) - radians(c.site_lat))"
    dl = "radians(a.lon - c.site_lon)"
    hav = (
        f"(sin({dp} / 2) * sin({dp} / 2)"
        f" + cos(radians(c.site_lat)) * cos(radians(a.lat)) * (sin({dl} / 2) * sin({dl} / 2)))"
    )
    distance = f"(2 * {EARTH_RADIUS_M} * asin(sqrt({d.least(hav, '1.0')})))"
    rows = run.rows(
        lambda cls: (
            f"""
        SELECT code, hmac, MIN(what), COUNT(*), MAX(dist) FROM (
            SELECT c.code AS code, p.id_hmac AS hmac, {distance} AS dist,
                   {d.local_text("a.check_in")} AS what
            FROM {T["att"]} a
            JOIN {T["cls"]} c ON c.id = a.training_class_id
            JOIN {T["per"]} p ON p.id = a.person_id
            WHERE {cls("c.id")} AND a.lat IS NOT NULL AND a.lon IS NOT NULL
              AND c.site_lat IS NOT NULL AND c.site_lon IS NOT NULL
        ) x
        WHERE dist > {limit}
        GROUP BY code, hmac
        """
        )
    )
    return [
        Hit(
            "LOCATION_MISMATCH",
            code,
            hmac,
            f"签到位置距培训地点超过{limit}米：{first}签到{_more(n, '次')}，最远约{round(float(far))}米",
        )
        for code, hmac, first, n, far in rows
    ]


def rule_batch_checkin(run: _Run) -> list[Hit]:
    d = run.d
    n_min = int(run.p.batch_checkin_count)
    rows = run.rows(
        lambda cls: (
            f"""
        SELECT code, MIN(what), COUNT(*) FROM (
            SELECT c.code AS code,
                   {d.local_text("MIN(a.check_in)")} || ' 同时签到' || {d.num_text("COUNT(*)")} || '条' AS what
            FROM {T["att"]} a JOIN {T["cls"]} c ON c.id = a.training_class_id
            WHERE {cls("c.id")}
            GROUP BY c.code, {d.to_second("a.check_in")}
            HAVING COUNT(*) >= {n_min}
        ) x
        GROUP BY code
        """
        )
    )
    return [
        Hit("BATCH_CHECKIN", code, "", f"同一秒批量签到：{first}{_more(n, '个时刻')}")
        for code, first, n in rows
    ]


# --- hours: offline lessons covered, online sessions capped -----------------------------------------


def _online_days_cte(run: _Run, scope: str) -> str:
    """Valid online seconds of each (class, trainee, day); `scope` filters sessions (alias s)."""
    d = run.d
    return f"""
        online_day AS (
            SELECT s.training_class_id AS cid, s.person_id AS pid, {d.local_date("s.start_at")} AS day,
                   SUM({d.greatest(f"{d.epoch('s.end_at')} - {d.epoch('s.start_at')}", "0")}) AS secs
            FROM {T["ses"]} s
            WHERE s.face_checks_failed = 0 AND {scope}
            GROUP BY s.training_class_id, s.person_id, {d.local_date("s.start_at")}
        )"""


EXAMINED_SESSION = (
    "EXISTS (SELECT 1 FROM examined WHERE examined.cid = s.training_class_id AND examined.pid = s.person_id)"
)


def rule_attendance_below_threshold(run: _Run) -> list[Hit]:
    d, sc = run.d, run.scale
    cov = sc.coverage
    bound = run.max_seconds(T["att"], "check_in", "check_out")
    ai, ao = d.epoch("a.check_in"), d.epoch("a.check_out")
    total_t = d.tenths("c.total_hours")
    capped = f"{d.least(f'secs * {sc.k}', str(sc.day_cap))}"
    share_cap = d.greatest(f"{total_t} * {sc.share_cap_per_tenth}", "0")
    online = d.least("COALESCE(onl.capped, 0)", share_cap)
    counted = f"(COALESCE(off.tenths, 0) * {sc.per_tenth_hour} + {online})"
    m = d.materialized
    # A covering record overlaps the lesson, so it starts less than the longest record's length
    # before the lesson starts; only a coverage of 0 lets a record anywhere count (as in hours).
    near = (
        f"a.check_in < lesson.le_at AND a.check_in >= {d.shift('lesson.ls_at', -bound)} AND a.check_out > lesson.ls_at"
        if cov > 0
        else "1 = 1"
    )
    # A lesson counts when ONE record covers ≥ coverage of it (hours.lesson_covered): for each
    # examined trainee and offline lesson, probe the trainee's records in the class that start
    # within the longest record's length before the lesson ends (index on class, person, check_in).
    rows = run.rows(
        lambda cls: (
            f"""
        WITH examined AS {m} (
            SELECT x.training_class_id AS cid, x.person_id AS pid
            FROM {T["exm"]} x WHERE {cls("x.training_class_id")}
        ),
        lesson AS {m} (
            SELECT l.id AS lid, l.training_class_id AS cid, {d.tenths("l.hours")} AS tenths,
                   {d.lesson_start("l")} AS ls_at, {d.lesson_end("l")} AS le_at,
                   {d.lesson_start_epoch("l")} AS ls, {d.lesson_end_epoch("l")} AS le
            FROM {T["les"]} l
            WHERE l.mode = 'OFFLINE' AND l.training_class_id IN (SELECT cid FROM examined)
        ),
        covered AS (
            SELECT examined.cid, examined.pid, lesson.tenths
            FROM examined JOIN lesson ON lesson.cid = examined.cid
            WHERE lesson.le > lesson.ls AND EXISTS (
                SELECT 1 FROM {T["att"]} a
                WHERE a.training_class_id = examined.cid AND a.person_id = examined.pid
                  AND a.check_out IS NOT NULL AND {near}
                  AND ({d.least(ao, "lesson.le")} - {d.greatest(ai, "lesson.ls")}) * {cov.denominator}
                      >= {cov.numerator} * (lesson.le - lesson.ls)
            )
        ),
        off AS (SELECT cid, pid, SUM(tenths) AS tenths FROM covered GROUP BY cid, pid),
        {_online_days_cte(run, EXAMINED_SESSION).strip()},
        onl AS (SELECT cid, pid, SUM({capped}) AS capped FROM online_day GROUP BY cid, pid)
        SELECT c.code, p.id_hmac, {total_t}, COALESCE(off.tenths, 0), {online}
        FROM examined
        JOIN {T["cls"]} c ON c.id = examined.cid
        JOIN {T["per"]} p ON p.id = examined.pid
        LEFT JOIN off ON off.cid = examined.cid AND off.pid = examined.pid
        LEFT JOIN onl ON onl.cid = examined.cid AND onl.pid = examined.pid
        WHERE {total_t} <= 0 OR {counted} < {total_t} * {sc.exam_min_per_tenth}
        """
        )
    )
    share = run.p.exam_min_attendance_share
    hits = []
    for code, hmac, total_t, off_t, online in rows:
        offline_h = Fraction(int(off_t), 10)
        counted = offline_h + Fraction(int(online), sc.k * sc.seconds_per_hour)
        total_h = Fraction(int(total_t), 10)
        hits.append(
            Hit(
                "ATTENDANCE_BELOW_THRESHOLD",
                code,
                hmac,
                f"参加了结业考试，但计入学时{float(counted):.2f}课时（线下{float(offline_h):g}、"
                f"线上{sc.hours(online)}），占总课时{float(total_h):g}的"
                f"{(float(counted / total_h) * 100 if total_h > 0 else 0):.1f}%，低于{float(share) * 100:g}%",
            )
        )
    return hits


def rule_online_daily_exceeded(run: _Run) -> list[Hit]:
    sc = run.scale
    rows = run.rows(
        lambda cls: (
            f"""
        WITH {_online_days_cte(run, cls("s.training_class_id")).strip()}
        SELECT c.code, p.id_hmac, MIN(online_day.day), MAX(online_day.secs), COUNT(*)
        FROM online_day
        JOIN {T["cls"]} c ON c.id = online_day.cid
        JOIN {T["per"]} p ON p.id = online_day.pid
        WHERE online_day.secs * {sc.k} > {sc.day_cap}
        GROUP BY c.code, p.id_hmac
        """
        )
    )
    dmax = run.p.online_max_hours_per_day
    return [
        Hit(
            "ONLINE_DAILY_EXCEEDED",
            code,
            hmac,
            f"{_as_date_text(day)}起有{int(n)}天有效线上学时超过每日上限{float(dmax):g}课时，"
            f"单日最多{sc.hours(int(secs) * sc.k)}课时",
        )
        for code, hmac, day, secs, n in rows
    ]


def _as_date_text(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def rule_online_share_exceeded(run: _Run) -> list[Hit]:
    d, sc = run.d, run.scale
    total_t = d.tenths("c.total_hours")
    rows = run.rows(
        lambda cls: (
            f"""
        WITH {_online_days_cte(run, cls("s.training_class_id")).strip()},
        per_class AS (
            SELECT cid, pid, SUM({d.least(f"secs * {sc.k}", str(sc.day_cap))}) AS capped
            FROM online_day GROUP BY cid, pid
        )
        SELECT c.code, p.id_hmac, per_class.capped, {total_t}
        FROM per_class
        JOIN {T["cls"]} c ON c.id = per_class.cid
        JOIN {T["per"]} p ON p.id = per_class.pid
        WHERE per_class.capped > {total_t} * {sc.share_cap_per_tenth}
        """
        )
    )
    share = run.p.online_max_share
    return [
        Hit(
            "ONLINE_SHARE_EXCEEDED",
            code,
            hmac,
            f"有效线上学时（每日封顶后）{sc.hours(capped)}课时，超过总课时{int(total_t) / 10:g}的"
            f"{float(share) * 100:g}%（{sc.hours(int(total_t) * sc.share_cap_per_tenth)}课时）",
        )
        for code, hmac, capped, total_t in rows
    ]


# --- online sessions -------------------------------------------------------------------------------


def rule_online_concurrent(run: _Run) -> list[Hit]:
    d = run.d
    ses_bound = run.max_seconds(T["ses"], "start_at", "end_at")
    att_bound = run.max_seconds(T["att"], "check_in", "check_out")
    a_end = _record_end("a")
    s1 = f"{d.local_text('s1.start_at')} || '至' || {d.local_hm('s1.end_at')} || '的线上学习'"
    # A session's partners start at most the longest session (record) before it: bounded index
    # range scans on (person, start) instead of every pair of a trainee's sessions.
    rows = run.rows(
        lambda cls: (
            f"""
        SELECT c.code, p.id_hmac, MIN(x.what), COUNT(*) FROM (
            SELECT s1.training_class_id AS cid, s1.person_id AS pid,
                   {s1} || '与' || {d.local_text("s2.start_at")} || '至' || {d.local_hm("s2.end_at")}
                   || '的线上学习重叠' AS what
            FROM {T["ses"]} s1
            JOIN {T["ses"]} s2 ON s2.person_id = s1.person_id AND s2.id <> s1.id
                 AND s2.start_at >= {d.shift("s1.start_at", -ses_bound)}
                 AND s2.start_at <= {d.greatest("s1.start_at", "s1.end_at")}
                 AND {_overlaps("s1.start_at", "s1.end_at", "s2.start_at", "s2.end_at")}
            WHERE {cls("s1.training_class_id")}
            UNION ALL
            SELECT s1.training_class_id, s1.person_id,
                   {s1} || '与' || {d.local_text("a.check_in")}
                   || COALESCE('至' || {d.local_hm("a.check_out")}, '（无签退）') || '的考勤重叠'
            FROM {T["ses"]} s1
            JOIN {T["att"]} a ON a.person_id = s1.person_id
                 AND a.check_in >= {d.shift("s1.start_at", -att_bound)}
                 AND a.check_in <= {d.greatest("s1.start_at", "s1.end_at")}
                 AND {_overlaps("s1.start_at", "s1.end_at", "a.check_in", a_end)}
            WHERE {cls("s1.training_class_id")}
        ) x
        JOIN {T["cls"]} c ON c.id = x.cid
        JOIN {T["per"]} p ON p.id = x.pid
        GROUP BY c.code, p.id_hmac
        """
        )
    )
    return [
        Hit("ONLINE_CONCURRENT", code, hmac, f"线上学习时间重叠：{first}{_more(n, '处')}")
        for code, hmac, first, n in rows
    ]


def rule_online_ip_farm(run: _Run) -> list[Hit]:
    d = run.d
    bound = run.max_seconds(T["ses"], "start_at", "end_at")
    n_min = int(run.p.ip_farm_persons)
    # The most sessions open at once is reached at some session's start: check those moments.
    # A session is open at t when start ≤ t < end (touching ends do not overlap).
    rows = run.rows(
        lambda cls: (
            f"""
        WITH moment AS (
            SELECT DISTINCT ip, start_at AS t FROM {T["ses"]} WHERE {d.ip_present("ip")}
        ),
        open_at AS (
            SELECT moment.ip, moment.t, s.training_class_id AS cid, s.person_id AS pid
            FROM moment
            JOIN {T["ses"]} s ON s.ip = moment.ip AND s.start_at <= moment.t
                 AND s.start_at > {d.shift("moment.t", -bound)} AND s.end_at > moment.t
        ),
        farm AS (
            SELECT ip, t, COUNT(DISTINCT pid) AS n FROM open_at
            GROUP BY ip, t HAVING COUNT(DISTINCT pid) >= {n_min}
        )
        SELECT c.code, p.id_hmac,
               MIN({d.local_text("farm.t")} || '|' || {d.ip_text("farm.ip")} || '|' || {d.num_text("farm.n")}),
               COUNT(*)
        FROM farm
        JOIN open_at ON open_at.ip = farm.ip AND open_at.t = farm.t
        JOIN {T["cls"]} c ON c.id = open_at.cid
        JOIN {T["per"]} p ON p.id = open_at.pid
        WHERE {cls("c.id")}
        GROUP BY c.code, p.id_hmac
        """
        )
    )
    hits = []
    for code, hmac, first, n in rows:
        moment, ip, persons = first.split("|")
        hits.append(
            Hit(
                "ONLINE_IP_FARM",
                code,
                hmac,
                f"{moment}同一IP {ip}有{persons}名不同学员同时在线学习（本人在其中）{_more(n, '次')}",
            )
        )
    return hits


def rule_online_face_failed(run: _Run) -> list[Hit]:
    d = run.d
    seconds = f"({d.epoch('s.end_at')} - {d.epoch('s.start_at')})"
    detail = (
        f"{d.local_text('s.start_at')} || '至' || {d.local_hm('s.end_at')} || ' 人脸核验通过'"
        f" || {d.num_text('s.face_checks_passed')} || '次、失败' || {d.num_text('s.face_checks_failed')} || '次'"
    )
    rows = run.rows(
        lambda cls: (
            f"""
        SELECT c.code, p.id_hmac, MIN({detail}), COUNT(*)
        FROM {T["ses"]} s
        JOIN {T["cls"]} c ON c.id = s.training_class_id
        JOIN {T["per"]} p ON p.id = s.person_id
        WHERE {cls("c.id")}
          AND (s.face_checks_failed > 0 OR ({seconds} > 3600 AND s.face_checks_passed = 0))
        GROUP BY c.code, p.id_hmac
        """
        )
    )
    return [
        Hit(
            "ONLINE_FACE_FAILED",
            code,
            hmac,
            f"线上学习人脸核验未通过或超过60分钟无核验：{first}{_more(n, '次')}",
        )
        for code, hmac, first, n in rows
    ]


# --- the institution -------------------------------------------------------------------------------


def rule_out_of_scope(run: _Run) -> list[Hit]:
    rows = run.rows(
        lambda cls: (
            f"""
        SELECT c.code, c.occupation_code, i.name
        FROM {T["cls"]} c JOIN {Institution._meta.db_table} i ON i.id = c.institution_id
        WHERE {cls("c.id")}
          AND NOT EXISTS (
            SELECT 1 FROM {T["lic"]} lic JOIN {T["occ"]} o ON o.id = lic.occupation_id
            WHERE lic.institution_id = c.institution_id AND o.code = c.occupation_code
          )
        """
        )
    )
    return [
        Hit("OUT_OF_SCOPE", code, "", f"职业（工种）{occ}不在{name}的办学许可范围内")
        for code, occ, name in rows
    ]


def rule_institution_not_listed(run: _Run) -> list[Hit]:
    d = run.d
    rows = run.rows(
        lambda cls: (
            f"""
        SELECT code, name, start_text, status FROM (
            SELECT c.code AS code, i.name AS name, {d.date_text("c.start_date")} AS start_text,
                   (SELECT l.status FROM {T["lst"]} l
                    WHERE l.institution_id = c.institution_id AND l.effective_date <= c.start_date
                    ORDER BY l.effective_date DESC, l.id DESC LIMIT 1) AS status
            FROM {T["cls"]} c JOIN {Institution._meta.db_table} i ON i.id = c.institution_id
            WHERE {cls("c.id")}
        ) x
        WHERE status IS NULL OR status <> '{Institution.Status.LISTED}'
        """
        )
    )
    labels = dict(Institution.Status.choices)
    return [
        Hit(
            "INSTITUTION_NOT_LISTED",
            code,
            "",
            f"开班日期{start}{name}的目录状态为“{labels.get(status or 'UNLISTED', status)}”，不在培训机构目录",
        )
        for code, name, start, status in rows
    ]


RULE_QUERIES: dict[str, Callable[[_Run], list[Hit]]] = {
    "AGE_UNDER_16": rule_age_under_16,
    "DECEASED": rule_deceased,
    "PUBLIC_PAYROLL": rule_public_payroll,
    "UNEMPLOYED_NOT_REGISTERED": rule_unemployed_not_registered,
    "UNEMPLOYED_BUT_INSURED": rule_unemployed_but_insured,
    "UNEMPLOYED_BUT_BUSINESS": rule_unemployed_but_business,
    "HOSPITALIZED_PRESENT": rule_hospitalized_present,
    "REPEAT_TRAINING": rule_repeat_training,
    "ALREADY_CERTIFIED": rule_already_certified,
    "LIFETIME_CAP": rule_lifetime_cap,
    "OVERLAPPING_CLASSES": rule_overlapping_classes,
    "TEACHER_DOUBLE_BOOKED": rule_teacher_double_booked,
    "ATTENDANCE_OUTSIDE_SCHEDULE": rule_attendance_outside_schedule,
    "ATTENDANCE_BELOW_THRESHOLD": rule_attendance_below_threshold,
    "DUPLICATE_PHOTO": rule_duplicate_photo,
    "LOCATION_MISMATCH": rule_location_mismatch,
    "BATCH_CHECKIN": rule_batch_checkin,
    "ONLINE_SHARE_EXCEEDED": rule_online_share_exceeded,
    "ONLINE_DAILY_EXCEEDED": rule_online_daily_exceeded,
    "ONLINE_CONCURRENT": rule_online_concurrent,
    "ONLINE_IP_FARM": rule_online_ip_farm,
    "ONLINE_FACE_FAILED": rule_online_face_failed,
    "OUT_OF_SCOPE": rule_out_of_scope,
    "INSTITUTION_NOT_LISTED": rule_institution_not_listed,
}
assert set(RULE_QUERIES) == set(PACKAGE_RULES), "every package rule has a set-wise query"  # noqa: S101
