"""How hours are counted (rules.md, "How hours are counted") — the one place that counts them.

Pure functions over plain values: the class page, the completion check, the rule engine and the
reports all call `count_hours` (or its parts) with what they loaded; nothing here touches the
database or Django settings.

- An offline lesson counts for a trainee when ONE attendance record of that trainee in that class
  covers at least `lesson_min_coverage` (0.90) of the lesson's scheduled time; it then counts its
  scheduled hours (第十条).
- An online session is valid when face_checks_failed = 0; its hours are (end − start) minutes ÷
  minutes per class hour. Valid hours of each day (the day a session starts, Asia/Shanghai) are
  capped at the daily maximum, summed, then capped at online_max_share × total_hours (第十九条).
- Counted hours = counted offline + counted online; the share is counted ÷ the class's total hours.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Protocol
from zoneinfo import ZoneInfo

# rules.md: "A session's day is the date it starts (Asia/Shanghai)" — fixed by the rules, not by
# the server's TIME_ZONE.
SHANGHAI = ZoneInfo("Asia/Shanghai")
ZERO = Decimal(0)


class LessonLike(Protocol):
    start: dt.datetime
    end: dt.datetime
    hours: Decimal
    mode: str


class RecordLike(Protocol):
    check_in: dt.datetime
    check_out: dt.datetime | None


class SessionLike(Protocol):
    start_at: dt.datetime
    end_at: dt.datetime
    face_checks_failed: int


@dataclass(frozen=True)
class HoursRules:
    """The settings hours depend on (core.RuleSettings); defaults are those of rules.md."""

    lesson_min_coverage: Decimal = Decimal("0.90")
    minutes_per_class_hour: int = 45
    online_max_hours_per_day: Decimal = Decimal("8")
    online_max_share: Decimal = Decimal("0.40")


@dataclass(frozen=True)
class HoursCount:
    """One trainee's hours in one class."""

    offline: Decimal  # scheduled hours of the offline lessons the attendance covers
    online: Decimal  # counted online hours (after the daily and the share cap)
    total: Decimal  # offline + online
    share: Decimal  # total ÷ the class's total hours
    missed: tuple = ()  # offline lessons not covered, in schedule order
    # valid online hours per day, before any cap (ONLINE_DAILY_EXCEEDED reads it)
    online_by_day: dict[dt.date, Decimal] = field(default_factory=dict)
    # valid online hours, each day capped, summed — before the share cap (ONLINE_SHARE_EXCEEDED)
    online_daily_capped: Decimal = ZERO
    online_cap: Decimal = ZERO  # online_max_share × total_hours


def local_day(moment: dt.datetime) -> dt.date:
    """The calendar day of a moment in Asia/Shanghai (a naive moment is taken as local time)."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(SHANGHAI).date()


def lesson_bounds(date: dt.date, start_time: dt.time, end_time: dt.time) -> tuple[dt.datetime, dt.datetime]:
    """A lesson's scheduled start and end as aware datetimes (Asia/Shanghai).

    An end time before the start time means the lesson runs past midnight.
    """
    start = dt.datetime.combine(date, start_time, tzinfo=SHANGHAI)
    end = dt.datetime.combine(date, end_time, tzinfo=SHANGHAI)
    if end < start:
        end += dt.timedelta(days=1)
    return start, end


def overlap_seconds(
    a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime
) -> int:
    """Length in whole seconds of the common part of two intervals (0 when they do not meet)."""
    common = min(a_end, b_end) - max(a_start, b_start)
    return max(int(common.total_seconds()), 0)


def lesson_covered(lesson: LessonLike, record: RecordLike, min_coverage: Decimal) -> bool:
    """Whether one attendance record covers at least `min_coverage` of the lesson's scheduled time.

    A record without a check-out covers nothing: its length is unknown. A lesson with no scheduled
    length cannot be covered.
    """
    if record.check_out is None:
        return False
    scheduled = int((lesson.end - lesson.start).total_seconds())
    if scheduled <= 0:
        return False
    covered = overlap_seconds(lesson.start, lesson.end, record.check_in, record.check_out)
    return Decimal(covered) >= Decimal(min_coverage) * Decimal(scheduled)


@dataclass(frozen=True)
class Timetable:
    """A class's offline lessons prepared once for counting all its trainees: in schedule order,
    each as (start, end, least overlap that covers it, the lesson). `count_hours` takes one in place
    of the lessons; a 50-trainee class would otherwise sort and measure its timetable 50 times."""

    lessons: tuple
    min_coverage: Decimal


# A lesson with no scheduled length cannot be covered; an overlap never reaches this.
_NEVER = dt.timedelta.max


def timetable(lessons: Iterable[LessonLike], min_coverage: Decimal) -> Timetable:
    """The offline lessons with the overlap each needs. `lesson_covered` asks for
    whole seconds of overlap c with c ≥ coverage × scheduled; c is whole, so that is the same as an
    overlap of at least ⌈coverage × scheduled⌉ seconds, which datetimes compare without arithmetic."""
    ratio = _fraction(min_coverage)
    prepared = []
    for lesson in sorted((x for x in lessons if x.mode == "OFFLINE"), key=lambda x: (x.start, x.end)):
        scheduled = int((lesson.end - lesson.start).total_seconds())
        if scheduled <= 0:
            need = _NEVER
        elif ratio <= 0:
            # Coverage 0: any record reaching the lesson covers it, even at a single instant.
            need = dt.timedelta.min
        else:
            need = dt.timedelta(seconds=math.ceil(ratio * scheduled))
        prepared.append((lesson.start, lesson.end, need, lesson))
    return Timetable(tuple(prepared), Decimal(min_coverage))


def covered_lessons(
    lessons: Iterable[LessonLike] | Timetable, records: Sequence[RecordLike], min_coverage: Decimal
) -> tuple[list, list]:
    """Split the OFFLINE lessons into (covered, missed) by one trainee's records in the class.

    Same test as `lesson_covered`, but each lesson looks only at the records that can reach it
    (sorted by check-in, found by bisection): a 50-trainee class has thousands of records.
    """
    if isinstance(lessons, Timetable):
        if lessons.min_coverage != Decimal(min_coverage):
            raise ValueError("timetable prepared for another lesson coverage")
        table = lessons
    else:
        table = timetable(lessons, min_coverage)
    usable = sorted((r for r in records if r.check_out is not None), key=_check_in)
    starts = [r.check_in for r in usable]
    longest = max((r.check_out - r.check_in for r in usable), default=dt.timedelta(0))
    covered, missed = [], []
    n, first = len(usable), 0
    for start, end, need, lesson in table.lessons:
        hit = False
        if need is not _NEVER:
            # Lessons come in order of start, so the first record that can reach one only moves on.
            reach = start - longest
            first = bisect.bisect_left(starts, reach, first)
            i = first
            while i < n and starts[i] < end:
                r = usable[i]
                # The overlap; negative when they do not meet, so below any positive need.
                check_in, check_out = r.check_in, r.check_out
                if (end if end < check_out else check_out) - (
                    start if start > check_in else check_in
                ) >= need:
                    hit = True
                    break
                i += 1
        (covered if hit else missed).append(lesson)
    return covered, missed


_check_in = operator.attrgetter("check_in")


@functools.lru_cache(maxsize=64)
def _fraction(value) -> Fraction:
    """A setting (a Decimal such as 0.9 or 8) as an exact Fraction; the same few values are asked
    for once per trainee, and building a Fraction from a Decimal is not cheap."""
    return Fraction(Decimal(value))


@functools.lru_cache(maxsize=64)
def _seconds(hours, per_hour: int) -> int | Fraction:
    """A limit in class hours as seconds: an int when whole (comparing ints is cheap), else exact."""
    seconds = _fraction(hours) * per_hour
    return int(seconds) if seconds.denominator == 1 else seconds


def session_hours(start: dt.datetime, end: dt.datetime, minutes_per_class_hour: int) -> Decimal:
    """(end − start) minutes ÷ minutes per class hour; a session ending before it starts has none."""
    seconds = max(int((end - start).total_seconds()), 0)
    return Decimal(seconds) / Decimal(60) / Decimal(minutes_per_class_hour)


def _exact(value: Fraction) -> Decimal:
    """A Fraction as Decimal. Values that reach a boundary (8 h, 40 %, 95 %) are exact fractions with
    small denominators, so they convert exactly; others are far from any boundary."""
    return Decimal(value.numerator) / Decimal(value.denominator)


def _online_seconds_by_day(sessions: Iterable[SessionLike]) -> dict[dt.date, int]:
    by_day: dict[dt.date, int] = {}
    for s in sessions:
        if s.face_checks_failed != 0:
            continue
        day = local_day(s.start_at)
        by_day[day] = by_day.get(day, 0) + max(int((s.end_at - s.start_at).total_seconds()), 0)
    return by_day


def online_hours_by_day(
    sessions: Iterable[SessionLike], minutes_per_class_hour: int
) -> dict[dt.date, Decimal]:
    """Valid online hours per day (face_checks_failed = 0), before any cap; day = start day."""
    return _hours_by_day(_online_seconds_by_day(sessions), 60 * minutes_per_class_hour)


def _hours_by_day(seconds_by_day: dict[dt.date, int], per_hour: int) -> dict[dt.date, Decimal]:
    """Each day's whole seconds as class hours, in order of day.

    Seconds are summed per day and divided once: dividing each session first would make three
    2-hour sessions (8 class hours) come out a hair over 8 and break the daily limit wrongly. Decimal
    division rounds the exact quotient, so one division gives the value an exact fraction would.
    """
    return {day: Decimal(seconds) / Decimal(per_hour) for day, seconds in sorted(seconds_by_day.items())}


def count_hours(
    *,
    total_hours: Decimal,
    lessons: Iterable[LessonLike],
    records: Sequence[RecordLike],
    sessions: Iterable[SessionLike],
    rules: HoursRules | None = None,
) -> HoursCount:
    """One trainee's counted hours in one class: `records` and `sessions` are that trainee's in
    that class; `lessons` is the class's timetable (online lessons are ignored here: online hours
    come from the sessions). A class without total hours has share 0 (nothing can be counted)."""
    rules = rules or HoursRules()
    total_hours = Decimal(total_hours)
    covered, missed = covered_lessons(lessons, records, Decimal(rules.lesson_min_coverage))
    offline = sum((Decimal(x.hours) for x in covered), ZERO)
    per_hour = 60 * rules.minutes_per_class_hour
    seconds_by_day = _online_seconds_by_day(sessions)
    by_day = _hours_by_day(seconds_by_day, per_hour)
    # Caps in whole seconds (exact fractions where a cap is not whole); Decimals only for the result.
    daily_max = _seconds(rules.online_max_hours_per_day, per_hour)
    capped = Fraction(sum(min(seconds, daily_max) for seconds in seconds_by_day.values()), per_hour)
    daily_capped = _exact(capped)
    online_cap = Decimal(rules.online_max_share) * total_hours
    online = _exact(min(capped, max(_fraction(online_cap), Fraction(0))))
    total = offline + online
    share = total / total_hours if total_hours > 0 else ZERO
    return HoursCount(
        offline=offline,
        online=online,
        total=total,
        share=share,
        missed=tuple(missed),
        online_by_day=by_day,
        online_daily_capped=daily_capped,
        online_cap=online_cap,
    )
