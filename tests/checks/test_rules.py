"""The rule catalog of rules.md as pure functions: every rule on facts built in memory (no database).

Each rule has a hit, the near misses on each side of its boundaries, and its evidence checked for
the dates it must name. The class under test, C2026-001, runs 2026-03-10 to 2026-03-20.
"""

import datetime as dt
import itertools
import math
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from peixun.checks.catalog import PACKAGE_RULES, RULES
from peixun.checks.facts import (
    AttendanceFact,
    ClassFact,
    ClassFacts,
    EnrollmentFact,
    ExamFact,
    HistoryFact,
    LessonFact,
    OnlineFact,
    RegistryFact,
    RuleParams,
    directory_status_on,
)
from peixun.checks.rules import RULE_FUNCTIONS, check_class, intervals_overlap, same_or_higher_level
from peixun.core.models import RuleSettings

SH = ZoneInfo("Asia/Shanghai")
START, END = dt.date(2026, 3, 10), dt.date(2026, 3, 20)
CHEF = "4-03-02-01"
SITE = (40.842, 111.749)
_ids = itertools.count(1)

KLASS = ClassFact(
    id=1,
    code="C2026-001",
    start_date=START,
    end_date=END,
    occupation_code=CHEF,
    occupation_name="中式烹调师",
    level="4",
    training_type="EMPLOYMENT",
    total_hours=Decimal(80),
    site_lat=SITE[0],
    site_lon=SITE[1],
    institution_code="52150100MJY1234567",
    institution_name="鸿翔职业技能培训学校",
    licensed_occupations=frozenset({CHEF}),
    directory_status="LISTED",
)
OTHER = {"class_id": 2, "class_code": "C2026-002"}


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def at(text: str) -> dt.datetime:
    """'2026-03-10 08:00' (or with seconds) in Asia/Shanghai."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def facts(klass: ClassFact = KLASS, **kw) -> ClassFacts:
    return ClassFacts(klass=klass, **kw)


def enrol(person="p1", category="POVERTY_MONITORED", birth="1990-05-17", **kw) -> EnrollmentFact:
    values = {
        "class_id": KLASS.id,
        "class_code": KLASS.code,
        "class_start": KLASS.start_date,
        "occupation_code": CHEF,
        "level": "4",
    }
    values.update(kw)
    return EnrollmentFact(person=person, category=category, birth_date=d(birth) if birth else None, **values)


def lesson(day="2026-03-10", start="08:00", end="10:00", hours="2", mode="OFFLINE", teacher="", **kw):
    values = {"class_id": KLASS.id, "class_code": KLASS.code} | kw
    begin, finish = at(f"{day} {start}"), at(f"{day} {end}")
    return LessonFact(
        id=next(_ids),
        date=d(day),
        start=begin,
        end=finish,
        hours=Decimal(hours),
        mode=mode,
        teacher=teacher,
        **values,
    )


def record(person="p1", check_in="2026-03-10 08:00", check_out="2026-03-10 10:00", **kw) -> AttendanceFact:
    values = {"class_id": KLASS.id, "class_code": KLASS.code} | kw
    return AttendanceFact(
        id=next(_ids),
        person=person,
        check_in=at(check_in),
        check_out=at(check_out) if check_out else None,
        **values,
    )


def session(
    person="p1", start="2026-03-10 19:00", minutes=45, ip=None, passed=1, failed=0, **kw
) -> OnlineFact:
    values = {"class_id": KLASS.id, "class_code": KLASS.code} | kw
    begin = at(start)
    return OnlineFact(
        id=next(_ids),
        person=person,
        start_at=begin,
        end_at=begin + dt.timedelta(minutes=minutes),
        ip=ip,
        face_checks_passed=passed,
        face_checks_failed=failed,
        **values,
    )


def reg(kind, date_from=None, date_to=None, person="p1", **kw) -> RegistryFact:
    return RegistryFact(
        kind=kind,
        person=person,
        date_from=d(date_from) if date_from else None,
        date_to=d(date_to) if date_to else None,
        **kw,
    )


def run(code: str, f: ClassFacts, params: RuleParams | None = None):
    return RULE_FUNCTIONS[code](f, params or RuleParams())


def subjects(hits) -> list[str]:
    return [h.subject for h in hits]


def only(hits):
    assert len(hits) == 1, hits
    return hits[0]


# --- the table ----------------------------------------------------------------------------------


def test_every_package_rule_has_exactly_one_function():
    assert set(RULE_FUNCTIONS) == set(PACKAGE_RULES)
    assert "FACE_MISMATCH" not in RULE_FUNCTIONS and "FACE_SHARED" not in RULE_FUNCTIONS


def test_a_clean_class_raises_nothing():
    f = facts(
        lessons=(lesson(),),
        enrollments=(enrol(),),
        attendance=(record(lat=SITE[0], lon=SITE[1], photo_sha256="a" * 64),),
        online=(session(),),
        exams=(ExamFact(class_id=1, person="p1", exam_date=END),),
        klass=ClassFact(**{**KLASS.__dict__, "total_hours": Decimal(3)}),
    )
    assert check_class(f, RuleParams()) == []


def test_rule_params_come_from_the_settings_version():
    settings = RuleSettings(version=7, online_max_share=Decimal("0.30"), ip_farm_persons=6)
    params = RuleParams.from_settings(settings)
    assert (params.version, params.online_max_share, params.ip_farm_persons) == (7, Decimal("0.30"), 6)
    assert params.hours.lesson_min_coverage == Decimal("0.90")
    assert params.lifetime_subsidy_cap == 3


def test_touching_intervals_do_not_overlap():
    a, b, c = at("2026-03-10 08:00"), at("2026-03-10 10:00"), at("2026-03-10 12:00")
    assert not intervals_overlap(a, b, b, c)
    assert intervals_overlap(a, b + dt.timedelta(seconds=1), b, c)
    # an instant (check-in without check-out) lies in an interval that contains it
    assert intervals_overlap(a, a, a, b)
    assert not intervals_overlap(b, b, a, b)


@pytest.mark.parametrize(
    ("other", "this", "expected"),
    [
        ("4", "4", True),
        ("3", "4", True),
        ("5", "4", False),
        ("SPECIAL", "SPECIAL", True),
        ("SPECIAL", "4", False),
    ],
)
def test_levels_compare_numerically_and_others_only_when_equal(other, this, expected):
    assert same_or_higher_level(other, this) is expected


# --- AGE_UNDER_16 -------------------------------------------------------------------------------


def test_a_trainee_whose_16th_birthday_is_the_day_after_the_start_is_under_16():
    """劳动法: 16th birthday on 2026-03-11, class starts 2026-03-10."""
    hit = only(run("AGE_UNDER_16", facts(enrollments=(enrol(birth="2010-03-11"),))))
    assert (hit.rule_code, hit.class_code, hit.subject) == ("AGE_UNDER_16", "C2026-001", "p1")
    assert "2010-03-11" in hit.evidence and "2026-03-10" in hit.evidence


def test_a_trainee_whose_16th_birthday_is_the_start_date_is_not_under_16():
    assert run("AGE_UNDER_16", facts(enrollments=(enrol(birth="2010-03-10"),))) == []


# --- DECEASED -----------------------------------------------------------------------------------


def test_a_death_before_the_class_start_is_reported():
    """第十五条 公安死亡信息."""
    f = facts(enrollments=(enrol(),), registry=(reg("death", "2026-03-01"),))
    assert only(run("DECEASED", f)).evidence == "公安死亡信息：死亡日期2026-03-01，早于开班日期2026-03-10"


def test_a_death_the_day_before_the_start_is_reported():
    f = facts(enrollments=(enrol(),), registry=(reg("death", "2026-03-09"),))
    assert "2026-03-09" in only(run("DECEASED", f)).evidence


def test_a_death_on_the_start_day_with_records_only_that_day_is_not_reported():
    f = facts(
        enrollments=(enrol(),),
        attendance=(record(check_in="2026-03-10 08:00", check_out="2026-03-10 10:00"),),
        registry=(reg("death", "2026-03-10"),),
    )
    assert run("DECEASED", f) == []


def test_attendance_after_the_death_date_is_reported():
    f = facts(
        enrollments=(enrol(),),
        attendance=(record(check_in="2026-03-11 08:00", check_out="2026-03-11 10:00"),),
        registry=(reg("death", "2026-03-10"),),
    )
    evidence = only(run("DECEASED", f)).evidence
    assert "死亡日期2026-03-10" in evidence and "2026-03-11 08:00的考勤记录" in evidence


def test_an_online_session_or_exam_after_the_death_date_is_reported():
    f = facts(
        enrollments=(enrol(),),
        online=(session(start="2026-03-16 20:00"),),
        exams=(ExamFact(class_id=1, person="p1", exam_date=d("2026-03-20")),),
        registry=(reg("death", "2026-03-15"),),
    )
    evidence = only(run("DECEASED", f)).evidence
    assert "2026-03-16 20:00的线上学习记录" in evidence and "2026-03-20的考试记录" in evidence


def test_a_death_the_day_after_the_class_ends_is_not_reported():
    f = facts(
        enrollments=(enrol(),),
        attendance=(record(check_in="2026-03-20 08:00", check_out="2026-03-20 10:00"),),
        exams=(ExamFact(class_id=1, person="p1", exam_date=END),),
        registry=(reg("death", "2026-03-21"),),
    )
    assert run("DECEASED", f) == []


def test_another_persons_death_is_not_this_trainees():
    f = facts(enrollments=(enrol(),), registry=(reg("death", "2026-03-01", person="p9"),))
    assert run("DECEASED", f) == []


# --- PUBLIC_PAYROLL -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "fires"),
    [
        ("2020-01-01", None, True),
        ("2020-01-01", "2026-03-09", False),  # ended the day before the start
        ("2020-01-01", "2026-03-10", True),  # ended on the start date
        ("2026-03-20", None, True),  # began on the last class day
        ("2026-03-21", None, False),  # began the day after the end
    ],
)
def test_a_public_payroll_period_overlapping_the_class_dates(start, end, fires):
    """181号 第十六条: 机关事业单位在编人员 are not subsidised."""
    f = facts(
        enrollments=(enrol(),),
        registry=(reg("public_payroll", start, end, org_name="某旗财政局"),),
    )
    hits = run("PUBLIC_PAYROLL", f)
    assert subjects(hits) == (["p1"] if fires else [])
    if fires:
        assert start in hits[0].evidence and "2026-03-10至2026-03-20" in hits[0].evidence


# --- UNEMPLOYED_NOT_REGISTERED ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registrations", "fires"),
    [
        ((), True),
        ((("2025-01-01", "2026-03-09"),), True),  # ended the day before the start
        ((("2026-03-10", None),), False),  # registered on the start date
        ((("2025-01-01", "2026-03-10"),), False),  # ends on the start date
        ((("2026-03-11", None),), True),  # registered the day after the start
    ],
)
def test_a_registered_unemployed_trainee_needs_a_registration_on_the_start_date(registrations, fires):
    """第十五条 就业失业登记."""
    f = facts(
        enrollments=(enrol(category="REGISTERED_UNEMPLOYED"),),
        registry=tuple(reg("unemployment_registration", a, b) for a, b in registrations),
    )
    hits = run("UNEMPLOYED_NOT_REGISTERED", f)
    assert subjects(hits) == (["p1"] if fires else [])
    if fires:
        assert "2026-03-10" in hits[0].evidence


def test_other_categories_need_no_unemployment_registration():
    assert run("UNEMPLOYED_NOT_REGISTERED", facts(enrollments=(enrol(category="RURAL_MIGRANT"),))) == []


# --- UNEMPLOYED_BUT_INSURED ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "fires"),
    [
        ("2026-03-01", "2026-03-31", True),  # exactly the start month
        ("2025-01-01", None, True),
        ("2025-01-01", "2026-02-28", False),  # ended the month before
        ("2026-04-01", None, False),  # began the month after
    ],
)
def test_an_insurance_period_covering_the_start_month(start, end, fires):
    """第十五条 社会保险: month periods stored as first/last day."""
    f = facts(
        enrollments=(enrol(category="REGISTERED_UNEMPLOYED"),),
        registry=(reg("social_insurance", start, end, org_name="包头钢铁集团"),),
    )
    hits = run("UNEMPLOYED_BUT_INSURED", f)
    assert subjects(hits) == (["p1"] if fires else [])
    if fires:
        assert "开班月份2026-03" in hits[0].evidence and start[:7] in hits[0].evidence


@pytest.mark.parametrize(
    ("category", "fires"),
    [
        ("REGISTERED_UNEMPLOYED", True),
        ("RURAL_MIGRANT", True),
        ("SCHOOL_LEAVER", True),
        ("ENTERPRISE_EMPLOYEE", False),
        ("POVERTY_MONITORED", False),
    ],
)
def test_only_unemployed_migrant_and_school_leaver_categories_are_judged_on_insurance(category, fires):
    f = facts(enrollments=(enrol(category=category),), registry=(reg("social_insurance", "2025-01-01"),))
    assert bool(run("UNEMPLOYED_BUT_INSURED", f)) is fires


# --- UNEMPLOYED_BUT_BUSINESS --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("established", "revoked", "fires"),
    [
        ("2020-05-01", None, True),
        ("2020-05-01", "2026-03-09", False),  # revoked the day before the start
        ("2020-05-01", "2026-03-10", True),  # revoked on the start date
        ("2026-03-10", None, True),  # established on the start date
        ("2026-03-11", None, False),  # established the day after
    ],
)
def test_a_business_licence_valid_on_the_start_date(established, revoked, fires):
    """第十五条 工商营业执照."""
    f = facts(
        enrollments=(enrol(category="REGISTERED_UNEMPLOYED"),),
        registry=(
            reg("business_license", established, revoked, org_code="92150102MA0ABCDE1X", org_name="小李餐馆"),
        ),
    )
    hits = run("UNEMPLOYED_BUT_BUSINESS", f)
    assert subjects(hits) == (["p1"] if fires else [])
    if fires:
        assert established in hits[0].evidence and "开班日期2026-03-10" in hits[0].evidence


def test_a_business_licence_does_not_matter_in_startup_training_or_other_categories():
    licence = (reg("business_license", "2020-05-01"),)
    startup = ClassFact(**{**KLASS.__dict__, "training_type": "STARTUP"})
    assert (
        run(
            "UNEMPLOYED_BUT_BUSINESS",
            facts(startup, enrollments=(enrol(category="REGISTERED_UNEMPLOYED"),), registry=licence),
        )
        == []
    )
    assert (
        run(
            "UNEMPLOYED_BUT_BUSINESS", facts(enrollments=(enrol(category="RURAL_MIGRANT"),), registry=licence)
        )
        == []
    )


# --- HOSPITALIZED_PRESENT -----------------------------------------------------------------------


def test_attendance_on_a_day_inside_a_hospital_stay():
    """第十五条 医保住院: admitted 03-12, discharged 03-14 (both days in hospital)."""
    stay = reg("hospitalization", "2026-03-12", "2026-03-14", org_name="内蒙古医科大学附属医院")
    f = facts(
        enrollments=(enrol(),),
        attendance=(
            record(check_in="2026-03-11 08:00", check_out="2026-03-11 10:00"),  # day before admission
            record(check_in="2026-03-14 08:00", check_out="2026-03-14 10:00"),  # discharge day
            record(check_in="2026-03-15 08:00", check_out="2026-03-15 10:00"),  # day after
        ),
        registry=(stay,),
    )
    evidence = only(run("HOSPITALIZED_PRESENT", f)).evidence
    assert "住院2026-03-12至2026-03-14" in evidence and "2026-03-14有考勤记录" in evidence
    assert "2026-03-11" not in evidence and "2026-03-15" not in evidence


def test_a_hospital_stay_on_days_without_attendance_is_no_finding():
    f = facts(
        enrollments=(enrol(),),
        attendance=(record(check_in="2026-03-11 08:00", check_out="2026-03-11 10:00"),),
        registry=(reg("hospitalization", "2026-03-12", "2026-03-14"),),
    )
    assert run("HOSPITALIZED_PRESENT", f) == []


def test_a_stay_without_discharge_is_still_going_and_days_are_shanghai_days():
    # 07:30 in Shanghai on 03-12 is still 03-11 in UTC
    early = record(check_in="2026-03-12 07:30", check_out="2026-03-12 10:00")
    early = AttendanceFact(**{**early.__dict__, "check_in": early.check_in.astimezone(dt.UTC)})
    f = facts(enrollments=(enrol(),), attendance=(early,), registry=(reg("hospitalization", "2026-03-12"),))
    assert "未出院" in only(run("HOSPITALIZED_PRESENT", f)).evidence


# --- REPEAT_TRAINING ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("occupation", "level", "fires"),
    [(CHEF, "4", True), (CHEF, "3", True), (CHEF, "5", False), ("4-10-01-06", "4", False)],
)
def test_a_history_row_in_the_same_occupation_at_the_same_or_higher_level(occupation, level, fires):
    """第二十二条 同一人员多次重复参加同一工种培训."""
    history = (
        HistoryFact(person="p1", occupation_code=occupation, level=level, completed_on=d("2024-06-30")),
    )
    hits = run("REPEAT_TRAINING", facts(enrollments=(enrol(),), history=history))
    assert subjects(hits) == (["p1"] if fires else [])
    if fires:
        assert "2024-06-30" in hits[0].evidence


def test_non_numeric_levels_repeat_only_when_equal():
    special = ClassFact(**{**KLASS.__dict__, "level": "SPECIAL"})
    same = (HistoryFact(person="p1", occupation_code=CHEF, level="SPECIAL", completed_on=d("2024-06-30")),)
    numeric = (HistoryFact(person="p1", occupation_code=CHEF, level="1", completed_on=d("2024-06-30")),)
    assert run("REPEAT_TRAINING", facts(special, enrollments=(enrol(),), history=same))
    assert run("REPEAT_TRAINING", facts(special, enrollments=(enrol(),), history=numeric)) == []


@pytest.mark.parametrize(
    ("other_start", "fires"),
    [("2026-01-05", True), ("2026-03-10", True), ("2026-03-11", False)],
)
def test_another_peixun_class_counts_when_it_starts_the_same_day_or_earlier(other_start, fires):
    """The finding lands on the later class only; on both when they start the same day."""
    other = enrol(class_start=d(other_start), **OTHER)
    hits = run("REPEAT_TRAINING", facts(enrollments=(enrol(),), other_enrollments=(other,)))
    assert subjects(hits) == (["p1"] if fires else [])
    if fires:
        assert "C2026-002" in hits[0].evidence and other_start in hits[0].evidence


# --- ALREADY_CERTIFIED --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued", "level", "fires"),
    [
        ("2025-06-01", "3", True),
        ("2026-03-09", "4", True),  # the day before the start
        ("2026-03-10", "4", False),  # on the start date: not before
        ("2025-06-01", "5", False),  # a lower level
    ],
)
def test_a_certificate_issued_before_the_start(issued, level, fires):
    """第十五条 技能人才评价."""
    cert = reg("skill_certificate", issued, occupation_code=CHEF, level=level, certificate_no="S000123")
    hits = run("ALREADY_CERTIFIED", facts(enrollments=(enrol(),), registry=(cert,)))
    assert subjects(hits) == (["p1"] if fires else [])
    if fires:
        assert issued in hits[0].evidence and "S000123" in hits[0].evidence


def test_a_certificate_in_another_occupation_does_not_count():
    cert = reg("skill_certificate", "2025-06-01", occupation_code="4-10-01-06", level="1")
    assert run("ALREADY_CERTIFIED", facts(enrollments=(enrol(),), registry=(cert,))) == []


# --- LIFETIME_CAP -------------------------------------------------------------------------------


def _history(n):
    return tuple(
        HistoryFact(
            person="p1", occupation_code=f"4-0{i}-01-01", level="5", completed_on=dt.date(2020 + i, 6, 30)
        )
        for i in range(n)
    )


def test_a_fourth_subsidised_training_exceeds_the_lifetime_cap():
    """181号 第五条: three job-training subsidies per person."""
    hit = only(run("LIFETIME_CAP", facts(enrollments=(enrol(),), history=_history(3))))
    assert "第4次" in hit.evidence and "2022-06-30" in hit.evidence


def test_a_third_subsidised_training_is_within_the_cap():
    assert run("LIFETIME_CAP", facts(enrollments=(enrol(),), history=_history(2))) == []


@pytest.mark.parametrize(
    ("start", "code", "fires"),
    [
        ("2026-01-05", "C2026-002", True),
        ("2026-03-10", "C2026-000", True),  # same day, code sorts first
        ("2026-03-10", "C2026-002", False),  # same day, code sorts after
        ("2026-04-01", "C2026-002", False),
    ],
)
def test_peixun_classes_come_after_history_in_start_date_and_code_order(start, code, fires):
    other = enrol(class_id=2, class_code=code, class_start=d(start), occupation_code="4-10-01-06")
    hits = run("LIFETIME_CAP", facts(enrollments=(enrol(),), history=_history(2), other_enrollments=(other,)))
    assert subjects(hits) == (["p1"] if fires else [])


def test_the_lifetime_cap_is_a_setting():
    f = facts(enrollments=(enrol(),), history=_history(3))
    assert run("LIFETIME_CAP", f, RuleParams(lifetime_subsidy_cap=4)) == []


# --- OVERLAPPING_CLASSES ------------------------------------------------------------------------


def test_attendance_in_two_classes_at_overlapping_times():
    """第二十二条 虚假上课记录."""
    f = facts(
        attendance=(record(check_in="2026-03-10 08:00", check_out="2026-03-10 12:00"),),
        other_attendance=(record(check_in="2026-03-10 11:00", check_out="2026-03-10 13:00", **OTHER),),
    )
    evidence = only(run("OVERLAPPING_CLASSES", f)).evidence
    assert "C2026-002" in evidence and "2026-03-10 08:00" in evidence and "2026-03-10 11:00" in evidence


def test_attendance_in_two_classes_that_only_touch_does_not_overlap():
    f = facts(
        attendance=(record(check_in="2026-03-10 08:00", check_out="2026-03-10 12:00"),),
        other_attendance=(record(check_in="2026-03-10 12:00", check_out="2026-03-10 14:00", **OTHER),),
    )
    assert run("OVERLAPPING_CLASSES", f) == []


# --- TEACHER_DOUBLE_BOOKED ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "start", "end", "teacher", "fires"),
    [
        ("2026-03-10", "09:00", "11:00", "t1", True),
        ("2026-03-10", "10:00", "12:00", "t1", False),  # starts when ours ends
        ("2026-03-11", "09:00", "11:00", "t1", False),  # another date
        ("2026-03-10", "09:00", "11:00", "t2", False),  # another teacher
    ],
)
def test_a_teacher_in_two_classes_at_once(day, start, end, teacher, fires):
    """第二十一条 授课师资: reported naming the teacher."""
    ours = lesson(teacher="t1")
    theirs = lesson(day=day, start=start, end=end, teacher=teacher, **OTHER)
    hits = run("TEACHER_DOUBLE_BOOKED", facts(lessons=(ours,), other_lessons=(theirs,)))
    assert subjects(hits) == (["t1"] if fires else [])
    if fires:
        assert "C2026-002" in hits[0].evidence and "2026-03-10 09:00" in hits[0].evidence


# --- ATTENDANCE_OUTSIDE_SCHEDULE ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("check_in", "check_out", "fires"),
    [
        ("2026-03-10 19:00", "2026-03-10 20:00", True),
        ("2026-03-10 10:00", "2026-03-10 11:00", True),  # touches the lesson's end
        ("2026-03-10 09:59", "2026-03-10 11:00", False),
        ("2026-03-10 08:00", None, False),  # check-in at the lesson start, no check-out
        ("2026-03-10 10:00", None, True),  # check-in at the lesson end, no check-out
        ("2026-03-10 14:00", "2026-03-10 15:00", True),  # during an ONLINE lesson only
    ],
)
def test_attendance_must_overlap_an_offline_lesson(check_in, check_out, fires):
    """第二十二条."""
    lessons = (lesson(), lesson(start="14:00", end="16:00", mode="ONLINE"))
    hits = run(
        "ATTENDANCE_OUTSIDE_SCHEDULE",
        facts(lessons=lessons, attendance=(record(check_in=check_in, check_out=check_out),)),
    )
    assert subjects(hits) == (["p1"] if fires else [])
    if fires:
        assert check_in in hits[0].evidence


# --- ATTENDANCE_BELOW_THRESHOLD -----------------------------------------------------------------


def _threshold_facts(first_hours: str, *, exam=True, check_out="2026-03-10 10:00"):
    klass = ClassFact(**{**KLASS.__dict__, "total_hours": Decimal(20)})
    return facts(
        klass,
        lessons=(lesson(hours=first_hours), lesson(day="2026-03-11", hours="1")),
        attendance=(record(check_out=check_out),),
        exams=(ExamFact(class_id=1, person="p1", exam_date=d("2026-03-20")),) if exam else (),
    )


def test_an_exam_with_exactly_95_percent_of_the_hours_is_allowed():
    """第十条: 19 of 20 hours."""
    assert run("ATTENDANCE_BELOW_THRESHOLD", _threshold_facts("19")) == []


def test_an_exam_just_under_95_percent_of_the_hours_is_reported():
    evidence = only(run("ATTENDANCE_BELOW_THRESHOLD", _threshold_facts("18.9"))).evidence
    assert "18.9课时" in evidence and "94.5%" in evidence and "2026-03-20" in evidence
    assert "2026-03-11 08:00" in evidence  # the missed lesson


def test_a_lesson_covered_just_under_90_percent_does_not_count():
    # 107 of 120 minutes: the 19-hour lesson is not counted
    assert run("ATTENDANCE_BELOW_THRESHOLD", _threshold_facts("19", check_out="2026-03-10 09:47"))


def test_without_an_exam_low_hours_are_no_finding():
    assert run("ATTENDANCE_BELOW_THRESHOLD", _threshold_facts("1", exam=False)) == []


def test_online_hours_count_toward_the_exam_threshold():
    klass = ClassFact(**{**KLASS.__dict__, "total_hours": Decimal(20)})
    f = facts(
        klass,
        lessons=(lesson(hours="12"),),
        attendance=(record(),),
        online=(session(start="2026-03-11 08:00", minutes=360),),  # 8 hours, the 40% cap
        exams=(ExamFact(class_id=1, person="p1", exam_date=END),),
    )
    assert run("ATTENDANCE_BELOW_THRESHOLD", f) == []


# --- DUPLICATE_PHOTO ----------------------------------------------------------------------------

PHOTO = "3f" * 32


def test_a_photo_on_another_persons_record_reports_every_carrier_in_this_class():
    """第二十二条: both trainees carrying the hash are reported."""
    f = facts(
        attendance=(
            record("p1", photo_sha256=PHOTO),
            record("p2", check_in="2026-03-10 08:01", photo_sha256=PHOTO),
        ),
    )
    hits = run("DUPLICATE_PHOTO", f)
    assert subjects(hits) == ["p1", "p2"]
    assert "2026-03-10 08:01" in hits[0].evidence


def test_a_photo_on_a_record_in_another_class():
    theirs = record(
        "p7", check_in="2026-03-12 08:00", check_out="2026-03-12 10:00", photo_sha256=PHOTO, **OTHER
    )
    f = facts(attendance=(record(photo_sha256=PHOTO),), photo_records=(theirs,))
    evidence = only(run("DUPLICATE_PHOTO", f)).evidence
    assert "C2026-002" in evidence and "2026-03-12 08:00" in evidence


def test_the_same_persons_photo_on_another_day_is_reported_but_not_on_the_same_day():
    same_day = (
        record(photo_sha256=PHOTO),
        record(check_in="2026-03-10 14:00", check_out=None, photo_sha256=PHOTO),
    )
    assert run("DUPLICATE_PHOTO", facts(attendance=same_day)) == []
    other_day = (
        record(photo_sha256=PHOTO),
        record(check_in="2026-03-11 08:00", check_out=None, photo_sha256=PHOTO),
    )
    assert "2026-03-11 08:00" in only(run("DUPLICATE_PHOTO", facts(attendance=other_day))).evidence


# --- LOCATION_MISMATCH --------------------------------------------------------------------------


def _north_of_site(meters: float) -> float:
    return SITE[0] + math.degrees(meters / 6_371_000)


@pytest.mark.parametrize(("meters", "fires"), [(999.9, False), (1000.1, True)])
def test_a_check_in_more_than_1000_m_from_the_site(meters, fires):
    """第十九条."""
    f = facts(attendance=(record(lat=_north_of_site(meters), lon=SITE[1]),))
    hits = run("LOCATION_MISMATCH", f)
    assert subjects(hits) == (["p1"] if fires else [])
    if fires:
        assert "2026-03-10 08:00" in hits[0].evidence and "1,000米" in hits[0].evidence


def test_records_or_classes_without_a_position_are_not_judged():
    far = _north_of_site(50_000)
    assert run("LOCATION_MISMATCH", facts(attendance=(record(lat=None, lon=None),))) == []
    nowhere = ClassFact(**{**KLASS.__dict__, "site_lat": None, "site_lon": None})
    assert run("LOCATION_MISMATCH", facts(nowhere, attendance=(record(lat=far, lon=SITE[1]),))) == []


# --- BATCH_CHECKIN ------------------------------------------------------------------------------


def _same_second(n: int, *, spread=False):
    base = at("2026-03-10 07:59:30")
    return tuple(
        AttendanceFact(
            id=next(_ids),
            class_id=1,
            class_code=KLASS.code,
            person=f"p{i}",
            check_in=base + (dt.timedelta(seconds=i) if spread else dt.timedelta(microseconds=i * 1000)),
        )
        for i in range(n)
    )


def test_ten_check_ins_in_the_same_second_are_a_class_level_finding():
    """第二十二条: 10 identical check-in seconds."""
    hit = only(run("BATCH_CHECKIN", facts(attendance=_same_second(10))))
    assert hit.subject == ""
    assert hit.evidence == "2026-03-10 07:59:30同一秒有10条签到记录"


def test_nine_check_ins_in_one_second_or_ten_in_different_seconds_are_not():
    assert run("BATCH_CHECKIN", facts(attendance=_same_second(9))) == []
    assert run("BATCH_CHECKIN", facts(attendance=_same_second(10, spread=True))) == []


# --- ONLINE_SHARE_EXCEEDED / ONLINE_DAILY_EXCEEDED ----------------------------------------------


def _days(*minutes_per_day, failed=0):
    return tuple(
        session(start=f"2026-03-{11 + i:02d} 08:00", minutes=m, failed=failed)
        for i, m in enumerate(minutes_per_day)
    )


def test_online_hours_exactly_at_40_percent_are_allowed():
    """第十九条: total 80 → 32 online hours; four days of 8 hours."""
    assert run("ONLINE_SHARE_EXCEEDED", facts(online=_days(360, 360, 360, 360))) == []


def test_online_hours_over_40_percent_are_reported():
    evidence = only(run("ONLINE_SHARE_EXCEEDED", facts(online=_days(360, 360, 360, 360, 45)))).evidence
    assert "33课时" in evidence and "32课时" in evidence and "40%" in evidence


def test_the_share_counts_each_day_at_most_8_hours_and_only_valid_sessions():
    # 8 + 8 + 8 + 10 → 32 counted: no share finding (the 10-hour day is its own finding)
    assert run("ONLINE_SHARE_EXCEEDED", facts(online=_days(360, 360, 360, 450))) == []
    failed = session(start="2026-03-16 08:00", minutes=90, failed=1)
    assert run("ONLINE_SHARE_EXCEEDED", facts(online=(*_days(360, 360, 360, 360), failed))) == []


def test_exactly_8_online_hours_a_day_are_allowed():
    """第十九条: 360 minutes = 8 class hours."""
    f = facts(
        online=(
            session(start="2026-03-11 08:00", minutes=180),
            session(start="2026-03-11 14:00", minutes=180),
        )
    )
    assert run("ONLINE_DAILY_EXCEEDED", f) == []


def test_more_than_8_online_hours_a_day_are_reported_on_the_start_day():
    f = facts(
        online=(
            session(start="2026-03-11 18:00", minutes=180),
            session(start="2026-03-11 23:00", minutes=181),
        )
    )
    evidence = only(run("ONLINE_DAILY_EXCEEDED", f)).evidence
    assert evidence.startswith("2026-03-11有效线上学时8.02课时")


# --- ONLINE_CONCURRENT --------------------------------------------------------------------------


def test_two_overlapping_online_sessions_of_the_trainee():
    """第二十条 刷课."""
    f = facts(
        online=(session(start="2026-03-10 19:00", minutes=60), session(start="2026-03-10 19:30", minutes=60))
    )
    evidence = only(run("ONLINE_CONCURRENT", f)).evidence
    assert "2026-03-10 19:00" in evidence and "2026-03-10 19:30" in evidence


def test_touching_online_sessions_are_not_concurrent():
    f = facts(
        online=(session(start="2026-03-10 19:00", minutes=60), session(start="2026-03-10 20:00", minutes=60))
    )
    assert run("ONLINE_CONCURRENT", f) == []


def test_an_online_session_during_attendance_in_another_class():
    f = facts(
        online=(session(start="2026-03-10 09:00", minutes=45),),
        other_attendance=(record(check_in="2026-03-10 08:00", check_out="2026-03-10 12:00", **OTHER),),
    )
    assert "C2026-002" in only(run("ONLINE_CONCURRENT", f)).evidence


def test_an_online_session_right_after_attendance_is_not_concurrent():
    f = facts(online=(session(start="2026-03-10 10:00", minutes=45),), attendance=(record(),))
    assert run("ONLINE_CONCURRENT", f) == []


def test_an_online_session_overlapping_a_session_of_another_class():
    theirs = session(start="2026-03-10 19:40", minutes=30, **OTHER)
    assert run("ONLINE_CONCURRENT", facts(online=(session(),), other_online=(theirs,)))


# --- ONLINE_IP_FARM -----------------------------------------------------------------------------

IP = "111.56.7.8"


def _farm(n_persons, *, offsets=None, ip=IP, **kw):
    offsets = offsets or [0] * n_persons
    base = at("2026-03-10 20:00")
    return tuple(
        session(
            f"p{i}",
            start=(base + dt.timedelta(minutes=offsets[i])).strftime("%Y-%m-%d %H:%M"),
            minutes=60,
            ip=ip,
            **kw,
        )
        for i in range(n_persons)
    )


def test_five_persons_online_from_one_ip_at_once_are_each_reported():
    """第二十条 外挂软件刷课."""
    hits = run("ONLINE_IP_FARM", facts(online=_farm(5, offsets=[0, 10, 20, 30, 40])))
    assert subjects(hits) == ["p0", "p1", "p2", "p3", "p4"]
    assert IP in hits[0].evidence and "2026-03-10 20:40" in hits[0].evidence and "5名" in hits[0].evidence


def test_four_persons_from_one_ip_are_not_a_farm():
    assert run("ONLINE_IP_FARM", facts(online=_farm(4))) == []


def test_a_session_ending_as_the_fifth_starts_does_not_make_a_farm():
    assert run("ONLINE_IP_FARM", facts(online=_farm(5, offsets=[0, 10, 20, 30, 60]))) == []


def test_one_person_twice_counts_once():
    sessions = (*_farm(4), session("p0", start="2026-03-10 20:05", minutes=30, ip=IP))
    assert run("ONLINE_IP_FARM", facts(online=sessions)) == []


def test_sessions_of_other_classes_count_but_only_this_class_is_reported_here():
    theirs = _farm(3, class_id=2, class_code="C2026-002")
    ours = (session("q1", start="2026-03-10 20:10", ip=IP), session("q2", start="2026-03-10 20:20", ip=IP))
    hits = run("ONLINE_IP_FARM", facts(online=ours, ip_sessions=theirs + ours))
    assert subjects(hits) == ["q1", "q2"]


# --- ONLINE_FACE_FAILED -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "passed", "failed", "fires"),
    [(30, 1, 1, True), (61, 0, 0, True), (60, 0, 0, False), (90, 1, 0, False)],
)
def test_face_checks_of_an_online_session(minutes, passed, failed, fires):
    """第十九条 人脸识别."""
    hits = run("ONLINE_FACE_FAILED", facts(online=(session(minutes=minutes, passed=passed, failed=failed),)))
    assert subjects(hits) == (["p1"] if fires else [])
    if fires:
        assert "2026-03-10 19:00" in hits[0].evidence


# --- OUT_OF_SCOPE / INSTITUTION_NOT_LISTED ------------------------------------------------------


def test_an_occupation_outside_the_licence_is_a_class_level_finding():
    """第二十二条 超越办学许可范围."""
    klass = ClassFact(**{**KLASS.__dict__, "licensed_occupations": frozenset({"4-10-01-06"})})
    hit = only(run("OUT_OF_SCOPE", facts(klass)))
    assert hit.subject == "" and CHEF in hit.evidence
    assert run("OUT_OF_SCOPE", facts()) == []


def test_an_institution_not_listed_on_the_start_date_is_a_class_level_finding():
    """第二十一条."""
    klass = ClassFact(**{**KLASS.__dict__, "directory_status": "SUSPENDED"})
    hit = only(run("INSTITUTION_NOT_LISTED", facts(klass)))
    assert hit.subject == "" and "2026-03-10" in hit.evidence and "暂停" in hit.evidence
    assert run("INSTITUTION_NOT_LISTED", facts()) == []


@pytest.mark.parametrize(
    ("listings", "status"),
    [
        ([("2025-01-01", "LISTED"), ("2026-03-09", "REMOVED")], "REMOVED"),  # removed the day before
        ([("2025-01-01", "LISTED"), ("2026-03-10", "SUSPENDED")], "SUSPENDED"),  # on the start date
        ([("2025-01-01", "LISTED"), ("2026-03-11", "REMOVED")], "LISTED"),  # the day after
        ([("2026-03-10", "LISTED")], "LISTED"),
        ([("2026-03-11", "LISTED")], "UNLISTED"),
        ([], "UNLISTED"),
    ],
)
def test_the_directory_status_on_the_start_date(listings, status):
    rows = [(d(day), i, s) for i, (day, s) in enumerate(listings)]
    assert directory_status_on(rows, START) == status


# --- the catalog's subjects ---------------------------------------------------------------------


def test_class_level_rules_name_no_person_and_the_others_do():
    class_level = {code for code, spec in RULES.items() if spec.subject == "class"}
    assert class_level == {"BATCH_CHECKIN", "OUT_OF_SCOPE", "INSTITUTION_NOT_LISTED"}
