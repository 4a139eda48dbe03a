"""How hours are counted (rules.md): pure functions, no database.

第十条: a trainee may sit the final exam after completing ≥ 95% of the class hours; 第十九条: online
hours are capped per day and as a share of the class hours.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from peixun.attendance.hours import (
    HoursRules,
    count_hours,
    lesson_bounds,
    lesson_covered,
    local_day,
    online_hours_by_day,
    session_hours,
)

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 10)


def at(hm: str, day: dt.date = DAY, second: int = 0) -> dt.datetime:
    h, m = map(int, hm.split(":"))
    return dt.datetime(day.year, day.month, day.day, h, m, second, tzinfo=SH)


@dataclass(frozen=True)
class L:
    start: dt.datetime
    end: dt.datetime
    hours: Decimal
    mode: str = "OFFLINE"


@dataclass(frozen=True)
class R:
    check_in: dt.datetime
    check_out: dt.datetime | None


@dataclass(frozen=True)
class S:
    start_at: dt.datetime
    end_at: dt.datetime
    face_checks_failed: int = 0


def lesson(start="08:00", end="10:00", hours="2", day=DAY, mode="OFFLINE"):
    return L(at(start, day), at(end, day), Decimal(hours), mode)


def minutes(start: dt.datetime, n: float, failed: int = 0) -> S:
    return S(start, start + dt.timedelta(minutes=n), failed)


# --- offline lessons ----------------------------------------------------------------------------


def test_a_record_covering_exactly_90_percent_of_the_lesson_counts_it():
    """第十条: 108 of 120 scheduled minutes is 90% — the lesson counts."""
    assert lesson_covered(lesson(), R(at("08:00"), at("09:48")), Decimal("0.90"))


def test_a_record_one_second_short_of_90_percent_does_not_count_the_lesson():
    assert not lesson_covered(lesson(), R(at("08:00"), at("09:47", second=59)), Decimal("0.90"))


def test_coverage_is_measured_inside_the_lesson_only():
    # 07:00–09:00 covers 60 of the lesson's 120 minutes, however long the record is
    assert not lesson_covered(lesson(), R(at("07:00"), at("09:00")), Decimal("0.90"))
    assert lesson_covered(lesson(), R(at("07:00"), at("11:00")), Decimal("0.90"))


def test_a_record_without_check_out_covers_nothing():
    assert not lesson_covered(lesson(), R(at("08:00"), None), Decimal("0.90"))


def test_coverage_must_come_from_one_record_not_several_added_up():
    records = [R(at("08:00"), at("09:00")), R(at("09:00"), at("10:00"))]
    h = count_hours(total_hours=Decimal(2), lessons=[lesson()], records=records, sessions=[])
    assert h.offline == 0
    assert len(h.missed) == 1


def test_a_covered_lesson_counts_its_scheduled_hours_and_missed_lessons_are_listed():
    lessons = [
        lesson("08:00", "10:00", "2.5"),
        lesson("14:00", "16:00", "2.5"),
        lesson("19:00", "20:00", "1", mode="ONLINE"),
    ]
    h = count_hours(
        total_hours=Decimal(10), lessons=lessons, records=[R(at("07:55"), at("10:05"))], sessions=[]
    )
    assert h.offline == Decimal("2.5")
    assert [x.start for x in h.missed] == [at("14:00")]  # the online lesson is not "missed"
    assert h.total == Decimal("2.5")
    assert h.share == Decimal("0.25")


def test_a_lesson_past_midnight_ends_the_next_day():
    start, end = lesson_bounds(DAY, dt.time(22, 0), dt.time(1, 0))
    assert (start, end) == (at("22:00"), at("01:00", DAY + dt.timedelta(days=1)))


# --- online sessions ----------------------------------------------------------------------------


def test_session_hours_are_minutes_over_45():
    assert session_hours(at("08:00"), at("08:45"), 45) == 1
    assert session_hours(at("08:00"), at("09:00"), 45) == Decimal(60) / 45
    assert session_hours(at("09:00"), at("08:00"), 45) == 0


def test_a_session_with_a_failed_face_check_is_not_valid():
    """第十九条 人脸识别: only sessions with face_checks_failed = 0 count."""
    by_day = online_hours_by_day([minutes(at("08:00"), 90), minutes(at("10:00"), 90, failed=1)], 45)
    assert by_day == {DAY: Decimal(2)}


def test_a_session_counts_for_the_day_it_starts_in_shanghai():
    late = minutes(at("23:30"), 90)  # runs into the next day
    # 2026-03-10 16:30 UTC is 2026-03-11 00:30 in Shanghai
    utc_start = dt.datetime(2026, 3, 10, 16, 30, tzinfo=dt.UTC)
    assert local_day(utc_start) == dt.date(2026, 3, 11)
    by_day = online_hours_by_day([late, minutes(utc_start, 45)], 45)
    assert by_day == {DAY: Decimal(2), dt.date(2026, 3, 11): Decimal(1)}


def test_exactly_8_hours_a_day_all_count():
    """第十九条: 360 minutes = 8 class hours, exactly the daily maximum."""
    h = count_hours(total_hours=Decimal(100), lessons=[], records=[], sessions=[minutes(at("08:00"), 360)])
    assert h.online_by_day == {DAY: Decimal(8)}
    assert h.online == Decimal(8)


def test_hours_above_8_a_day_are_cut_to_8():
    h = count_hours(total_hours=Decimal(100), lessons=[], records=[], sessions=[minutes(at("08:00"), 405)])
    assert h.online_by_day == {DAY: Decimal(9)}
    assert h.online_daily_capped == Decimal(8)
    assert h.online == Decimal(8)


def test_online_hours_exactly_at_40_percent_all_count():
    """第十九条: total 20 h → at most 8 online hours; 8 count."""
    h = count_hours(total_hours=Decimal(20), lessons=[], records=[], sessions=[minutes(at("08:00"), 360)])
    assert h.online_cap == Decimal(8)
    assert h.online == Decimal(8)
    assert h.share == Decimal("0.4")


def test_online_hours_above_40_percent_are_cut_at_the_share():
    sessions = [minutes(at("08:00"), 360), minutes(at("08:00", DAY + dt.timedelta(days=1)), 45)]
    h = count_hours(total_hours=Decimal(20), lessons=[], records=[], sessions=sessions)
    assert h.online_daily_capped == Decimal(9)
    assert h.online == Decimal(8)


def test_counted_hours_add_offline_and_online_and_the_share_divides_by_total_hours():
    h = count_hours(
        total_hours=Decimal(10),
        lessons=[lesson("08:00", "12:00", "4")],
        records=[R(at("08:00"), at("12:00"))],
        sessions=[minutes(at("14:00"), 90)],
        rules=HoursRules(),
    )
    assert (h.offline, h.online, h.total, h.share) == (Decimal(4), Decimal(2), Decimal(6), Decimal("0.6"))


def test_settings_change_the_count():
    rules = HoursRules(
        lesson_min_coverage=Decimal("0.5"),
        minutes_per_class_hour=60,
        online_max_hours_per_day=Decimal(2),
        online_max_share=Decimal("0.5"),
    )
    h = count_hours(
        total_hours=Decimal(10),
        lessons=[lesson("08:00", "10:00", "2")],
        records=[R(at("08:00"), at("09:00"))],
        sessions=[minutes(at("14:00"), 180)],
        rules=rules,
    )
    assert (h.offline, h.online_by_day[DAY], h.online) == (Decimal(2), Decimal(3), Decimal(2))


def test_a_class_without_total_hours_has_share_zero():
    h = count_hours(total_hours=Decimal(0), lessons=[], records=[], sessions=[minutes(at("08:00"), 45)])
    assert (h.online, h.share) == (0, 0)


def test_three_two_hour_sessions_make_exactly_8_hours_not_a_hair_more():
    """第十九条: 3 × 120 minutes = 360 minutes = 8 class hours; summing per-session quotients
    (2.666… × 3) must not tip the day over the daily maximum."""
    sessions = [minutes(at("08:00"), 120), minutes(at("10:00"), 120), minutes(at("13:00"), 120)]
    assert online_hours_by_day(sessions, 45) == {DAY: Decimal(8)}
    h = count_hours(total_hours=Decimal(20), lessons=[], records=[], sessions=sessions)
    assert h.online_daily_capped == Decimal(8)
    assert h.online == Decimal(8) and h.online_cap == Decimal("8.00")
