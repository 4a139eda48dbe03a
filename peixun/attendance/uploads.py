"""上传考勤表: one class's attendance.csv / .xlsx (contract columns), uploaded by its institution on
the class sheet page. All or nothing: every row is parsed and checked (Chinese errors per file line),
then the rows go through `attendance_append_batch` (source IMPORT, hash-chained) in a transaction
that is rolled back if the batch refuses any item. Identical rows already recorded are duplicates,
not errors (a re-upload changes nothing); a row differing from a recorded one is refused (第二十条).

The package importer (exchange.package) reads the same file for many classes; attendance may not
import exchange, so the thin row parsing is repeated here with peixun.core.bulk.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from peixun.core import bulk
from peixun.core.audit import audit_record
from peixun.core.contract import PACKAGE_COLUMNS
from peixun.core.identity import id_check_char
from peixun.core.tabular import ImportFailed, RowError, Table
from peixun.training.models import Enrollment, Lesson, TrainingClass

from .models import AttendanceRecord, Source
from .services import AttendanceItem, BatchResult, attendance_append_batch

FILE_NAME = "attendance.csv"
COLUMNS = PACKAGE_COLUMNS[FILE_NAME]
ITEM_FIELDS = ("check_in", "check_out", "method", "photo_sha256", "lat", "lon")
HEX = frozenset("0123456789abcdef")


class _Refused(Exception):
    """Raised inside the transaction to roll the batch back."""


def _parse_row(values: dict[str, str], bad) -> dict:
    def parse(column, parser, *args):
        try:
            return parser(values[column], *args)
        except ValueError as exc:
            bad(column, str(exc))
            return None

    check_in = parse("check_in", bulk.local_datetime)
    check_out = parse("check_out", lambda x: bulk.local_datetime(x, required=False))
    if check_in and check_out and check_out < check_in:
        bad("check_out", "签退时间早于签到时间")
    method = values["method"].upper()
    if method not in AttendanceRecord.Method.values:
        bad("method", f"考勤方式“{values['method']}”应为 FACE / FINGERPRINT / CARD / MANUAL")
    photo = values["photo_sha256"].lower()
    if photo and (len(photo) != 64 or not set(photo) <= HEX):
        bad("photo_sha256", "照片哈希应为64位十六进制")
    lat = parse("lat", bulk.float_or_none, -90, 90, "纬度")
    lon = parse("lon", bulk.float_or_none, -180, 180, "经度")
    return dict(check_in=check_in, check_out=check_out, method=method, photo_sha256=photo, lat=lat, lon=lon)


def attendance_upload(*, training_class: TrainingClass, table: Table, actor) -> BatchResult:
    """Append the table's rows to the class's attendance, or raise ImportFailed listing every
    problem (nothing written)."""
    errors: list[RowError] = []
    if not table.rows:
        raise ImportFailed([RowError(table.file, 2, "文件", "文件没有数据行")])

    people = bulk.PersonIndex()
    people.load_column(table.rows, "id_number")
    roster = set(Enrollment.objects.filter(training_class=training_class).values_list("person_id", flat=True))

    items: list[AttendanceItem] = []
    lines: list[int] = []
    seen: dict[tuple, tuple[int, AttendanceItem]] = {}
    for row in table.rows:
        before = len(errors)

        def bad(column: str, message: str, line=row.line) -> None:
            errors.append(RowError(table.file, line, column, message))

        code = row.values["class_code"]
        if code != training_class.code:
            bad("class_code", f"班级编号“{code}”不是本班（本班为{training_class.code}），请只上传本班的记录")
        person = None
        try:
            number = bulk.id_number(row.values["id_number"])
        except ValueError as exc:
            bad("id_number", str(exc))
        else:
            person = people.get(number)
            if person is None or person.pk not in roster:
                bad("id_number", "该学员不在本班花名册中")
        values = _parse_row(row.values, bad)
        if len(errors) == before:
            item = AttendanceItem(person=person, **values)
            first = seen.setdefault((person.pk, item.check_in), (row.line, item))
            if first[1] != item:
                bad("check_in", f"与第{first[0]}行同一学员、同一签到时间，但内容不同")
                continue
            items.append(item)
            lines.append(row.line)

    result = BatchResult()
    try:
        with transaction.atomic():
            if items:
                result = attendance_append_batch(
                    training_class=training_class, items=items, source=Source.IMPORT, actor=actor
                )
            for error in result.errors:
                line = lines[error.index]
                if error.code == "conflict":
                    column = "check_in"
                    message = (
                        "与已记录的考勤（同一学员、同一签到时间）不一致：记录不能通过上传修改（第二十条），"
                        "如需更正请在考勤记录中点“更正”"
                    )
                else:
                    column = error.field if error.field in ITEM_FIELDS else "id_number"
                    message = error.message
                errors.append(RowError(table.file, line, column, message))
            if errors:
                raise _Refused
            audit_record(
                actor=actor,
                action="attendance.uploaded",
                obj=training_class,
                area=training_class.area,
                organisation=training_class.institution.organisation,
                after={
                    "file": table.file,
                    "rows": len(table.rows),
                    "created": result.created,
                    "duplicates": result.duplicates,
                    "first_seq": result.first_seq,
                },
            )
    except _Refused:
        errors.sort(key=lambda e: e.line)
        raise ImportFailed(errors) from None
    return result


def _example_id_number() -> str:
    first17 = "15010219900101123"
    return first17 + id_check_char(first17)


def template_rows(training_class: TrainingClass) -> list[list[str]]:
    """One example row for this class: its first offline lesson, five minutes either side."""
    lesson = (
        Lesson.objects.filter(training_class=training_class, mode=Lesson.Mode.OFFLINE)
        .order_by("date", "start_time")
        .first()
    )
    if lesson:
        start = dt.datetime.combine(lesson.date, lesson.start_time) - dt.timedelta(minutes=5)
        end = dt.datetime.combine(lesson.date, lesson.end_time) + dt.timedelta(minutes=5)
    else:
        start = dt.datetime.combine(training_class.start_date, dt.time(8, 25))
        end = dt.datetime.combine(training_class.start_date, dt.time(11, 35))
    fmt = "%Y-%m-%dT%H:%M:%S"
    return [
        [
            training_class.code,
            _example_id_number(),
            start.strftime(fmt),
            end.strftime(fmt),
            AttendanceRecord.Method.FACE,
            "",
            "",
            "",
        ]
    ]
