"""The rule catalog of rules.md as pure functions over one class's facts (checks.facts).

One function per code of catalog.PACKAGE_RULES, each `(facts, params) -> list[Hit]`, at most one
hit per (rule, class, subject), its evidence in plain Chinese naming the records and dates.
Conventions (rules.md): date periods are inclusive at both ends and an empty end is open; two time
intervals overlap when each starts before the other ends (touching ends do not); a session's or
record's day is its start date in Asia/Shanghai. docs/rules-interpretation.md lists the choices
made where rules.md leaves room.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal

from peixun.attendance.hours import SHANGHAI, count_hours, local_day, timetable

from .catalog import PACKAGE_RULES, Hit
from .facts import AttendanceFact, ClassFacts, LessonFact, OnlineFact, RuleParams

# --- vocabulary ---------------------------------------------------------------------------------

DEATH = "death"
PUBLIC_PAYROLL = "public_payroll"
BUSINESS_LICENSE = "business_license"
HOSPITALIZATION = "hospitalization"
SOCIAL_INSURANCE = "social_insurance"
UNEMPLOYMENT_REGISTRATION = "unemployment_registration"
SKILL_CERTIFICATE = "skill_certificate"

REGISTERED_UNEMPLOYED = "REGISTERED_UNEMPLOYED"
INSURED_CATEGORIES = ("REGISTERED_UNEMPLOYED", "RURAL_MIGRANT", "SCHOOL_LEAVER")
CATEGORY_LABELS = {
    "REGISTERED_UNEMPLOYED": "城镇登记失业人员",
    "RURAL_MIGRANT": "农村转移就业劳动者",
    "SCHOOL_LEAVER": "城乡未继续升学的应届初高中毕业生",
}
LEVEL_LABELS = {
    "5": "五级",
    "4": "四级",
    "3": "三级",
    "2": "二级",
    "1": "一级",
    "SPECIAL": "专项职业能力",
    "STARTUP": "创业培训",
    "BASIC": "培训合格",
}
DIRECTORY_LABELS = {
    "UNLISTED": "未入目录",
    "LISTED": "已列入目录",
    "SUSPENDED": "暂停",
    "REMOVED": "移出目录",
}

MIN_AGE = 16  # 劳动法 第十五条: 禁止用人单位招用未满十六周岁的未成年人
FACE_SESSION_MINUTES = 60  # rules.md ONLINE_FACE_FAILED: a session this long needs a passed check
EARTH_RADIUS_M = 6_371_000
MAX_EVIDENCE_ITEMS = 5


# --- helpers ------------------------------------------------------------------------------------


def covers(date_from: dt.date | None, date_to: dt.date | None, day: dt.date) -> bool:
    """An inclusive date period (None = open at that end) contains the day."""
    return (date_from is None or date_from <= day) and (date_to is None or day <= date_to)


def periods_overlap(
    a_from: dt.date | None, a_to: dt.date | None, b_from: dt.date | None, b_to: dt.date | None
) -> bool:
    """Two inclusive date periods share at least one day."""
    return (a_from is None or b_to is None or a_from <= b_to) and (
        b_from is None or a_to is None or b_from <= a_to
    )


def covers_month(date_from: dt.date | None, date_to: dt.date | None, day: dt.date) -> bool:
    """A month period (stored as first/last day) contains the month of the day."""
    month = (day.year, day.month)
    return (date_from is None or (date_from.year, date_from.month) <= month) and (
        date_to is None or month <= (date_to.year, date_to.month)
    )


def intervals_overlap(
    a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime
) -> bool:
    """Each starts before the other ends; touching ends do not overlap.

    An instant (start = end: a check-in without check-out) overlaps an interval containing it,
    start included, end excluded; two instants overlap when they are the same moment.
    """
    a_instant, b_instant = a_start >= a_end, b_start >= b_end
    if a_instant and b_instant:
        return a_start == b_start
    if a_instant:
        return b_start <= a_start < b_end
    if b_instant:
        return a_start <= b_start < a_end
    return a_start < b_end and b_start < a_end


def record_span(record: AttendanceFact) -> tuple[dt.datetime, dt.datetime]:
    """A record without check-out is the instant of its check-in."""
    return record.check_in, record.check_out or record.check_in


def same_or_higher_level(other: str, this: str) -> bool:
    """Numeric levels are ordered (1 highest: a number ≤ this class's); other levels only equal."""
    other, this = (other or "").strip(), (this or "").strip()
    if other.isdigit() and this.isdigit():
        return int(other) <= int(this)
    return other == this


def age_on(birth: dt.date, day: dt.date) -> int:
    """Full years of age on a day: the birthday itself completes the year (29 Feb → 1 Mar)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius 6,371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def fmt_day(day: dt.date | None) -> str:
    return day.isoformat() if day else "（空）"


def fmt_time(moment: dt.datetime, *, seconds: bool = False) -> str:
    local = moment.astimezone(SHANGHAI) if moment.tzinfo else moment
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def fmt_span(start: dt.datetime, end: dt.datetime | None) -> str:
    if end is None or end <= start:
        return f"{fmt_time(start)}（无签退）" if end is None else fmt_time(start)
    end_text = fmt_time(end)
    if local_day(end) == local_day(start):
        end_text = end_text[11:]
    return f"{fmt_time(start)}–{end_text}"


def fmt_period(date_from: dt.date | None, date_to: dt.date | None) -> str:
    start = fmt_day(date_from) if date_from else "不详"
    return f"{start}至{fmt_day(date_to)}" if date_to else f"{start}至今"


def fmt_month_period(date_from: dt.date | None, date_to: dt.date | None) -> str:
    start = f"{date_from:%Y-%m}" if date_from else "不详"
    return f"{start}至{date_to:%Y-%m}" if date_to else f"{start}至今"


def fmt_hours(value: Decimal) -> str:
    """Class hours to at most two decimals, without trailing zeros."""
    text = f"{Decimal(value).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_share(value: Decimal) -> str:
    return f"{fmt_hours(Decimal(value) * 100)}%"


def fmt_level(level: str) -> str:
    return LEVEL_LABELS.get(level, level)


def collect(code: str, class_code: str, evidence: dict[str, list[str]]) -> list[Hit]:
    """One hit per subject; its evidence pieces, de-duplicated in order, joined with "；"."""
    hits = []
    for subject, pieces in evidence.items():
        unique = list(dict.fromkeys(pieces))
        shown = unique[:MAX_EVIDENCE_ITEMS]
        text = "；".join(shown)
        if len(unique) > len(shown):
            text += f"；等共{len(unique)}处"
        hits.append(Hit(code, class_code, subject, text))
    return hits


def by_person(rows: Iterable) -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for row in rows:
        grouped[row.person].append(row)
    return grouped


def registry_of(f: ClassFacts, kind: str) -> dict[str, list]:
    """The registry rows of one kind of the class's trainees, by person."""
    persons = set(f.persons)
    return by_person(r for r in f.registry if r.kind == kind and r.person in persons)


def enrollment_of(f: ClassFacts) -> dict:
    return {e.person: e for e in f.enrollments}


def union_by_id(*groups: Iterable) -> list:
    seen: dict[int, object] = {}
    for group in groups:
        for row in group:
            seen.setdefault(row.id, row)
    return list(seen.values())


# --- eligibility --------------------------------------------------------------------------------


def age_under_16(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """AGE_UNDER_16 (劳动法): under 16 on the class start date; the 16th birthday itself is 16."""
    start = f.klass.start_date
    evidence = defaultdict(list)
    for e in f.enrollments:
        if e.birth_date and age_on(e.birth_date, start) < MIN_AGE:
            evidence[e.person].append(
                f"出生日期{fmt_day(e.birth_date)}，开班日期{fmt_day(start)}时"
                f"年仅{age_on(e.birth_date, start)}周岁，未满{MIN_AGE}周岁"
            )
    return collect("AGE_UNDER_16", f.klass.code, evidence)


def deceased(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """DECEASED (第十五条 公安死亡信息): death date before the class start date, or before the day
    of any attendance, online-session or exam record of the trainee in the class."""
    start = f.klass.start_date
    attendance, online = by_person(f.attendance), by_person(f.online)
    exams = by_person(f.exams)
    evidence = defaultdict(list)
    for person, rows in registry_of(f, DEATH).items():
        for row in rows:
            death = row.date_from
            if death is None:
                continue
            prefix = f"公安死亡信息：死亡日期{fmt_day(death)}"
            if death < start:
                evidence[person].append(f"{prefix}，早于开班日期{fmt_day(start)}")
                continue
            later = []
            after = sorted(a.check_in for a in attendance.get(person, ()) if local_day(a.check_in) > death)
            if after:
                later.append(f"{fmt_time(after[0])}的考勤记录")
            after = sorted(s.start_at for s in online.get(person, ()) if local_day(s.start_at) > death)
            if after:
                later.append(f"{fmt_time(after[0])}的线上学习记录")
            after = sorted(x.exam_date for x in exams.get(person, ()) if x.exam_date > death)
            if after:
                later.append(f"{fmt_day(after[0])}的考试记录")
            if later:
                evidence[person].append(f"{prefix}，此后仍有{'、'.join(later)}")
    return collect("DECEASED", f.klass.code, evidence)


def public_payroll(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """PUBLIC_PAYROLL (181号 第十六条): a public-payroll period overlaps the class dates."""
    k = f.klass
    evidence = defaultdict(list)
    for person, rows in registry_of(f, PUBLIC_PAYROLL).items():
        for row in rows:
            if periods_overlap(row.date_from, row.date_to, k.start_date, k.end_date):
                evidence[person].append(
                    f"财政供养信息：{row.org_name or '供养单位'}，供养期间{fmt_period(row.date_from, row.date_to)}，"
                    f"与培训期间{fmt_day(k.start_date)}至{fmt_day(k.end_date)}重叠"
                )
    return collect("PUBLIC_PAYROLL", k.code, evidence)


def unemployed_not_registered(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """UNEMPLOYED_NOT_REGISTERED (第十五条 就业失业登记): a registered-unemployed trainee without an
    unemployment registration covering the class start date."""
    start = f.klass.start_date
    registrations = registry_of(f, UNEMPLOYMENT_REGISTRATION)
    evidence = defaultdict(list)
    for e in f.enrollments:
        if e.category != REGISTERED_UNEMPLOYED:
            continue
        rows = registrations.get(e.person, [])
        if any(covers(r.date_from, r.date_to, start) for r in rows):
            continue
        known = "、".join(fmt_period(r.date_from, r.date_to) for r in rows)
        evidence[e.person].append(
            f"人员类别为城镇登记失业人员，但就业失业登记中无覆盖开班日期{fmt_day(start)}的登记"
            + (f"（已有登记：{known}）" if known else "（无登记记录）")
        )
    return collect("UNEMPLOYED_NOT_REGISTERED", f.klass.code, evidence)


def unemployed_but_insured(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """UNEMPLOYED_BUT_INSURED (第十五条 社会保险): an unemployed / rural-migrant / school-leaver trainee
    with a social-insurance period covering the month of the class start date."""
    start = f.klass.start_date
    insurance = registry_of(f, SOCIAL_INSURANCE)
    evidence = defaultdict(list)
    for e in f.enrollments:
        if e.category not in INSURED_CATEGORIES:
            continue
        for r in insurance.get(e.person, ()):
            if covers_month(r.date_from, r.date_to, start):
                employer = r.org_name or r.org_code or "参保单位"
                evidence[e.person].append(
                    f"人员类别为{CATEGORY_LABELS[e.category]}，但社会保险参保信息显示在{employer}"
                    f"参保{fmt_month_period(r.date_from, r.date_to)}，覆盖开班月份{start:%Y-%m}"
                )
    return collect("UNEMPLOYED_BUT_INSURED", f.klass.code, evidence)


def unemployed_but_business(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """UNEMPLOYED_BUT_BUSINESS (第十五条 工商营业执照): a registered-unemployed trainee in a class that
    is not 创业培训 holds a business licence (established to revoked) covering the start date."""
    k = f.klass
    if k.training_type == "STARTUP":
        return []
    licences = registry_of(f, BUSINESS_LICENSE)
    evidence = defaultdict(list)
    for e in f.enrollments:
        if e.category != REGISTERED_UNEMPLOYED:
            continue
        for r in licences.get(e.person, ()):
            if covers(r.date_from, r.date_to, k.start_date):
                name = r.org_name or "个体工商户"
                code = f"（{r.org_code}）" if r.org_code else ""
                evidence[e.person].append(
                    f"人员类别为城镇登记失业人员，但工商营业执照信息显示{name}{code}"
                    f"成立于{fmt_day(r.date_from)}、{'注销于' + fmt_day(r.date_to) if r.date_to else '未注销'}，"
                    f"开班日期{fmt_day(k.start_date)}时有效"
                )
    return collect("UNEMPLOYED_BUT_BUSINESS", k.code, evidence)


def hospitalized_present(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """HOSPITALIZED_PRESENT (第十五条 医保住院): an attendance record whose check-in day falls inside a
    hospital stay (admit to discharge, inclusive; no discharge = still in hospital). The hospital is
    not named in the evidence: it is health data, and the stay's dates identify the row."""
    stays = registry_of(f, HOSPITALIZATION)
    evidence = defaultdict(list)
    for a in sorted(f.attendance, key=lambda x: x.check_in):
        day = local_day(a.check_in)
        for r in stays.get(a.person, ()):
            if covers(r.date_from, r.date_to, day):
                evidence[a.person].append(
                    f"医保住院信息：住院{fmt_period(r.date_from, r.date_to)}"
                    f"{'' if r.date_to else '（未出院）'}，"
                    f"期间{fmt_day(day)}有考勤记录（签到{fmt_time(a.check_in)}）"
                )
    return collect("HOSPITALIZED_PRESENT", f.klass.code, evidence)


def repeat_training(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """REPEAT_TRAINING (第二十二条 同一人员多次重复参加同一工种培训): earlier training in the same
    occupation at the same or a higher level — a history row, or another peixun class starting on
    the same day or earlier (so the finding lands on the later class; on both when same day)."""
    k = f.klass
    history, others = by_person(f.history), by_person(f.other_enrollments)
    evidence = defaultdict(list)
    for person in dict.fromkeys(e.person for e in f.enrollments):
        for h in history.get(person, ()):
            if h.occupation_code == k.occupation_code and same_or_higher_level(h.level, k.level):
                evidence[person].append(
                    f"历史补贴培训记录：{h.occupation_code} {fmt_level(h.level)}，{fmt_day(h.completed_on)}结业"
                    + (f"（机构{h.institution_code}）" if h.institution_code else "")
                )
        for o in sorted(others.get(person, ()), key=lambda x: (x.class_start or dt.date.min, x.class_code)):
            if (
                o.class_start is not None
                and o.class_start <= k.start_date
                and o.occupation_code == k.occupation_code
                and same_or_higher_level(o.level, k.level)
            ):
                evidence[person].append(
                    f"已参加培训班{o.class_code}（{o.occupation_code} {fmt_level(o.level)}，"
                    f"开班{fmt_day(o.class_start)}），本班{k.code}开班{fmt_day(k.start_date)}"
                )
    return collect("REPEAT_TRAINING", k.code, evidence)


def already_certified(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """ALREADY_CERTIFIED (第十五条 技能人才评价): a skill certificate in the same occupation at the same
    or a higher level issued before the class start date."""
    k = f.klass
    evidence = defaultdict(list)
    for person, rows in registry_of(f, SKILL_CERTIFICATE).items():
        for r in rows:
            if (
                r.occupation_code == k.occupation_code
                and same_or_higher_level(r.level, k.level)
                and r.date_from is not None
                and r.date_from < k.start_date
            ):
                evidence[person].append(
                    f"技能人才评价：证书{r.certificate_no or '（无编号）'}，{r.occupation_code} {fmt_level(r.level)}，"
                    f"发证日期{fmt_day(r.date_from)}，早于开班日期{fmt_day(k.start_date)}"
                )
    return collect("ALREADY_CERTIFIED", k.code, evidence)


def lifetime_cap(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """LIFETIME_CAP (181号 第五条): history rows first (by completion), then peixun enrolments by
    (class start date, class code); this class the (cap + 1)th or later."""
    k = f.klass
    history, others = by_person(f.history), by_person(f.other_enrollments)
    evidence = defaultdict(list)
    for person in dict.fromkeys(e.person for e in f.enrollments):
        earlier = [
            (
                h.completed_on,
                f"历史记录{h.occupation_code} {fmt_level(h.level)}（{fmt_day(h.completed_on)}结业）",
            )
            for h in sorted(history.get(person, ()), key=lambda h: h.completed_on)
        ]
        this_key = (k.start_date, k.code)
        for o in sorted(others.get(person, ()), key=lambda x: (x.class_start or dt.date.min, x.class_code)):
            if ((o.class_start or dt.date.min), o.class_code) < this_key:
                earlier.append((o.class_start, f"培训班{o.class_code}（开班{fmt_day(o.class_start)}）"))
        position = len(earlier) + 1
        if position > p.lifetime_subsidy_cap:
            listed = "、".join(text for _, text in earlier)
            evidence[person].append(
                f"本班为该人员第{position}次补贴性培训，超过终身{p.lifetime_subsidy_cap}次上限；此前：{listed}"
            )
    return collect("LIFETIME_CAP", k.code, evidence)


# --- attendance ---------------------------------------------------------------------------------


def overlapping_classes(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """OVERLAPPING_CLASSES (第二十二条 虚假上课记录): an attendance record of the trainee here overlaps
    one of theirs in another class (each class reports it)."""
    others = by_person(f.other_attendance)
    evidence = defaultdict(list)
    for a in sorted(f.attendance, key=lambda x: x.check_in):
        for o in sorted(others.get(a.person, ()), key=lambda x: x.check_in):
            if o.class_id != f.klass.id and intervals_overlap(*record_span(a), *record_span(o)):
                evidence[a.person].append(
                    f"本班考勤{fmt_span(a.check_in, a.check_out)}与培训班{o.class_code}考勤"
                    f"{fmt_span(o.check_in, o.check_out)}时间重叠"
                )
    return collect("OVERLAPPING_CLASSES", f.klass.code, evidence)


def teacher_double_booked(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """TEACHER_DOUBLE_BOOKED (第二十一条 授课师资): a lesson here and a lesson of another class with the
    same teacher on the same date at overlapping times; the subject is the teacher."""
    others: dict[str, list[LessonFact]] = defaultdict(list)
    for o in f.other_lessons:
        others[o.teacher].append(o)
    evidence = defaultdict(list)
    for lesson in sorted(f.lessons, key=lambda x: x.start):
        if not lesson.teacher:
            continue
        for o in sorted(others.get(lesson.teacher, ()), key=lambda x: x.start):
            if (
                o.class_id != f.klass.id
                and o.date == lesson.date
                and intervals_overlap(lesson.start, lesson.end, o.start, o.end)
            ):
                evidence[lesson.teacher].append(
                    f"本班{fmt_span(lesson.start, lesson.end)}的课程与培训班{o.class_code}"
                    f"在{fmt_span(o.start, o.end)}的课程为同一教师授课"
                )
    return collect("TEACHER_DOUBLE_BOOKED", f.klass.code, evidence)


def attendance_outside_schedule(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """ATTENDANCE_OUTSIDE_SCHEDULE (第二十二条): an attendance record overlapping no offline lesson."""
    offline = [x for x in f.lessons if x.mode == "OFFLINE"]
    evidence = defaultdict(list)
    for a in sorted(f.attendance, key=lambda x: x.check_in):
        if not any(intervals_overlap(*record_span(a), x.start, x.end) for x in offline):
            evidence[a.person].append(
                f"考勤记录{fmt_span(a.check_in, a.check_out)}不在本班任何线下课程时段内"
            )
    return collect("ATTENDANCE_OUTSIDE_SCHEDULE", f.klass.code, evidence)


def _hours_of(f: ClassFacts, p: RuleParams):
    records, sessions = by_person(f.attendance), by_person(f.online)
    lessons = timetable(f.lessons, p.hours.lesson_min_coverage)  # prepared once for the roster

    def hours(person: str):
        return count_hours(
            total_hours=f.klass.total_hours,
            lessons=lessons,
            records=records.get(person, []),
            sessions=sessions.get(person, []),
            rules=p.hours,
        )

    return hours


def attendance_below_threshold(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """ATTENDANCE_BELOW_THRESHOLD (第十条): an exam record although counted hours ÷ total hours is
    below the minimum share (0.95)."""
    hours = _hours_of(f, p)
    evidence = defaultdict(list)
    for exam in sorted(f.exams, key=lambda x: x.exam_date):
        h = hours(exam.person)
        if h.share < p.exam_min_attendance_share:
            evidence[exam.person].append(
                f"计入学时{fmt_hours(h.total)}课时（线下{fmt_hours(h.offline)}、线上{fmt_hours(h.online)}），"
                f"占总课时{fmt_hours(f.klass.total_hours)}的{fmt_share(h.share)}，"
                f"低于{fmt_share(p.exam_min_attendance_share)}，但有{fmt_day(exam.exam_date)}的考试记录"
                + (
                    f"；缺{len(h.missed)}节线下课程，首节{fmt_span(h.missed[0].start, h.missed[0].end)}"
                    if h.missed
                    else ""
                )
            )
    return collect("ATTENDANCE_BELOW_THRESHOLD", f.klass.code, evidence)


def duplicate_photo(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """DUPLICATE_PHOTO (第二十二条): a check-in photo hash also on another person's record, or on the
    same person's record of another day (any class); every person carrying it is reported."""
    carriers: dict[str, list[AttendanceFact]] = defaultdict(list)
    for r in union_by_id(f.attendance, f.photo_records):
        if r.photo_sha256:
            carriers[r.photo_sha256].append(r)
    evidence = defaultdict(list)
    for a in sorted(f.attendance, key=lambda x: x.check_in):
        if not a.photo_sha256:
            continue
        day = local_day(a.check_in)
        for o in sorted(carriers[a.photo_sha256], key=lambda x: x.check_in):
            if o.person != a.person:
                whose = "其他人员"
            elif local_day(o.check_in) != day:
                whose = "本人另一天"
            else:
                continue
            evidence[a.person].append(
                f"{fmt_time(a.check_in)}签到照片（哈希{a.photo_sha256[:12]}…）与{whose}在培训班{o.class_code}"
                f"于{fmt_time(o.check_in)}的考勤照片相同"
            )
    return collect("DUPLICATE_PHOTO", f.klass.code, evidence)


def location_mismatch(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """LOCATION_MISMATCH (第十九条): a check-in position more than 1,000 m (great circle) from the
    class site; records (or a class) without a position are not judged."""
    k = f.klass
    if k.site_lat is None or k.site_lon is None:
        return []
    evidence = defaultdict(list)
    for a in sorted(f.attendance, key=lambda x: x.check_in):
        if a.lat is None or a.lon is None:
            continue
        meters = distance_m(k.site_lat, k.site_lon, a.lat, a.lon)
        if meters > p.checkin_distance_m:
            evidence[a.person].append(
                f"{fmt_time(a.check_in)}签到位置距培训地点约{meters:,.0f}米，超过{p.checkin_distance_m:,}米"
            )
    return collect("LOCATION_MISMATCH", k.code, evidence)


def batch_checkin(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """BATCH_CHECKIN (第二十二条): 10 or more of the class's records with the identical check-in
    second — class-level."""
    seconds: dict[dt.datetime, int] = defaultdict(int)
    for a in f.attendance:
        seconds[a.check_in.replace(microsecond=0)] += 1
    evidence = defaultdict(list)
    for moment, count in sorted(seconds.items()):
        if count >= p.batch_checkin_count:
            evidence[""].append(f"{fmt_time(moment, seconds=True)}同一秒有{count}条签到记录")
    return collect("BATCH_CHECKIN", f.klass.code, evidence)


# --- online -------------------------------------------------------------------------------------


def online_share_exceeded(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """ONLINE_SHARE_EXCEEDED (第十九条): valid online hours, each day capped at the daily maximum,
    exceed online_max_share × total hours (exactly the share is allowed)."""
    hours = _hours_of(f, p)
    evidence = defaultdict(list)
    for person in dict.fromkeys(s.person for s in f.online):
        h = hours(person)
        if h.online_daily_capped > h.online_cap:
            evidence[person].append(
                f"有效线上学时{fmt_hours(h.online_daily_capped)}课时（每日最多计{fmt_hours(p.online_max_hours_per_day)}课时），"
                f"超过总课时{fmt_hours(f.klass.total_hours)}的{fmt_share(p.online_max_share)}"
                f"即{fmt_hours(h.online_cap)}课时"
            )
    return collect("ONLINE_SHARE_EXCEEDED", f.klass.code, evidence)


def online_daily_exceeded(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """ONLINE_DAILY_EXCEEDED (第十九条): valid online hours of one day (the day a session starts)
    exceed the daily maximum (exactly the maximum is allowed)."""
    hours = _hours_of(f, p)
    evidence = defaultdict(list)
    for person in dict.fromkeys(s.person for s in f.online):
        for day, value in hours(person).online_by_day.items():
            if value > p.online_max_hours_per_day:
                evidence[person].append(
                    f"{fmt_day(day)}有效线上学时{fmt_hours(value)}课时，超过每日{fmt_hours(p.online_max_hours_per_day)}课时"
                )
    return collect("ONLINE_DAILY_EXCEEDED", f.klass.code, evidence)


def online_concurrent(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """ONLINE_CONCURRENT (第二十条 刷课): an online session here overlaps another online session of the
    trainee or an attendance record of the trainee, in this or any other class."""
    sessions = by_person(union_by_id(f.online, f.other_online))
    records = by_person(union_by_id(f.attendance, f.other_attendance))
    evidence = defaultdict(list)
    for s in sorted(f.online, key=lambda x: x.start_at):
        for o in sorted(sessions.get(s.person, ()), key=lambda x: x.start_at):
            if o.id == s.id or not intervals_overlap(s.start_at, s.end_at, o.start_at, o.end_at):
                continue
            first, second = sorted((s, o), key=lambda x: (x.start_at, x.id))
            evidence[s.person].append(
                f"线上学习{fmt_span(first.start_at, first.end_at)}（培训班{first.class_code}）与线上学习"
                f"{fmt_span(second.start_at, second.end_at)}（培训班{second.class_code}）时间重叠"
            )
        for a in sorted(records.get(s.person, ()), key=lambda x: x.check_in):
            if intervals_overlap(s.start_at, s.end_at, *record_span(a)):
                evidence[s.person].append(
                    f"线上学习{fmt_span(s.start_at, s.end_at)}与培训班{a.class_code}考勤"
                    f"{fmt_span(a.check_in, a.check_out)}时间重叠"
                )
    return collect("ONLINE_CONCURRENT", f.klass.code, evidence)


def _farm_moments(sessions: list[OnlineFact], threshold: int) -> dict[int, tuple[dt.datetime, int]]:
    """Sessions open at a moment when ≥ threshold distinct persons are online from their IP: session
    id → (the first such moment, persons then). Checking each session start suffices: the most
    crowded moments begin when some session starts."""
    flagged: dict[int, tuple[dt.datetime, int]] = {}
    for moment in sorted({s.start_at for s in sessions}):
        open_now = [s for s in sessions if s.start_at <= moment < s.end_at]
        persons = {s.person for s in open_now}
        if len(persons) >= threshold:
            for s in open_now:
                flagged.setdefault(s.id, (moment, len(persons)))
    return flagged


def online_ip_farm(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """ONLINE_IP_FARM (第二十条 外挂软件刷课): at some moment sessions of 5 or more distinct persons
    from one IP are open at once; each of them is reported in the class of such a session."""
    by_ip: dict[str, list[OnlineFact]] = defaultdict(list)
    for s in union_by_id(f.online, f.ip_sessions):
        if s.ip:
            by_ip[s.ip].append(s)
    own = {s.id: s for s in f.online}
    evidence = defaultdict(list)
    for ip, sessions in sorted(by_ip.items()):
        if not any(s.id in own for s in sessions):
            continue
        flagged = _farm_moments(sessions, p.ip_farm_persons)
        for s in sorted(f.online, key=lambda x: x.start_at):
            if s.ip == ip and s.id in flagged:
                moment, count = flagged[s.id]
                evidence[s.person].append(
                    f"IP {ip} 在{fmt_time(moment)}同时有{count}名学员在线学习"
                    f"（本人线上学习{fmt_span(s.start_at, s.end_at)}）"
                )
    return collect("ONLINE_IP_FARM", f.klass.code, evidence)


def online_face_failed(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """ONLINE_FACE_FAILED (第十九条 人脸识别): a session with a failed face check, or longer than 60
    minutes without one passed check."""
    evidence = defaultdict(list)
    for s in sorted(f.online, key=lambda x: x.start_at):
        minutes = (s.end_at - s.start_at).total_seconds() / 60
        if s.face_checks_failed > 0:
            evidence[s.person].append(
                f"线上学习{fmt_span(s.start_at, s.end_at)}人脸核验失败{s.face_checks_failed}次"
            )
        elif minutes > FACE_SESSION_MINUTES and s.face_checks_passed == 0:
            evidence[s.person].append(
                f"线上学习{fmt_span(s.start_at, s.end_at)}共{minutes:g}分钟，无一次人脸核验通过"
            )
    return collect("ONLINE_FACE_FAILED", f.klass.code, evidence)


# --- the class itself ---------------------------------------------------------------------------


def out_of_scope(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """OUT_OF_SCOPE (第二十二条 超越办学许可范围): the occupation is not among the institution's
    licensed occupations — class-level."""
    k = f.klass
    if k.occupation_code in k.licensed_occupations:
        return []
    name = f"（{k.occupation_name}）" if k.occupation_name else ""
    return collect(
        "OUT_OF_SCOPE",
        k.code,
        {
            "": [
                f"职业（工种）{k.occupation_code}{name}不在机构{k.institution_name or k.institution_code}的办学许可范围内"
            ]
        },
    )


def institution_not_listed(f: ClassFacts, p: RuleParams) -> list[Hit]:
    """INSTITUTION_NOT_LISTED (第二十一条): the institution is not in the subsidised-provider directory
    on the class start date — class-level."""
    k = f.klass
    if k.directory_status == "LISTED":
        return []
    status = DIRECTORY_LABELS.get(k.directory_status, k.directory_status)
    return collect(
        "INSTITUTION_NOT_LISTED",
        k.code,
        {
            "": [
                f"开班日期{fmt_day(k.start_date)}机构{k.institution_name or k.institution_code}"
                f"的目录状态为“{status}”，不在培训机构目录内"
            ]
        },
    )


RuleFunction = Callable[[ClassFacts, RuleParams], list[Hit]]

RULE_FUNCTIONS: dict[str, RuleFunction] = {
    "AGE_UNDER_16": age_under_16,
    "DECEASED": deceased,
    "PUBLIC_PAYROLL": public_payroll,
    "UNEMPLOYED_NOT_REGISTERED": unemployed_not_registered,
    "UNEMPLOYED_BUT_INSURED": unemployed_but_insured,
    "UNEMPLOYED_BUT_BUSINESS": unemployed_but_business,
    "HOSPITALIZED_PRESENT": hospitalized_present,
    "REPEAT_TRAINING": repeat_training,
    "ALREADY_CERTIFIED": already_certified,
    "LIFETIME_CAP": lifetime_cap,
    "OVERLAPPING_CLASSES": overlapping_classes,
    "TEACHER_DOUBLE_BOOKED": teacher_double_booked,
    "ATTENDANCE_OUTSIDE_SCHEDULE": attendance_outside_schedule,
    "ATTENDANCE_BELOW_THRESHOLD": attendance_below_threshold,
    "DUPLICATE_PHOTO": duplicate_photo,
    "LOCATION_MISMATCH": location_mismatch,
    "BATCH_CHECKIN": batch_checkin,
    "ONLINE_SHARE_EXCEEDED": online_share_exceeded,
    "ONLINE_DAILY_EXCEEDED": online_daily_exceeded,
    "ONLINE_CONCURRENT": online_concurrent,
    "ONLINE_IP_FARM": online_ip_farm,
    "ONLINE_FACE_FAILED": online_face_failed,
    "OUT_OF_SCOPE": out_of_scope,
    "INSTITUTION_NOT_LISTED": institution_not_listed,
}


def check_class(facts: ClassFacts, params: RuleParams, codes: Iterable[str] | None = None) -> list[Hit]:
    """All (or the named) package rules over one class's facts, sorted."""
    hits: list[Hit] = []
    for code in codes or PACKAGE_RULES:
        hits.extend(RULE_FUNCTIONS[code](facts, params))
    return sorted(hits)
