"""Working days (工作日), computed in exactly this one place for every legal deadline.

A day is a working day when it is a 调休 working day, or a Monday-to-Friday that is not an
official holiday. Counting starts on the working day after the event (rules.md). A year with no
holiday arrangement entered is an explicit error: a deadline is never guessed.
"""

import datetime as dt

from .errors import CalendarMissing
from .models import CalendarDay, CalendarYear


class WorkdayCalendar:
    """The calendar as loaded for a span of years; one query each, reused across lookups."""

    def __init__(self):
        self._years: set[int] | None = None
        self._special: dict[dt.date, str] = {}
        self._loaded_years: set[int] = set()

    def _ensure_year(self, year: int) -> None:
        if self._years is None:
            self._years = set(CalendarYear.objects.values_list("year", flat=True))
        if year not in self._years:
            raise CalendarMissing(
                f"{year}年的节假日安排尚未录入工作日历，无法计算期限。请自治区管理员在“工作日历”中录入{year}年的放假和调休安排。"
            )
        if year not in self._loaded_years:
            for date, kind in CalendarDay.objects.filter(date__year=year).values_list("date", "kind"):
                self._special[date] = kind
            self._loaded_years.add(year)

    def is_workday(self, day: dt.date) -> bool:
        self._ensure_year(day.year)
        kind = self._special.get(day)
        if kind == CalendarDay.Kind.WORKDAY:
            return True
        if kind == CalendarDay.Kind.HOLIDAY:
            return False
        return day.weekday() < 5

    def add(self, start: dt.date, n: int) -> dt.date:
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        remaining = n
        while remaining:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 when end ≤ start)."""
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count


def add_workdays(start: dt.date, n: int) -> dt.date:
    """The date N working days after `start` (the due date of an N-working-day deadline)."""
    return WorkdayCalendar().add(start, n)


def is_workday(day: dt.date) -> bool:
    return WorkdayCalendar().is_workday(day)


def workdays_between(start: dt.date, end: dt.date) -> int:
    return WorkdayCalendar().between(start, end)


# --- review clocks (第九、十一、十四条) -------------------------------------------------------------


def clock_due(submitted_on: dt.date, limit: int, used: int = 0) -> dt.date:
    """Due date of a review submitted (or resubmitted) on `submitted_on` with `used` working days
    already spent before it was returned. A resubmission always gets at least one working day: the
    reviewer cannot be overdue on the day the corrected file arrives."""
    return add_workdays(submitted_on, max(limit - used, 1))


def clock_used(submitted_on: dt.date, stopped_on: dt.date, used_before: int = 0) -> int:
    """Working days spent when the clock stops (the application goes back to the applicant)."""
    return used_before + workdays_between(submitted_on, stopped_on)


def workdays_left(due: dt.date, today: dt.date, calendar: WorkdayCalendar | None = None) -> int:
    """Working days from today to the due date; negative when overdue, 0 on the due day. A list of
    deadlines passes one calendar so the holidays are read once."""
    calendar = calendar or WorkdayCalendar()
    if due >= today:
        return calendar.between(today, due)
    return -calendar.between(due, today)


def deadline_urgency(left: int) -> str:
    """The badge colour of ui.md: amber at 1 working day left, red when overdue."""
    return "danger" if left < 0 else "warning" if left <= 1 else "info"


def deadline_text(left: int | None) -> str:
    if left is None:
        return ""
    if left < 0:
        return f"已逾期{-left}个工作日"
    return "今天到期" if left == 0 else f"剩余{left}个工作日"
