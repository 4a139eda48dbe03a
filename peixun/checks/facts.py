"""The facts the cross-check rules read, loaded set-wise, then handed to pure rule functions.

`load_facts(class_ids)` reads everything the rules of rules.md need for a set of classes in a
fixed number of queries (none per trainee); `Facts.for_class(id)` cuts out one class's
`ClassFacts`. Rules (checks.rules) see only these frozen dataclasses, so they are tested without a
database. A person is always named by the ID number's HMAC (`person` = Person.id_hmac).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from peixun.attendance.hours import HoursRules, lesson_bounds
from peixun.attendance.models import AttendanceRecord, OnlineSession
from peixun.institutions.models import Institution, InstitutionListing
from peixun.training.models import Enrollment, ExamResult, Lesson, TrainingClass

from .models import HistoryTraining, RegistryRow, RegistrySnapshot

# --- the facts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassFact:
    id: int
    code: str
    start_date: dt.date
    end_date: dt.date
    occupation_code: str = ""
    occupation_name: str = ""
    level: str = ""
    training_type: str = ""
    total_hours: Decimal = Decimal(0)
    site_lat: float | None = None
    site_lon: float | None = None
    institution_code: str = ""
    institution_name: str = ""
    licensed_occupations: frozenset[str] = frozenset()
    # the institution's directory status on start_date (institution_status_on)
    directory_status: str = "LISTED"


@dataclass(frozen=True)
class LessonFact:
    id: int
    class_id: int
    class_code: str
    date: dt.date
    start: dt.datetime  # aware, Asia/Shanghai
    end: dt.datetime
    hours: Decimal
    mode: str = "OFFLINE"
    teacher: str = ""  # the teacher's id_hmac, "" when none is named


@dataclass(frozen=True)
class EnrollmentFact:
    class_id: int
    class_code: str
    person: str
    category: str = ""
    birth_date: dt.date | None = None
    # the class's attributes, for the person's trainings in other classes
    class_start: dt.date | None = None
    occupation_code: str = ""
    level: str = ""


@dataclass(frozen=True)
class AttendanceFact:
    id: int
    class_id: int
    class_code: str
    person: str
    check_in: dt.datetime
    check_out: dt.datetime | None = None
    photo_sha256: str = ""
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class OnlineFact:
    id: int
    class_id: int
    class_code: str
    person: str
    start_at: dt.datetime
    end_at: dt.datetime
    ip: str | None = None
    face_checks_passed: int = 0
    face_checks_failed: int = 0


@dataclass(frozen=True)
class ExamFact:
    class_id: int
    person: str
    exam_date: dt.date
    passed: bool = True


@dataclass(frozen=True)
class RegistryFact:
    """One row of the current snapshot of a registry; periods inclusive, None = open."""

    kind: str
    person: str
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    line: int = 0
    org_code: str = ""
    org_name: str = ""
    occupation_code: str = ""
    level: str = ""
    certificate_no: str = ""


@dataclass(frozen=True)
class HistoryFact:
    person: str
    occupation_code: str
    level: str
    completed_on: dt.date
    training_type: str = ""
    institution_code: str = ""


@dataclass(frozen=True)
class ClassFacts:
    """Everything the rules need to judge one class."""

    klass: ClassFact
    lessons: tuple[LessonFact, ...] = ()
    enrollments: tuple[EnrollmentFact, ...] = ()
    attendance: tuple[AttendanceFact, ...] = ()
    online: tuple[OnlineFact, ...] = ()
    exams: tuple[ExamFact, ...] = ()
    # registry rows and history of this class's trainees
    registry: tuple[RegistryFact, ...] = ()
    history: tuple[HistoryFact, ...] = ()
    # this class's trainees in OTHER classes
    other_enrollments: tuple[EnrollmentFact, ...] = ()
    other_attendance: tuple[AttendanceFact, ...] = ()
    other_online: tuple[OnlineFact, ...] = ()
    # lessons of OTHER classes given by the teachers of this class's lessons
    other_lessons: tuple[LessonFact, ...] = ()
    # attendance records of anyone, any class, carrying a photo hash found in this class
    photo_records: tuple[AttendanceFact, ...] = ()
    # online sessions of anyone, any class, from an IP used in this class (around the same time)
    ip_sessions: tuple[OnlineFact, ...] = ()

    @property
    def persons(self) -> list[str]:
        """The trainees of the class: on the roster or with a record in it."""
        seen = dict.fromkeys(e.person for e in self.enrollments)
        for rows in (self.attendance, self.online, self.exams):
            seen.update(dict.fromkeys(r.person for r in rows))
        return list(seen)


@dataclass(frozen=True)
class RuleParams:
    """The numbers of rules.md as one version of core.RuleSettings; defaults = rules.md defaults."""

    version: int = 1
    exam_min_attendance_share: Decimal = Decimal("0.95")
    online_max_share: Decimal = Decimal("0.40")
    online_max_hours_per_day: Decimal = Decimal("8")
    minutes_per_class_hour: int = 45
    lifetime_subsidy_cap: int = 3
    yearly_subsidy_cap: int | None = None
    checkin_distance_m: int = 1000
    batch_checkin_count: int = 10
    ip_farm_persons: int = 5
    lesson_min_coverage: Decimal = Decimal("0.90")

    @classmethod
    def from_settings(cls, settings) -> RuleParams:
        return cls(
            version=settings.version,
            exam_min_attendance_share=Decimal(settings.exam_min_attendance_share),
            online_max_share=Decimal(settings.online_max_share),
            online_max_hours_per_day=Decimal(settings.online_max_hours_per_day),
            minutes_per_class_hour=settings.minutes_per_class_hour,
            lifetime_subsidy_cap=settings.lifetime_subsidy_cap,
            yearly_subsidy_cap=settings.yearly_subsidy_cap,
            checkin_distance_m=settings.checkin_distance_m,
            batch_checkin_count=settings.batch_checkin_count,
            ip_farm_persons=settings.ip_farm_persons,
            lesson_min_coverage=Decimal(settings.lesson_min_coverage),
        )

    @property
    def hours(self) -> HoursRules:
        return HoursRules(
            lesson_min_coverage=self.lesson_min_coverage,
            minutes_per_class_hour=self.minutes_per_class_hour,
            online_max_hours_per_day=self.online_max_hours_per_day,
            online_max_share=self.online_max_share,
        )


# --- loading ------------------------------------------------------------------------------------


def directory_status_on(listings: Iterable[tuple[dt.date, int, str]], day: dt.date) -> str:
    """institutions.services.institution_status_on over loaded (effective_date, id, status) rows:
    the newest listing in force on the day; none → not in the directory."""
    in_force = [x for x in listings if x[0] <= day]
    return max(in_force)[2] if in_force else Institution.Status.UNLISTED


@dataclass
class Facts:
    """The facts of a batch of classes, indexed for cutting out one class at a time."""

    classes: dict[int, ClassFact]
    lessons_by_class: dict[int, list[LessonFact]] = field(default_factory=lambda: defaultdict(list))
    lessons_by_teacher: dict[str, list[LessonFact]] = field(default_factory=lambda: defaultdict(list))
    enrollments_by_class: dict[int, list[EnrollmentFact]] = field(default_factory=lambda: defaultdict(list))
    enrollments_by_person: dict[str, list[EnrollmentFact]] = field(default_factory=lambda: defaultdict(list))
    attendance_by_class: dict[int, list[AttendanceFact]] = field(default_factory=lambda: defaultdict(list))
    attendance_by_person: dict[str, list[AttendanceFact]] = field(default_factory=lambda: defaultdict(list))
    online_by_class: dict[int, list[OnlineFact]] = field(default_factory=lambda: defaultdict(list))
    online_by_person: dict[str, list[OnlineFact]] = field(default_factory=lambda: defaultdict(list))
    exams_by_class: dict[int, list[ExamFact]] = field(default_factory=lambda: defaultdict(list))
    registry_by_person: dict[str, list[RegistryFact]] = field(default_factory=lambda: defaultdict(list))
    history_by_person: dict[str, list[HistoryFact]] = field(default_factory=lambda: defaultdict(list))
    photo_records: dict[str, list[AttendanceFact]] = field(default_factory=lambda: defaultdict(list))
    ip_sessions: dict[str, list[OnlineFact]] = field(default_factory=lambda: defaultdict(list))

    def for_class(self, class_id: int) -> ClassFacts:
        klass = self.classes[class_id]
        attendance = tuple(self.attendance_by_class.get(class_id, ()))
        online = tuple(self.online_by_class.get(class_id, ()))
        base = ClassFacts(
            klass=klass,
            lessons=tuple(self.lessons_by_class.get(class_id, ())),
            enrollments=tuple(self.enrollments_by_class.get(class_id, ())),
            attendance=attendance,
            online=online,
            exams=tuple(self.exams_by_class.get(class_id, ())),
        )
        persons = base.persons
        teachers = dict.fromkeys(x.teacher for x in base.lessons if x.teacher)
        hashes = dict.fromkeys(r.photo_sha256 for r in attendance if r.photo_sha256)
        ips = dict.fromkeys(s.ip for s in online if s.ip)

        def others(index, keys):
            return tuple(x for k in keys for x in index.get(k, ()) if x.class_id != class_id)

        return ClassFacts(
            klass=klass,
            lessons=base.lessons,
            enrollments=base.enrollments,
            attendance=attendance,
            online=online,
            exams=base.exams,
            registry=tuple(x for p in persons for x in self.registry_by_person.get(p, ())),
            history=tuple(x for p in persons for x in self.history_by_person.get(p, ())),
            other_enrollments=others(self.enrollments_by_person, persons),
            other_attendance=others(self.attendance_by_person, persons),
            other_online=others(self.online_by_person, persons),
            other_lessons=others(self.lessons_by_teacher, teachers),
            photo_records=tuple(x for h in hashes for x in self.photo_records.get(h, ())),
            ip_sessions=tuple(x for ip in ips for x in self.ip_sessions.get(ip, ())),
        )


_LESSON_FIELDS = (
    "id",
    "training_class_id",
    "training_class__code",
    "date",
    "start_time",
    "end_time",
    "hours",
    "mode",
    "teacher__id_hmac",
)
_ENROLLMENT_FIELDS = (
    "training_class_id",
    "training_class__code",
    "person_id",
    "person__id_hmac",
    "person__birth_date",
    "category",
    "training_class__start_date",
    "training_class__occupation_code",
    "training_class__level",
)
_ATTENDANCE_FIELDS = (
    "id",
    "training_class_id",
    "training_class__code",
    "person_id",
    "person__id_hmac",
    "check_in",
    "check_out",
    "photo_sha256",
    "lat",
    "lon",
)
_ONLINE_FIELDS = (
    "id",
    "training_class_id",
    "training_class__code",
    "person_id",
    "person__id_hmac",
    "start_at",
    "end_at",
    "ip",
    "face_checks_passed",
    "face_checks_failed",
)


def _lesson(row) -> LessonFact:
    start, end = lesson_bounds(row["date"], row["start_time"], row["end_time"])
    return LessonFact(
        id=row["id"],
        class_id=row["training_class_id"],
        class_code=row["training_class__code"],
        date=row["date"],
        start=start,
        end=end,
        hours=row["hours"],
        mode=row["mode"],
        teacher=row["teacher__id_hmac"] or "",
    )


def _enrollment(row) -> EnrollmentFact:
    return EnrollmentFact(
        class_id=row["training_class_id"],
        class_code=row["training_class__code"],
        person=row["person__id_hmac"],
        category=row["category"],
        birth_date=row["person__birth_date"],
        class_start=row["training_class__start_date"],
        occupation_code=row["training_class__occupation_code"],
        level=row["training_class__level"],
    )


def _attendance(row) -> AttendanceFact:
    return AttendanceFact(
        id=row["id"],
        class_id=row["training_class_id"],
        class_code=row["training_class__code"],
        person=row["person__id_hmac"],
        check_in=row["check_in"],
        check_out=row["check_out"],
        photo_sha256=row["photo_sha256"],
        lat=row["lat"],
        lon=row["lon"],
    )


def _online(row) -> OnlineFact:
    return OnlineFact(
        id=row["id"],
        class_id=row["training_class_id"],
        class_code=row["training_class__code"],
        person=row["person__id_hmac"],
        start_at=row["start_at"],
        end_at=row["end_at"],
        ip=row["ip"],
        face_checks_passed=row["face_checks_passed"],
        face_checks_failed=row["face_checks_failed"],
    )


def current_snapshot_ids() -> list[int]:
    """The newest snapshot of each registry kind: an import replaces the kind's earlier rows."""
    newest: dict[str, int] = {}
    for kind, pk in RegistrySnapshot.objects.order_by("kind", "-imported_at", "-id").values_list(
        "kind", "id"
    ):
        newest.setdefault(kind, pk)
    return list(newest.values())


def load_facts(class_ids: Iterable[int]) -> Facts:
    """Load the facts of these classes in a bounded number of queries (about 16, whatever the
    number of trainees): the classes' own records, their trainees' records in other classes and
    registries, their teachers' other lessons, and records sharing their photo hashes or IPs."""
    ids = sorted(set(class_ids))
    class_rows = list(
        TrainingClass.objects.filter(pk__in=ids).values(
            "id",
            "code",
            "institution_id",
            "institution__code",
            "institution__name",
            "occupation_code",
            "occupation_name",
            "level",
            "training_type",
            "start_date",
            "end_date",
            "total_hours",
            "site_lat",
            "site_lon",
        )
    )
    ids = [row["id"] for row in class_rows]
    if not ids:
        return Facts(classes={})
    institution_ids = {row["institution_id"] for row in class_rows}
    licensed: dict[int, set[str]] = defaultdict(set)
    for inst_id, code in Institution.licensed_occupations.through.objects.filter(
        institution_id__in=institution_ids
    ).values_list("institution_id", "occupation__code"):
        licensed[inst_id].add(code)
    listings: dict[int, list[tuple]] = defaultdict(list)
    for inst_id, effective, pk, status in InstitutionListing.objects.filter(
        institution_id__in=institution_ids
    ).values_list("institution_id", "effective_date", "id", "status"):
        listings[inst_id].append((effective, pk, status))
    facts = Facts(
        classes={
            row["id"]: ClassFact(
                id=row["id"],
                code=row["code"],
                start_date=row["start_date"],
                end_date=row["end_date"],
                occupation_code=row["occupation_code"],
                occupation_name=row["occupation_name"],
                level=row["level"],
                training_type=row["training_type"],
                total_hours=row["total_hours"],
                site_lat=row["site_lat"],
                site_lon=row["site_lon"],
                institution_code=row["institution__code"],
                institution_name=row["institution__name"],
                licensed_occupations=frozenset(licensed[row["institution_id"]]),
                directory_status=directory_status_on(listings[row["institution_id"]], row["start_date"]),
            )
            for row in class_rows
        }
    )

    # the classes' own records
    lessons = [_lesson(r) for r in Lesson.objects.filter(training_class_id__in=ids).values(*_LESSON_FIELDS)]
    enrollment_rows = list(Enrollment.objects.filter(training_class_id__in=ids).values(*_ENROLLMENT_FIELDS))
    attendance_rows = list(
        AttendanceRecord.objects.filter(training_class_id__in=ids).values(*_ATTENDANCE_FIELDS)
    )
    online_rows = list(OnlineSession.objects.filter(training_class_id__in=ids).values(*_ONLINE_FIELDS))
    exam_rows = list(
        ExamResult.objects.filter(training_class_id__in=ids).values(
            "training_class_id", "person_id", "person__id_hmac", "exam_date", "passed"
        )
    )
    person_ids = sorted(
        {r["person_id"] for rows in (enrollment_rows, attendance_rows, online_rows, exam_rows) for r in rows}
    )
    hmacs = sorted(
        {
            r["person__id_hmac"]
            for rows in (enrollment_rows, attendance_rows, online_rows, exam_rows)
            for r in rows
        }
    )

    # the trainees' records in other classes
    enrollment_rows += (
        Enrollment.objects.filter(person_id__in=person_ids)
        .exclude(training_class_id__in=ids)
        .values(*_ENROLLMENT_FIELDS)
    )
    # Each condition is its own query (and index): one OR over both made PostgreSQL scan the table.
    own_attendance = {r["id"] for r in attendance_rows}
    other_attendance = {}
    for condition in (
        Q(person_id__in=person_ids),
        # the records anywhere carrying a photo hash seen in these classes (DUPLICATE_PHOTO)
        # (`<> ''` repeated so PostgreSQL may use the partial photo index)
        Q(
            photo_sha256__in=list(
                AttendanceRecord.objects.filter(training_class_id__in=ids)
                .exclude(photo_sha256="")
                .values_list("photo_sha256", flat=True)
                .distinct()
            )
        )
        & ~Q(photo_sha256=""),
    ):
        for r in (
            AttendanceRecord.objects.filter(condition)
            .exclude(training_class_id__in=ids)
            .values(*_ATTENDANCE_FIELDS)
        ):
            other_attendance[r["id"]] = r
    attendance_rows += sorted(other_attendance.values(), key=lambda r: (r["check_in"], r["id"]))
    own_online = {r["id"] for r in online_rows}
    online_conditions = [Q(person_id__in=person_ids)]
    if online_rows:
        # sessions of anyone from the same IPs, open while these classes' sessions were (ONLINE_IP_FARM)
        online_conditions.append(
            Q(
                ip__in=list({r["ip"] for r in online_rows if r["ip"]}),
                start_at__lt=max(r["end_at"] for r in online_rows),
                end_at__gt=min(r["start_at"] for r in online_rows),
            )
        )
    other_online = {}
    for condition in online_conditions:
        for r in (
            OnlineSession.objects.filter(condition).exclude(training_class_id__in=ids).values(*_ONLINE_FIELDS)
        ):
            other_online[r["id"]] = r
    online_rows += sorted(other_online.values(), key=lambda r: (r["start_at"], r["id"]))
    # the teachers' lessons in other classes around the same dates (TEACHER_DOUBLE_BOOKED)
    teacher_ids = {r.teacher for r in lessons if r.teacher}
    if teacher_ids:
        lessons += [
            _lesson(r)
            for r in Lesson.objects.filter(
                teacher__id_hmac__in=sorted(teacher_ids),
                date__range=(min(x.date for x in lessons), max(x.date for x in lessons)),
            )
            .exclude(training_class_id__in=ids)
            .values(*_LESSON_FIELDS)
        ]

    # registries (current snapshots) and history
    snapshot_ids = current_snapshot_ids()
    for r in RegistryRow.objects.filter(snapshot_id__in=snapshot_ids, id_hmac__in=hmacs).order_by(
        "kind", "line", "id"
    ):
        facts.registry_by_person[r.id_hmac].append(
            RegistryFact(
                kind=r.kind,
                person=r.id_hmac,
                date_from=r.date_from,
                date_to=r.date_to,
                line=r.line,
                org_code=r.org_code,
                org_name=r.org_name,
                occupation_code=r.occupation_code,
                level=r.level,
                certificate_no=r.certificate_no,
            )
        )
    for h in HistoryTraining.objects.filter(id_hmac__in=hmacs).order_by("completed_on", "id"):
        facts.history_by_person[h.id_hmac].append(
            HistoryFact(
                person=h.id_hmac,
                occupation_code=h.occupation_code,
                level=h.level,
                completed_on=h.completed_on,
                training_type=h.training_type,
                institution_code=h.institution_code,
            )
        )

    # indexes
    in_batch = set(ids)
    for lesson in lessons:
        if lesson.class_id in in_batch:
            facts.lessons_by_class[lesson.class_id].append(lesson)
        if lesson.teacher:
            facts.lessons_by_teacher[lesson.teacher].append(lesson)
    for row in enrollment_rows:
        e = _enrollment(row)
        if e.class_id in in_batch:
            facts.enrollments_by_class[e.class_id].append(e)
        facts.enrollments_by_person[e.person].append(e)
    persons = set(hmacs)
    for row in attendance_rows:
        a = _attendance(row)
        if a.id in own_attendance:
            facts.attendance_by_class[a.class_id].append(a)
        if a.person in persons:
            facts.attendance_by_person[a.person].append(a)
        if a.photo_sha256:
            facts.photo_records[a.photo_sha256].append(a)
    for row in online_rows:
        s = _online(row)
        if s.id in own_online:
            facts.online_by_class[s.class_id].append(s)
        if s.person in persons:
            facts.online_by_person[s.person].append(s)
        if s.ip:
            facts.ip_sessions[s.ip].append(s)
    for row in exam_rows:
        facts.exams_by_class[row["training_class_id"]].append(
            ExamFact(
                class_id=row["training_class_id"],
                person=row["person__id_hmac"],
                exam_date=row["exam_date"],
                passed=row["passed"],
            )
        )
    return facts
