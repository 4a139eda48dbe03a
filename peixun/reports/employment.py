"""Employment after training (第十七条) as pure functions over loaded facts.

Who is followed up, when, and what counts as employed is decided here and nowhere else; the refresh
(`reports/refresh.py`) loads the facts and stores what these functions answer. The rules, in the
words of docs/rules-interpretation.md ("Employment follow-up"):

- A trainee **completed** (结业) when they are still on the roster of a class that is COMPLETED
  (peixun's completion review approved it) or IMPORTED (handed over in a data package) and they sat
  the final exam: only a trainee with at least 95% of the hours may sit it (第十条), so the exam
  record is the evidence of having completed the training. The completion date is the class's
  结业日期 (`end_date`).
- The **checkpoints** are the same calendar day 3 and 6 months later; where that month is shorter,
  its last day (2026-08-31 + 6 months = 2027-02-28). A checkpoint is **reached** on that day.
- **Employed at a checkpoint** when a social-insurance or employment-filing period covers the day
  (both ends inclusive; an open end is ongoing) — the employer and the period's start are the
  evidence. Social insurance is recorded by month, so a month's contribution covers every day of it.
  Without such a period the follow-up record for that checkpoint decides (单位就业 or 自主创业/灵活就业
  count as employed; 升学深造 leaves the denominator; 未就业 and 无法联系 are not employed). With
  neither the trainee counts as not employed and is on the follow-up list (未查到就业信息).
- **Employment rate** = employed ÷ (reached − further study); no rate where that is zero.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

SOCIAL_INSURANCE = "social_insurance"
EMPLOYMENT_FILING = "employment_filing"
REGISTRY_KINDS = (SOCIAL_INSURANCE, EMPLOYMENT_FILING)
CHECKPOINTS = (3, 6)

EMPLOYED = "EMPLOYED"
FURTHER_STUDY = "FURTHER_STUDY"
NOT_EMPLOYED = "NOT_EMPLOYED"
UNKNOWN = "UNKNOWN"

# FollowUp.Outcome values, repeated here so the rule stays free of models
MANUAL_EMPLOYED = frozenset({"EMPLOYED", "SELF_EMPLOYED"})
MANUAL_STUDY = "FURTHER_STUDY"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the last day of that month when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def checkpoint_date(completed_on: dt.date, months: int) -> dt.date:
    return add_months(completed_on, months)


@dataclass(frozen=True)
class Period:
    """One employment period from a registry (RegistryRow of social_insurance / employment_filing)."""

    kind: str
    date_from: dt.date | None
    date_to: dt.date | None
    org_code: str = ""
    org_name: str = ""

    def covers(self, day: dt.date) -> bool:
        if self.date_from is None or self.date_from > day:
            return False
        return self.date_to is None or day <= self.date_to


@dataclass(frozen=True)
class Manual:
    """A follow-up record for one checkpoint (FollowUp)."""

    id: int
    checkpoint: int
    outcome: str
    employer_name: str = ""
    employed_since: dt.date | None = None


@dataclass(frozen=True)
class Judgement:
    checkpoint: int
    check_date: dt.date
    status: str
    source: str = ""
    employer_code: str = ""
    employer_name: str = ""
    employed_since: dt.date | None = None
    follow_up_id: int | None = None

    @property
    def employed(self) -> bool:
        return self.status == EMPLOYED


def covering_period(periods: Iterable[Period], day: dt.date) -> Period | None:
    """The period that covers `day`; of several, the one begun last (the current job), social
    insurance before a filing that began the same day (it names the employer)."""
    covering = [p for p in periods if p.kind in REGISTRY_KINDS and p.covers(day)]
    if not covering:
        return None
    return max(covering, key=lambda p: (p.date_from, p.kind == SOCIAL_INSURANCE))


def judge(
    *,
    completed_on: dt.date,
    checkpoint: int,
    periods: Iterable[Period],
    manual: Manual | None,
    today: dt.date,
    employer_names: dict[str, str] | None = None,
) -> Judgement | None:
    """The trainee's employment at one checkpoint; None while the checkpoint is not reached.

    `employer_names` names an employer known only by its code (an employment filing carries no
    name) from the other registry."""
    day = checkpoint_date(completed_on, checkpoint)
    if day > today:
        return None
    period = covering_period(periods, day)
    if period is not None:
        name = period.org_name or (employer_names or {}).get(period.org_code, "")
        return Judgement(
            checkpoint,
            day,
            EMPLOYED,
            source=period.kind,
            employer_code=period.org_code,
            employer_name=name,
            employed_since=period.date_from,
            follow_up_id=manual.id if manual else None,
        )
    if manual is None:
        return Judgement(checkpoint, day, UNKNOWN)
    if manual.outcome in MANUAL_EMPLOYED:
        status = EMPLOYED
    elif manual.outcome == MANUAL_STUDY:
        status = FURTHER_STUDY
    else:
        status = NOT_EMPLOYED
    return Judgement(
        checkpoint,
        day,
        status,
        source="follow_up",
        employer_name=manual.employer_name if status == EMPLOYED else "",
        employed_since=manual.employed_since if status == EMPLOYED else None,
        follow_up_id=manual.id,
    )


# --- rates ------------------------------------------------------------------------------------------

RATE_PLACES = Decimal("0.0001")


def rate(numerator: int, denominator: int) -> Decimal | None:
    """A share in [0, 1] to four places (half up); None when there is nothing to divide by."""
    if denominator <= 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def employment_rate(*, employed: int, reached: int, further_study: int) -> Decimal | None:
    return rate(employed, reached - further_study)


def completion_rate(*, completed: int, ended: int) -> Decimal | None:
    """结业率: completed ÷ trainees of the classes that have ended."""
    return rate(completed, ended)


def certificate_rate(*, certified: int, completed: int) -> Decimal | None:
    """取证率: trainees with a certificate ÷ completed."""
    return rate(certified, completed)
