"""Attendance and online-learning records: the only code that writes them (第十、十八至二十条).

Every path — device and platform API, package import, manual entry on the class page, commands —
appends through `attendance_append_batch` / `online_sessions_append_batch`. Records are never
updated or deleted: a correction is a new record pointing at the one it corrects, and
`effective_attendance` puts the latest correction in the place of what it corrects. Each class's
records of each kind form a hash chain (chain.py) whose head row is locked while appending.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby, starmap
from operator import attrgetter
from types import SimpleNamespace

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from peixun.core.audit import audit_record
from peixun.core.errors import PeixunError
from peixun.core.models import Person
from peixun.core.perf import collections_paused
from peixun.training.models import Enrollment, Lesson, TrainingClass

from . import chain
from .hours import HoursCount, HoursRules, count_hours, lesson_bounds, timetable
from .models import AttendanceRecord, ChainHead, OnlineSession, Source

HEX = frozenset("0123456789abcdef")
_IP_FIELD = OnlineSession._meta.get_field("ip")
REASON_MAX = 200


# --- batch ingestion ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceItem:
    person: Person
    check_in: dt.datetime
    check_out: dt.datetime | None
    method: str
    photo_sha256: str = ""
    lat: float | None = None
    lon: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class OnlineItem:
    person: Person
    start_at: dt.datetime
    end_at: dt.datetime
    ip: str | None = None
    face_checks_passed: int = 0
    face_checks_failed: int = 0
    reason: str = ""


@dataclass(frozen=True)
class ItemError:
    index: int  # position of the item in the batch (0-based)
    message: str  # plain Chinese
    field: str = ""
    code: str = "invalid"  # invalid | not_enrolled | conflict


@dataclass
class BatchResult:
    created: int = 0
    duplicates: int = 0
    errors: list[ItemError] = field(default_factory=list)
    # the created records are seq first_seq … first_seq + created − 1 of the class's chain, in batch order
    first_seq: int | None = None


def _lock_head(training_class: TrainingClass, kind: str) -> ChainHead:
    """The class's chain head of this kind, locked until the transaction ends (created on first use)."""
    heads = ChainHead.objects.select_for_update()
    head = heads.filter(training_class=training_class, kind=kind).first()
    if head is None:
        try:
            with transaction.atomic():
                ChainHead.objects.create(training_class=training_class, kind=kind)
        except IntegrityError:
            pass  # another writer created it first
        head = heads.get(training_class=training_class, kind=kind)
    return head


def _check_source(source: str) -> None:
    if source not in Source.values:
        raise PeixunError(f"未知的记录来源：{source}")


def _reason_error(source: str, reason: str) -> str | None:
    if source == Source.MANUAL and not reason.strip():
        return "手工补录须填写原因"
    if len(reason) > REASON_MAX:
        return f"原因不能超过{REASON_MAX}字"
    return None


def _aware(value) -> bool:
    return isinstance(value, dt.datetime) and value.tzinfo is not None


def _ingest(
    *,
    kind: str,
    model,
    training_class: TrainingClass,
    items: list,
    validate,
    key_field: str,
    compare_fields: tuple[str, ...],
    build,
    label: str,
) -> BatchResult:
    """The shared batch algorithm: lock the head, check every item, skip identical repeats, seal
    and insert the rest in one statement per 1,000."""
    result = BatchResult()
    with transaction.atomic():
        head = _lock_head(training_class, kind)
        person_ids = {it.person.pk for it in items}
        roster = set(
            Enrollment.objects.filter(training_class=training_class, person_id__in=person_ids).values_list(
                "person_id", flat=True
            )
        )
        valid: list[tuple[int, object]] = []
        for index, item in enumerate(items):
            problem = validate(item)
            if problem is None and item.person.pk not in roster:
                problem = ("person", "该学员不在本班花名册中", "not_enrolled")
            if problem:
                field_name, message, *code = problem
                result.errors.append(ItemError(index, message, field_name, code[0] if code else "invalid"))
            else:
                valid.append((index, item))
        existing = {}
        if valid:
            keys = [getattr(it, key_field) for _i, it in valid]
            rows = model.objects.filter(
                training_class=training_class,
                corrects__isnull=True,
                person_id__in={it.person.pk for _i, it in valid},
                **{f"{key_field}__gte": min(keys), f"{key_field}__lte": max(keys)},
            ).values_list("person_id", key_field, *compare_fields)
            existing = {(r[0], r[1]): tuple(r[2:]) for r in rows}
        seen: dict = {}
        new = []
        now = timezone.now()
        for index, item in valid:
            key = (item.person.pk, getattr(item, key_field))
            values = tuple(getattr(item, f) for f in compare_fields)
            stored = existing.get(key)
            if stored is not None:
                if stored == values:
                    result.duplicates += 1
                else:
                    result.errors.append(
                        ItemError(
                            index,
                            f"与已记录的{label}（同一学员、同一时间）不一致："
                            "记录不能修改（第二十条），如需更正请走更正流程",
                            key_field,
                            "conflict",
                        )
                    )
                continue
            if key in seen:
                first_index, first_values = seen[key]
                if first_values == values:
                    result.duplicates += 1
                else:
                    result.errors.append(
                        ItemError(
                            index, f"与本批第{first_index + 1}条时间相同但内容不同", key_field, "conflict"
                        )
                    )
                continue
            seen[key] = (index, values)
            new.append(build(item, now))
        if new:
            result.first_seq = head.last_seq + 1
            head.last_seq, head.last_hash, canonical = chain.seal_canonical(
                kind, new, last_seq=head.last_seq, last_hash=head.last_hash
            )
            _insert(model, kind, new, canonical)
            head.save(update_fields=["last_seq", "last_hash"])
        result.created = len(new)
    return result


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _insert(model, kind: str, rows: list[SimpleNamespace], canonical: list[list]) -> None:
    """Insert sealed rows (plain objects with the model's attribute names) in one statement: COPY on
    PostgreSQL, executemany elsewhere. Building model instances and bulk_create cost several times
    what hashing does."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({copy_columns(model, kind)}) FROM STDIN") as copy,
        ):
            copy.write("\n".join(copy_lines(rows, canonical)) + "\n")
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608 (quoted model names)
            [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] for row in rows],
        )


def copy_columns(model, kind: str) -> str:
    """The quoted columns of `copy_lines`, in order: the chain's fields, then seq, prev_hash, hash."""
    by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
    names = [*chain.FIELDS[kind], "seq", "prev_hash", "hash"]
    return ", ".join(connection.ops.quote_name(by_attname[n]) for n in names)


def copy_lines(rows, canonical: list[list]) -> list[str]:
    """Sealed rows as lines of COPY text (`chain.seal_canonical` gives rows and values). The column
    text is the chain's canonical form of each value (UTC ISO datetimes, repr floats), computed once
    while sealing: the database reads it back as the same value, and formatting it twice was a
    third of a batch's time."""
    lines = []
    for row, values in zip(rows, canonical, strict=True):
        line = "\t".join(["\\N" if v is None else str(v) for v in values])
        # Values almost never need COPY's escapes (free text such as a reason might): look at the
        # line once rather than translating every value — str.translate with a mapping costs more
        # than the hashing does.
        if (
            "\n" in line
            or "\r" in line
            or line.count("\\") != values.count(None)
            or line.count("\t") != len(values) - 1
        ):
            line = "\t".join(
                [
                    "\\N" if v is None else v.translate(_COPY_ESCAPES) if type(v) is str else str(v)
                    for v in values
                ]
            )
        lines.append(f"{line}\t{row.seq}\t{row.prev_hash}\t{row.hash}")
    return lines


def attendance_append_batch(
    *,
    training_class: TrainingClass,
    items: list[AttendanceItem],
    source: str,
    actor=None,
    device_code: str = "",
) -> BatchResult:
    """Append attendance records. Idempotent on (class, person, check_in): an identical repeat is a
    duplicate, a differing one an error item; the valid items are kept whatever the others do."""
    _check_source(source)
    methods = set(AttendanceRecord.Method.values)
    actor_id = actor.pk if getattr(actor, "pk", None) else None

    def validate(it: AttendanceItem):
        if not _aware(it.check_in):
            return ("check_in", "签到时间缺失或缺少时区")
        if it.check_out is not None and not _aware(it.check_out):
            return ("check_out", "签退时间缺少时区")
        if it.check_out is not None and it.check_out < it.check_in:
            return ("check_out", "签退时间早于签到时间")
        if it.method not in methods:
            return ("method", "考勤方式应为 FACE / FINGERPRINT / CARD / MANUAL")
        photo = it.photo_sha256 or ""
        if photo and (len(photo) != 64 or not set(photo) <= HEX):
            return ("photo_sha256", "照片哈希应为64位小写十六进制")
        if it.lat is not None and not -90 <= it.lat <= 90:
            return ("lat", "纬度应在 -90 至 90 之间")
        if it.lon is not None and not -180 <= it.lon <= 180:
            return ("lon", "经度应在 -180 至 180 之间")
        reason = _reason_error(source, it.reason or "")
        if reason:
            return ("reason", reason)
        return None

    def build(it: AttendanceItem, now):
        return SimpleNamespace(
            training_class_id=training_class.pk,
            person_id=it.person.pk,
            check_in=it.check_in,
            check_out=it.check_out,
            method=it.method,
            photo_sha256=it.photo_sha256 or "",
            lat=None if it.lat is None else float(it.lat),
            lon=None if it.lon is None else float(it.lon),
            source=source,
            device_code=device_code,
            corrects_id=None,
            reason=(it.reason or "").strip(),
            recorded_by_id=actor_id,
            recorded_at=now,
        )

    return _ingest(
        kind=chain.ATTENDANCE,
        model=AttendanceRecord,
        training_class=training_class,
        items=items,
        validate=validate,
        key_field="check_in",
        compare_fields=("check_out", "method", "photo_sha256", "lat", "lon"),
        build=build,
        label="考勤",
    )


def online_sessions_append_batch(
    *,
    training_class: TrainingClass,
    items: list[OnlineItem],
    source: str,
    actor=None,
    platform_code: str = "",
) -> BatchResult:
    """Append online learning sessions; idempotent on (class, person, start_at) like attendance."""
    _check_source(source)
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    if not platform_code:
        raise PeixunError("平台编码不能为空")

    def validate(it: OnlineItem):
        if not _aware(it.start_at):
            return ("start_at", "开始时间缺失或缺少时区")
        if not _aware(it.end_at):
            return ("end_at", "结束时间缺失或缺少时区")
        if it.end_at < it.start_at:
            return ("end_at", "结束时间早于开始时间")
        if it.ip:
            try:
                ipaddress.ip_address(it.ip)
            except ValueError:
                return ("ip", "IP地址格式不正确")
        for name in ("face_checks_passed", "face_checks_failed"):
            value = getattr(it, name)
            if not isinstance(value, int) or value < 0:
                return (name, "人脸核验次数应为非负整数")
        reason = _reason_error(source, it.reason or "")
        if reason:
            return ("reason", reason)
        return None

    def build(it: OnlineItem, now):
        return SimpleNamespace(
            training_class_id=training_class.pk,
            person_id=it.person.pk,
            platform_code=platform_code,
            start_at=it.start_at,
            end_at=it.end_at,
            ip=_IP_FIELD.get_prep_value(it.ip) if it.ip else None,  # the form the database keeps
            face_checks_passed=it.face_checks_passed,
            face_checks_failed=it.face_checks_failed,
            source=source,
            device_code="",
            corrects_id=None,
            reason=(it.reason or "").strip(),
            recorded_by_id=actor_id,
            recorded_at=now,
        )

    # platform_code is part of the comparison: the same start pushed by another platform differs.
    items = list(items)
    return _ingest(
        kind=chain.ONLINE,
        model=OnlineSession,
        training_class=training_class,
        items=[_WithPlatform(it, platform_code) for it in items],
        validate=lambda w: validate(w.item),
        key_field="start_at",
        compare_fields=("end_at", "platform_code", "ip", "face_checks_passed", "face_checks_failed"),
        build=lambda w, now: build(w.item, now),
        label="线上学习记录",
    )


class _WithPlatform:
    """An OnlineItem seen with the batch's platform code (so it compares like a stored row)."""

    __slots__ = ("item", "platform_code")

    def __init__(self, item: OnlineItem, platform_code: str):
        self.item = item
        self.platform_code = platform_code

    def __getattr__(self, name):
        value = getattr(self.item, name)
        if name == "ip":
            return value or None
        return value


def append_sealed(record, insert) -> None:
    """Append one unsaved record built directly (not through a batch service) to its class's
    chain: lock the head, seal, `insert()` (the model's own save), move the head."""
    with transaction.atomic():
        head = _lock_head(record.training_class, record.CHAIN_KIND)
        head.last_seq, head.last_hash = chain.seal(
            record.CHAIN_KIND, [record], last_seq=head.last_seq, last_hash=head.last_hash
        )
        insert()
        head.save(update_fields=["last_seq", "last_hash"])


# --- manual entry and corrections -----------------------------------------------------------------


def _audit(actor, action: str, record: AttendanceRecord, *, before=None) -> None:
    klass = record.training_class
    audit_record(
        actor=actor,
        action=action,
        obj=record,
        area=klass.area,
        organisation=klass.institution.organisation,
        before=before,
        after={
            "person": str(record.person.public_id),
            "check_in": record.check_in,
            "check_out": record.check_out,
            "method": record.method,
            "reason": record.reason,
            "seq": record.seq,
        },
    )


def attendance_manual_entry(
    *,
    training_class: TrainingClass,
    person: Person,
    check_in: dt.datetime,
    check_out: dt.datetime | None,
    actor,
    reason: str,
    lat: float | None = None,
    lon: float | None = None,
) -> AttendanceRecord:
    """手工补录 by the institution: source MANUAL with a reason, shown as such to reviewers."""
    if not (reason or "").strip():
        raise PeixunError("手工补录须填写原因")
    with transaction.atomic():
        result = attendance_append_batch(
            training_class=training_class,
            items=[
                AttendanceItem(
                    person=person,
                    check_in=check_in,
                    check_out=check_out,
                    method=AttendanceRecord.Method.MANUAL,
                    lat=lat,
                    lon=lon,
                    reason=reason.strip(),
                )
            ],
            source=Source.MANUAL,
            actor=actor,
        )
        if result.errors:
            raise PeixunError(result.errors[0].message)
        if result.duplicates:
            raise PeixunError("该学员在这一签到时间已有考勤记录；如记录有误，请对该记录提交更正")
        record = AttendanceRecord.objects.select_related("training_class", "person").get(
            training_class=training_class, seq=result.first_seq
        )
        _audit(actor, "attendance.manual_entry", record)
    return record


def attendance_correct(
    *,
    record: AttendanceRecord,
    actor,
    reason: str,
    check_in: dt.datetime,
    check_out: dt.datetime | None,
    method: str = AttendanceRecord.Method.MANUAL,
) -> AttendanceRecord:
    """A correction: a new record with `corrects=record`; the original stays as it was. Counting
    uses the latest correction in place of the record it corrects."""
    reason = (reason or "").strip()
    if not reason:
        raise PeixunError("更正考勤记录须填写原因")
    if len(reason) > REASON_MAX:
        raise PeixunError(f"原因不能超过{REASON_MAX}字")
    if not _aware(check_in) or (check_out is not None and not _aware(check_out)):
        raise PeixunError("签到、签退时间缺少时区")
    if check_out is not None and check_out < check_in:
        raise PeixunError("签退时间早于签到时间")
    if method not in AttendanceRecord.Method.values:
        raise PeixunError("考勤方式无效")
    klass = record.training_class
    with transaction.atomic():
        head = _lock_head(klass, chain.ATTENDANCE)
        new = AttendanceRecord(
            training_class=klass,
            person_id=record.person_id,
            check_in=check_in,
            check_out=check_out,
            method=method,
            source=Source.MANUAL,
            corrects=record,
            reason=reason,
            recorded_by=actor if getattr(actor, "pk", None) else None,
            recorded_at=timezone.now(),
        )
        head.last_seq, head.last_hash = chain.seal(
            chain.ATTENDANCE, [new], last_seq=head.last_seq, last_hash=head.last_hash
        )
        new.save(force_insert=True)
        head.save(update_fields=["last_seq", "last_hash"])
        _audit(
            actor,
            "attendance.corrected",
            new,
            before={"record_seq": record.seq, "check_in": record.check_in, "check_out": record.check_out},
        )
    return new


# --- the counted view -----------------------------------------------------------------------------


def effective(records) -> list:
    """Records with every corrected one replaced by the latest (highest seq) record of its
    correction tree; ordered by time."""
    records = list(records)
    order = attrgetter("check_in" if records and hasattr(records[0], "check_in") else "start_at", "seq")
    if all(r.corrects_id is None for r in records):  # the usual case: nothing corrected
        return sorted(records, key=order)
    by_id = {r.id: r for r in records}
    latest: dict[int, object] = {}
    for r in records:
        root, steps = r, 0
        while root.corrects_id is not None and root.corrects_id in by_id and steps < len(records):
            root, steps = by_id[root.corrects_id], steps + 1
        current = latest.get(root.id)
        if current is None or r.seq > current.seq:
            latest[root.id] = r
    return sorted(latest.values(), key=order)


def effective_attendance(
    training_class: TrainingClass, person: Person | None = None
) -> list[AttendanceRecord]:
    """The class's attendance as counted: corrected records replaced by their latest correction."""
    qs = AttendanceRecord.objects.filter(training_class=training_class)
    if person is not None:
        qs = qs.filter(person=person)
    return effective(qs.order_by("seq"))


def effective_sessions(training_class: TrainingClass, person: Person | None = None) -> list[OnlineSession]:
    qs = OnlineSession.objects.filter(training_class=training_class)
    if person is not None:
        qs = qs.filter(person=person)
    return effective(qs.order_by("seq"))


class CountedRecord:
    """An attendance record as counting reads it. Built for every record of a class each time its
    hours are counted, so a plain class: a model instance or a SimpleNamespace costs several times
    more. Not slotted only: pages add attributes of their own."""

    __slots__ = ("id", "seq", "corrects_id", "person_id", "check_in", "check_out", "__dict__")

    def __init__(self, id, seq, corrects_id, person_id, check_in, check_out):
        self.id, self.seq, self.corrects_id, self.person_id = id, seq, corrects_id, person_id
        self.check_in, self.check_out = check_in, check_out


class CountedSession:
    """An online session as counting and the trainee's page read it (see CountedRecord)."""

    __slots__ = (
        "id",
        "seq",
        "corrects_id",
        "person_id",
        "platform_code",
        "start_at",
        "end_at",
        "ip",
        "face_checks_passed",
        "face_checks_failed",
        "__dict__",
    )

    def __init__(self, id, seq, corrects_id, person_id, platform_code, start_at, end_at, ip, passed, failed):
        self.id, self.seq, self.corrects_id, self.person_id = id, seq, corrects_id, person_id
        self.platform_code, self.start_at, self.end_at, self.ip = platform_code, start_at, end_at, ip
        self.face_checks_passed, self.face_checks_failed = passed, failed


# The columns each is built from, in its constructor's order.
ATTENDANCE_COUNTED = CountedRecord.__slots__[:-1]
ONLINE_COUNTED = CountedSession.__slots__[:-1]


def _plain(queryset, names: tuple[str, ...], kind):
    return list(starmap(kind, _rows(queryset.values_list(*names))))


def _c_timestamptz_loader():
    """psycopg's compiled timestamptz loader, or None. Django registers its own loader for every
    connection (a Python subclass, to pin the time zone), which parses each timestamp in Python:
    for the 5,000 timestamps of a 50-trainee class that is a third of counting its hours. The
    session time zone is UTC on Django's connections, so the compiled loader's answer is the same."""
    try:
        from psycopg_binary import _psycopg
    except ImportError:  # the pure-Python psycopg: nothing to gain
        return None
    return getattr(_psycopg, "TimestamptzLoader", None)


_C_TIMESTAMPTZ = _c_timestamptz_loader()


def _rows(values_list) -> list[tuple]:
    """The rows of a values_list query, with timestamps parsed by the compiled loader where there is
    one (PostgreSQL; fields needing a Python converter are not read this way)."""
    if connection.vendor != "postgresql" or _C_TIMESTAMPTZ is None:
        return list(values_list)
    sql, params = values_list.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", _C_TIMESTAMPTZ)
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass(frozen=True)
class CountingRules:
    hours: HoursRules
    exam_min_share: Decimal


def counting_rules() -> CountingRules:
    from peixun.core.services import current_rule_settings

    s = current_rule_settings()
    return CountingRules(
        hours=HoursRules(
            lesson_min_coverage=Decimal(s.lesson_min_coverage),
            minutes_per_class_hour=s.minutes_per_class_hour,
            online_max_hours_per_day=Decimal(s.online_max_hours_per_day),
            online_max_share=Decimal(s.online_max_share),
        ),
        exam_min_share=Decimal(s.exam_min_attendance_share),
    )


def lesson_shapes(training_class: TrainingClass) -> list[SimpleNamespace]:
    """The class's lessons in the shape count_hours reads. Bounds are in UTC, the zone records come
    from the database in: comparing datetimes of one fixed zone is several times faster than
    comparing a ZoneInfo time with a UTC one (the 50-trainee count stays well under 50 ms)."""
    shapes = []
    for lesson in Lesson.objects.filter(training_class=training_class).order_by("date", "start_time"):
        start, end = lesson_bounds(lesson.date, lesson.start_time, lesson.end_time)
        shapes.append(
            SimpleNamespace(
                start=start.astimezone(dt.UTC),
                end=end.astimezone(dt.UTC),
                hours=lesson.hours,
                mode=lesson.mode,
                source=lesson,
            )
        )
    return shapes


@dataclass
class TraineeHours:
    enrollment: Enrollment
    count: HoursCount
    records: list  # effective attendance records
    sessions: list  # effective online sessions
    below_line: bool

    @property
    def person(self) -> Person:
        return self.enrollment.person


def class_hours(
    training_class: TrainingClass, *, person: Person | None = None, rules=None
) -> list[TraineeHours]:
    """Counted hours of each trainee on the roster (or of one), by count_hours over the effective
    records."""
    with collections_paused():  # thousands of rows, no cycles: see core.perf
        return _class_hours(training_class, person, rules or counting_rules())


def _class_hours(
    training_class: TrainingClass, person: Person | None, rules: CountingRules
) -> list[TraineeHours]:
    # Sorted and measured once for the whole roster.
    lessons = timetable(lesson_shapes(training_class), rules.hours.lesson_min_coverage)
    # Trainees taken off the roster (change request, confirmed finding) no longer count.
    enrollments = Enrollment.objects.filter(
        training_class=training_class, removed_at__isnull=True
    ).select_related("person")
    if person is not None:
        enrollments = enrollments.filter(person=person)
    records, sessions = defaultdict(list), defaultdict(list)
    # Plain rows, not model instances: a 50-trainee class has thousands of records.
    att = AttendanceRecord.objects.filter(training_class=training_class)
    online = OnlineSession.objects.filter(training_class=training_class)
    if person is not None:
        att, online = att.filter(person=person), online.filter(person=person)
    for r in effective(_plain(att, ATTENDANCE_COUNTED, CountedRecord)):
        records[r.person_id].append(r)
    for s in effective(_plain(online, ONLINE_COUNTED, CountedSession)):
        sessions[s.person_id].append(s)
    result = []
    for e in sorted(enrollments, key=lambda e: e.person.name):
        count = count_hours(
            total_hours=training_class.total_hours,
            lessons=lessons,
            records=records[e.person_id],
            sessions=sessions[e.person_id],
            rules=rules.hours,
        )
        result.append(
            TraineeHours(
                enrollment=e,
                count=count,
                records=records[e.person_id],
                sessions=sessions[e.person_id],
                below_line=count.share < rules.exam_min_share,
            )
        )
    return result


# --- verification ---------------------------------------------------------------------------------


def verify_attendance(training_class: TrainingClass | None = None) -> list[chain.ChainProblem]:
    """Walk every class's chains (or one class's); the first problem of each chain."""
    found: list[tuple[int, str, int | None, int | None, str]] = []
    for kind, model in ((chain.ATTENDANCE, AttendanceRecord), (chain.ONLINE, OnlineSession)):
        heads = ChainHead.objects.filter(kind=kind)
        qs = model.objects.order_by("training_class_id", "seq")
        if training_class is not None:
            heads = heads.filter(training_class=training_class)
            qs = qs.filter(training_class=training_class)
        heads_by_class = {h.training_class_id: h for h in heads}
        walked = set()
        for class_id, group in groupby(qs.iterator(chunk_size=5000), key=attrgetter("training_class_id")):
            walked.add(class_id)
            bad = chain.walk(kind, group, heads_by_class.get(class_id))
            if bad:
                found.append((class_id, kind, *bad))
        for class_id, head in heads_by_class.items():
            if class_id not in walked and head.last_seq:
                found.append(
                    (class_id, kind, None, None, f"链头记载{head.last_seq}条，实有0条（记录被删除）")
                )
    codes = dict(TrainingClass.objects.filter(id__in={f[0] for f in found}).values_list("id", "code"))
    problems = [
        chain.ChainProblem(class_id, codes.get(class_id, str(class_id)), kind, rid, seq, message)
        for class_id, kind, rid, seq, message in found
    ]
    return sorted(problems, key=lambda p: (p.class_code, p.kind))
