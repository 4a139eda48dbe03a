"""Property-based tests (hypothesis) of the pure rules peixun is built on (rules.md): the ID number
(GB 11643), the credit code (GB 32100), working days and how hours are counted.

Each property is checked against an oracle written here from rules.md, not from the code under
test. Pure functions run 200 examples, the database-backed calendar fewer; no deadline (the machine
is shared).
"""

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from peixun.attendance.hours import (
    HoursRules,
    count_hours,
    covered_lessons,
    lesson_covered,
    online_hours_by_day,
    session_hours,
    timetable,
)
from peixun.core.errors import CalendarMissing, InvalidIdNumber
from peixun.core.identity import parse_id_number
from peixun.core.reference import read_areas
from peixun.core.uscc import uscc_complete, uscc_problem
from peixun.core.workdays import WorkdayCalendar, clock_due, clock_used, workdays_left

PURE = settings(max_examples=200, deadline=None)
DB = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- oracles from rules.md ----------------------------------------------------------------------

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 0-9A-Z without I O Z S V
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def id_check(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def uscc_check(first17: str) -> str:
    check = 31 - sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True)) % 31
    return USCC_CHARS[0 if check == 31 else check]


TODAY = dt.date(2026, 6, 30)
EARLIEST_BIRTH = dt.date(1900, 1, 1)

# GB/T 2260 province prefixes; the 内蒙古 codes of the reference data plus historic 盟 codes
# (rules.md: an old code such as 152100 呼伦贝尔盟 stays valid).
PROVINCES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46]
PROVINCES += [50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82]
MENGGU = [a["code"] for a in read_areas()] + ["152100", "152600", "152700", "152800"]

area_codes = st.one_of(
    st.sampled_from(MENGGU),
    st.builds(lambda p, rest: f"{p}{rest:04d}", st.sampled_from(PROVINCES), st.integers(0, 9999)),
)
births = st.dates(min_value=EARLIEST_BIRTH, max_value=TODAY)
sequences = st.integers(0, 999).map(lambda n: f"{n:03d}")


@st.composite
def valid_ids(draw) -> str:
    first17 = draw(area_codes) + draw(births).strftime("%Y%m%d") + draw(sequences)
    return first17 + id_check(first17)


# --- 居民身份证号 (GB 11643-1999) ------------------------------------------------------------------


@PURE
@given(number=valid_ids())
@example(number="152100198803091234"[:17] + id_check("15210019880309123"))  # historic 呼伦贝尔盟
def test_a_valid_id_number_is_accepted_and_round_trips(number):
    parsed = parse_id_number(number, today=TODAY)
    assert parsed.value == number
    assert parsed.area_code == number[:6]
    assert parsed.birth_date == dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert parsed.sex == ("M" if int(number[16]) % 2 == 1 else "F")
    assert parsed.masked == number[:6] + "********" + number[14:]
    assert len(parsed.masked) == 18
    # parsing the normalised value again gives the same number (idempotent)
    assert parse_id_number(parsed.value, today=TODAY) == parsed


@PURE
@given(number=valid_ids(), position=st.integers(0, 17), replacement=st.sampled_from("0123456789X"))
def test_changing_any_one_character_of_a_valid_id_number_is_rejected(number, position, replacement):
    """Every weight is non-zero mod 11 (a prime), so any single substitution breaks the checksum —
    or the shape (X inside the first 17) or the birth date: rejected in every case."""
    assume(number[position] != replacement)
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(changed, today=TODAY)


@PURE
@given(first17=st.builds(lambda a, b, s: a + b.strftime("%Y%m%d") + s, area_codes, births, sequences))
def test_a_lowercase_x_is_accepted_as_an_uppercase_x(first17):
    # make the check character X by choosing the last two sequence digits (weights 4 and 2)
    candidates = [first17[:15] + f"{d:02d}" for d in range(100)]
    body = next(c for c in candidates if id_check(c) == "X")
    parsed = parse_id_number(body + "x", today=TODAY)
    assert parsed.value == body + "X"
    assert parsed == parse_id_number(body + "X", today=TODAY)


@PURE
@given(
    area=area_codes,
    year=st.integers(1800, 2199),
    month=st.integers(0, 13),
    day=st.integers(0, 32),
    seq=sequences,
)
def test_the_birth_date_is_accepted_exactly_when_it_exists_and_is_not_before_1900_or_after_today(
    area, year, month, day, seq
):
    first17 = f"{area}{year:04d}{month:02d}{day:02d}{seq}"
    number = first17 + id_check(first17)
    try:
        birth = dt.date(year, month, day)
        plausible = EARLIEST_BIRTH <= birth <= TODAY
    except ValueError:
        plausible = False
    if plausible:
        assert parse_id_number(number, today=TODAY).birth_date == birth
    else:
        with pytest.raises(InvalidIdNumber):
            parse_id_number(number, today=TODAY)


@PURE
@given(rest=st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_an_area_code_starting_00_is_rejected(rest):
    first17 = "00" + rest[:4] + "19900101" + rest[4:7]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(first17 + id_check(first17), today=TODAY)


near_ids = st.one_of(
    st.text(),
    st.text(alphabet="0123456789Xx \t\u3000０１２３４５６７８９Ｘ٠١٢", min_size=16, max_size=20),
    st.from_regex(r"\A\s*[0-9]{17}[0-9Xx]\s*\Z"),
    valid_ids().map(lambda n: n.replace("1", "１", 1)),  # one full-width digit
)


@PURE
@given(raw=near_ids)
@example(raw="ß" * 9)  # upper() makes 18 characters
@example(raw="\x00" * 18)
def test_any_text_is_either_a_valid_id_number_or_invalid_id_number(raw):
    try:
        parsed = parse_id_number(raw, today=TODAY)
    except InvalidIdNumber as exc:
        assert exc.message  # a Chinese reason, shown as is
        return
    value = parsed.value
    assert len(value) == 18 and value.isascii() and value[:17].isdigit()
    assert value[17] == id_check(value[:17])


# --- 统一社会信用代码 (GB 32100-2015) ----------------------------------------------------------------

uscc_bodies = st.text(alphabet=USCC_CHARS, min_size=17, max_size=17)


@PURE
@given(body=uscc_bodies)
def test_a_completed_credit_code_has_no_problem(body):
    code = uscc_complete(body)
    assert code == body + uscc_check(body)
    assert uscc_problem(code) is None
    assert uscc_problem(code.lower()) is None
    assert uscc_problem(f"  {code} ") is None


@PURE
@given(body=uscc_bodies, position=st.integers(0, 17), replacement=st.sampled_from(USCC_CHARS))
def test_changing_one_character_of_a_credit_code_is_a_warning_not_an_exception(body, position, replacement):
    """Every weight is non-zero mod 31 (a prime): any one substitution fails the check."""
    code = uscc_complete(body)
    assume(code[position] != replacement)
    changed = code[:position] + replacement + code[position + 1 :]
    problem = uscc_problem(changed)
    assert isinstance(problem, str) and "校验位" in problem


@PURE
@given(raw=st.one_of(st.text(), st.text(alphabet=USCC_CHARS + "IOZSVios -", min_size=16, max_size=20)))
@example(raw="ß" * 9)
def test_any_text_gives_none_or_a_warning_for_the_credit_code(raw):
    problem = uscc_problem(raw)
    assert problem is None or (isinstance(problem, str) and problem)
    if problem is None:
        value = raw.strip().upper()
        assert len(value) == 18 and all(c in USCC_CHARS for c in value)
        assert value[17] == uscc_check(value[:17])


# --- working days (needs the calendar in the database) --------------------------------------------

FIRST_DAY, LAST_DAY = dt.date(2005, 1, 1), dt.date(2026, 11, 30)
LAST_LOADED = dt.date(2026, 12, 31)  # the calendar holds 2004–2026
days = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)
counts = st.integers(0, 20)


@pytest.mark.django_db
@DB
@given(day=st.dates(min_value=dt.date(2004, 1, 1), max_value=dt.date(2026, 12, 31)))
def test_the_calendar_agrees_with_chinesecalendar_it_was_seeded_from(reference_data, day):
    assert WorkdayCalendar().is_workday(day) == chinese_calendar.is_workday(day)


@pytest.mark.django_db
@DB
@given(start=days, n=counts)
def test_adding_working_days(reference_data, start, n):
    cal = WorkdayCalendar()
    due = cal.add(start, n)
    if n == 0:
        assert due == start
        return
    assert due > start and cal.is_workday(due)
    # exactly n working days in (start, due], counted independently
    span = [start + dt.timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert sum(chinese_calendar.is_workday(d) for d in span) == n
    assert cal.between(start, due) == n
    # monotonic in n: one more working day is strictly later
    assert cal.add(start, n + 1) > due
    assert cal.add(start, n - 1) < due


@pytest.mark.django_db
@DB
@given(start=days, length=st.integers(-40, 40))
def test_between_counts_working_days_after_start_up_to_end(reference_data, start, length):
    cal = WorkdayCalendar()
    end = min(start + dt.timedelta(days=length), LAST_LOADED)
    length = (end - start).days
    counted = cal.between(start, end)
    if end <= start:
        assert counted == 0
        return
    assert counted == sum(
        chinese_calendar.is_workday(start + dt.timedelta(days=i)) for i in range(1, length + 1)
    )
    # adding that many working days reaches end, or the last working day before it
    reached = cal.add(start, counted)
    assert reached <= end
    assert (reached == end) == cal.is_workday(end)


@pytest.mark.django_db
@DB
@given(submitted=days, limit=st.integers(1, 15), used=st.integers(0, 20))
def test_the_review_clock(reference_data, submitted, limit, used):
    cal = WorkdayCalendar()
    due = clock_due(submitted, limit, used)
    assert due == cal.add(submitted, max(limit - used, 1))
    assert due > submitted  # a resubmission always gets at least one working day
    # the working days spent when the clock stops on the due date
    assert clock_used(submitted, due, used) == used + max(limit - used, 1)
    assert clock_used(submitted, submitted, used) == used


@pytest.mark.django_db
@DB
@given(today=days, offset=st.integers(-120, 120))
def test_workdays_left_is_antisymmetric_for_any_two_dates(reference_data, today, offset):
    """What holds exactly: workdays_left(a, b) == -workdays_left(b, a) for all dates, working days
    or not (both directions count the working days after the earlier date up to the later)."""
    other = min(today + dt.timedelta(days=offset), LAST_LOADED)
    assert workdays_left(other, today) == -workdays_left(today, other)
    assert workdays_left(today, today) == 0


@pytest.mark.django_db
@DB
@given(today=days, n=counts)
def test_workdays_left_counts_down_to_the_due_date(reference_data, today, n):
    due = WorkdayCalendar().add(today, n)
    assert workdays_left(due, today) == n
    assert workdays_left(today, due) == -n
    # on the next working day after the due date the review is one working day overdue
    next_workday = WorkdayCalendar().add(due, 1)
    assert workdays_left(due, next_workday) == -1


@pytest.mark.django_db
def test_a_deadline_running_into_a_year_without_calendar_is_an_error_never_a_guess(reference_data):
    with pytest.raises(CalendarMissing):
        WorkdayCalendar().add(dt.date(2026, 12, 20), 30)


# --- how hours are counted (pure) ---------------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
BASE = dt.datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
RULES = HoursRules()
PER_HOUR = 60 * RULES.minutes_per_class_hour


@dataclass(frozen=True)
class Lesson:
    start: dt.datetime
    end: dt.datetime
    hours: Decimal
    mode: str = "OFFLINE"


@dataclass(frozen=True)
class Record:
    check_in: dt.datetime
    check_out: dt.datetime | None


@dataclass(frozen=True)
class Session:
    start_at: dt.datetime
    end_at: dt.datetime
    face_checks_failed: int = 0


@st.composite
def timetables(draw, max_lessons=5):
    """Non-overlapping lessons in whole minutes (HH:MM in the contract), 0.5 to 12 class hours."""
    lessons, cursor = [], BASE
    for _ in range(draw(st.integers(0, max_lessons))):
        cursor += dt.timedelta(minutes=draw(st.integers(0, 24 * 60)))
        length = dt.timedelta(minutes=draw(st.integers(1, 600)))
        hours = Decimal(draw(st.integers(1, 24))) / 2
        mode = draw(st.sampled_from(["OFFLINE", "OFFLINE", "OFFLINE", "ONLINE"]))
        lessons.append(Lesson(cursor, cursor + length, hours, mode))
        cursor += length
    return lessons


def moments(lo_hours=-24, hi_hours=24 * 12):
    return st.builds(
        lambda seconds, tz: (BASE + dt.timedelta(seconds=seconds)).astimezone(tz),
        st.integers(lo_hours * 3600, hi_hours * 3600),
        st.sampled_from([SHANGHAI, UTC]),
    )


closed_records = st.builds(
    lambda start, length: Record(start, start + dt.timedelta(seconds=length)),
    moments(),
    st.integers(0, 12 * 3600),
)
# a few records were never checked out: they cover nothing
records_anywhere = st.one_of(
    closed_records, closed_records, closed_records, st.builds(Record, moments(), st.none())
)


@st.composite
def anchored_record(draw, lessons):
    """A record near the timetable: from around one lesson's start to around the end of the same
    or a later lesson (up to 15 minutes either way), in either time zone."""
    if not lessons:
        return draw(records_anywhere)
    first = draw(st.integers(0, len(lessons) - 1))
    last = draw(st.integers(first, min(first + 2, len(lessons) - 1)))
    start = lessons[first].start + dt.timedelta(seconds=draw(st.integers(-900, 900)))
    end = max(start, lessons[last].end + dt.timedelta(seconds=draw(st.integers(-900, 900))))
    tz = draw(st.sampled_from([SHANGHAI, UTC]))
    return Record(start.astimezone(tz), end.astimezone(tz))


@st.composite
def class_attendance(draw, max_lessons=5, max_records=5):
    """(timetable, one trainee's records): half the records anchored on lessons, half anywhere."""
    lessons = draw(timetables(max_lessons))
    recs = [
        draw(st.one_of(records_anywhere, anchored_record(lessons)))
        for _ in range(draw(st.integers(0, max_records)))
    ]
    return lessons, recs


@st.composite
def session_lists(draw, max_size=5):
    out = []
    for _ in range(draw(st.integers(0, max_size))):
        start = draw(moments(-12, 72))  # a few days: several sessions often share one
        seconds = draw(st.one_of(st.integers(-600, 10 * 3600), st.sampled_from([2700, 5400, 7200, 21600])))
        failed = draw(st.sampled_from([0, 0, 0, 1, 3]))
        out.append(Session(start, start + dt.timedelta(seconds=seconds), failed))
    return out


def offline_hours(lessons) -> Decimal:
    return sum((x.hours for x in lessons if x.mode == "OFFLINE"), Decimal(0))


def online_oracle(sessions, total_hours: Decimal) -> tuple[dict, Fraction, Fraction]:
    """rules.md: valid hours of each day (start day, Asia/Shanghai), capped at the daily maximum,
    summed, then capped at 0.40 × total hours."""
    by_day: dict[dt.date, Fraction] = {}
    for s in sessions:
        if s.face_checks_failed == 0:
            seconds = max((s.end_at - s.start_at).total_seconds(), 0)
            day = s.start_at.astimezone(SHANGHAI).date()
            by_day[day] = by_day.get(day, Fraction(0)) + Fraction(int(seconds), PER_HOUR)
    daily = sum((min(h, Fraction(8)) for h in by_day.values()), Fraction(0))
    return by_day, daily, min(daily, Fraction(2, 5) * Fraction(total_hours))


def close(decimal: Decimal, exact: Fraction) -> bool:
    """Equal up to the 28-digit rounding of a Decimal (1/2700 h has no finite decimal form)."""
    return abs(Fraction(decimal) - exact) <= Fraction(1, 10**24) * max(1, abs(exact))


@PURE
@given(
    attendance=class_attendance(),
    sessions=session_lists(),
    half=st.integers(1, 400),
    rnd=st.randoms(use_true_random=False),
)
def test_counted_hours_stay_within_the_timetable_and_the_online_caps(attendance, sessions, half, rnd):
    lessons, records = attendance
    total_hours = Decimal(half) / 2
    count = count_hours(total_hours=total_hours, lessons=lessons, records=records, sessions=sessions)
    by_day, daily, online = online_oracle(sessions, total_hours)
    assert Decimal(0) <= count.offline <= offline_hours(lessons)
    assert count.offline == sum(
        (x.hours for x in lessons if x.mode == "OFFLINE" and x not in count.missed), Decimal(0)
    )
    # online counted ≤ min(daily caps summed, 0.40 × total): exactly in the Decimals returned …
    assert count.online <= count.online_daily_capped and count.online <= count.online_cap
    assert count.online_cap == Decimal("0.40") * total_hours
    # … and equal to the exact value up to the Decimal's rounding
    assert close(count.online, online) and close(count.online_daily_capped, daily)
    assert set(count.online_by_day) == set(by_day)
    assert all(close(count.online_by_day[d], h) for d, h in by_day.items())
    assert count.total == count.offline + count.online
    assert count.share == count.total / total_hours
    event("some lesson covered" if count.offline else "no lesson covered")
    event("a day over the daily maximum" if any(h > 8 for h in by_day.values()) else "no day over 8")
    event("share cap binding" if online < daily else "share cap not binding")
    # the order of the timetable, the records and the sessions does not matter
    rnd.shuffle(lessons)
    rnd.shuffle(records)
    rnd.shuffle(sessions)
    again = count_hours(total_hours=total_hours, lessons=lessons, records=records, sessions=sessions)
    assert (again.offline, again.online, again.online_by_day) == (
        count.offline,
        count.online,
        count.online_by_day,
    )
    assert set(again.missed) == set(count.missed)
    prepared = count_hours(
        total_hours=total_hours,
        lessons=timetable(lessons, HoursRules().lesson_min_coverage),
        records=records,
        sessions=sessions,
    )
    assert prepared == again


@PURE
@given(attendance=class_attendance(), sessions=session_lists(), data=st.data())
def test_counted_hours_never_exceed_total_hours_when_the_timetable_leaves_room_for_the_online_share(
    attendance, sessions, data
):
    """Counted = covered offline + online (capped at 0.40 × total): it stays within the total when
    the timetable's offline hours are at most the other 0.60 — as in a class whose total_hours is
    its timetable plus its online hours."""
    lessons, records = attendance
    offline = offline_hours(lessons)
    total_hours = data.draw(
        st.integers(max(1, math.ceil(offline / Decimal("0.6") * 2)), 1000).map(lambda n: Decimal(n) / 2)
    )
    count = count_hours(total_hours=total_hours, lessons=lessons, records=records, sessions=sessions)
    assert count.total <= total_hours
    assert count.share <= 1


@PURE
@given(
    attendance=class_attendance(),
    sessions=session_lists(),
    more=session_lists(max_size=3),
    half=st.integers(1, 800),
    data=st.data(),
)
def test_adding_an_attendance_record_or_a_session_never_decreases_counted_hours(
    attendance, sessions, more, half, data
):
    lessons, records = attendance
    total_hours = Decimal(half) / 2

    def counted(recs, sess):
        return count_hours(total_hours=total_hours, lessons=lessons, records=recs, sessions=sess)

    before = counted(records, sessions)
    extra = data.draw(st.one_of(records_anywhere, anchored_record(lessons)), label="extra record")
    with_record = counted([*records, extra], sessions)
    assert with_record.total >= before.total and with_record.offline >= before.offline
    assert set(before.missed) >= set(with_record.missed)
    with_sessions = counted(records, [*sessions, *more])
    assert with_sessions.total >= before.total and with_sessions.online >= before.online


@PURE
@given(attendance=class_attendance(max_lessons=10, max_records=12))
def test_covered_lessons_with_bisection_is_the_plain_one_record_test(attendance):
    """covered_lessons looks only at records that can reach a lesson; the result must be that of
    trying every record on every lesson (lesson_covered)."""
    lessons, records = attendance
    covered, missed = covered_lessons(lessons, records, RULES.lesson_min_coverage)
    offline = [x for x in lessons if x.mode == "OFFLINE"]
    plain = {x for x in offline if any(lesson_covered(x, r, RULES.lesson_min_coverage) for r in records)}
    assert set(covered) == plain
    assert set(missed) == set(offline) - plain
    assert len(covered) + len(missed) == len(offline)
    # The timetable prepared once for a whole roster gives the same split.
    table = timetable(lessons, RULES.lesson_min_coverage)
    assert covered_lessons(table, records, RULES.lesson_min_coverage) == (covered, missed)
    with pytest.raises(ValueError):
        covered_lessons(table, records, Decimal("0.5"))


@PURE
@given(
    seconds=st.integers(1, 12 * 3600),
    coverage=st.one_of(st.just(Decimal("0.90")), st.integers(1, 100).map(lambda n: Decimal(n) / 100)),
    where=st.sampled_from(["start", "end", "inside"]),
    outside=st.integers(0, 3600),
    tz=st.sampled_from([SHANGHAI, UTC]),
)
@example(seconds=45 * 60, coverage=Decimal("0.90"), where="start", outside=0, tz=SHANGHAI)
@example(seconds=7, coverage=Decimal("0.90"), where="end", outside=5, tz=SHANGHAI)
def test_a_lesson_counts_exactly_from_90_percent_coverage(seconds, coverage, where, outside, tz):
    """One record covering ⌈0.90 × scheduled⌉ seconds of a lesson counts it; one second less does not."""
    lesson = Lesson(BASE, BASE + dt.timedelta(seconds=seconds), Decimal("1"))
    boundary = math.ceil(Fraction(coverage) * seconds)

    def record(covering: int) -> Record:
        if where == "start":  # checked in early, left before the end
            start, end = (
                lesson.start - dt.timedelta(seconds=outside),
                lesson.start + dt.timedelta(seconds=covering),
            )
        elif where == "end":  # came late, stayed after the end
            start, end = (
                lesson.end - dt.timedelta(seconds=covering),
                lesson.end + dt.timedelta(seconds=outside),
            )
        else:  # inside the lesson
            gap = (seconds - covering) // 2
            start = lesson.start + dt.timedelta(seconds=gap)
            end = start + dt.timedelta(seconds=covering)
        return Record(start.astimezone(tz), end.astimezone(tz))

    def counts(covering: int) -> bool:
        by_one = lesson_covered(lesson, record(covering), coverage)
        covered, _ = covered_lessons([lesson], [record(covering)], coverage)
        assert by_one == bool(covered)
        return by_one

    assert counts(boundary)
    assert not counts(boundary - 1)
    count = count_hours(
        total_hours=Decimal(10),
        lessons=[lesson],
        records=[record(boundary)],
        sessions=[],
        rules=HoursRules(lesson_min_coverage=coverage),
    )
    assert count.offline == lesson.hours and count.missed == ()


@PURE
@given(
    attendance=class_attendance(),
    valid=session_lists(),
    half=st.integers(1, 800),
)
def test_sessions_with_failed_face_checks_never_count(attendance, valid, half):
    lessons, records = attendance
    total_hours = Decimal(half) / 2
    good = [s for s in valid if s.face_checks_failed == 0]
    failed = [Session(s.start_at, s.end_at, s.face_checks_failed or 1) for s in valid]
    only_good = count_hours(total_hours=total_hours, lessons=lessons, records=records, sessions=good)
    mixed = count_hours(total_hours=total_hours, lessons=lessons, records=records, sessions=[*good, *failed])
    assert (mixed.online, mixed.online_by_day, mixed.online_daily_capped, mixed.total) == (
        only_good.online,
        only_good.online_by_day,
        only_good.online_daily_capped,
        only_good.total,
    )
    nothing = count_hours(total_hours=total_hours, lessons=[], records=[], sessions=failed)
    assert nothing.online == 0 and nothing.online_by_day == {}
    assert online_hours_by_day(failed, RULES.minutes_per_class_hour) == {}


@PURE
@given(start=moments(), seconds=st.integers(-7200, 48 * 3600), minutes=st.sampled_from([40, 45, 50, 60]))
def test_session_hours_are_minutes_over_the_class_hour(start, seconds, minutes):
    hours = session_hours(start, start + dt.timedelta(seconds=seconds), minutes)
    assert hours >= 0
    assert close(hours, Fraction(max(seconds, 0), 60 * minutes))


@PURE
@given(parts=st.lists(st.integers(1, 4 * 3600), min_size=1, max_size=6), start=moments())
@example(parts=[5400, 5400, 5400, 5400], start=BASE)  # four 2-class-hour sessions: exactly 8
@example(parts=[7200, 7200, 7200], start=BASE)
def test_a_days_online_hours_are_exact_whenever_they_have_a_finite_decimal_form(parts, start):
    """The daily maximum (8) and the share cap are compared on these: a day that comes to 8 class
    hours exactly must show exactly 8, not 8 plus a rounding hair."""
    day_start = start.astimezone(SHANGHAI).replace(hour=6, minute=0, second=0)
    sessions = [
        Session(day_start + dt.timedelta(minutes=i), day_start + dt.timedelta(minutes=i, seconds=seconds))
        for i, seconds in enumerate(parts)
    ]
    (day, hours), *_ = online_hours_by_day(sessions, RULES.minutes_per_class_hour).items()
    exact = Fraction(sum(parts), PER_HOUR)
    assert day == day_start.date()
    denominator = exact.denominator
    while denominator % 2 == 0:
        denominator //= 2
    while denominator % 5 == 0:
        denominator //= 5
    if denominator == 1:
        assert Fraction(hours) == exact
    else:
        assert close(hours, exact)
