"""`peixun import_package DIR`: the data package of contract.md, all or nothing.

Files are taken dependencies first (institutions → teachers → classes → lessons → enrollments →
attendance → online_sessions → exams), any subset. Each file is checked against the database as
it stands after the earlier files of the same package; every problem of every file is collected;
if there is any, the whole transaction is rolled back and nothing is written. Rows are matched on
the contract's natural keys, so a re-import changes nothing; a changed row of classes, lessons,
enrollments or exams is an update (counted in the audit entry). Attendance and online-learning
records are evidence and are never changed by an import (第二十条): a row that differs from the
stored record is refused — corrections go through the attendance correction workflow.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from peixun.accounts.models import PersonAffiliation
from peixun.attendance.models import AttendanceRecord, OnlineSession, Source
from peixun.attendance.services import (
    AttendanceItem,
    OnlineItem,
    attendance_append_batch,
    online_sessions_append_batch,
)
from peixun.catalog.models import Level, TrainingType
from peixun.core import bulk
from peixun.core.audit import audit_record
from peixun.core.contract import PACKAGE_COLUMNS
from peixun.core.models import Area
from peixun.core.tabular import ImportFailed, Row, RowError, iter_csv, read_table
from peixun.institutions.models import Institution
from peixun.institutions.services import (
    INSTITUTION_COLUMNS,
    TEACHER_COLUMNS,
    import_institutions,
    import_teachers,
)
from peixun.training.models import Category, ClassStatus, Enrollment, ExamResult, Lesson, TrainingClass

CLASS_COLUMNS = PACKAGE_COLUMNS["classes.csv"]
LESSON_COLUMNS = PACKAGE_COLUMNS["lessons.csv"]
ENROLLMENT_COLUMNS = PACKAGE_COLUMNS["enrollments.csv"]
ATTENDANCE_COLUMNS = PACKAGE_COLUMNS["attendance.csv"]
ONLINE_COLUMNS = PACKAGE_COLUMNS["online_sessions.csv"]
EXAM_COLUMNS = PACKAGE_COLUMNS["exams.csv"]
CHUNK = 20_000


@dataclass
class Context:
    actor: object
    file: str = ""
    errors: list[RowError] = field(default_factory=list)
    stats: dict[str, dict] = field(default_factory=dict)
    failed_classes: set[str] = field(default_factory=set)
    progress: Callable[[str], None] | None = None

    def bad(self, line: int, column: str, message: str) -> None:
        self.errors.append(RowError(self.file, line, column, message))


def _classes_by_code(codes) -> dict[str, TrainingClass]:
    found = {}
    codes = list(codes)
    for start in range(0, len(codes), 2000):
        for c in TrainingClass.objects.filter(code__in=codes[start : start + 2000]):
            found[c.code] = c
    return found


def _parse(ctx: Context, row: Row, column: str, parser: Callable, *args):
    try:
        return parser(row.values[column], *args)
    except ValueError as exc:
        ctx.bad(row.line, column, str(exc))
        return None


def _class_of(ctx: Context, row: Row, classes: dict[str, TrainingClass]) -> TrainingClass | None:
    code = row.values["class_code"]
    cls = classes.get(code)
    if cls is None and code not in ctx.failed_classes:
        ctx.bad(row.line, "class_code", f"班级“{code}”不存在（请先导入 classes.csv）")
    return cls


# --- classes ------------------------------------------------------------------------------------


def _import_classes(ctx: Context, rows: list[Row]) -> None:
    institutions = {i.code: i for i in Institution.objects.all()}
    areas = {a.code: a for a in Area.objects.exclude(kind=Area.Kind.REGION)}
    parsed, seen = [], {}
    for row in rows:
        v = row.values
        before = len(ctx.errors)
        code = v["class_code"]
        if not code or len(code) > 40:
            ctx.bad(row.line, "class_code", "班级编号不能为空且不超过40个字符")
        if code in seen:
            ctx.bad(row.line, "class_code", f"与第{seen[code]}行重复")
        seen.setdefault(code, row.line)
        institution = institutions.get(v["institution_code"].upper())
        if institution is None:
            ctx.bad(
                row.line,
                "institution_code",
                f"机构“{v['institution_code']}”未登记（请先导入 institutions.csv）",
            )
        area = areas.get(v["area_code"])
        if area is None:
            ctx.bad(row.line, "area_code", f"地区代码“{v['area_code']}”不是内蒙古的盟市或旗县区")
        if not v["occupation_code"]:
            ctx.bad(row.line, "occupation_code", "职业编码不能为空")
        if not v["occupation_name"]:
            ctx.bad(row.line, "occupation_name", "职业名称不能为空")
        if v["level"] not in Level.values:
            ctx.bad(row.line, "level", f"等级“{v['level']}”无效，应为 {'/'.join(Level.values)}")
        if v["training_type"] not in TrainingType.values:
            ctx.bad(row.line, "training_type", f"培训类型“{v['training_type']}”无效")
        start = _parse(ctx, row, "start_date", bulk.date_required)
        end = _parse(ctx, row, "end_date", bulk.date_required)
        if start and end and end < start:
            ctx.bad(row.line, "end_date", "结业日期早于开班日期")
        total = _parse(ctx, row, "total_hours", bulk.decimal_value)
        online = _parse(ctx, row, "online_hours", lambda x: bulk.decimal_value(x or "0"))
        if total is not None and total <= 0:
            ctx.bad(row.line, "total_hours", "总课时应大于0")
        if total is not None and online is not None and not 0 <= online <= total:
            ctx.bad(row.line, "online_hours", "线上课时应在0至总课时之间")
        lat = _parse(ctx, row, "site_lat", bulk.float_or_none, -90, 90, "纬度")
        lon = _parse(ctx, row, "site_lon", bulk.float_or_none, -180, 180, "经度")
        if len(ctx.errors) > before:
            ctx.failed_classes.add(code)
            continue
        parsed.append(
            dict(
                code=code,
                institution=institution,
                area=area,
                occupation_code=v["occupation_code"],
                occupation_name=v["occupation_name"],
                level=v["level"],
                training_type=v["training_type"],
                start_date=start,
                end_date=end,
                total_hours=total,
                online_hours=online or 0,
                site_address=v["site_address"],
                site_lat=lat,
                site_lon=lon,
            )
        )
    if ctx.errors:
        return
    existing = _classes_by_code(p["code"] for p in parsed)
    new, changed = [], []
    fields = [f for f in parsed[0] if f != "code"] if parsed else []
    for values in parsed:
        cls = existing.get(values["code"])
        if cls is None:
            new.append(
                TrainingClass(source=TrainingClass.Source.IMPORT, status=ClassStatus.IMPORTED, **values)
            )
            continue
        if any(getattr(cls, f) != values[f] for f in fields):
            for f in fields:
                setattr(cls, f, values[f])
            changed.append(cls)
    TrainingClass.objects.bulk_create(new, batch_size=1000)
    TrainingClass.objects.bulk_update(changed, fields, batch_size=1000)
    ctx.stats["classes.csv"] = {"rows": len(parsed), "created": len(new), "updated": len(changed)}


# --- lessons ------------------------------------------------------------------------------------


def _import_lessons(ctx: Context, rows: list[Row]) -> None:
    classes = _classes_by_code({r.values["class_code"] for r in rows})
    people = bulk.PersonIndex()
    people.load_column(rows, "teacher_id_number")
    parsed, seen = [], {}
    for row in rows:
        v = row.values
        before = len(ctx.errors)
        cls = _class_of(ctx, row, classes)
        day = _parse(ctx, row, "date", bulk.date_required)
        start = _parse(ctx, row, "start_time", bulk.time_hhmm)
        end = _parse(ctx, row, "end_time", bulk.time_hhmm)
        hours = _parse(ctx, row, "hours", bulk.decimal_value)
        if start and end and end <= start:
            ctx.bad(row.line, "end_time", "结束时间应晚于开始时间")
        if hours is not None and hours <= 0:
            ctx.bad(row.line, "hours", "课时应大于0")
        if v["mode"] not in Lesson.Mode.values:
            ctx.bad(row.line, "mode", "方式应为 OFFLINE 或 ONLINE")
        if cls and day and not cls.start_date <= day <= cls.end_date:
            ctx.bad(row.line, "date", f"课程日期{day}不在班期{cls.start_date}至{cls.end_date}内")
        teacher = None
        if v["teacher_id_number"]:
            number = _parse(ctx, row, "teacher_id_number", bulk.id_number)
            if number:
                teacher = people.get(number)
                if teacher is None:
                    ctx.bad(row.line, "teacher_id_number", "授课教师未登记（请在 teachers.csv 中登记）")
        key = (v["class_code"], v["date"], v["start_time"])
        if key in seen:
            ctx.bad(row.line, "start_time", f"与第{seen[key]}行重复（同一班级同一开始时间）")
        seen.setdefault(key, row.line)
        if len(ctx.errors) == before and cls:
            parsed.append((cls, day, start, dict(end_time=end, hours=hours, mode=v["mode"], teacher=teacher)))
    if ctx.errors:
        return
    existing = {
        (le.training_class_id, le.date, le.start_time): le
        for le in Lesson.objects.filter(training_class__in={p[0].id for p in parsed})
    }
    new, changed = [], []
    for cls, day, start, values in parsed:
        lesson = existing.get((cls.id, day, start))
        if lesson is None:
            new.append(Lesson(training_class=cls, date=day, start_time=start, **values))
        elif any(getattr(lesson, f) != values[f] for f in values):
            for f, value in values.items():
                setattr(lesson, f, value)
            changed.append(lesson)
    Lesson.objects.bulk_create(new, batch_size=2000)
    Lesson.objects.bulk_update(changed, ["end_time", "hours", "mode", "teacher"], batch_size=2000)
    ctx.stats["lessons.csv"] = {"rows": len(parsed), "created": len(new), "updated": len(changed)}


# --- enrollments --------------------------------------------------------------------------------


def _import_enrollments(ctx: Context, rows: list[Row]) -> None:
    classes = _classes_by_code({r.values["class_code"] for r in rows})
    people = bulk.PersonIndex()
    parsed, seen, names = [], {}, {}
    for row in rows:
        v = row.values
        before = len(ctx.errors)
        cls = _class_of(ctx, row, classes)
        number = _parse(ctx, row, "id_number", bulk.id_number)
        if not v["name"]:
            ctx.bad(row.line, "name", "姓名不能为空")
        if v["category"] not in Category.values:
            ctx.bad(row.line, "category", f"人员类别“{v['category']}”无效，应为 {'/'.join(Category.values)}")
        if number:
            key = (v["class_code"], number)
            if key in seen:
                ctx.bad(row.line, "id_number", f"与第{seen[key]}行重复（同一班级同一身份证号）")
            seen.setdefault(key, row.line)
            if names.setdefault(number, (v["name"], row.line))[0] != v["name"]:
                ctx.bad(row.line, "name", f"同一身份证号在第{names[number][1]}行的姓名为“{names[number][0]}”")
        if len(ctx.errors) == before and cls:
            parsed.append((row.line, cls, number, v))
    people.load({p[2] for p in parsed})
    for line, _cls, number, v in parsed:
        person = people.get(number)
        if person is not None and person.name != v["name"]:
            ctx.errors.append(
                RowError(ctx.file, line, "name", f"该身份证号已登记为“{person.name}”，与“{v['name']}”不一致")
            )
    if ctx.errors:
        return
    created_people = people.create_missing({number: v["name"] for _l, _c, number, v in parsed})
    existing = {
        (e.training_class_id, e.person_id): e
        for e in Enrollment.objects.filter(training_class__in={p[1].id for p in parsed})
    }
    new, changed, links = [], [], set()
    for _line, cls, number, v in parsed:
        person = people.get(number)
        links.add((person.id, cls.institution.organisation_id))
        enrollment = existing.get((cls.id, person.id))
        if enrollment is None:
            new.append(
                Enrollment(training_class=cls, person=person, phone=v["phone"], category=v["category"])
            )
        elif (enrollment.phone, enrollment.category) != (v["phone"], v["category"]):
            enrollment.phone, enrollment.category = v["phone"], v["category"]
            changed.append(enrollment)
    Enrollment.objects.bulk_create(new, batch_size=2000)
    Enrollment.objects.bulk_update(changed, ["phone", "category"], batch_size=2000)
    # Institutions see the people on their rosters (the scope helper follows affiliations).
    PersonAffiliation.objects.bulk_create(
        [
            PersonAffiliation(person_id=p, organisation_id=o, kind=PersonAffiliation.Kind.TRAINEE)
            for p, o in links
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    ctx.stats["enrollments.csv"] = {
        "rows": len(parsed),
        "created": len(new),
        "updated": len(changed),
        "people_created": created_people,
    }


def _enrolled(classes: list[TrainingClass], person_ids: set[int]) -> set[tuple[int, int]]:
    return set(
        Enrollment.objects.filter(
            training_class__in=[c.id for c in classes], person_id__in=person_ids
        ).values_list("training_class_id", "person_id")
    )


# --- attendance and online sessions (streamed, chunked) ----------------------------------------


def _streamed(ctx: Context, rows, parse_row, model, key_fields, compare_fields) -> None:
    """Validate and insert a large file chunk by chunk. Existing records with the same natural key
    must be identical; a differing one is refused (evidence is never overwritten)."""
    total = created = 0
    chunk: list[Row] = []

    def flush():
        nonlocal total, created
        classes = _classes_by_code({r.values["class_code"] for r in chunk})
        people = bulk.PersonIndex()
        people.load_column(chunk, "id_number")
        parsed = []
        for row in chunk:
            if row.errors:
                ctx.errors.extend(RowError(ctx.file, e.line, e.column, e.message) for e in row.errors)
                continue
            before = len(ctx.errors)
            cls = _class_of(ctx, row, classes)
            number = _parse(ctx, row, "id_number", bulk.id_number)
            person = people.get(number) if number else None
            if number and person is None:
                ctx.bad(row.line, "id_number", "该学员不在本班花名册中（请先导入 enrollments.csv）")
            values = parse_row(ctx, row)
            if len(ctx.errors) == before and cls and person:
                parsed.append((row.line, cls, person, values))
        if parsed:
            enrolled = _enrolled(list({p[1].id: p[1] for p in parsed}.values()), {p[2].id for p in parsed})
            for line, cls, person, _values in parsed:
                if (cls.id, person.id) not in enrolled:
                    ctx.errors.append(RowError(ctx.file, line, "id_number", "该学员不在本班花名册中"))
        if ctx.errors:
            chunk.clear()
            return
        first_key = key_fields[0]
        seen, batches = {}, {}
        for line, cls, person, values in parsed:
            key = (cls.id, person.id, values[first_key])
            if key in seen:
                ctx.errors.append(RowError(ctx.file, line, first_key, f"与第{seen[key]}行重复"))
                continue
            seen[key] = line
            group = (cls.id, values.get("platform_code", ""))
            batches.setdefault(group, (cls, []))[1].append((line, person, values))
        if ctx.errors:
            chunk.clear()
            return
        # Records are evidence: they are appended through the attendance services (hash-chained,
        # idempotent), never written here. One batch per class (and platform for online sessions).
        for (_class_id, platform_code), (cls, rows_of_class) in batches.items():
            result = _append(model, cls, platform_code, rows_of_class, ctx.actor)
            for error in result.errors:
                line = rows_of_class[error.index][0]
                if error.code == "conflict":
                    message = "与已导入的记录不一致：考勤和学习记录不能通过导入修改（第二十条），请走更正流程"
                    ctx.errors.append(RowError(ctx.file, line, first_key, message))
                else:
                    column = (
                        error.field
                        if error.field in compare_fields or error.field == first_key
                        else "id_number"
                    )
                    ctx.errors.append(RowError(ctx.file, line, column, error.message))
            created += result.created
        total += len(parsed)
        chunk.clear()
        if ctx.progress:
            ctx.progress(f"{ctx.file}：已处理 {total} 行")

    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    ctx.stats[ctx.file] = {"rows": total, "created": created}


def _append(model, cls, platform_code, rows, actor):
    """Append one class's rows of the file through the attendance batch service (source IMPORT)."""
    if model is AttendanceRecord:
        items = [AttendanceItem(person=person, **values) for _line, person, values in rows]
        return attendance_append_batch(training_class=cls, items=items, source=Source.IMPORT, actor=actor)
    items = [
        OnlineItem(person=person, **{k: v for k, v in values.items() if k != "platform_code"})
        for _line, person, values in rows
    ]
    return online_sessions_append_batch(
        training_class=cls, items=items, source=Source.IMPORT, actor=actor, platform_code=platform_code
    )


def _attendance_values(ctx: Context, row: Row) -> dict:
    v = row.values
    check_in = _parse(ctx, row, "check_in", bulk.local_datetime)
    check_out = _parse(ctx, row, "check_out", lambda x: bulk.local_datetime(x, required=False))
    if check_in and check_out and check_out < check_in:
        ctx.bad(row.line, "check_out", "签退时间早于签到时间")
    if v["method"] not in AttendanceRecord.Method.values:
        ctx.bad(row.line, "method", "方式应为 FACE / FINGERPRINT / CARD / MANUAL")
    photo = v["photo_sha256"].lower()
    if photo and (len(photo) != 64 or any(c not in "0123456789abcdef" for c in photo)):
        ctx.bad(row.line, "photo_sha256", "照片哈希应为64位十六进制")
    lat = _parse(ctx, row, "lat", bulk.float_or_none, -90, 90, "纬度")
    lon = _parse(ctx, row, "lon", bulk.float_or_none, -180, 180, "经度")
    return dict(
        check_in=check_in, check_out=check_out, method=v["method"], photo_sha256=photo, lat=lat, lon=lon
    )


def _online_values(ctx: Context, row: Row) -> dict:
    v = row.values
    start = _parse(ctx, row, "start_at", bulk.local_datetime)
    end = _parse(ctx, row, "end_at", bulk.local_datetime)
    if start and end and end <= start:
        ctx.bad(row.line, "end_at", "结束时间应晚于开始时间")
    if not v["platform_code"]:
        ctx.bad(row.line, "platform_code", "平台编码不能为空")
    passed = _parse(ctx, row, "face_checks_passed", lambda x: bulk.int_value(x or "0"))
    failed = _parse(ctx, row, "face_checks_failed", lambda x: bulk.int_value(x or "0"))
    ip = _parse(ctx, row, "ip", bulk.ip_or_none)
    return dict(
        start_at=start,
        end_at=end,
        platform_code=v["platform_code"],
        ip=ip,
        face_checks_passed=passed,
        face_checks_failed=failed,
    )


# --- exams ----------------------------------------------------------------------------------------


def _import_exams(ctx: Context, rows: list[Row]) -> None:
    classes = _classes_by_code({r.values["class_code"] for r in rows})
    people = bulk.PersonIndex()
    people.load_column(rows, "id_number")
    parsed, seen = [], {}
    for row in rows:
        v = row.values
        before = len(ctx.errors)
        cls = _class_of(ctx, row, classes)
        number = _parse(ctx, row, "id_number", bulk.id_number)
        person = people.get(number) if number else None
        if number and person is None:
            ctx.bad(row.line, "id_number", "该学员不在本班花名册中")
        exam_date = _parse(ctx, row, "exam_date", bulk.date_required)
        score = _parse(ctx, row, "score", lambda x: bulk.decimal_value(x, minimum=0) if x else None)
        passed = _parse(ctx, row, "passed", bulk.yes_no)
        if v["certificate_type"] and v["certificate_type"] not in ExamResult.CertificateType.values:
            ctx.bad(row.line, "certificate_type", "证书类型无效")
        if number:
            key = (v["class_code"], number)
            if key in seen:
                ctx.bad(row.line, "id_number", f"与第{seen[key]}行重复")
            seen.setdefault(key, row.line)
        if len(ctx.errors) == before and cls and person:
            parsed.append(
                (
                    row.line,
                    cls,
                    person,
                    dict(
                        exam_date=exam_date,
                        score=score,
                        passed=passed,
                        certificate_type=v["certificate_type"],
                        certificate_no=v["certificate_no"],
                    ),
                )
            )
    if parsed:
        enrolled = _enrolled(list({p[1].id: p[1] for p in parsed}.values()), {p[2].id for p in parsed})
        for line, cls, person, _v in parsed:
            if (cls.id, person.id) not in enrolled:
                ctx.errors.append(RowError(ctx.file, line, "id_number", "该学员不在本班花名册中"))
    if ctx.errors:
        return
    existing = {
        (e.training_class_id, e.person_id): e
        for e in ExamResult.objects.filter(training_class__in={p[1].id for p in parsed})
    }
    new, changed = [], []
    for _line, cls, person, values in parsed:
        exam = existing.get((cls.id, person.id))
        if exam is None:
            new.append(ExamResult(training_class=cls, person=person, **values))
        elif any(getattr(exam, f) != values[f] for f in values):
            for f, value in values.items():
                setattr(exam, f, value)
            changed.append(exam)
    ExamResult.objects.bulk_create(new, batch_size=2000)
    ExamResult.objects.bulk_update(changed, list(EXAM_COLUMNS[2:]), batch_size=2000)
    ctx.stats["exams.csv"] = {"rows": len(parsed), "created": len(new), "updated": len(changed)}


# --- the package ----------------------------------------------------------------------------------


def _service_file(service):
    def run(ctx: Context, table) -> None:
        try:
            ctx.stats[ctx.file] = service(table=table, actor=ctx.actor)
        except ImportFailed as exc:
            ctx.errors.extend(exc.errors)

    return run


def _table_file(handler):
    def run(ctx: Context, table) -> None:
        handler(ctx, table.rows)

    return run


PACKAGE_FILES: list[tuple[str, tuple[str, ...], Callable, bool]] = [
    # (file, columns, handler, streamed)
    ("institutions.csv", INSTITUTION_COLUMNS, _service_file(import_institutions), False),
    ("teachers.csv", TEACHER_COLUMNS, _service_file(import_teachers), False),
    ("classes.csv", CLASS_COLUMNS, _table_file(_import_classes), False),
    ("lessons.csv", LESSON_COLUMNS, _table_file(_import_lessons), False),
    ("enrollments.csv", ENROLLMENT_COLUMNS, _table_file(_import_enrollments), False),
    ("attendance.csv", ATTENDANCE_COLUMNS, None, True),
    ("online_sessions.csv", ONLINE_COLUMNS, None, True),
    ("exams.csv", EXAM_COLUMNS, _table_file(_import_exams), False),
]
STREAMED = {
    "attendance.csv": (
        _attendance_values,
        AttendanceRecord,
        ("check_in",),
        ("check_out", "method", "photo_sha256", "lat", "lon"),
    ),
    "online_sessions.csv": (
        _online_values,
        OnlineSession,
        ("start_at",),
        ("end_at", "platform_code", "ip", "face_checks_passed", "face_checks_failed"),
    ),
}


@dataclass(frozen=True)
class PackageResult:
    files: dict[str, dict]


def _find(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / name.replace(".csv", ".xlsx")):
        if candidate.exists():
            return candidate
    return None


def import_package(
    *, directory: Path, actor, progress: Callable[[int, int, str], None] | None = None
) -> PackageResult:
    """`progress(done, total, message)` is told each file as it starts (done/total in files) and,
    for the large streamed files, every chunk of rows."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ImportFailed([RowError(str(directory), 0, "目录", "数据包目录不存在")])
    present = [
        (name, cols, handler, streamed, path)
        for name, cols, handler, streamed in PACKAGE_FILES
        if (path := _find(directory, name)) is not None
    ]
    if not present:
        names = "、".join(n for n, *_ in PACKAGE_FILES)
        raise ImportFailed([RowError(str(directory), 0, "目录", f"目录中没有数据包文件（{names}）")])
    ctx = Context(actor=actor)
    with transaction.atomic():
        for index, (name, columns, handler, streamed, path) in enumerate(present):
            ctx.file = path.name
            if progress:
                progress(index, len(present), f"正在校验并导入 {path.name} …")
                ctx.progress = lambda message, i=index: progress(i, len(present), message)
            try:
                if streamed and path.suffix == ".csv":
                    parse_row, model, keys, compare = STREAMED[name]
                    _streamed(ctx, iter_csv(path, required=columns), parse_row, model, keys, compare)
                else:
                    table = read_table(path, filename=path.name, required=columns)
                    if streamed:
                        parse_row, model, keys, compare = STREAMED[name]
                        _streamed(ctx, iter(table.rows), parse_row, model, keys, compare)
                    else:
                        handler(ctx, table)
            except ImportFailed as exc:
                ctx.errors.extend(exc.errors)
        if ctx.errors:
            raise ImportFailed(ctx.errors)
        audit_record(
            actor=actor,
            action="package.imported",
            object_type="exchange.Package",
            object_repr=directory.name,
            after={"directory": str(directory), "files": ctx.stats},
        )
    return PackageResult(files=ctx.stats)
