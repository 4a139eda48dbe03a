"""The institution credit rating (信用等级), a pure function of loaded facts (docs/guide/监督检查.md).

Score = 100, then over the 36 months before the day of rating:

- each violation:             严重 (false roster/identity/attendance/exam, 刷课, repeated training) −30,
                              较重 (out of licence, changed content, cut hours, ineffective training,
                              false advertising) −15, 一般 (管理混乱等) −5;
- confirmed findings:         −1 per confirmed finding per 100 trainees, at most −20;
- inspections:                each 责令整改 outcome −5 (at most −20); each 未发现问题 outcome +2
                              (at most +10) — a 违规 outcome counts through its violation;
- annual inspection 不合格:   −30 each;
- employment after training:  the 6-month employment rate of 就业跟踪 (reports app), once at least 10
                              trainees were due for follow-up: ≥80% +5, <50% −5.

The score is kept within 0–100. Grade A ≥ 90 守信, B ≥ 75 基本守信, C ≥ 60 失信警示, D < 60 严重失信;
a 严重 violation or a failed annual inspection in the window caps the grade at C, and 刷课 (第二十条)
at D.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

WINDOW_DAYS = 3 * 365 + 1

SEVERE = frozenset(
    {
        "FALSE_ROSTER",
        "FALSE_IDENTITY",
        "FALSE_ATTENDANCE",
        "FALSE_EXAM",
        "COURSE_BRUSHING",
        "REPEATED_TRAINING",
    }
)
SERIOUS = frozenset({"OUT_OF_LICENCE", "CONTENT_CHANGED", "HOURS_CUT", "INEFFECTIVE", "FALSE_ADVERTISING"})
VIOLATION_POINTS = {"severe": -30, "serious": -15, "minor": -5}
FINDINGS_CAP = 20
RECTIFY_POINTS, RECTIFY_CAP = -5, -20
PASS_POINTS, PASS_CAP = 2, 10
ANNUAL_FAIL_POINTS = -30

GRADES = (("A", 90, "守信"), ("B", 75, "基本守信"), ("C", 60, "失信警示"), ("D", 0, "严重失信"))
GRADE_LABELS = {g: label for g, _floor, label in GRADES}


def severity(violation_type: str) -> str:
    if violation_type in SEVERE:
        return "severe"
    return "serious" if violation_type in SERIOUS else "minor"


@dataclass(frozen=True)
class CreditFacts:
    as_of: dt.date
    violations: tuple[tuple[str, dt.date], ...] = ()  # (type, found on)
    confirmed_findings: int = 0
    trainees: int = 0
    inspections: tuple[tuple[str, dt.date], ...] = ()  # (outcome, inspected on)
    annual_fails: tuple[dt.date, ...] = ()  # decided on
    employment_rate: Decimal | None = None


@dataclass(frozen=True)
class CreditRating:
    score: int
    grade: str
    lines: tuple[tuple[str, int], ...] = field(default=())  # (explanation, points)
    caps: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return GRADE_LABELS[self.grade]


def _in_window(day: dt.date, as_of: dt.date) -> bool:
    return as_of - dt.timedelta(days=WINDOW_DAYS) < day <= as_of


def credit_rating(facts: CreditFacts) -> CreditRating:
    lines: list[tuple[str, int]] = []
    caps: list[str] = []
    worst = "A"

    violations = [(t, d) for t, d in facts.violations if _in_window(d, facts.as_of)]
    for level, label in (("severe", "严重违规"), ("serious", "较重违规"), ("minor", "一般问题")):
        n = sum(1 for t, _d in violations if severity(t) == level)
        if n:
            lines.append((f"{label}{n}起", n * VIOLATION_POINTS[level]))
    if any(severity(t) == "severe" for t, _d in violations):
        caps.append("三年内有严重违规，等级最高为C")
        worst = "C"
    if any(t == "COURSE_BRUSHING" for t, _d in violations):
        caps.append("三年内有刷课行为（第二十条），等级为D")
        worst = "D"

    if facts.trainees and facts.confirmed_findings:
        per100 = Decimal(facts.confirmed_findings) * 100 / facts.trainees
        points = -min(FINDINGS_CAP, int(per100))
        if points:
            lines.append((f"已确认问题线索每百名学员{per100:.1f}条", points))

    inspections = [(o, d) for o, d in facts.inspections if _in_window(d, facts.as_of)]
    rectify = sum(1 for o, _d in inspections if o == "RECTIFY")
    passed = sum(1 for o, _d in inspections if o == "PASS")
    if rectify:
        lines.append((f"检查责令整改{rectify}次", max(RECTIFY_CAP, rectify * RECTIFY_POINTS)))
    if passed:
        lines.append((f"检查未发现问题{passed}次", min(PASS_CAP, passed * PASS_POINTS)))

    fails = [d for d in facts.annual_fails if _in_window(d, facts.as_of)]
    if fails:
        lines.append((f"年度检查不合格{len(fails)}次", len(fails) * ANNUAL_FAIL_POINTS))
        caps.append("三年内年度检查不合格，等级最高为C")
        worst = max(worst, "C")

    if facts.employment_rate is not None:
        if facts.employment_rate >= Decimal("0.8"):
            lines.append((f"培训后就业率{facts.employment_rate:.0%}", 5))
        elif facts.employment_rate < Decimal("0.5"):
            lines.append((f"培训后就业率{facts.employment_rate:.0%}", -5))

    score = max(0, min(100, 100 + sum(p for _l, p in lines)))
    grade = next(g for g, floor, _label in GRADES if score >= floor)
    grade = max(grade, worst)  # letters sort A < B < C < D: the worse of the two
    return CreditRating(score=score, grade=grade, lines=tuple(lines), caps=tuple(caps))
