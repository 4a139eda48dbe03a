"""Working days (工作日) for every legal deadline, from the holiday calendar in the database
(rules.md, "Settings and defaults"): counting starts on the working day after the event, and a
year with no calendar data is an explicit error, never a guess."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from peixun.core.errors import CalendarMissing, PeixunError
from peixun.core.models import AuditEntry, CalendarDay, CalendarYear
from peixun.core.services import calendar_open_year, calendar_set_day
from peixun.core.workdays import WorkdayCalendar, add_workdays, is_workday, workdays_between

pytestmark = pytest.mark.django_db

D = dt.date


def run_workdays(*args) -> str:
    out = StringIO()
    call_command("workdays", *args, stdout=out)
    return out.getvalue().strip()


# --- the two examples of rules.md ---------------------------------------------------------------


def test_it_counts_five_working_days_over_national_day_to_the_adjusted_saturday(reference_data):
    """第九条: opening review within 5 working days. Submitted Monday 2026-09-28; 9-29, 9-30, then 国庆
    10-01…10-07, then 10-08, 10-09 and the 调休 Saturday 10-10 → due 2026-10-10."""
    assert add_workdays(D(2026, 9, 28), 5) == D(2026, 10, 10)
    assert D(2026, 10, 10).weekday() == 5


def test_it_counts_three_working_days_over_spring_festival_including_the_adjusted_saturday(reference_data):
    """第十一条: completion review within 3 working days. Submitted Friday 2026-02-13; the 调休 Saturday
    02-14 counts, 春节 02-15…02-23 does not, then 02-24, 02-25 → due 2026-02-25."""
    assert add_workdays(D(2026, 2, 13), 3) == D(2026, 2, 25)
    assert add_workdays(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert add_workdays(D(2026, 2, 13), 2) == D(2026, 2, 24)


def test_the_command_prints_the_due_date_after_national_day(reference_data):
    """第九条: `peixun workdays add 2026-09-28 5` prints 2026-10-10."""
    assert run_workdays("add", "2026-09-28", "5") == "2026-10-10"


def test_the_command_prints_the_due_date_after_spring_festival(reference_data):
    """第十一条: `peixun workdays add 2026-02-13 3` prints 2026-02-25."""
    assert run_workdays("add", "2026-02-13", "3") == "2026-02-25"


# --- other years ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # 2025 国庆: 10-01…10-08 off; 调休 Sunday 09-28 and Saturday 10-11 are working days
        (D(2025, 9, 26), 1, D(2025, 9, 28)),
        (D(2025, 9, 26), 3, D(2025, 9, 30)),
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 9, 30), 3, D(2025, 10, 11)),
        (D(2025, 9, 30), 4, D(2025, 10, 13)),
        # 2025 春节: 01-28…02-04 off; 调休 Sunday 01-26 and Saturday 02-08
        (D(2025, 1, 24), 1, D(2025, 1, 26)),
        (D(2025, 1, 24), 3, D(2025, 2, 5)),
        (D(2025, 2, 5), 3, D(2025, 2, 8)),
        # 2024 国庆: 10-01…10-07 off; 调休 Sunday 09-29 and Saturday 10-12
        (D(2024, 9, 27), 5, D(2024, 10, 10)),
        # 2019 国庆 (70th anniversary): 10-01…10-07 off; 调休 09-29 and 10-12
        (D(2019, 9, 30), 5, D(2019, 10, 12)),
    ],
)
def test_it_follows_the_holiday_arrangement_of_other_years(reference_data, start, n, due):
    """第九条/第十一条/第十四条: deadlines in working days, whatever the year's 放假 and 调休."""
    assert add_workdays(start, n) == due


def test_it_counts_across_a_year_end(reference_data):
    """2025-12-30 (Tue) + 3: 12-31, then 元旦 2026-01-01…01-03 off, 调休 Sunday 01-04 counts, 01-05."""
    assert add_workdays(D(2025, 12, 30), 3) == D(2026, 1, 5)


def test_it_knows_ordinary_weekdays_weekends_holidays_and_adjusted_days(reference_data):
    assert is_workday(D(2026, 3, 4)) is True  # Wednesday
    assert is_workday(D(2026, 3, 7)) is False  # Saturday
    assert is_workday(D(2026, 10, 1)) is False  # 国庆, a Thursday
    assert is_workday(D(2026, 10, 10)) is True  # 调休 Saturday
    assert is_workday(D(2026, 9, 20)) is True  # 调休 Sunday
    assert is_workday(D(2026, 9, 25)) is False  # 中秋, a Friday


# --- counting starts the day after -------------------------------------------------------------


def test_counting_starts_on_the_day_after_the_event(reference_data):
    """第九条 "自接到申请之日起": the day of submission itself is never counted."""
    assert add_workdays(D(2026, 3, 4), 1) == D(2026, 3, 5)  # Wednesday → Thursday
    assert add_workdays(D(2026, 3, 6), 1) == D(2026, 3, 9)  # Friday → Monday
    assert add_workdays(D(2026, 3, 7), 1) == D(2026, 3, 9)  # submitted on a Saturday
    assert add_workdays(D(2026, 10, 3), 1) == D(2026, 10, 8)  # submitted during 国庆
    assert add_workdays(D(2026, 10, 9), 1) == D(2026, 10, 10)  # the adjusted Saturday is the next day


def test_adding_zero_working_days_gives_the_start_date(reference_data):
    assert add_workdays(D(2026, 3, 4), 0) == D(2026, 3, 4)
    assert add_workdays(D(2026, 10, 1), 0) == D(2026, 10, 1)
    assert run_workdays("add", "2026-10-01", "0") == "2026-10-01"


def test_it_refuses_a_negative_number_of_days(reference_data):
    with pytest.raises(ValueError):
        add_workdays(D(2026, 3, 4), -1)
    with pytest.raises(CommandError, match="负数"):
        run_workdays("add", "2026-03-04", "-1")


def test_the_command_refuses_a_malformed_date(reference_data):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run_workdays("add", "2026/09/28", "5")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run_workdays("add", "2026-02-30", "5")


def test_workdays_between_counts_after_the_start_up_to_and_including_the_end(reference_data):
    assert workdays_between(D(2026, 9, 28), D(2026, 10, 10)) == 5
    assert workdays_between(D(2026, 2, 13), D(2026, 2, 25)) == 3
    assert workdays_between(D(2026, 3, 4), D(2026, 3, 4)) == 0
    assert workdays_between(D(2026, 3, 9), D(2026, 3, 4)) == 0
    assert workdays_between(D(2026, 10, 1), D(2026, 10, 7)) == 0


# --- a year without calendar data --------------------------------------------------------------


def test_a_deadline_that_needs_2027_is_an_explicit_error(reference_data):
    """rules.md: a deadline needing a year with no calendar data is an error, never a silent guess.
    2026-12-28 + 5: 12-29, 12-30, 12-31, and then 2027 is unknown."""
    assert not CalendarYear.objects.filter(year=2027).exists()
    with pytest.raises(CalendarMissing) as exc:
        add_workdays(D(2026, 12, 28), 5)
    assert "2027年" in exc.value.message
    assert "工作日历" in exc.value.message
    # three working days fit in 2026, so they are fine
    assert add_workdays(D(2026, 12, 28), 3) == D(2026, 12, 31)


def test_the_command_fails_with_a_chinese_message_when_2027_is_needed(reference_data):
    """rules.md: the command exits non-zero rather than printing a guessed date."""
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("workdays", "add", "2026-12-28", "5", stdout=out)
    assert "2027年" in str(exc.value)
    assert out.getvalue() == ""


def test_a_date_before_the_calendar_is_an_explicit_error(reference_data):
    with pytest.raises(CalendarMissing, match="2003年"):
        is_workday(D(2003, 6, 2))
    with pytest.raises(CalendarMissing, match="2003年"):
        workdays_between(D(2003, 12, 30), D(2004, 1, 5))


def test_a_year_without_calendar_data_is_an_error_even_when_its_days_are_entered(reference_data):
    """Entering days is not enough: the year must be declared complete (calendar_open_year)."""
    calendar_set_day(actor=None, date=D(2027, 1, 1), kind=CalendarDay.Kind.HOLIDAY, name="元旦")
    with pytest.raises(CalendarMissing, match="2027年"):
        add_workdays(D(2026, 12, 31), 1)


def test_deleting_a_year_makes_its_deadlines_an_error(reference_data):
    CalendarYear.objects.filter(year=2025).delete()
    with pytest.raises(CalendarMissing, match="2025年"):
        add_workdays(D(2025, 3, 3), 1)


# --- editing the calendar ---------------------------------------------------------------------


def test_a_new_holiday_moves_the_deadline_and_is_audited(world):
    """第九条: the region department corrects the calendar; the next deadline follows it. The change is
    recorded in the audit log (第二十条)."""
    assert add_workdays(D(2026, 9, 28), 5) == D(2026, 10, 10)
    entries = AuditEntry.objects.filter(action="calendar.day_set").count()

    calendar_set_day(
        actor=world.region_admin, date=D(2026, 9, 29), kind=CalendarDay.Kind.HOLIDAY, name="测试"
    )

    assert add_workdays(D(2026, 9, 28), 5) == D(2026, 10, 12)
    assert run_workdays("add", "2026-09-28", "5") == "2026-10-12"
    assert AuditEntry.objects.filter(action="calendar.day_set").count() == entries + 1
    entry = AuditEntry.objects.filter(action="calendar.day_set").order_by("-id").first()
    assert entry.actor == world.region_admin
    assert entry.object_id == "2026-09-29"
    assert entry.before is None
    assert entry.after == {"kind": "HOLIDAY", "name": "测试"}


def test_removing_an_adjusted_saturday_moves_the_deadline_and_is_audited(world):
    """Setting 10-10 back to the ordinary rule makes it a plain Saturday: due moves to Monday 10-12."""
    calendar_set_day(actor=world.region_admin, date=D(2026, 10, 10), kind=None)
    assert not CalendarDay.objects.filter(date=D(2026, 10, 10)).exists()
    assert add_workdays(D(2026, 9, 28), 5) == D(2026, 10, 12)
    entry = AuditEntry.objects.filter(action="calendar.day_set").order_by("-id").first()
    assert entry.object_id == "2026-10-10"
    assert entry.before == {"kind": "WORKDAY", "name": "国庆节"}
    assert entry.after is None


def test_a_new_adjusted_working_day_shortens_the_deadline(world):
    """Saturday 2026-03-07 made a 调休 working day: Friday 03-06 + 1 is then that Saturday."""
    assert add_workdays(D(2026, 3, 6), 1) == D(2026, 3, 9)
    calendar_set_day(actor=world.region_admin, date=D(2026, 3, 7), kind=CalendarDay.Kind.WORKDAY, name="调休")
    assert add_workdays(D(2026, 3, 6), 1) == D(2026, 3, 7)


def test_turning_a_holiday_into_a_working_day_changes_it_in_place(world):
    calendar_set_day(actor=world.region_admin, date=D(2026, 10, 3), kind=CalendarDay.Kind.WORKDAY)
    assert CalendarDay.objects.get(date=D(2026, 10, 3)).kind == CalendarDay.Kind.WORKDAY
    assert is_workday(D(2026, 10, 3)) is True
    entry = AuditEntry.objects.filter(action="calendar.day_set").order_by("-id").first()
    assert entry.before == {"kind": "HOLIDAY", "name": "国庆节"}
    assert entry.after == {"kind": "WORKDAY", "name": ""}


def test_it_refuses_to_make_a_weekday_an_adjusted_working_day(world):
    entries = AuditEntry.objects.count()
    with pytest.raises(PeixunError, match="本是工作日"):
        calendar_set_day(actor=world.region_admin, date=D(2026, 3, 4), kind=CalendarDay.Kind.WORKDAY)
    assert not CalendarDay.objects.filter(date=D(2026, 3, 4)).exists()
    assert AuditEntry.objects.count() == entries


def test_it_refuses_an_unknown_kind_of_day(world):
    with pytest.raises(PeixunError, match="放假"):
        calendar_set_day(actor=world.region_admin, date=D(2026, 3, 7), kind="HALFDAY")
    assert not CalendarDay.objects.filter(date=D(2026, 3, 7)).exists()


def test_opening_2027_makes_its_deadlines_computable(world):
    """rules.md: after the region admin enters 2027's arrangement and opens the year, deadlines into
    2027 are computed from it (here 元旦 2027-01-01, a Friday, is off)."""
    with pytest.raises(CalendarMissing):
        add_workdays(D(2026, 12, 28), 5)
    calendar_set_day(actor=world.region_admin, date=D(2027, 1, 1), kind=CalendarDay.Kind.HOLIDAY, name="元旦")
    calendar_open_year(actor=world.region_admin, year=2027, source="国办发明电〔2026〕1号")

    assert add_workdays(D(2026, 12, 28), 5) == D(2027, 1, 5)
    assert run_workdays("add", "2026-12-28", "5") == "2027-01-05"
    assert CalendarYear.objects.get(year=2027).source == "国办发明电〔2026〕1号"
    entry = AuditEntry.objects.filter(action="calendar.year_opened").get()
    assert entry.actor == world.region_admin
    assert entry.after == {"year": 2027, "source": "国办发明电〔2026〕1号"}


def test_it_refuses_to_open_a_year_twice_or_without_a_source(world):
    with pytest.raises(PeixunError, match="2026年已启用"):
        calendar_open_year(actor=world.region_admin, year=2026, source="重复")
    with pytest.raises(PeixunError, match="依据"):
        calendar_open_year(actor=world.region_admin, year=2027, source="  ")
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not AuditEntry.objects.filter(action="calendar.year_opened").exists()


def test_one_calendar_reads_each_year_once(reference_data, django_assert_max_num_queries):
    calendar = WorkdayCalendar()
    with django_assert_max_num_queries(3):
        calendar.add(D(2025, 12, 1), 40)  # into 2026: one query for the years, one per year of days


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 11, 1)),
    n=st.integers(min_value=1, max_value=30),
)
@example(start=D(2026, 9, 28), n=5)
@example(start=D(2026, 2, 13), n=3)
@example(start=D(2004, 1, 1), n=1)
def test_the_due_date_is_a_working_day_exactly_n_working_days_later(reference_data, start, n):
    """第九条/第十一条/第十四条: whatever the day and however many days, the due date is itself a
    working day and lies exactly n working days after the event."""
    due = add_workdays(start, n)
    assert due > start
    assert is_workday(due)
    assert workdays_between(start, due) == n
    # and one day earlier not yet: the due date is the first such day
    assert workdays_between(start, due - dt.timedelta(days=1)) == n - 1
