"""The class lifecycle (第八-十一条): one function per business action, used by pages, API and
importers alike. Each move locks the class, looks itself up in `workflow.MOVES`, checks its guard,
changes the status with `update_fields`, writes the audit chain and tells the next person."""

import datetime as dt
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.urls import reverse
from django.utils import timezone

from peixun.accounts.roles import Role
from peixun.accounts.services import person_register
from peixun.attendance.services import class_hours, counting_rules
from peixun.catalog.services import catalog_lookup
from peixun.checks.catalog import RULES
from peixun.checks.run import crosscheck_run
from peixun.checks.services import open_blocking_findings
from peixun.core.audit import audit_record
from peixun.core.bulk import id_number as parse_id
from peixun.core.errors import PeixunError, PermissionDeniedError, TransitionError
from peixun.core.identity import id_lookup_hash, mask_id_number
from peixun.core.services import current_rule_settings
from peixun.core.tabular import ImportFailed, RowError, Table
from peixun.core.workdays import clock_due, clock_used
from peixun.inbox.services import notify, officials_over, users_of_organisation
from peixun.institutions.models import Institution, Teacher
from peixun.institutions.services import institution_check_may_open_class
from peixun.intake.models import Platform

from .models import (
    Category,
    ChangeRequest,
    ClassDocument,
    ClassStatus,
    ClassTeacher,
    Deficiency,
    Enrollment,
    ExamResult,
    Lesson,
    Review,
    ReviewRound,
    TeachingModule,
    TrainingClass,
)
from .workflow import EDITABLE, EXAM_ENTRY, IN_TRAINING, MOVES_BY_NAME, Actor, acts_as

CLASS_FIELDS = (
    "occupation_code",
    "occupation_name",
    "level",
    "training_type",
    "start_date",
    "end_date",
    "total_hours",
    "online_hours",
    "site_address",
    "site_lat",
    "site_lon",
    "planned_size",
    "teaching_resources",
    "assessment_plan",
)

REVIEW_ROLES = (Role.REVIEWER,)
ESCALATION_ROLES = (Role.CITY_ADMIN,)


def _class_url(training_class: TrainingClass) -> str:
    return reverse("training:detail", args=[training_class.pk])


def _require_institution(actor, training_class: TrainingClass) -> None:
    if not acts_as(actor, training_class, Actor.INSTITUTION):
        raise PermissionDeniedError("只有本班培训机构的经办人可以办理")


def _require_reviewer(actor, training_class: TrainingClass) -> None:
    if not acts_as(actor, training_class, Actor.REVIEWER):
        raise PermissionDeniedError("您无权审核该培训班")


def _require_editable(training_class: TrainingClass) -> None:
    if training_class.status not in EDITABLE:
        raise TransitionError(
            f"培训班当前状态为“{training_class.get_status_display()}”，申请材料已提交，不能直接修改；"
            "开班后的变更请提交变更申请"
        )


@contextmanager
def _preparing(training_class: TrainingClass, actor):
    """The institution changes its application: one transaction, the class locked, the actor its
    institution, the application still a draft or returned for correction."""
    with transaction.atomic():
        locked = _lock(training_class)
        _require_institution(actor, locked)
        _require_editable(locked)
        yield locked


def _lock(training_class: TrainingClass) -> TrainingClass:
    return (
        TrainingClass.objects.select_for_update()
        .select_related("institution", "area")
        .get(pk=training_class.pk)
    )


# --- preparing the application (开班申请, 第八条) -------------------------------------------------------


def _next_code(area_code: str, year: int) -> str:
    prefix = f"{area_code}{year}"
    last = (
        TrainingClass.objects.filter(code__startswith=prefix, source=TrainingClass.Source.SYSTEM)
        .aggregate(m=Max("code"))
        .get("m")
    )
    number = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{number:04d}"


def class_create(*, institution: Institution, actor, **fields) -> TrainingClass:
    """A new draft class. The code is the area, the year and a serial (150102 2026 0001)."""
    if actor is not None and (actor.organisation_id != institution.organisation_id):
        raise PermissionDeniedError("只能为本机构申请开班")
    unknown = set(fields) - set(CLASS_FIELDS) - {"area"}
    if unknown:
        raise PeixunError(f"未知字段：{', '.join(sorted(unknown))}")
    area = fields.pop("area", None) or institution.area
    _check_class_fields(fields)
    for attempt in range(5):
        try:
            with transaction.atomic():
                training_class = TrainingClass.objects.create(
                    code=_next_code(area.code, fields["start_date"].year),
                    institution=institution,
                    area=area,
                    status=ClassStatus.DRAFT,
                    source=TrainingClass.Source.SYSTEM,
                    **fields,
                )
                audit_record(
                    actor=actor,
                    action="class.created",
                    obj=training_class,
                    area=area,
                    organisation=institution.organisation,
                    after={
                        f: fields.get(f) for f in ("occupation_code", "level", "start_date", "total_hours")
                    },
                )
                return training_class
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _check_class_fields(fields: dict) -> None:
    start, end = fields.get("start_date"), fields.get("end_date")
    if start and end and end < start:
        raise PeixunError("结业日期不能早于开班日期")
    total = fields.get("total_hours")
    if total is not None and Decimal(total) <= 0:
        raise PeixunError("总课时须大于0")
    online = fields.get("online_hours")
    if online is not None and total is not None and Decimal(online) > Decimal(total):
        raise PeixunError("线上课时不能超过总课时")


def class_update(*, training_class: TrainingClass, actor, **fields) -> TrainingClass:
    unknown = set(fields) - set(CLASS_FIELDS)
    if unknown:
        raise PeixunError(f"未知字段：{', '.join(sorted(unknown))}")
    with _preparing(training_class, actor) as locked:
        merged = {f: fields.get(f, getattr(locked, f)) for f in CLASS_FIELDS}
        _check_class_fields(merged)
        before = {f: getattr(locked, f) for f in fields}
        for f, v in fields.items():
            setattr(locked, f, v)
        locked.save(update_fields=[*fields, "updated_at"])
        audit_record(
            actor=actor, action="class.updated", obj=locked, area=locked.area, before=before, after=fields
        )
    return locked


def roster_add(
    *, training_class: TrainingClass, actor, id_number: str, name: str, category: str, phone: str = ""
) -> Enrollment:
    """Put a trainee on the roster of a class being prepared; the ID number is validated (GB 11643)."""
    if category not in Category.values:
        raise PeixunError("请选择人员类别")
    with _preparing(training_class, actor) as locked:
        return _enroll(locked, actor, id_number=id_number, name=name, category=category, phone=phone)


def _enroll(training_class, actor, *, id_number, name, category, phone) -> Enrollment:
    person, _created = person_register(
        id_number=id_number,
        name=name,
        actor=actor,
        organisation=training_class.institution.organisation,
        phone=phone,
    )
    existing = Enrollment.objects.filter(training_class=training_class, person=person).first()
    if existing is not None and existing.removed_at is None:
        raise PeixunError(f"{person.name}（{person.id_masked}）已在花名册中")
    if existing is not None:
        existing.removed_at, existing.removed_reason, existing.category = None, "", category
        existing.save(update_fields=["removed_at", "removed_reason", "category"])
        enrollment = existing
    else:
        enrollment = Enrollment.objects.create(
            training_class=training_class, person=person, category=category, phone=phone
        )
    audit_record(
        actor=actor,
        action="class.roster.added",
        obj=training_class,
        area=training_class.area,
        after={"person": person.id_masked, "category": category},
    )
    return enrollment


def roster_remove(*, enrollment: Enrollment, actor, reason: str = "") -> None:
    """Before submission a roster row is simply taken off; afterwards only by change request."""
    with _preparing(enrollment.training_class, actor) as locked:
        audit_record(
            actor=actor,
            action="class.roster.removed",
            obj=locked,
            area=locked.area,
            before={"person": enrollment.person.id_masked},
        )
        enrollment.delete()


ROSTER_COLUMNS = ("id_number", "name", "category")
CATEGORY_BY_LABEL = {str(label): value for value, label in Category.choices}
ROSTER_OPTIONAL = ("class_code", "phone")


def roster_import(*, training_class: TrainingClass, table: Table, actor) -> dict:
    """花名册 upload in the `enrollments.csv` columns (contract.md), CSV or Excel: all or nothing,
    every bad row reported with its line."""
    errors: list[RowError] = []
    parsed, seen = [], {}
    existing = set(
        Enrollment.objects.filter(training_class=training_class, removed_at__isnull=True).values_list(
            "person__id_hmac", flat=True
        )
    )
    for row in table.rows:
        v = row.values

        def bad(column, message, line=row.line):
            errors.append(RowError(table.file, line, column, message))

        code = v.get("class_code", "")
        if code and code != training_class.code:
            bad("class_code", f"班级编号“{code}”不是本班（{training_class.code}）")
        try:
            number = parse_id(v["id_number"])
        except ValueError as exc:
            bad("id_number", str(exc))
            continue
        if not v["name"]:
            bad("name", "姓名不能为空")
        # Clerks type the Chinese name (城镇登记失业人员) as often as the contract's code.
        v["category"] = CATEGORY_BY_LABEL.get(v["category"], v["category"])
        if v["category"] not in Category.values:
            bad("category", f"人员类别“{v['category']}”无效，应为{'/'.join(Category.values)}之一或其中文名称")
        if number in seen:
            bad("id_number", f"与第{seen[number]}行重复")
        seen.setdefault(number, row.line)
        if id_lookup_hash(number) in existing:
            bad("id_number", "此人已在花名册中")
        parsed.append((row.line, number, v))
    if errors:
        raise ImportFailed(errors)
    with _preparing(training_class, actor) as locked:
        for line, number, v in parsed:
            try:
                _enroll(
                    locked,
                    actor,
                    id_number=number,
                    name=v["name"],
                    category=v["category"],
                    phone=v.get("phone", ""),
                )
            except PeixunError as exc:
                raise ImportFailed([RowError(table.file, line, "id_number", exc.message)]) from exc
    return {"rows": len(parsed)}


def lesson_add(
    *,
    training_class: TrainingClass,
    actor,
    date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    hours: Decimal,
    mode: str,
    teacher: Teacher | None = None,
) -> Lesson:
    if end_time <= start_time:
        raise PeixunError("结束时间须晚于开始时间")
    if Decimal(hours) <= 0:
        raise PeixunError("课时须大于0")
    with _preparing(training_class, actor) as locked:
        if Lesson.objects.filter(training_class=locked, date=date, start_time=start_time).exists():
            raise PeixunError(f"{date} {start_time:%H:%M} 已有课程")
        lesson = Lesson.objects.create(
            training_class=locked,
            date=date,
            start_time=start_time,
            end_time=end_time,
            hours=hours,
            mode=mode,
            teacher=teacher.person if teacher else None,
        )
        if teacher is not None:
            ClassTeacher.objects.get_or_create(training_class=locked, teacher=teacher)
        audit_record(
            actor=actor,
            action="class.lesson.added",
            obj=locked,
            area=locked.area,
            after={"date": date, "start": start_time, "end": end_time, "hours": hours, "mode": mode},
        )
    return lesson


def lesson_delete(*, lesson: Lesson, actor) -> None:
    with _preparing(lesson.training_class, actor) as locked:
        audit_record(
            actor=actor,
            action="class.lesson.deleted",
            obj=locked,
            area=locked.area,
            before={"date": lesson.date, "start": lesson.start_time, "hours": lesson.hours},
        )
        lesson.delete()


def module_add(
    *,
    training_class: TrainingClass,
    actor,
    name: str,
    hours: Decimal,
    mode: str,
    platform: Platform | None = None,
    content: str = "",
) -> TeachingModule:
    if not name.strip():
        raise PeixunError("请填写模块名称")
    if Decimal(hours) <= 0:
        raise PeixunError("课时须大于0")
    if mode == Lesson.Mode.ONLINE and platform is None:
        raise PeixunError("线上模块须选择已备案的线上培训平台（第十八条）")
    with _preparing(training_class, actor) as locked:
        order = (locked.modules.aggregate(m=Max("order"))["m"] or 0) + 1
        module = TeachingModule.objects.create(
            training_class=locked,
            order=order,
            name=name.strip(),
            hours=hours,
            mode=mode,
            platform=platform if mode == Lesson.Mode.ONLINE else None,
            content=content,
        )
        audit_record(
            actor=actor,
            action="class.module.added",
            obj=locked,
            area=locked.area,
            after={"name": name, "hours": hours, "mode": mode},
        )
    return module


def module_delete(*, module: TeachingModule, actor) -> None:
    with _preparing(module.training_class, actor) as locked:
        audit_record(
            actor=actor,
            action="class.module.deleted",
            obj=locked,
            area=locked.area,
            before={"name": module.name},
        )
        module.delete()


def teacher_engage(
    *, training_class: TrainingClass, actor, teacher: Teacher, subject: str = ""
) -> ClassTeacher:
    with _preparing(training_class, actor) as locked:
        if not _teacher_available(locked, teacher):
            raise PeixunError("只能聘用本机构的教师或本盟市共享师资库中的教师")
        engaged, _created = ClassTeacher.objects.get_or_create(
            training_class=locked, teacher=teacher, defaults={"subject": subject}
        )
        audit_record(
            actor=actor,
            action="class.teacher.engaged",
            obj=locked,
            area=locked.area,
            after={"teacher": teacher.person.name, "subject": subject},
        )
    return engaged


def _teacher_available(training_class: TrainingClass, teacher: Teacher) -> bool:
    if teacher.institution_id == training_class.institution_id:
        return True
    return (
        teacher.shared_pool_area_id is not None
        and teacher.shared_pool_area_id == training_class.area.city_level().id
    )


def document_upload(*, training_class: TrainingClass, actor, kind: str, title: str, upload) -> ClassDocument:
    """A file for the archive (第二十三条). Undertakings and plans only while preparing; photos and
    completion material also during training."""
    if kind not in ClassDocument.Kind.values:
        raise PeixunError("请选择材料类别")
    if getattr(upload, "size", 0) and upload.size > 20 * 1024 * 1024:
        raise PeixunError("文件不能超过20MB")
    content = upload.read()
    if not content:
        raise PeixunError("文件为空")
    if len(content) > 20 * 1024 * 1024:
        raise PeixunError("文件不能超过20MB")
    with transaction.atomic():
        locked = _lock(training_class)
        _require_institution(actor, locked)
        opening_kinds = {
            ClassDocument.Kind.INSTITUTION_UNDERTAKING,
            ClassDocument.Kind.TRAINEE_UNDERTAKING,
            ClassDocument.Kind.TEACHING_RESOURCES,
            ClassDocument.Kind.ASSESSMENT_PLAN,
        }
        if kind in opening_kinds:
            _require_editable(locked)
        elif locked.status in (ClassStatus.COMPLETED, ClassStatus.WITHDRAWN, ClassStatus.OPENING_REJECTED):
            raise TransitionError(f"培训班已{locked.get_status_display()}，不能再上传材料")
        name = getattr(upload, "name", "file")
        document = ClassDocument(
            training_class=locked,
            kind=kind,
            title=(title or name)[:200],
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            uploaded_by=actor,
        )
        document.file.save(name.rsplit("/", 1)[-1][-80:], ContentFile(content), save=False)
        document.save()
        audit_record(
            actor=actor,
            action="class.document.uploaded",
            obj=locked,
            area=locked.area,
            after={"kind": kind, "title": document.title, "sha256": document.sha256},
        )
    return document


# --- the checks before submission -------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    label: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _hours(value) -> str:
    return f"{Decimal(value).normalize():f}"


def opening_checks(training_class: TrainingClass, *, run_rules: bool = True) -> list[Check]:
    """Everything peixun can check itself before an opening application goes to the reviewer
    (第八条), each with its Chinese problems. The reviewer sees the same list."""
    c = training_class
    settings = current_rule_settings()
    checks: list[Check] = []

    basics = []
    # Judged on the day of submission: once submitted, the reviewer sees the check as it was then.
    opening = None if c.status in EDITABLE else c.reviews.filter(stage=Review.Stage.OPENING).first()
    as_of = opening.submitted_on if opening else timezone.localdate()
    if c.start_date <= as_of:
        basics.append(f"开班日期{c.start_date}须晚于提交申请之日（第八条：开展培训前提出申请）")
    if not c.site_address:
        basics.append("未填写培训地点")
    if (
        not c.teaching_resources.strip()
        and not c.documents.filter(kind=ClassDocument.Kind.TEACHING_RESOURCES).exists()
    ):
        basics.append("未填写或上传教学资源")
    if (
        not c.assessment_plan.strip()
        and not c.documents.filter(kind=ClassDocument.Kind.ASSESSMENT_PLAN).exists()
    ):
        basics.append("未填写或上传考核方案")
    checks.append(Check("班级基本信息、教学资源和考核方案", tuple(basics)))

    catalog = []
    match = catalog_lookup(
        occupation_code=c.occupation_code,
        level=c.level,
        training_type=c.training_type,
        area=c.area,
        on_date=c.start_date,
    )
    if match is None:
        catalog.append(
            f"职业（工种）{c.occupation_code} {c.occupation_name}（{c.get_level_display()}、{c.get_training_type_display()}）"
            f"不在{c.start_date}有效的补贴目录中（第七条）"
        )
    elif Decimal(c.total_hours) < match.entry.min_hours:
        catalog.append(
            f"总课时{_hours(c.total_hours)}少于补贴目录规定的最低课时{match.entry.min_hours}（{match.catalog.title}）"
        )
    try:
        institution_check_may_open_class(
            institution=c.institution, start_date=c.start_date, occupation_code=c.occupation_code
        )
    except PeixunError as exc:
        catalog.extend(exc.message.split("；"))
    checks.append(Check("补贴目录、机构目录和办学许可范围", tuple(catalog)))

    lessons = list(c.lessons.all())
    modules = list(c.modules.select_related("platform"))
    plan = []
    total, online = Decimal(c.total_hours), Decimal(c.online_hours)
    lesson_total = sum((lesson.hours for lesson in lessons), Decimal(0))
    lesson_online = sum((lesson.hours for lesson in lessons if lesson.mode == Lesson.Mode.ONLINE), Decimal(0))
    module_total = sum((m.hours for m in modules), Decimal(0))
    module_online = sum((m.hours for m in modules if m.mode == Lesson.Mode.ONLINE), Decimal(0))
    if not modules:
        plan.append("未填写教学计划")
    elif module_total != total:
        plan.append(f"教学计划各模块课时合计{_hours(module_total)}，与总课时{_hours(total)}不一致")
    if modules and module_online != online:
        plan.append(f"教学计划线上模块课时合计{_hours(module_online)}，与线上课时{_hours(online)}不一致")
    if not lessons:
        plan.append("未填写课程表")
    elif lesson_total != total:
        plan.append(f"课程表课时合计{_hours(lesson_total)}，与总课时{_hours(total)}不一致")
    if lessons and lesson_online != online:
        plan.append(f"课程表线上课时合计{_hours(lesson_online)}，与线上课时{_hours(online)}不一致")
    limit = (total * settings.online_max_share).quantize(Decimal("0.1"))
    if online > total * settings.online_max_share:
        plan.append(
            f"线上课时{_hours(online)}超过总课时的{settings.online_max_share:.0%}（上限{_hours(limit)}课时，第十九条）"
        )
    for lesson in lessons:
        if not (c.start_date <= lesson.date <= c.end_date):
            plan.append(f"{lesson.date}的课程不在班期{c.start_date}至{c.end_date}内")
        minutes = (
            dt.datetime.combine(lesson.date, lesson.end_time)
            - dt.datetime.combine(lesson.date, lesson.start_time)
        ).total_seconds() / 60
        if lesson.hours * settings.minutes_per_class_hour > Decimal(str(minutes)):
            plan.append(
                f"{lesson.date} {lesson.start_time:%H:%M}-{lesson.end_time:%H:%M}的课程排了{_hours(lesson.hours)}课时，"
                f"超过该时段可容纳的课时（每课时{settings.minutes_per_class_hour}分钟）"
            )
    for m in modules:
        if m.mode == Lesson.Mode.ONLINE and (
            m.platform is None or m.platform.status != Platform.Status.APPROVED
        ):
            plan.append(f"线上模块“{m.name}”使用的平台未经备案或已暂停（第十八条）")
    checks.append(Check("教学计划、课程表和线上学时", tuple(plan)))

    teachers = []
    engaged = list(c.class_teachers.select_related("teacher__person", "teacher__institution"))
    if not engaged:
        teachers.append("未配备授课教师")
    engaged_people = {e.teacher.person_id for e in engaged}
    for e in engaged:
        t = e.teacher
        if not t.active:
            teachers.append(f"教师{t.person.name}已不在岗")
        if not t.qualification.strip():
            teachers.append(f"教师{t.person.name}未登记任教资格")
        if t.occupations.exists() and not t.occupations.filter(code=c.occupation_code).exists():
            teachers.append(f"教师{t.person.name}的可授课职业不含{c.occupation_name}")
        if not _teacher_available(c, t):
            teachers.append(f"教师{t.person.name}既不属于本机构，也不在本盟市共享师资库")
    for lesson in lessons:
        if lesson.mode == Lesson.Mode.OFFLINE and lesson.teacher_id is None:
            teachers.append(f"{lesson.date} {lesson.start_time:%H:%M}的线下课程未指定授课教师")
        elif lesson.teacher_id and lesson.teacher_id not in engaged_people:
            teachers.append(f"{lesson.date} {lesson.start_time:%H:%M}的授课教师不在本班师资名单中")
    checks.append(Check("授课师资", tuple(dict.fromkeys(teachers))))

    roster = []
    active = c.enrollments.filter(removed_at__isnull=True).count()
    if active == 0:
        roster.append("花名册为空")
    if c.planned_size and active > c.planned_size:
        roster.append(f"花名册{active}人，超过计划人数{c.planned_size}人")
    if not c.documents.filter(kind=ClassDocument.Kind.INSTITUTION_UNDERTAKING).exists():
        roster.append("未上传机构承诺书")
    if active and not c.documents.filter(kind=ClassDocument.Kind.TRAINEE_UNDERTAKING).exists():
        roster.append("未上传学员承诺书")
    checks.append(Check("花名册和承诺书", tuple(roster)))

    checks.append(Check("问题线索（阻断性）", tuple(_blocking_problems(c, run_rules=run_rules))))
    return checks


def _blocking_problems(training_class: TrainingClass, *, run_rules: bool) -> list[str]:
    """Run the rule catalog on this class (the interactive path) and list its open BLOCK findings."""
    if run_rules:
        crosscheck_run(class_ids=[training_class.pk])
    found = open_blocking_findings(training_class).select_related("person").order_by("rule_code", "id")
    return [
        f"{RULES[f.rule_code].title}（{f.rule_code}"
        + (f"，{f.person.name} {f.person.id_masked}" if f.person_id else "")
        + f"）：{f.evidence}"
        for f in found
    ]


def all_problems(checks: list[Check]) -> list[str]:
    return [p for check in checks for p in check.problems]


# --- moves -------------------------------------------------------------------------------------------


def _move(locked: TrainingClass, name: str, actor) -> str:
    move = MOVES_BY_NAME[name]
    if move.actor == Actor.INSTITUTION:
        _require_institution(actor, locked)
    else:
        _require_reviewer(actor, locked)
    if locked.status not in move.source:
        raise TransitionError(f"培训班当前状态为“{locked.get_status_display()}”，不能“{move.label}”")
    before = locked.status
    locked.status = move.target
    locked.save(update_fields=["status", "updated_at"])
    return before


def _open_review(locked: TrainingClass, stage: str, actor, now) -> Review:
    """Start or restart the clock of the class's review case for this stage."""
    settings = current_rule_settings()
    limit = (
        settings.opening_review_workdays
        if stage == Review.Stage.OPENING
        else settings.completion_review_workdays
    )
    today = timezone.localdate(now)
    review = (
        Review.objects.select_for_update()
        .filter(training_class=locked, stage=stage, state=Review.State.RETURNED)
        .first()
    )
    if review is None:
        review = Review.objects.create(
            training_class=locked,
            stage=stage,
            limit_workdays=limit,
            first_submitted_at=now,
            submitted_on=today,
            due_date=clock_due(today, limit),
        )
    else:
        review.state = Review.State.PENDING
        review.submitted_on = today
        review.due_date = clock_due(today, review.limit_workdays, review.workdays_used)
        review.save(update_fields=["state", "submitted_on", "due_date"])
    number = review.rounds.count() + 1
    ReviewRound.objects.create(review=review, number=number, submitted_at=now, submitted_by=actor)
    return review


def _submit(training_class: TrainingClass, actor, move: str, stage: str, problems_of) -> Review:
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(training_class)
        _require_institution(actor, locked)
        problems = problems_of(locked)
        if problems:
            raise TransitionError("尚有以下问题，不能提交：" + "；".join(problems))
        before = _move(locked, move, actor)
        review = _open_review(locked, stage, actor, now)
        audit_record(
            actor=actor,
            action=f"class.{move}",
            obj=locked,
            area=locked.area,
            organisation=locked.institution.organisation,
            before={"status": before},
            after={"status": locked.status, "due_date": review.due_date},
        )
        notify(
            officials_over(locked.area, REVIEW_ROLES),
            title=f"{locked.code} {locked.occupation_name}：{MOVES_BY_NAME[move].label}，请于{review.due_date}前审核",
            url=_class_url(locked),
        )
    training_class.status = locked.status
    return review


def opening_submit(*, training_class: TrainingClass, actor) -> Review:
    """提交开班申请 (first time or after correction). Refused with every problem the checks found."""
    move = "resubmit" if training_class.status == ClassStatus.OPENING_RETURNED else "submit"
    _check_rules_first(training_class, actor)
    return _submit(
        training_class,
        actor,
        move,
        Review.Stage.OPENING,
        lambda c: all_problems(opening_checks(c, run_rules=False)),
    )


def _check_rules_first(training_class: TrainingClass, actor) -> None:
    """Run the rule catalog for the class in its own transaction before the submission's: the
    findings must stay stored (for the 问题线索 page) even when the submission is then refused."""
    _require_institution(actor, training_class)
    crosscheck_run(class_ids=[training_class.pk])


def class_withdraw(*, training_class: TrainingClass, actor, reason: str = "") -> None:
    with transaction.atomic():
        locked = _lock(training_class)
        before = _move(locked, "withdraw", actor)
        Review.objects.filter(training_class=locked, state=Review.State.RETURNED).update(
            state=Review.State.WITHDRAWN
        )
        audit_record(
            actor=actor,
            action="class.withdraw",
            obj=locked,
            area=locked.area,
            before={"status": before},
            after={"status": locked.status, "reason": reason},
        )
    training_class.status = locked.status


def current_review(training_class: TrainingClass, stage: str | None = None) -> Review | None:
    qs = training_class.reviews.all()
    if stage:
        qs = qs.filter(stage=stage)
    return qs.order_by("-first_submitted_at", "-id").first()


def _pending_review(locked: TrainingClass, stage: str) -> Review:
    review = (
        Review.objects.select_for_update()
        .filter(training_class=locked, stage=stage, state=Review.State.PENDING)
        .first()
    )
    if review is None:
        raise TransitionError("该培训班没有待审核的申请")
    return review


def _stage_of(status: str) -> str:
    return Review.Stage.COMPLETION if status.startswith("COMPLETION") else Review.Stage.OPENING


def review_return(*, training_class: TrainingClass, actor, deficiencies: list[str]) -> ReviewRound:
    """退回补正, 一次性告知: every deficiency at once — what the system found plus what the reviewer
    adds. The clock stops; the working days used are kept for the resubmission."""
    reviewer_items = [d.strip() for d in deficiencies if d and d.strip()]
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(training_class)
        stage = _stage_of(locked.status)
        move = "return_opening" if stage == Review.Stage.OPENING else "return_completion"
        _require_reviewer(actor, locked)
        review = _pending_review(locked, stage)
        checks = (
            opening_checks(locked, run_rules=False)
            if stage == Review.Stage.OPENING
            else completion_checks(locked)
        )
        system_items = all_problems(checks)
        if not reviewer_items and not system_items:
            raise PeixunError("退回补正须列明需要补正的全部事项")
        before = _move(locked, move, actor)
        round_ = review.rounds.order_by("-number").first()
        round_.returned_at, round_.returned_by = now, actor
        round_.save(update_fields=["returned_at", "returned_by"])
        Deficiency.objects.bulk_create(
            [Deficiency(round=round_, source=Deficiency.Source.SYSTEM, text=t[:500]) for t in system_items]
            + [
                Deficiency(round=round_, source=Deficiency.Source.REVIEWER, text=t[:500])
                for t in reviewer_items
            ]
        )
        review.workdays_used = min(
            clock_used(review.submitted_on, timezone.localdate(now), review.workdays_used),
            review.limit_workdays,
        )
        review.state = Review.State.RETURNED
        review.due_date = None
        review.save(update_fields=["workdays_used", "state", "due_date"])
        audit_record(
            actor=actor,
            action=f"class.{move}",
            obj=locked,
            area=locked.area,
            before={"status": before},
            after={"status": locked.status, "deficiencies": system_items + reviewer_items},
        )
        notify(
            users_of_organisation(locked.institution.organisation),
            title=f"{locked.code}：申请被退回补正，共{len(system_items) + len(reviewer_items)}项需补正",
            url=_class_url(locked),
            level="warning",
            sms=True,
        )
    training_class.status = locked.status
    return round_


def _decide(training_class, actor, move: str, reason: str, *, extra=None, on_approve=None) -> Review:
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(training_class)
        _require_reviewer(actor, locked)
        stage = _stage_of(locked.status)
        spec = MOVES_BY_NAME[move]
        if locked.status not in spec.source:
            raise TransitionError(f"培训班当前状态为“{locked.get_status_display()}”，不能“{spec.label}”")
        review = _pending_review(locked, stage)
        approving = spec.target in (ClassStatus.APPROVED, ClassStatus.COMPLETED)
        if approving and spec.target == ClassStatus.APPROVED:
            # The directory may have changed since submission (暂停开班, 移出目录): judged again now.
            try:
                institution_check_may_open_class(
                    institution=locked.institution,
                    start_date=locked.start_date,
                    occupation_code=locked.occupation_code,
                )
            except PeixunError as exc:
                raise TransitionError(f"不能批准开班：{exc.message}") from exc
        if approving:
            blocking = list(open_blocking_findings(locked).values_list("rule_code", flat=True))
            if blocking:
                raise TransitionError(
                    f"尚有{len(blocking)}条未处理的阻断性问题线索（{'、'.join(sorted(set(blocking)))}），"
                    "须先确认或排除后才能批准"
                )
        elif not reason.strip():
            raise PeixunError("请填写不予通过的理由")
        before = _move(locked, move, actor)
        review.state = Review.State.APPROVED if approving else Review.State.REJECTED
        review.decided_at, review.decided_by, review.decision_reason = now, actor, reason.strip()
        # The working days the whole review took, over every round (may exceed the limit when overdue).
        review.workdays_used = clock_used(review.submitted_on, timezone.localdate(now), review.workdays_used)
        fields = ["state", "decided_at", "decided_by", "decision_reason", "workdays_used"]
        for name, value in (extra or {}).items():
            setattr(review, name, value)
            fields.append(name)
        review.save(update_fields=fields)
        issued = on_approve(locked) if (approving and on_approve) else None
        audit_record(
            actor=actor,
            action=f"class.{move}",
            obj=locked,
            area=locked.area,
            before={"status": before},
            after={
                "status": locked.status,
                "reason": reason.strip(),
                **(extra or {}),
                **({"issued": issued} if issued else {}),
            },
        )
        notify(
            users_of_organisation(locked.institution.organisation),
            title=f"{locked.code}：{spec.label}",
            body=reason.strip(),
            url=_class_url(locked),
            sms=True,
        )
    training_class.status = locked.status
    return review


def opening_approve(*, training_class: TrainingClass, actor, reason: str = "") -> Review:
    """批准开班 (第九条). Refused while a BLOCK finding of the class is open."""
    return _decide(training_class, actor, "approve_opening", reason)


def opening_reject(*, training_class: TrainingClass, actor, reason: str) -> Review:
    return _decide(training_class, actor, "reject_opening", reason)


# --- during training: change requests (第二十二条) -----------------------------------------------------


def change_request_create(
    *, training_class: TrainingClass, actor, kind: str, payload: dict, reason: str
) -> ChangeRequest:
    """Roster and schedule changes after approval need the reviewer's consent; nothing changes until
    then. The summary is written here so reviewers read a sentence, not JSON."""
    if not reason.strip():
        raise PeixunError("请填写变更理由")
    with transaction.atomic():
        locked = _lock(training_class)
        _require_institution(actor, locked)
        if locked.status not in IN_TRAINING:
            raise TransitionError(f"培训班当前状态为“{locked.get_status_display()}”，不能提交变更申请")
        summary = _change_summary(locked, kind, payload)
        request = ChangeRequest.objects.create(
            training_class=locked,
            kind=kind,
            payload=payload,
            summary=summary,
            reason=reason.strip(),
            requested_by=actor,
        )
        audit_record(
            actor=actor,
            action="class.change.requested",
            obj=locked,
            area=locked.area,
            after={"kind": kind, "summary": summary, "reason": reason.strip()},
        )
        notify(
            officials_over(locked.area, REVIEW_ROLES),
            title=f"{locked.code}：变更申请——{summary}",
            url=_class_url(locked),
        )
    return request


def _change_summary(c: TrainingClass, kind: str, payload: dict) -> str:
    if kind == ChangeRequest.Kind.ADD_TRAINEE:
        number = parse_id(payload.get("id_number", "")) if payload.get("id_number") else ""
        if not number or not payload.get("name") or payload.get("category") not in Category.values:
            raise PeixunError("增加学员须填写有效的身份证号、姓名和人员类别")
        return f"增加学员{payload['name']}（{mask_id_number(number)}，{Category(payload['category']).label}）"
    if kind == ChangeRequest.Kind.REMOVE_TRAINEE:
        e = (
            c.enrollments.filter(pk=payload.get("enrollment"), removed_at__isnull=True)
            .select_related("person")
            .first()
        )
        if e is None:
            raise PeixunError("请选择要减少的学员")
        return f"减少学员{e.person.name}（{e.person.id_masked}）"
    if kind == ChangeRequest.Kind.MOVE_LESSON:
        lesson = c.lessons.filter(pk=payload.get("lesson")).first()
        if lesson is None:
            raise PeixunError("请选择要调整的课程")
        try:
            new_date = dt.date.fromisoformat(str(payload["date"]))
            start = dt.time.fromisoformat(str(payload["start_time"]))
            end = dt.time.fromisoformat(str(payload["end_time"]))
        except (KeyError, ValueError) as exc:
            raise PeixunError("请填写调整后的日期（YYYY-MM-DD）和开始、结束时间（HH:MM）") from exc
        if end <= start:
            raise PeixunError("结束时间须晚于开始时间")
        minutes = (
            dt.datetime.combine(new_date, end) - dt.datetime.combine(new_date, start)
        ).total_seconds() / 60
        if lesson.hours * current_rule_settings().minutes_per_class_hour > Decimal(str(minutes)):
            # 减少培训课时 is a violation (第二十二条): a moved lesson keeps its full length.
            raise PeixunError(f"调整后的时段容纳不下该课程的{_hours(lesson.hours)}课时，不得减少培训课时")
        return (
            f"将{lesson.date} {lesson.start_time:%H:%M}-{lesson.end_time:%H:%M}的课程调整到"
            f"{new_date} {start:%H:%M}-{end:%H:%M}"
        )
    if kind == ChangeRequest.Kind.CHANGE_TEACHER:
        lesson = c.lessons.filter(pk=payload.get("lesson")).first()
        teacher = Teacher.objects.filter(pk=payload.get("teacher")).select_related("person").first()
        if lesson is None or teacher is None:
            raise PeixunError("请选择课程和教师")
        if not _teacher_available(c, teacher):
            raise PeixunError("只能聘用本机构的教师或本盟市共享师资库中的教师")
        return f"{lesson.date} {lesson.start_time:%H:%M}的课程改由{teacher.person.name}授课"
    raise PeixunError("未知的变更类型")


def change_request_decide(*, request: ChangeRequest, actor, approve: bool, reason: str = "") -> ChangeRequest:
    """The reviewer agrees (the change is applied now, in the same transaction) or refuses."""
    now = timezone.now()
    with transaction.atomic():
        locked_class = _lock(request.training_class)
        _require_reviewer(actor, locked_class)
        locked = ChangeRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state != ChangeRequest.State.PENDING:
            raise TransitionError(f"该变更申请已{locked.get_state_display()}")
        if not approve and not reason.strip():
            raise PeixunError("请填写不同意的理由")
        if approve:
            _apply_change(locked_class, locked, actor)
        locked.state = ChangeRequest.State.APPROVED if approve else ChangeRequest.State.REJECTED
        locked.decided_by, locked.decided_at, locked.decision_reason = actor, now, reason.strip()
        locked.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
        audit_record(
            actor=actor,
            action="class.change.approved" if approve else "class.change.rejected",
            obj=locked_class,
            area=locked_class.area,
            after={"summary": locked.summary, "reason": reason.strip()},
        )
        notify(
            users_of_organisation(locked_class.institution.organisation),
            title=f"{locked_class.code}：变更申请{locked.get_state_display()}——{locked.summary}",
            url=_class_url(locked_class),
        )
    return locked


def _apply_change(c: TrainingClass, request: ChangeRequest, actor) -> None:
    p = request.payload
    if request.kind == ChangeRequest.Kind.ADD_TRAINEE:
        _enroll(
            c,
            actor,
            id_number=p["id_number"],
            name=p["name"],
            category=p["category"],
            phone=p.get("phone", ""),
        )
    elif request.kind == ChangeRequest.Kind.REMOVE_TRAINEE:
        Enrollment.objects.filter(pk=p["enrollment"], training_class=c).update(
            removed_at=timezone.now(), removed_reason=f"变更申请：{request.reason}"[:200]
        )
    elif request.kind == ChangeRequest.Kind.MOVE_LESSON:
        Lesson.objects.filter(pk=p["lesson"], training_class=c).update(
            date=dt.date.fromisoformat(p["date"]),
            start_time=dt.time.fromisoformat(p["start_time"]),
            end_time=dt.time.fromisoformat(p["end_time"]),
        )
    elif request.kind == ChangeRequest.Kind.CHANGE_TEACHER:
        teacher = Teacher.objects.get(pk=p["teacher"])
        Lesson.objects.filter(pk=p["lesson"], training_class=c).update(teacher=teacher.person)
        ClassTeacher.objects.get_or_create(training_class=c, teacher=teacher)


# --- completion (第十、十一条) ---------------------------------------------------------------------------


def exam_eligible(training_class: TrainingClass) -> dict[int, object]:
    """Counted hours per enrollment id, from the one place hours are counted (第十条: 95%)."""
    return {h.enrollment.pk: h for h in class_hours(training_class) if h.enrollment.removed_at is None}


def exam_record(
    *, enrollment: Enrollment, actor, exam_date: dt.date, score: Decimal | None, passed: bool
) -> ExamResult:
    """结业考试成绩. Only trainees whose counted hours reach the line may sit the exam (第十条)."""
    with transaction.atomic():
        locked = _lock(enrollment.training_class)
        _require_institution(actor, locked)
        if locked.status not in EXAM_ENTRY:
            raise TransitionError(f"培训班当前状态为“{locked.get_status_display()}”，不能录入考试成绩")
        if enrollment.removed_at is not None:
            raise PeixunError("该学员已移出花名册")
        last = locked.lessons.aggregate(m=Max("date"))["m"]
        if last and exam_date < last:
            raise PeixunError(f"考试日期不能早于最后一次课（{last}）")
        hours = class_hours(locked, person=enrollment.person)[0]
        line = counting_rules().exam_min_share
        if hours.count.share < line:
            raise PeixunError(
                f"{enrollment.person.name}已计学时{_hours(hours.count.total)}，占总课时{hours.count.share:.1%}，"
                f"未达到{line:.0%}，不能参加结业考试（第十条）"
            )
        exam, _created = ExamResult.objects.update_or_create(
            training_class=locked,
            person=enrollment.person,
            defaults={"exam_date": exam_date, "score": score, "passed": passed},
        )
        audit_record(
            actor=actor,
            action="class.exam.recorded",
            obj=locked,
            area=locked.area,
            after={"person": enrollment.person.id_masked, "score": score, "passed": passed},
        )
    return exam


def completion_checks(training_class: TrainingClass, *, today: dt.date | None = None) -> list[Check]:
    c = training_class
    today = today or timezone.localdate()
    timing = []
    last = c.lessons.aggregate(m=Max("date"))["m"]
    if last is None or last >= today:
        timing.append(f"最后一次课在{last}，课程结束后才能申请结业")
    exams = []
    examined = set(c.exams.values_list("person_id", flat=True))
    if not examined:
        exams.append("尚未录入任何考试成绩")
    rules = counting_rules()
    line = rules.exam_min_share
    # class_hours reads the roster (trainees not removed) with their people and counted hours.
    for h in class_hours(c, rules=rules) if examined else ():
        if h.person.pk in examined and h.count.share < line:
            exams.append(
                f"{h.person.name}学时占比{h.count.share:.1%}未达到{line:.0%}，不能参加结业考试（第十条）"
            )
    return [Check("课程结束", tuple(timing)), Check("考试成绩", tuple(exams))]


def completion_submit(*, training_class: TrainingClass, actor) -> Review:
    """申请结业 (第十一条) after the last lesson, with exam results entered."""
    move = (
        "resubmit_completion"
        if training_class.status == ClassStatus.COMPLETION_RETURNED
        else "apply_completion"
    )

    def problems(c):
        found = all_problems(completion_checks(c))
        found += _blocking_problems(c, run_rules=False)
        return found

    _check_rules_first(training_class, actor)

    return _submit(training_class, actor, move, Review.Stage.COMPLETION, problems)


def completion_reject(*, training_class: TrainingClass, actor, reason: str) -> Review:
    return _decide(training_class, actor, "reject_completion", reason)


def completion_approve(
    *,
    training_class: TrainingClass,
    actor,
    material_review: str,
    crosscheck_review: str,
    onsite_check: str = "",
    reason: str = "",
    on_approve=None,
) -> Review:
    """结业审核通过 (第十一条), recording how the material, the cross-department data and any on-site
    check were reviewed. `on_approve(locked_class)` runs in the same transaction (certificates)."""
    if not material_review.strip() or not crosscheck_review.strip():
        raise PeixunError("请记录材料审核情况和部门数据比对情况（第十一条）")
    return _decide(
        training_class,
        actor,
        "approve_completion",
        reason,
        extra={
            "material_review": material_review.strip(),
            "crosscheck_review": crosscheck_review.strip(),
            "onsite_check": onsite_check.strip(),
        },
        on_approve=on_approve,
    )


def plan_totals(training_class: TrainingClass) -> dict:
    agg = training_class.lessons.aggregate(total=Sum("hours"))
    return {"lesson_total": agg["total"] or Decimal(0)}


# --- deadlines ---------------------------------------------------------------------------------------


def deadline_reminders(today: dt.date | None = None) -> int:
    """Remind reviewers of reviews due within a working day and escalate overdue ones to the city
    (第九条). Each reminder is sent once per review and due date. Returns the messages queued."""
    from peixun.core.workdays import workdays_left

    today = today or timezone.localdate()
    sent = 0
    with transaction.atomic():
        for review in Review.objects.filter(state=Review.State.PENDING).select_related(
            "training_class__area"
        ):
            c = review.training_class
            left = workdays_left(review.due_date, today)
            if left < 0:
                notify(
                    officials_over(c.area, REVIEW_ROLES + ESCALATION_ROLES),
                    title=f"逾期：{c.code} {c.occupation_name}的{review.get_stage_display()}已超过期限（{review.due_date}）",
                    url=_class_url(c),
                    level="danger",
                    dedupe_key=f"overdue:review:{review.pk}:{review.due_date}",
                )
                sent += 1
            elif left <= 1:
                notify(
                    officials_over(c.area, REVIEW_ROLES),
                    title=f"即将到期：{c.code} {c.occupation_name}的{review.get_stage_display()}须于{review.due_date}前办结",
                    url=_class_url(c),
                    level="warning",
                    dedupe_key=f"due:review:{review.pk}:{review.due_date}",
                )
                sent += 1
    return sent
