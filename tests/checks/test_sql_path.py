"""The set-wise path of the rule catalog (checks/sql.py): each rule of rules.md on a small database,
with a hit and its near misses, on SQLite and PostgreSQL alike.

Every test asserts the complete set of (rule, class, subject) keys the scenario produces, so a near
miss of one rule that trips another shows up too. The last tests hold the set-wise path and the
Python path (checks/engine.py) to the same answer on the same data.
"""

import datetime as dt
import itertools
from dataclasses import replace
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from peixun.accounts.models import Organisation
from peixun.accounts.roles import Role
from peixun.accounts.services import organisation_create, person_register, user_create
from peixun.attendance.models import AttendanceRecord, OnlineSession
from peixun.checks.catalog import PACKAGE_RULES
from peixun.checks.models import HistoryTraining, RegistryKind, RegistryRow, RegistrySnapshot
from peixun.checks.sql import run_sql
from peixun.core.identity import id_check_char, id_lookup_hash, mask_id_number
from peixun.core.models import Area, RuleSettings
from peixun.core.uscc import uscc_complete as uscc
from peixun.institutions.services import assessment_record, directory_change, institution_register
from peixun.training.models import Enrollment, ExamResult, Lesson, TrainingClass

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
ELDERLY_CARE = "4-10-01-05"  # 养老护理员
HOUSEKEEPING = "4-10-01-06"  # 家政服务员
CHEF = "4-03-02-01"  # 中式烹调师
MON = dt.date(2026, 3, 2)  # the default class runs Monday 2 March to Friday 6 March 2026
SITE = (40.8420, 111.7490)  # 呼和浩特市新城区


def at(day: dt.date, hm: str) -> dt.datetime:
    """A moment in Asia/Shanghai: `at(MON, "08:00")`, `at(MON, "08:00:30")`."""
    parts = [int(x) for x in hm.split(":")]
    return dt.datetime(day.year, day.month, day.day, *parts, tzinfo=SH)


def tm(hm: str) -> dt.time:
    h, m = hm.split(":")
    return dt.time(int(h), int(m))


def day(n: int) -> dt.date:
    """The n-th day of the default class week (0 = Monday 2 March)."""
    return MON + dt.timedelta(days=n)


class Scenario:
    """A listed institution licensed for 养老护理员 and 家政服务员, and helpers to add classes,
    trainees, lessons, records and registry rows."""

    def __init__(self):
        self._seq = itertools.count(1)
        self._inst_seq = itertools.count(11)
        city = organisation_create(
            name="呼和浩特市人社局",
            kind=Organisation.Kind.CITY_BUREAU,
            area=Area.objects.get(code="150100"),
            actor=None,
        )
        self.inspector = user_create(
            username="sun_inspector",
            password="Test-Passw0rd-2026",
            role=Role.INSPECTOR,
            display_name="苏日娜",
            organisation=city,
            actor=None,
        )
        self.institution = self.new_institution(listed_on=dt.date(2026, 1, 5))
        self.snapshots = {}
        self.ids = {}  # person pk → ID number

    # --- institutions and classes -----------------------------------------------------------

    def new_institution(self, *, listed_on=None, occupations=(ELDERLY_CARE, HOUSEKEEPING)):
        n = next(self._inst_seq)
        inst = institution_register(
            code=uscc(f"52150102MJY0000{n:02d}"),
            name=f"鸿翔职业技能培训学校{n}",
            type="PRIVATE_SCHOOL",
            area=Area.objects.get(code="150102"),
            actor=None,
            licensed_occupation_codes=list(occupations),
        )
        if listed_on is not None:
            self.list(inst, listed_on)
        return inst

    def list(self, inst, on):
        assessment_record(
            institution=inst,
            actor=self.inspector,
            assessed_on=dt.date(2026, 1, 4),
            assessors="赵晓东、苏日娜",
            premises_ok=True,
            equipment_ok=True,
            teachers_ok=True,
        )
        directory_change(
            institution=inst, transition="list", actor=None, effective_date=on, reason="实地考察通过"
        )

    def klass(self, code, *, start=MON, days=5, institution=None, **kw) -> TrainingClass:
        values = dict(
            occupation_code=ELDERLY_CARE,
            occupation_name="养老护理员",
            level="4",
            training_type="EMPLOYMENT",
            total_hours=Decimal("20"),
            online_hours=Decimal("0"),
            site_address="呼和浩特市新城区新华大街1号",
            site_lat=SITE[0],
            site_lon=SITE[1],
        )
        values.update(kw)
        return TrainingClass.objects.create(
            code=code,
            institution=institution or self.institution,
            area=Area.objects.get(code="150102"),
            start_date=start,
            end_date=start + dt.timedelta(days=days - 1),
            source=TrainingClass.Source.IMPORT,
            **values,
        )

    def lesson(self, cls, date, start="08:00", end="12:00", hours="4", mode="OFFLINE", teacher=None):
        return Lesson.objects.create(
            training_class=cls,
            date=date,
            start_time=tm(start),
            end_time=tm(end),
            hours=Decimal(hours),
            mode=mode,
            teacher=teacher,
        )

    def week_of_lessons(self, cls, days=5):
        """Mornings 08:00–12:00, 4 class hours each (20 hours over five days)."""
        return [self.lesson(cls, cls.start_date + dt.timedelta(days=i)) for i in range(days)]

    # --- people -----------------------------------------------------------------------------

    def id_number(self, birth: dt.date) -> str:
        first17 = f"150102{birth:%Y%m%d}{next(self._seq):03d}"
        return first17 + id_check_char(first17)

    def person(self, name, *, birth=dt.date(1990, 5, 17)):
        number = self.id_number(birth)
        person, _ = person_register(id_number=number, name=name, actor=None)
        self.ids[person.pk] = number
        return person

    def trainee(self, cls, name, *, birth=dt.date(1990, 5, 17), category="RURAL_MIGRANT", person=None):
        person = person or self.person(name, birth=birth)
        Enrollment.objects.create(training_class=cls, person=person, category=category)
        return person

    def enrol(self, cls, person, category="RURAL_MIGRANT"):
        Enrollment.objects.create(training_class=cls, person=person, category=category)
        return person

    def attend(self, cls, person, start, end, *, photo="", lat=None, lon=None):
        return AttendanceRecord.objects.create(
            training_class=cls,
            person=person,
            check_in=start,
            check_out=end,
            method="FACE",
            photo_sha256=photo,
            lat=lat,
            lon=lon,
        )

    def attend_week(self, cls, person, days=5):
        for i in range(days):
            d = cls.start_date + dt.timedelta(days=i)
            self.attend(cls, person, at(d, "07:55"), at(d, "12:05"))

    def online(self, cls, person, start, end, *, ip=None, passed=3, failed=0):
        return OnlineSession.objects.create(
            training_class=cls,
            person=person,
            platform_code="NMG-ONLINE-01",
            start_at=start,
            end_at=end,
            ip=ip,
            face_checks_passed=passed,
            face_checks_failed=failed,
        )

    def exam(self, cls, person, on=None):
        return ExamResult.objects.create(
            training_class=cls, person=person, exam_date=on or cls.end_date, score=Decimal("80"), passed=True
        )

    # --- registries and history -----------------------------------------------------------------

    def registry(self, kind, person, date_from, date_to=None, **kw):
        snapshot = self.snapshots.get(kind)
        if snapshot is None:
            snapshot = self.snapshots[kind] = RegistrySnapshot.objects.create(
                kind=kind, file_name=f"{kind}.csv", sha256="0" * 64, row_count=0
            )
        number = self.ids[person.pk]
        return RegistryRow.objects.create(
            snapshot=snapshot,
            kind=kind,
            line=2,
            id_hmac=id_lookup_hash(number),
            id_masked=mask_id_number(number),
            name=person.name,
            date_from=date_from,
            date_to=date_to,
            **kw,
        )

    def history(self, person, occupation=CHEF, level="4", completed_on=dt.date(2024, 6, 30)):
        number = self.ids[person.pk]
        return HistoryTraining.objects.create(
            id_hmac=id_lookup_hash(number),
            id_masked=mask_id_number(number),
            name=person.name,
            occupation_code=occupation,
            level=level,
            training_type="EMPLOYMENT",
            completed_on=completed_on,
            institution_code="52150102MJY000099",
            subsidy_amount=Decimal("1200"),
        )


@pytest.fixture
def params(reference_data):
    return RuleSettings.objects.order_by("-version").first()


@pytest.fixture
def sc(reference_data) -> Scenario:
    return Scenario()


def keys(params, class_ids=None) -> set[tuple[str, str, str]]:
    return {h.key for h in run_sql(params=params, class_ids=class_ids)}


def k(rule, cls, subject=None) -> tuple[str, str, str]:
    return (rule, cls.code, "" if subject is None else subject.id_hmac)


# --- the baseline ------------------------------------------------------------------------------------


def test_a_clean_class_has_no_findings(sc, params):
    """A listed institution, a licensed occupation, adults attending every lesson: nothing to report."""
    a = sc.klass("A")
    sc.week_of_lessons(a)
    for name in ("李明", "陈静"):
        p = sc.trainee(a, name)
        sc.attend_week(a, p)
        sc.exam(a, p)
    assert keys(params) == set()


def test_every_evidence_is_plain_chinese_naming_dates(sc, params):
    a = sc.klass("A")
    p = sc.trainee(a, "少年", birth=dt.date(2011, 1, 1))
    (hit,) = run_sql(params=params)
    assert hit.rule_code == "AGE_UNDER_16"
    assert "2011-01-01" in hit.evidence and "2026-03-02" in hit.evidence
    assert hit.subject == p.id_hmac


# --- eligibility ---------------------------------------------------------------------------------------


def test_age_under_16_on_the_start_date(sc, params):
    """劳动法: a trainee who turns 16 after the class starts is under 16; on the start date, not."""
    a = sc.klass("A")
    young = sc.trainee(a, "张小军", birth=dt.date(2010, 3, 3))
    sc.trainee(a, "王小丽", birth=dt.date(2010, 3, 2))  # sixteenth birthday on the start date
    assert keys(params) == {k("AGE_UNDER_16", a, young)}


def test_deceased_before_the_start_or_any_record(sc, params):
    """第十五条 公安死亡信息: death before the start, or before a record of the class."""
    a = sc.klass("A")
    sc.week_of_lessons(a)
    before_start = sc.trainee(a, "甲")
    sc.registry(RegistryKind.DEATH, before_start, dt.date(2026, 3, 1))
    on_start = sc.trainee(a, "乙")  # died on the start date, no later record
    sc.registry(RegistryKind.DEATH, on_start, MON)
    attended_after = sc.trainee(a, "丙")
    sc.attend(a, attended_after, at(day(3), "07:55"), at(day(3), "12:05"))
    sc.registry(RegistryKind.DEATH, attended_after, day(2))
    # 07:55 local on day 3 is still day 2 in UTC: the local date counts, so this is no hit
    attended_same_day = sc.trainee(a, "丁")
    sc.attend(a, attended_same_day, at(day(3), "07:55"), at(day(3), "12:05"))
    sc.registry(RegistryKind.DEATH, attended_same_day, day(3))
    examined_after = sc.trainee(a, "戊")
    sc.exam(a, examined_after, on=day(4))
    sc.registry(RegistryKind.DEATH, examined_after, day(3))
    online_after = sc.trainee(a, "己")
    sc.online(a, online_after, at(day(4), "19:00"), at(day(4), "19:30"))
    sc.registry(RegistryKind.DEATH, online_after, day(3))
    # exam on the day of death: no hit (but the low attendance is one)
    examined_same_day = sc.trainee(a, "庚")
    sc.exam(a, examined_same_day, on=day(4))
    sc.registry(RegistryKind.DEATH, examined_same_day, day(4))
    assert keys(params) == {
        k("DECEASED", a, before_start),
        k("DECEASED", a, attended_after),
        k("DECEASED", a, examined_after),
        k("DECEASED", a, online_after),
        k("ATTENDANCE_BELOW_THRESHOLD", a, examined_after),
        k("ATTENDANCE_BELOW_THRESHOLD", a, examined_same_day),
    }


def test_public_payroll_overlapping_the_class_dates(sc, params):
    """181号 第十六条: inclusive periods; an open end is still on the payroll."""
    a = sc.klass("A")  # 2026-03-02 .. 2026-03-06
    ends_on_first_day = sc.trainee(a, "甲")
    sc.registry(RegistryKind.PUBLIC_PAYROLL, ends_on_first_day, dt.date(2025, 1, 1), MON, org_name="某局")
    still_open = sc.trainee(a, "乙")
    sc.registry(RegistryKind.PUBLIC_PAYROLL, still_open, dt.date(2020, 1, 1), None, org_name="某中学")
    starts_on_end = sc.trainee(a, "丙")
    sc.registry(RegistryKind.PUBLIC_PAYROLL, starts_on_end, dt.date(2026, 3, 6), None)
    left_before = sc.trainee(a, "丁")
    sc.registry(RegistryKind.PUBLIC_PAYROLL, left_before, dt.date(2020, 1, 1), dt.date(2026, 3, 1))
    joins_after = sc.trainee(a, "戊")
    sc.registry(RegistryKind.PUBLIC_PAYROLL, joins_after, dt.date(2026, 3, 7), None)
    assert keys(params) == {
        k("PUBLIC_PAYROLL", a, ends_on_first_day),
        k("PUBLIC_PAYROLL", a, still_open),
        k("PUBLIC_PAYROLL", a, starts_on_end),
    }


def test_registered_unemployed_needs_a_registration_covering_the_start(sc, params):
    a = sc.klass("A")
    lapsed = sc.trainee(a, "甲", category="REGISTERED_UNEMPLOYED")
    sc.registry(RegistryKind.UNEMPLOYMENT_REGISTRATION, lapsed, dt.date(2025, 1, 1), dt.date(2026, 3, 1))
    never = sc.trainee(a, "乙", category="REGISTERED_UNEMPLOYED")
    later = sc.trainee(a, "丙", category="REGISTERED_UNEMPLOYED")
    sc.registry(RegistryKind.UNEMPLOYMENT_REGISTRATION, later, dt.date(2026, 3, 3), None)
    ends_on_start = sc.trainee(a, "丁", category="REGISTERED_UNEMPLOYED")
    sc.registry(RegistryKind.UNEMPLOYMENT_REGISTRATION, ends_on_start, dt.date(2025, 1, 1), MON)
    open_ended = sc.trainee(a, "戊", category="REGISTERED_UNEMPLOYED")
    sc.registry(RegistryKind.UNEMPLOYMENT_REGISTRATION, open_ended, MON, None)
    sc.trainee(a, "己", category="RURAL_MIGRANT")  # another category needs no registration
    assert keys(params) == {
        k("UNEMPLOYED_NOT_REGISTERED", a, lapsed),
        k("UNEMPLOYED_NOT_REGISTERED", a, never),
        k("UNEMPLOYED_NOT_REGISTERED", a, later),
    }


def test_unemployed_insured_in_the_month_of_the_start(sc, params):
    """第十五条 社会保险: months are stored as first and last day."""
    a = sc.klass("A")
    migrant = sc.trainee(a, "甲", category="RURAL_MIGRANT")
    sc.registry(
        RegistryKind.SOCIAL_INSURANCE, migrant, dt.date(2026, 3, 1), dt.date(2026, 3, 31), org_name="某公司"
    )
    leaver = sc.trainee(a, "乙", category="SCHOOL_LEAVER")
    sc.registry(RegistryKind.SOCIAL_INSURANCE, leaver, dt.date(2025, 9, 1), None)
    unemployed = sc.trainee(a, "丙", category="REGISTERED_UNEMPLOYED")
    sc.registry(RegistryKind.UNEMPLOYMENT_REGISTRATION, unemployed, dt.date(2025, 1, 1), None)
    sc.registry(RegistryKind.SOCIAL_INSURANCE, unemployed, dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    stopped = sc.trainee(a, "丁", category="RURAL_MIGRANT")
    sc.registry(RegistryKind.SOCIAL_INSURANCE, stopped, dt.date(2025, 1, 1), dt.date(2026, 2, 28))
    starts_next_month = sc.trainee(a, "戊", category="RURAL_MIGRANT")
    sc.registry(RegistryKind.SOCIAL_INSURANCE, starts_next_month, dt.date(2026, 4, 1), None)
    employee = sc.trainee(a, "己", category="ENTERPRISE_EMPLOYEE")
    sc.registry(RegistryKind.SOCIAL_INSURANCE, employee, dt.date(2020, 1, 1), None)
    assert keys(params) == {
        k("UNEMPLOYED_BUT_INSURED", a, migrant),
        k("UNEMPLOYED_BUT_INSURED", a, leaver),
        k("UNEMPLOYED_BUT_INSURED", a, unemployed),
    }


def test_unemployed_with_a_business_licence_unless_startup_training(sc, params):
    a = sc.klass("A")
    startup = sc.klass("S", occupation_code=HOUSEKEEPING, level="STARTUP", training_type="STARTUP")
    owner = sc.trainee(a, "甲", category="REGISTERED_UNEMPLOYED")
    sc.enrol(startup, owner, category="REGISTERED_UNEMPLOYED")
    sc.registry(RegistryKind.UNEMPLOYMENT_REGISTRATION, owner, dt.date(2025, 1, 1), None)
    sc.registry(
        RegistryKind.BUSINESS_LICENSE,
        owner,
        dt.date(2024, 5, 1),
        MON,
        org_code="92150102MA0000001X",
        org_name="小吃店",
    )
    revoked = sc.trainee(a, "乙", category="REGISTERED_UNEMPLOYED")
    sc.registry(RegistryKind.UNEMPLOYMENT_REGISTRATION, revoked, dt.date(2025, 1, 1), None)
    sc.registry(RegistryKind.BUSINESS_LICENSE, revoked, dt.date(2024, 5, 1), dt.date(2026, 3, 1))
    migrant = sc.trainee(a, "丙", category="RURAL_MIGRANT")
    sc.registry(RegistryKind.BUSINESS_LICENSE, migrant, dt.date(2024, 5, 1), None)
    assert keys(params) == {k("UNEMPLOYED_BUT_BUSINESS", a, owner)}


def test_hospitalized_present_by_local_check_in_date(sc, params):
    """第十五条 医保住院: admit and discharge days are inside the stay."""
    a = sc.klass("A")
    sc.week_of_lessons(a)
    inpatient = sc.trainee(a, "甲")
    sc.registry(RegistryKind.HOSPITALIZATION, inpatient, day(2), day(3), org_name="内蒙古医科大学附属医院")
    sc.attend(a, inpatient, at(day(3), "07:55"), at(day(3), "12:05"))
    discharged = sc.trainee(a, "乙")
    sc.registry(RegistryKind.HOSPITALIZATION, discharged, day(0), day(2))
    # 07:55 on day 3 in Shanghai is 23:55 on day 2 in UTC: still a day after discharge
    sc.attend(a, discharged, at(day(3), "07:55"), at(day(3), "12:05"))
    still_in = sc.trainee(a, "丙")
    sc.registry(RegistryKind.HOSPITALIZATION, still_in, day(4), None)
    sc.attend(a, still_in, at(day(4), "07:55"), at(day(4), "12:05"))
    assert keys(params) == {k("HOSPITALIZED_PRESENT", a, inpatient), k("HOSPITALIZED_PRESENT", a, still_in)}


# --- repeat training, certificates, lifetime cap ---------------------------------------------------------


def test_repeat_training_from_history_same_or_higher_level(sc, params):
    """第二十二条: numeric levels — a number ≤ this class's; other levels — the same level."""
    a = sc.klass("A", level="4")
    higher = sc.trainee(a, "甲")
    sc.history(higher, occupation=ELDERLY_CARE, level="3")
    same = sc.trainee(a, "乙")
    sc.history(same, occupation=ELDERLY_CARE, level="4")
    lower = sc.trainee(a, "丙")
    sc.history(lower, occupation=ELDERLY_CARE, level="5")
    other_occupation = sc.trainee(a, "丁")
    sc.history(other_occupation, occupation=CHEF, level="3")
    special = sc.klass("S", occupation_code=HOUSEKEEPING, level="SPECIAL", training_type="SPECIAL")
    special_again = sc.trainee(special, "戊")
    sc.history(special_again, occupation=HOUSEKEEPING, level="SPECIAL")
    numeric_before = sc.trainee(special, "己")
    sc.history(numeric_before, occupation=HOUSEKEEPING, level="1")
    assert keys(params) == {
        k("REPEAT_TRAINING", a, higher),
        k("REPEAT_TRAINING", a, same),
        k("REPEAT_TRAINING", special, special_again),
    }


def test_repeat_training_in_peixun_only_on_the_later_class(sc, params):
    """contract.md: REPEAT_TRAINING on the later class only; on both when they start the same day."""
    first = sc.klass("A1", start=MON)
    later = sc.klass("A2", start=MON + dt.timedelta(days=14))
    lower_level_later = sc.klass("A3", start=MON + dt.timedelta(days=28), level="3")
    twin1 = sc.klass("T1", start=MON + dt.timedelta(days=42))
    twin2 = sc.klass("T2", start=MON + dt.timedelta(days=42))
    p = sc.trainee(first, "甲")
    sc.enrol(later, p)
    sc.enrol(lower_level_later, p)  # level 3 is higher than 4: not a repeat of the level-4 classes
    q = sc.trainee(twin1, "乙")
    sc.enrol(twin2, q)
    assert keys(params) == {
        k("REPEAT_TRAINING", later, p),
        k("REPEAT_TRAINING", twin1, q),
        k("REPEAT_TRAINING", twin2, q),
    }


def test_already_certified_before_the_start(sc, params):
    a = sc.klass("A", level="4")
    certified = sc.trainee(a, "甲")
    sc.registry(
        RegistryKind.SKILL_CERTIFICATE,
        certified,
        dt.date(2026, 3, 1),
        occupation_code=ELDERLY_CARE,
        level="3",
        certificate_no="S000001",
    )
    same_day = sc.trainee(a, "乙")
    sc.registry(RegistryKind.SKILL_CERTIFICATE, same_day, MON, occupation_code=ELDERLY_CARE, level="4")
    lower = sc.trainee(a, "丙")
    sc.registry(
        RegistryKind.SKILL_CERTIFICATE, lower, dt.date(2025, 1, 1), occupation_code=ELDERLY_CARE, level="5"
    )
    other = sc.trainee(a, "丁")
    sc.registry(RegistryKind.SKILL_CERTIFICATE, other, dt.date(2025, 1, 1), occupation_code=CHEF, level="1")
    assert keys(params) == {k("ALREADY_CERTIFIED", a, certified)}


def test_lifetime_cap_counts_history_first_then_classes_by_start_and_code(sc, params):
    """181号 第五条: the fourth subsidised training and later."""
    c1 = sc.klass("B1", start=MON, occupation_code=ELDERLY_CARE)
    c2 = sc.klass("B2", start=MON + dt.timedelta(days=14), occupation_code=HOUSEKEEPING)
    p = sc.trainee(c1, "甲")  # two history rows, then B1 (3rd), B2 (4th)
    sc.enrol(c2, p)
    sc.history(p, occupation=CHEF, level="4")
    sc.history(p, occupation="4-01-02-01", level="4")
    q = sc.trainee(c1, "乙")  # three history rows: B1 is the 4th
    for occ in (CHEF, "4-01-02-01", "4-01-02-02"):
        sc.history(q, occupation=occ, level="4")
    r = sc.trainee(c1, "丙")  # one history row and two classes: within the cap
    sc.enrol(c2, r)
    sc.history(r, occupation=CHEF)
    same_day_1 = sc.klass("D1", start=MON + dt.timedelta(days=28), occupation_code=ELDERLY_CARE, level="3")
    same_day_2 = sc.klass("D2", start=MON + dt.timedelta(days=28), occupation_code=HOUSEKEEPING, level="3")
    s = sc.trainee(same_day_2, "丁")  # two history rows; D1 before D2 by code
    sc.enrol(same_day_1, s)
    sc.history(s, occupation=CHEF)
    sc.history(s, occupation="4-01-02-01")
    assert keys(params) == {
        k("LIFETIME_CAP", c2, p),
        k("LIFETIME_CAP", c1, q),
        k("LIFETIME_CAP", same_day_2, s),
    }


# --- attendance -----------------------------------------------------------------------------------------


def test_overlapping_classes_reported_for_both(sc, params):
    """第二十二条 虚假上课记录; touching records do not overlap."""
    a = sc.klass("A")
    b = sc.klass("B", occupation_code=HOUSEKEEPING)
    c = sc.klass("C", occupation_code=HOUSEKEEPING)
    sc.lesson(a, MON, "08:00", "12:00")
    sc.lesson(b, MON, "11:00", "13:00", hours="2")
    sc.lesson(c, MON, "12:00", "14:00", hours="2")
    p = sc.trainee(a, "甲")
    sc.enrol(b, p)
    sc.attend(a, p, at(MON, "08:00"), at(MON, "12:00"))
    sc.attend(b, p, at(MON, "11:30"), at(MON, "13:00"))
    q = sc.trainee(a, "乙")
    sc.enrol(c, q)
    sc.attend(a, q, at(MON, "08:00"), at(MON, "12:00"))
    sc.attend(c, q, at(MON, "12:00"), at(MON, "14:00"))
    assert keys(params) == {k("OVERLAPPING_CLASSES", a, p), k("OVERLAPPING_CLASSES", b, p)}
    assert keys(params, class_ids=[b.id]) == {k("OVERLAPPING_CLASSES", b, p)}


def test_teacher_double_booked_names_the_teacher_in_both_classes(sc, params):
    """第二十一条 授课师资: same date, overlapping times."""
    a = sc.klass("A")
    b = sc.klass("B", occupation_code=HOUSEKEEPING)
    c = sc.klass("C", occupation_code=HOUSEKEEPING)
    teacher = sc.person("王老师", birth=dt.date(1975, 1, 1))
    other = sc.person("刘老师", birth=dt.date(1978, 1, 1))
    sc.lesson(a, MON, "08:00", "12:00", teacher=teacher)
    sc.lesson(b, MON, "11:00", "13:00", hours="2", teacher=teacher)
    sc.lesson(c, MON, "12:00", "14:00", hours="2", teacher=teacher)  # touches A's lesson, overlaps B's
    sc.lesson(c, day(1), "08:00", "12:00", teacher=other)
    sc.lesson(a, day(1), "08:00", "12:00", teacher=teacher)
    sc.lesson(a, day(2), "08:00", "12:00", teacher=other)
    sc.lesson(a, day(2), "14:00", "16:00", hours="2", teacher=other)  # same class: no finding
    assert keys(params) == {
        k("TEACHER_DOUBLE_BOOKED", a, teacher),
        k("TEACHER_DOUBLE_BOOKED", b, teacher),
        k("TEACHER_DOUBLE_BOOKED", c, teacher),
    }


def test_teacher_without_overlap_is_not_double_booked(sc, params):
    a = sc.klass("A")
    b = sc.klass("B", occupation_code=HOUSEKEEPING)
    teacher = sc.person("王老师", birth=dt.date(1975, 1, 1))
    sc.lesson(a, MON, "08:00", "12:00", teacher=teacher)
    sc.lesson(b, MON, "12:00", "14:00", hours="2", teacher=teacher)
    sc.lesson(b, day(1), "08:00", "12:00", teacher=teacher)
    assert keys(params) == set()


def test_attendance_outside_the_offline_schedule(sc, params):
    """第二十二条: a record that overlaps no OFFLINE lesson; touching is not overlapping."""
    a = sc.klass("A")
    sc.lesson(a, MON, "08:00", "12:00")
    sc.lesson(a, MON, "14:00", "16:00", hours="2", mode="ONLINE")
    afternoon = sc.trainee(a, "甲")
    sc.attend(a, afternoon, at(MON, "13:00"), at(MON, "15:00"))  # only the online lesson
    touching = sc.trainee(a, "乙")
    sc.attend(a, touching, at(MON, "12:00"), at(MON, "13:00"))
    inside = sc.trainee(a, "丙")
    sc.attend(a, inside, at(MON, "11:59"), at(MON, "13:00"))
    other_day = sc.trainee(a, "丁")
    sc.attend(a, other_day, at(day(1), "08:00"), at(day(1), "12:00"))
    assert keys(params) == {
        k("ATTENDANCE_OUTSIDE_SCHEDULE", a, afternoon),
        k("ATTENDANCE_OUTSIDE_SCHEDULE", a, touching),
        k("ATTENDANCE_OUTSIDE_SCHEDULE", a, other_day),
    }


def test_a_record_without_check_out_is_the_instant_of_its_check_in(sc, params):
    """docs/rules-interpretation.md: an instant is inside an interval from its start (included) to
    its end (excluded); for hours it covers nothing."""
    a = sc.klass("A")
    b = sc.klass("B", occupation_code=HOUSEKEEPING)
    sc.lesson(a, MON, "08:00", "12:00")
    sc.lesson(b, MON, "08:00", "10:00", hours="2")
    at_start = sc.trainee(a, "甲")
    sc.attend(a, at_start, at(MON, "08:00"), None)
    at_end = sc.trainee(a, "乙")
    sc.attend(a, at_end, at(MON, "12:00"), None)
    in_two_classes = sc.trainee(a, "丙")  # checked in to A at 09:00, present in B 08:00–10:00
    sc.enrol(b, in_two_classes)
    sc.attend(a, in_two_classes, at(MON, "09:00"), None)
    sc.attend(b, in_two_classes, at(MON, "08:00"), at(MON, "10:00"))
    after_b = sc.trainee(a, "丁")  # checked in to A at 10:00, as B's record ends
    sc.enrol(b, after_b)
    sc.attend(a, after_b, at(MON, "10:00"), None)
    sc.attend(b, after_b, at(MON, "08:00"), at(MON, "10:00"))
    online = sc.trainee(a, "戊")  # an online session around a check-in instant
    sc.attend(a, online, at(MON, "09:00"), None)
    sc.online(b, online, at(MON, "08:30"), at(MON, "09:30"))
    sc.enrol(b, online)
    assert keys(params) == {
        k("ATTENDANCE_OUTSIDE_SCHEDULE", a, at_end),
        k("OVERLAPPING_CLASSES", a, in_two_classes),
        k("OVERLAPPING_CLASSES", b, in_two_classes),
        k("ONLINE_CONCURRENT", b, online),
    }


def test_trainees_with_records_but_not_on_the_roster_are_judged(sc, params):
    """docs/rules-interpretation.md: the trainees of a class are the roster plus anyone with a
    record in it; rules that need the roster (category, age, repeat, cap) judge the roster only."""
    a = sc.klass("A")
    sc.lesson(a, MON)
    walk_in = sc.person("未登记学员", birth=dt.date(2012, 1, 1))
    sc.attend(a, walk_in, at(MON, "07:55"), at(MON, "12:05"))
    sc.registry(RegistryKind.PUBLIC_PAYROLL, walk_in, dt.date(2020, 1, 1), None)
    sc.registry(
        RegistryKind.SKILL_CERTIFICATE, walk_in, dt.date(2025, 1, 1), occupation_code=ELDERLY_CARE, level="4"
    )
    sc.registry(RegistryKind.DEATH, walk_in, dt.date(2026, 2, 1))
    assert keys(params) == {
        k("PUBLIC_PAYROLL", a, walk_in),
        k("ALREADY_CERTIFIED", a, walk_in),
        k("DECEASED", a, walk_in),
    }


def test_only_the_newest_snapshot_of_a_registry_counts(sc, params):
    a = sc.klass("A")
    p = sc.trainee(a, "甲")
    sc.registry(RegistryKind.PUBLIC_PAYROLL, p, dt.date(2020, 1, 1), None)
    assert keys(params) == {k("PUBLIC_PAYROLL", a, p)}
    newer = RegistrySnapshot.objects.create(
        kind=RegistryKind.PUBLIC_PAYROLL, file_name="public_payroll-2.csv", sha256="1" * 64, row_count=0
    )
    sc.snapshots[RegistryKind.PUBLIC_PAYROLL] = newer
    q = sc.trainee(a, "乙")
    sc.registry(RegistryKind.PUBLIC_PAYROLL, q, dt.date(2020, 1, 1), None)
    assert keys(params) == {k("PUBLIC_PAYROLL", a, q)}


def test_online_hours_at_exactly_the_daily_cap_are_not_exceeded(sc, params):
    """Three 2-hour sessions are 360 minutes = exactly 8 class hours of 45 minutes: not more than 8.
    (Each session alone is 2.666… hours: counted exactly, not rounded.)"""
    a = sc.klass("A", total_hours=Decimal("20"))
    p = sc.trainee(a, "甲")
    for start, end in (("08:00", "10:00"), ("10:00", "12:00"), ("13:00", "15:00")):
        sc.online(a, p, at(MON, start), at(MON, end))
    assert keys(params) == set()


def test_lesson_past_midnight(sc, params):
    """A lesson whose end time is before its start runs past midnight (hours.lesson_bounds)."""
    a = sc.klass("A", total_hours=Decimal("4"))
    sc.lesson(a, MON, "22:00", "02:00")
    night = sc.trainee(a, "甲")
    sc.attend(a, night, at(MON, "21:55"), at(day(1), "02:00"))
    sc.exam(a, night)
    after_midnight = sc.trainee(a, "乙")
    sc.attend(a, after_midnight, at(day(1), "00:30"), at(day(1), "01:30"))
    sc.exam(a, after_midnight)
    assert keys(params) == {k("ATTENDANCE_BELOW_THRESHOLD", a, after_midnight)}


def test_attendance_below_threshold_offline_coverage(sc, params):
    """第十条: a lesson counts when one record covers ≥ 90 % of it; the exam needs ≥ 95 % of total hours."""
    a = sc.klass("A")  # 20 hours: five 4-hour mornings
    sc.week_of_lessons(a)
    full = sc.trainee(a, "甲")
    sc.attend_week(a, full)
    sc.exam(a, full)
    four_days = sc.trainee(a, "乙")
    sc.attend_week(a, four_days, days=4)
    sc.exam(a, four_days)
    no_exam = sc.trainee(a, "丙")
    sc.attend_week(a, no_exam, days=4)
    exactly_90 = sc.trainee(a, "丁")  # 216 of 240 minutes on the first day
    sc.attend(a, exactly_90, at(MON, "08:24"), at(MON, "12:30"))
    for i in range(1, 5):
        sc.attend(a, exactly_90, at(day(i), "07:55"), at(day(i), "12:05"))
    sc.exam(a, exactly_90)
    short = sc.trainee(a, "戊")  # 215 of 240 minutes on the first day
    sc.attend(a, short, at(MON, "08:25"), at(MON, "12:30"))
    for i in range(1, 5):
        sc.attend(a, short, at(day(i), "07:55"), at(day(i), "12:05"))
    sc.exam(a, short)
    split = sc.trainee(a, "己")  # two records of 2 hours each: no single record covers 90 %
    sc.attend(a, split, at(MON, "08:00"), at(MON, "10:00"))
    sc.attend(a, split, at(MON, "10:00"), at(MON, "12:00"))
    for i in range(1, 5):
        sc.attend(a, split, at(day(i), "07:55"), at(day(i), "12:05"))
    sc.exam(a, split)
    no_check_out = sc.trainee(a, "庚")
    sc.attend(a, no_check_out, at(MON, "07:55"), at(MON, "12:05"))
    sc.attend(a, no_check_out, at(day(1), "07:55"), None)
    sc.exam(a, no_check_out)
    assert keys(params) == {
        k("ATTENDANCE_BELOW_THRESHOLD", a, four_days),
        k("ATTENDANCE_BELOW_THRESHOLD", a, short),
        k("ATTENDANCE_BELOW_THRESHOLD", a, split),
        k("ATTENDANCE_BELOW_THRESHOLD", a, no_check_out),
        # the record without check-out is the instant 07:55, before the lesson
        k("ATTENDANCE_OUTSIDE_SCHEDULE", a, no_check_out),
    }


def test_attendance_below_threshold_counts_capped_online_hours(sc, params):
    """第十九条: valid online hours count, each day capped, then capped at 40 % of total hours."""
    a = sc.klass("A", total_hours=Decimal("20"), online_hours=Decimal("4"))
    for i in range(4):
        sc.lesson(a, day(i))  # 16 offline hours
    exact = sc.trainee(a, "甲")  # 16 + 135 min / 45 = 3 hours → 19 of 20 = 95 %
    sc.attend_week(a, exact, days=4)
    sc.online(a, exact, at(day(4), "19:00"), at(day(4), "21:15"))
    sc.exam(a, exact)
    a_minute_short = sc.trainee(a, "乙")  # 134 minutes
    sc.attend_week(a, a_minute_short, days=4)
    sc.online(a, a_minute_short, at(day(4), "19:00"), at(day(4), "21:14"))
    sc.exam(a, a_minute_short)
    invalid = sc.trainee(a, "丙")  # the session failed a face check: it does not count
    sc.attend_week(a, invalid, days=4)
    sc.online(a, invalid, at(day(4), "19:00"), at(day(4), "21:15"), failed=1)
    sc.exam(a, invalid)
    assert keys(params) == {
        k("ATTENDANCE_BELOW_THRESHOLD", a, a_minute_short),
        k("ATTENDANCE_BELOW_THRESHOLD", a, invalid),
        k("ONLINE_FACE_FAILED", a, invalid),
    }


def test_online_share_cap_limits_what_counts(sc, params):
    b = sc.klass("B", total_hours=Decimal("10"), days=3)
    sc.lesson(b, MON, "08:00", "14:00", hours="6")  # 6 offline hours
    p = sc.trainee(b, "甲")  # 6 + online 4 (cap 0.40 × 10) = 10: not below, but the share is exceeded
    sc.attend(b, p, at(MON, "07:55"), at(MON, "14:05"))
    sc.online(b, p, at(day(1), "08:00"), at(day(1), "11:45"))  # 5 hours
    sc.exam(b, p)
    assert keys(params) == {k("ONLINE_SHARE_EXCEEDED", b, p)}


def test_duplicate_photo_across_people_and_days(sc, params):
    """第二十二条: every person carrying the photo is reported; the same person the same day is not."""
    a = sc.klass("A")
    b = sc.klass("B", occupation_code=HOUSEKEEPING)
    for cls in (a, b):
        sc.week_of_lessons(cls)
    p = sc.trainee(a, "甲")
    q = sc.trainee(b, "乙")
    sc.attend(a, p, at(MON, "07:55"), at(MON, "12:05"), photo="a" * 64)
    sc.attend(b, q, at(day(1), "07:55"), at(day(1), "12:05"), photo="a" * 64)
    r = sc.trainee(a, "丙")
    sc.attend(a, r, at(MON, "07:55"), at(MON, "12:05"), photo="b" * 64)
    sc.attend(a, r, at(day(1), "07:55"), at(day(1), "12:05"), photo="b" * 64)
    s = sc.trainee(a, "丁")  # same person, same day (morning check-in photo reused at check-out)
    sc.attend(a, s, at(MON, "07:55"), at(MON, "09:05"), photo="c" * 64)
    sc.attend(a, s, at(MON, "09:10"), at(MON, "12:05"), photo="c" * 64)
    t = sc.trainee(a, "戊")
    sc.attend(a, t, at(MON, "07:55"), at(MON, "12:05"))  # no photo
    u = sc.trainee(a, "己")
    sc.attend(a, u, at(MON, "07:56"), at(MON, "12:05"))
    assert keys(params) == {
        k("DUPLICATE_PHOTO", a, p),
        k("DUPLICATE_PHOTO", b, q),
        k("DUPLICATE_PHOTO", a, r),
    }


def test_location_mismatch_beyond_1000_metres(sc, params):
    """第十九条: great-circle distance from the class site; no position, no judgement."""
    a = sc.klass("A")
    no_site = sc.klass("N", occupation_code=HOUSEKEEPING, site_lat=None, site_lon=None)
    sc.week_of_lessons(a)
    sc.week_of_lessons(no_site)
    far = sc.trainee(a, "甲")  # 0.0091° of latitude ≈ 1012 m
    sc.attend(a, far, at(MON, "07:55"), at(MON, "12:05"), lat=SITE[0] + 0.0091, lon=SITE[1])
    near = sc.trainee(a, "乙")  # ≈ 990 m
    sc.attend(a, near, at(MON, "07:55"), at(MON, "12:05"), lat=SITE[0] + 0.0089, lon=SITE[1])
    unknown = sc.trainee(a, "丙")
    sc.attend(a, unknown, at(MON, "07:55"), at(MON, "12:05"))
    east = sc.trainee(a, "丁")  # 0.013° of longitude at 40.8° N ≈ 1094 m
    sc.attend(a, east, at(MON, "07:55"), at(MON, "12:05"), lat=SITE[0], lon=SITE[1] + 0.013)
    elsewhere = sc.trainee(no_site, "戊")
    sc.attend(no_site, elsewhere, at(MON, "07:55"), at(MON, "12:05"), lat=0.0, lon=0.0)
    assert keys(params) == {k("LOCATION_MISMATCH", a, far), k("LOCATION_MISMATCH", a, east)}


def test_batch_check_in_of_ten_in_the_same_second(sc, params):
    """第二十二条: class-level, no person named."""
    a = sc.klass("A")
    b = sc.klass("B", occupation_code=HOUSEKEEPING)
    sc.lesson(a, MON)
    sc.lesson(b, MON)
    for i in range(10):
        sc.attend(a, sc.trainee(a, f"甲{i}"), at(MON, "07:55:07"), at(MON, "12:05"))
    for i in range(9):
        sc.attend(b, sc.trainee(b, f"乙{i}"), at(MON, "07:55:07"), at(MON, "12:05"))
    sc.attend(b, sc.trainee(b, "乙9"), at(MON, "07:55:08"), at(MON, "12:05"))
    assert keys(params) == {k("BATCH_CHECKIN", a)}


# --- online sessions ---------------------------------------------------------------------------------


def test_online_daily_and_share_exceeded(sc, params):
    """第十九条: more than 8 valid hours on one day; daily-capped hours above 40 % of total."""
    a = sc.klass("A", total_hours=Decimal("20"))
    nine_hours = sc.trainee(a, "甲")  # 525 min on day 0 → daily; capped 8 ≤ 8 → share not exceeded
    sc.online(a, nine_hours, at(MON, "08:00"), at(MON, "12:00"))
    sc.online(a, nine_hours, at(MON, "13:00"), at(MON, "17:00"))
    sc.online(a, nine_hours, at(MON, "18:00"), at(MON, "18:45"))
    eight_hours = sc.trainee(a, "乙")  # exactly 360 min plus a failed session: no daily finding
    sc.online(a, eight_hours, at(MON, "08:00"), at(MON, "14:00"))
    sc.online(a, eight_hours, at(MON, "15:00"), at(MON, "16:00"), failed=2)
    two_days = sc.trainee(a, "丙")  # 4.5 hours on two days = 9 > 8
    sc.online(a, two_days, at(MON, "08:00"), at(MON, "11:22:30"))
    sc.online(a, two_days, at(day(1), "08:00"), at(day(1), "11:22:30"))
    at_cap = sc.trainee(a, "丁")  # 4 hours on two days = 8: not more than 8
    sc.online(a, at_cap, at(MON, "08:00"), at(MON, "11:00"))
    sc.online(a, at_cap, at(day(1), "08:00"), at(day(1), "11:00"))
    past_midnight = sc.trainee(a, "戊")  # 23:00 – 05:45 counts on the day it starts
    sc.online(a, past_midnight, at(MON, "23:00"), at(day(1), "05:45"))
    assert keys(params) == {
        k("ONLINE_DAILY_EXCEEDED", a, nine_hours),
        k("ONLINE_SHARE_EXCEEDED", a, two_days),
        k("ONLINE_FACE_FAILED", a, eight_hours),
        k("ONLINE_DAILY_EXCEEDED", a, past_midnight),
    }


def test_online_concurrent_sessions_and_attendance(sc, params):
    """第二十条 刷课: overlapping sessions (any class) or a session during an attendance record."""
    a = sc.klass("A")
    b = sc.klass("B", occupation_code=HOUSEKEEPING)
    sc.lesson(a, MON)
    p = sc.trainee(a, "甲")
    sc.enrol(b, p)
    sc.online(a, p, at(MON, "19:00"), at(MON, "20:00"))
    sc.online(b, p, at(MON, "19:30"), at(MON, "20:30"))
    q = sc.trainee(a, "乙")  # touching sessions
    sc.online(a, q, at(MON, "19:00"), at(MON, "20:00"))
    sc.online(a, q, at(MON, "20:00"), at(MON, "21:00"))
    r = sc.trainee(a, "丙")  # online while checked in to the classroom
    sc.enrol(b, r)
    sc.attend(a, r, at(MON, "07:55"), at(MON, "12:05"))
    sc.online(b, r, at(MON, "11:00"), at(MON, "11:30"))
    s = sc.trainee(a, "丁")  # online right after check-out
    sc.attend(a, s, at(MON, "07:55"), at(MON, "12:05"))
    sc.online(a, s, at(MON, "12:05"), at(MON, "12:35"))
    assert keys(params) == {
        k("ONLINE_CONCURRENT", a, p),
        k("ONLINE_CONCURRENT", b, p),
        k("ONLINE_CONCURRENT", b, r),
    }


def test_online_ip_farm_five_people_at_one_moment(sc, params):
    """第二十条 外挂软件刷课: five distinct persons from one IP open at once."""
    a = sc.klass("A")
    b = sc.klass("B", occupation_code=HOUSEKEEPING)
    farm = []
    for i in range(5):
        cls = a if i < 3 else b
        p = sc.trainee(cls, f"甲{i}")
        # staggered starts, all open at 19:40
        sc.online(cls, p, at(MON, f"19:{i * 10:02d}"), at(MON, "20:30"), ip="10.1.1.1")
        farm.append((cls, p))
    # one IP, five persons, but the fifth starts when the first ends: never five at once
    chain = [sc.trainee(a, f"乙{i}") for i in range(5)]
    sc.online(a, chain[0], at(day(1), "19:00"), at(day(1), "20:00"), ip="10.2.2.2")
    for p in chain[1:4]:
        sc.online(a, p, at(day(1), "19:10"), at(day(1), "21:00"), ip="10.2.2.2")
    sc.online(a, chain[4], at(day(1), "20:00"), at(day(1), "21:00"), ip="10.2.2.2")
    # four persons, one of them with two sessions: four distinct persons
    repeat = [sc.trainee(a, f"丙{i}") for i in range(4)]
    for p in repeat:
        sc.online(a, p, at(day(2), "19:00"), at(day(2), "20:00"), ip="10.3.3.3")
    sc.enrol(b, repeat[0])
    sc.online(b, repeat[0], at(day(2), "19:30"), at(day(2), "19:40"), ip="10.3.3.3")
    expected = {k("ONLINE_IP_FARM", cls, p) for cls, p in farm}
    expected.add(k("ONLINE_CONCURRENT", a, repeat[0]))
    expected.add(k("ONLINE_CONCURRENT", b, repeat[0]))
    assert keys(params) == expected


def test_online_face_check_failed_or_missing(sc, params):
    """第十九条 人脸识别: a failed check, or more than 60 minutes without a passed one."""
    a = sc.klass("A")
    failed = sc.trainee(a, "甲")
    sc.online(a, failed, at(MON, "19:00"), at(MON, "19:30"), passed=2, failed=1)
    unchecked = sc.trainee(a, "乙")
    sc.online(a, unchecked, at(MON, "19:00"), at(MON, "20:01"), passed=0)
    hour = sc.trainee(a, "丙")
    sc.online(a, hour, at(MON, "19:00"), at(MON, "20:00"), passed=0)
    checked = sc.trainee(a, "丁")
    sc.online(a, checked, at(MON, "19:00"), at(MON, "20:30"), passed=1)
    assert keys(params) == {k("ONLINE_FACE_FAILED", a, failed), k("ONLINE_FACE_FAILED", a, unchecked)}


# --- the institution ----------------------------------------------------------------------------------


def test_out_of_scope_occupation(sc, params):
    """第二十二条 超越办学许可范围: class-level."""
    a = sc.klass("A", occupation_code=CHEF, occupation_name="中式烹调师")
    sc.klass("B", occupation_code=HOUSEKEEPING)
    assert keys(params) == {k("OUT_OF_SCOPE", a)}


def test_institution_not_listed_on_the_start_date(sc, params):
    """第二十一条: the directory status on the class start date, from the listing history."""
    late = sc.new_institution(listed_on=MON + dt.timedelta(days=3))
    before = sc.klass("E1", institution=late, start=MON)
    on_the_day = sc.klass("E2", institution=late, start=MON + dt.timedelta(days=3))
    directory_change(
        institution=late,
        transition="suspend",
        actor=None,
        effective_date=MON + dt.timedelta(days=10),
        reason="督导检查",
    )
    suspended = sc.klass("E3", institution=late, start=MON + dt.timedelta(days=10))
    never = sc.new_institution(listed_on=None)
    unlisted = sc.klass("U1", institution=never)
    assert keys(params) == {
        k("INSTITUTION_NOT_LISTED", before),
        k("INSTITUTION_NOT_LISTED", suspended),
        k("INSTITUTION_NOT_LISTED", unlisted),
    }
    assert on_the_day.code not in {key[1] for key in keys(params)}


# --- settings, class filter -----------------------------------------------------------------------------


def test_settings_are_read_not_assumed(sc, params):
    a = sc.klass("A")
    sc.lesson(a, MON)
    for i in range(3):
        sc.attend(a, sc.trainee(a, f"甲{i}"), at(MON, "07:55:07"), at(MON, "12:05"))
    assert keys(params) == set()
    fields = {f: getattr(params, f) for f in RuleSettings.RULE_FIELDS}
    fields["batch_checkin_count"] = 3
    assert keys(SimpleNamespace(**fields)) == {k("BATCH_CHECKIN", a)}


def test_class_filter_keeps_evidence_from_other_classes(sc, params):
    first = sc.klass("A1", start=MON)
    later = sc.klass("A2", start=MON + dt.timedelta(days=14))
    p = sc.trainee(first, "甲")
    sc.enrol(later, p)
    assert keys(params, class_ids=[later.id]) == {k("REPEAT_TRAINING", later, p)}
    assert keys(params, class_ids=[first.id]) == set()
    assert keys(params, class_ids=[]) == set()


# --- one scenario with every rule, and the two paths agreeing --------------------------------------------


def build_every_rule(sc: Scenario) -> None:
    """Hits of every package rule and near misses, in a few classes (the scenarios above, merged)."""
    a = sc.klass("A")
    b = sc.klass("B", occupation_code=HOUSEKEEPING, total_hours=Decimal("10"))
    c = sc.klass("C", start=MON + dt.timedelta(days=14))
    out = sc.klass("X", occupation_code=CHEF, occupation_name="中式烹调师")
    late = sc.new_institution(listed_on=MON + dt.timedelta(days=3))
    sc.klass("E1", institution=late, start=MON)
    sc.klass("E2", institution=late, start=MON + dt.timedelta(days=3))
    teacher = sc.person("王老师", birth=dt.date(1975, 1, 1))
    for i in range(5):
        sc.lesson(a, day(i), teacher=teacher)
    sc.lesson(b, MON, "11:00", "13:00", hours="2", teacher=teacher)
    sc.lesson(b, day(1), "12:00", "14:00", hours="2", teacher=teacher)
    for i in range(5):
        sc.lesson(c, c.start_date + dt.timedelta(days=i))
    sc.lesson(out, MON)

    sc.trainee(a, "少年", birth=dt.date(2010, 3, 3))
    sc.trainee(a, "满16", birth=dt.date(2010, 3, 2))
    dead = sc.trainee(a, "故人")
    sc.registry(RegistryKind.DEATH, dead, day(2))
    sc.attend(a, dead, at(day(3), "07:55"), at(day(3), "12:05"))
    dead_same_day = sc.trainee(a, "同日")
    sc.registry(RegistryKind.DEATH, dead_same_day, day(3))
    sc.attend(a, dead_same_day, at(day(3), "07:55"), at(day(3), "12:05"))
    official = sc.trainee(a, "公务员")
    sc.registry(RegistryKind.PUBLIC_PAYROLL, official, dt.date(2020, 1, 1), None, org_name="某局")
    retired = sc.trainee(a, "退休")
    sc.registry(RegistryKind.PUBLIC_PAYROLL, retired, dt.date(2000, 1, 1), dt.date(2026, 3, 1))
    unreg = sc.trainee(a, "未登记", category="REGISTERED_UNEMPLOYED")
    sc.registry(RegistryKind.UNEMPLOYMENT_REGISTRATION, unreg, dt.date(2025, 1, 1), dt.date(2026, 3, 1))
    reg = sc.trainee(a, "已登记", category="REGISTERED_UNEMPLOYED")
    sc.registry(RegistryKind.UNEMPLOYMENT_REGISTRATION, reg, dt.date(2025, 1, 1), None)
    sc.registry(RegistryKind.BUSINESS_LICENSE, reg, dt.date(2024, 1, 1), None, org_name="小吃店")
    sc.registry(RegistryKind.SOCIAL_INSURANCE, reg, dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    insured = sc.trainee(a, "参保", category="RURAL_MIGRANT")
    sc.registry(RegistryKind.SOCIAL_INSURANCE, insured, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    patient = sc.trainee(a, "住院")
    sc.registry(RegistryKind.HOSPITALIZATION, patient, day(1), day(2))
    sc.attend(a, patient, at(day(2), "07:55"), at(day(2), "12:05"))
    sc.attend(a, patient, at(day(3), "07:55"), at(day(3), "12:05"))
    repeat = sc.trainee(a, "重复")
    sc.enrol(c, repeat)
    sc.history(repeat, occupation=ELDERLY_CARE, level="5")
    certified = sc.trainee(a, "持证")
    sc.registry(
        RegistryKind.SKILL_CERTIFICATE,
        certified,
        dt.date(2025, 1, 1),
        occupation_code=ELDERLY_CARE,
        level="4",
    )
    capped = sc.trainee(a, "多次")
    for occ in (CHEF, "4-01-02-01", "4-01-02-02"):
        sc.history(capped, occupation=occ)

    double = sc.trainee(a, "两班")
    sc.enrol(b, double)
    sc.attend(a, double, at(MON, "07:55"), at(MON, "12:05"), photo="d" * 64)
    sc.attend(b, double, at(MON, "11:00"), at(MON, "13:00"))
    sc.attend(a, double, at(day(1), "07:55"), at(day(1), "12:05"), lat=SITE[0] + 0.02, lon=SITE[1])
    sc.attend(a, double, at(day(1), "13:00"), at(day(1), "14:00"))  # outside A's schedule
    twin = sc.trainee(b, "相同照片")
    sc.attend(b, twin, at(day(1), "11:55"), at(day(1), "14:05"), photo="d" * 64)
    sc.exam(b, twin)  # 2 of 10 hours
    for i in range(10):
        sc.attend(out, sc.trainee(out, f"批量{i}"), at(MON, "07:55:07"), at(MON, "12:05"))

    online = sc.trainee(b, "线上")
    sc.online(b, online, at(day(2), "08:00"), at(day(2), "17:00"), ip="10.9.9.9")  # 12 hours, daily
    sc.online(b, online, at(day(3), "08:00"), at(day(3), "08:30"), failed=1)
    for i in range(4):
        p = sc.trainee(b, f"同IP{i}")
        sc.online(b, p, at(day(2), f"09:{i * 10:02d}"), at(day(2), "10:00"), ip="10.9.9.9", passed=1)
    sc.online(b, online, at(day(2), "16:30"), at(day(2), "18:00"), passed=1)  # overlaps its own


def test_every_rule_scenario_finds_every_rule(sc, params):
    build_every_rule(sc)
    found = {key[0] for key in keys(params)}
    assert found == set(PACKAGE_RULES)


def test_sql_and_python_paths_agree(sc, params):
    """conventions.md 4: the bulk path and the Python path give the same findings on the same data."""
    from peixun.checks import engine, facts

    build_every_rule(sc)
    rule_params = facts.RuleParams.from_settings(params)
    python = {h.key for h in engine.run_python(params=rule_params)}
    sql = {h.key for h in run_sql(params=rule_params)}
    assert sql == python
    some = sorted(TrainingClass.objects.values_list("id", flat=True))[:2]
    python_some = {h.key for h in engine.run_python(class_ids=some, params=rule_params)}
    assert {h.key for h in run_sql(params=rule_params, class_ids=some)} == python_some


def build_edge_cases(sc: Scenario) -> None:
    """Instants, walk-ins, lessons past midnight, boundaries of coverage and distance."""
    a = sc.klass("EA")
    b = sc.klass("EB", occupation_code=HOUSEKEEPING, total_hours=Decimal("4"))
    sc.lesson(a, MON, "08:00", "12:00")
    sc.lesson(a, day(1), "08:00", "12:00", mode="ONLINE")
    sc.lesson(b, MON, "22:00", "02:00")
    sc.lesson(b, day(1), "08:00", "08:00", hours="0")  # no length
    for i, (start, end) in enumerate(
        ((at(MON, "08:00"), None), (at(MON, "12:00"), None), (at(MON, "08:24"), at(MON, "12:00")))
    ):
        p = sc.trainee(a, f"边界{i}")
        sc.attend(a, p, start, end)
        sc.exam(a, p)
    night = sc.trainee(b, "夜班")
    sc.attend(b, night, at(MON, "22:00"), at(day(1), "01:36"))  # 216 of 240 minutes
    sc.exam(b, night)
    walk_in = sc.person("未登记")
    sc.attend(a, walk_in, at(MON, "09:00"), None)
    sc.attend(b, walk_in, at(MON, "23:00"), at(day(1), "01:00"))
    sc.online(b, walk_in, at(MON, "09:00"), at(MON, "09:00"))  # no length: an instant
    sc.registry(RegistryKind.HOSPITALIZATION, walk_in, MON, MON)
    both = sc.trainee(a, "两班")
    sc.enrol(b, both)
    sc.attend(a, both, at(MON, "09:00"), None)
    sc.attend(b, both, at(MON, "08:00"), at(MON, "10:00"))
    far = sc.trainee(a, "远处")
    sc.attend(a, far, at(MON, "07:55"), at(MON, "12:05"), lat=SITE[0] + 0.009, lon=SITE[1] + 0.0001)


def test_sql_and_python_paths_agree_on_edge_cases(sc, params):
    from peixun.checks import engine, facts

    build_edge_cases(sc)
    rule_params = facts.RuleParams.from_settings(params)
    assert {h.key for h in run_sql(params=rule_params)} == {
        h.key for h in engine.run_python(params=rule_params)
    }


def test_sql_and_python_paths_agree_on_hours_that_do_not_divide(sc, params):
    from peixun.checks import engine, facts

    a = sc.klass("A", total_hours=Decimal("20"))
    p = sc.trainee(a, "甲")
    for start, end in (("08:00", "10:00"), ("10:00", "12:00"), ("13:00", "15:00")):
        sc.online(a, p, at(MON, start), at(MON, end))
    rule_params = facts.RuleParams.from_settings(params)
    assert {h.key for h in run_sql(params=rule_params)} == {
        h.key for h in engine.run_python(params=rule_params)
    }


def test_sql_and_python_paths_agree_on_non_default_settings(sc, params):
    from peixun.checks import engine, facts

    build_every_rule(sc)
    rule_params = replace(
        facts.RuleParams.from_settings(params),
        lesson_min_coverage=Decimal("0.50"),
        online_max_hours_per_day=Decimal("6.5"),
        online_max_share=Decimal("0.25"),
        exam_min_attendance_share=Decimal("0.33"),
        minutes_per_class_hour=40,
        batch_checkin_count=2,
        ip_farm_persons=3,
        checkin_distance_m=500,
        lifetime_subsidy_cap=1,
    )
    python = {h.key for h in engine.run_python(params=rule_params)}
    assert {h.key for h in run_sql(params=rule_params)} == python


def test_vendor_is_supported():
    assert connection.vendor in ("sqlite", "postgresql")
