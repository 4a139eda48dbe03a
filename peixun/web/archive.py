"""培训档案 (第二十三条: 培训机构应建立培训档案): what the archive of one class holds, item by item, and
the whole archive as one ZIP with a manifest of SHA-256 hashes.

`archive_items()` loads the facts of a class once (`archive_facts`) and judges them without the
database (`items_from_facts`), so the rules of "present, missing, in progress or not yet due" are
tested on plain values. An item the class has not reached yet (payment before completion) is "尚未到此环节",
not missing: an archive is judged against the stage the class is in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import FileResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from peixun.accounts.http import client_ip, require_perm
from peixun.accounts.roles import Perm
from peixun.accounts.scope import get_scoped_or_404
from peixun.attendance import views as attendance_views
from peixun.attendance.models import AttendanceRecord, OnlineSession
from peixun.core.audit import audit_record
from peixun.core.identity import mask_phone
from peixun.core.models import PersonAccessLog
from peixun.core.tabular import write_csv, write_xlsx
from peixun.faces.models import FacePhoto
from peixun.subsidies.models import Payment, SubsidyApplication, SubsidyLine
from peixun.training.models import (
    ChangeRequest,
    ClassDocument,
    ClassStatus,
    Enrollment,
    ExamResult,
    Lesson,
    Review,
    TeachingModule,
    TrainingClass,
)

CLASS_RELATED = ("institution", "institution__organisation", "area", "area__parent")

# Where a class is in its life, as far as the archive is concerned.
OPENING_DECIDED = frozenset(
    {
        ClassStatus.OPENING_REJECTED,
        ClassStatus.APPROVED,
        ClassStatus.COMPLETION_REVIEW,
        ClassStatus.COMPLETION_RETURNED,
        ClassStatus.COMPLETION_REJECTED,
        ClassStatus.COMPLETED,
    }
)
TRAINING_RAN = frozenset(
    {
        ClassStatus.APPROVED,
        ClassStatus.COMPLETION_REVIEW,
        ClassStatus.COMPLETION_RETURNED,
        ClassStatus.COMPLETION_REJECTED,
        ClassStatus.COMPLETED,
        ClassStatus.IMPORTED,
    }
)
COMPLETION_APPLIED = frozenset(
    {
        ClassStatus.COMPLETION_REVIEW,
        ClassStatus.COMPLETION_RETURNED,
        ClassStatus.COMPLETION_REJECTED,
        ClassStatus.COMPLETED,
    }
)


# The class's status tag in the colours the class pages use (one colour per meaning, ui.md).
STATUS_COLOURS = {
    ClassStatus.DRAFT: "secondary",
    ClassStatus.OPENING_REVIEW: "primary",
    ClassStatus.COMPLETION_REVIEW: "primary",
    ClassStatus.OPENING_RETURNED: "warning",
    ClassStatus.COMPLETION_RETURNED: "warning",
    ClassStatus.OPENING_REJECTED: "danger",
    ClassStatus.COMPLETION_REJECTED: "danger",
    ClassStatus.APPROVED: "success",
    ClassStatus.COMPLETED: "success",
    ClassStatus.IMPORTED: "info",
}


class State:
    PRESENT = "present"  # 已归档
    MISSING = "missing"  # 缺失: due at this stage and not there
    PENDING = "pending"  # 办理中: the step is under way (under review, awaiting payment)
    NOT_DUE = "not_due"  # 尚未到此环节
    OPTIONAL = "optional"  # 暂无: not every class has one (supervision happens by random selection)


STATE_LABELS = {
    State.PRESENT: "已归档",
    State.MISSING: "缺失",
    State.PENDING: "办理中",
    State.NOT_DUE: "尚未到此环节",
    State.OPTIONAL: "暂无",
}


@dataclass(frozen=True)
class ArchiveFile:
    name: str
    url: str = ""
    sha256: str = ""
    size: int | None = None


@dataclass(frozen=True)
class Item:
    label: str
    present: bool
    detail: str
    files: tuple[ArchiveFile, ...] = ()
    state: str = State.PRESENT

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def _item(label: str, state: str, detail: str, files=()) -> Item:
    return Item(label=label, present=state == State.PRESENT, detail=detail, files=tuple(files), state=state)


# --- the facts of one class ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentFact:
    pk: int
    kind: str
    title: str
    file_name: str
    sha256: str
    size: int
    uploaded_at: dt.datetime


@dataclass(frozen=True)
class ReviewFact:
    state: str
    rounds: int
    due_date: dt.date | None
    workdays_used: int
    decided_at: dt.datetime | None
    decided_by: str
    reason: str


@dataclass(frozen=True)
class ApplicationFact:
    code: str
    status: str
    status_label: str
    due_date: dt.date | None
    decided_at: dt.datetime | None


@dataclass(frozen=True)
class PaymentFact:
    voucher_no: str
    paid_on: dt.date
    amount: Decimal
    outcome: str


@dataclass(frozen=True)
class ArchiveFacts:
    code: str
    status: str
    status_label: str
    today: dt.date
    first_lesson: dt.date | None
    enrolled: int = 0
    removed: int = 0
    modules: int = 0
    module_hours: Decimal = Decimal(0)
    lessons: int = 0
    lesson_hours: Decimal = Decimal(0)
    documents: tuple[DocumentFact, ...] = ()
    opening: ReviewFact | None = None
    completion: ReviewFact | None = None
    changes_pending: int = 0
    changes_decided: int = 0
    applications: tuple[ApplicationFact, ...] = ()
    lines: int = 0
    lines_amount: Decimal = Decimal(0)
    lines_payable: int = 0
    lines_paid: int = 0
    payments: tuple[PaymentFact, ...] = ()
    attendance_records: int = 0
    online_sessions: int = 0
    checkin_photos: int = 0
    photo_records: int = 0
    # the links of the page (empty while a page does not exist yet)
    urls: dict = field(default_factory=dict)

    def docs(self, *kinds: str) -> list[DocumentFact]:
        return [d for d in self.documents if d.kind in kinds]


def _safe_reverse(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _review_fact(review: Review | None) -> ReviewFact | None:
    if review is None:
        return None
    return ReviewFact(
        state=review.state,
        rounds=review.round_count,
        due_date=review.due_date,
        workdays_used=review.workdays_used,
        decided_at=review.decided_at,
        decided_by=review.decided_by.get_full_name() if review.decided_by else "",
        reason=review.decision_reason,
    )


def archive_facts(training_class: TrainingClass, *, today: dt.date | None = None) -> ArchiveFacts:
    """Everything the archive judgement needs, in a fixed handful of queries."""
    c = training_class
    today = today or timezone.localdate()
    roster = Enrollment.objects.filter(training_class=c).aggregate(
        enrolled=Count("id", filter=Q(removed_at__isnull=True)),
        removed=Count("id", filter=Q(removed_at__isnull=False)),
    )
    modules = TeachingModule.objects.filter(training_class=c).aggregate(n=Count("id"), hours=Sum("hours"))
    lessons = Lesson.objects.filter(training_class=c).aggregate(n=Count("id"), hours=Sum("hours"))
    first_lesson = (
        Lesson.objects.filter(training_class=c).order_by("date").values_list("date", flat=True).first()
    )
    reviews = {}
    for review in (
        Review.objects.filter(training_class=c)
        .select_related("decided_by")
        .annotate(round_count=Count("rounds"))
        .order_by("first_submitted_at", "id")
    ):
        reviews[review.stage] = review  # the latest case of each stage wins
    changes = ChangeRequest.objects.filter(training_class=c).aggregate(
        pending=Count("id", filter=Q(state=ChangeRequest.State.PENDING)),
        decided=Count("id", filter=~Q(state=ChangeRequest.State.PENDING)),
    )
    applications = tuple(
        ApplicationFact(a.code, a.status, a.get_status_display(), a.due_date, a.decided_at)
        for a in SubsidyApplication.objects.filter(training_class=c).order_by("submitted_at", "id")
    )
    lines = SubsidyLine.objects.filter(application__training_class=c).aggregate(
        n=Count("id"),
        amount=Sum("amount"),
        payable=Count("id", filter=Q(status=SubsidyLine.Status.PAYABLE)),
        paid=Count("id", filter=Q(status=SubsidyLine.Status.PAID)),
    )
    payments = tuple(
        PaymentFact(p.voucher_no, p.paid_on, p.amount, p.outcome)
        for p in Payment.objects.filter(application__training_class=c).order_by("paid_on", "id")
    )
    documents = tuple(
        DocumentFact(d.pk, d.kind, d.title, d.file.name, d.sha256, d.size, d.uploaded_at)
        for d in ClassDocument.objects.filter(training_class=c).order_by("kind", "uploaded_at", "id")
    )
    attendance = AttendanceRecord.objects.filter(training_class=c).aggregate(
        n=Count("id"), photos=Count("id", filter=~Q(photo_sha256=""))
    )
    urls = {
        "sheet": _safe_reverse("attendance:class_sheet", c.pk),
        "sheet_xlsx": _safe_reverse("attendance:sheet_xlsx", c.pk),
        "sheet_pdf": _safe_reverse("attendance:sheet_pdf", c.pk),
        "documents": {d.pk: _safe_reverse("training:document_download", c.pk, d.pk) for d in documents},
    }
    return ArchiveFacts(
        code=c.code,
        status=c.status,
        status_label=c.get_status_display(),
        today=today,
        first_lesson=first_lesson,
        enrolled=roster["enrolled"],
        removed=roster["removed"],
        modules=modules["n"],
        module_hours=modules["hours"] or Decimal(0),
        lessons=lessons["n"],
        lesson_hours=lessons["hours"] or Decimal(0),
        documents=documents,
        opening=_review_fact(reviews.get(Review.Stage.OPENING)),
        completion=_review_fact(reviews.get(Review.Stage.COMPLETION)),
        changes_pending=changes["pending"],
        changes_decided=changes["decided"],
        applications=applications,
        lines=lines["n"],
        lines_amount=lines["amount"] or Decimal(0),
        lines_payable=lines["payable"],
        lines_paid=lines["paid"],
        payments=payments,
        attendance_records=attendance["n"],
        online_sessions=OnlineSession.objects.filter(training_class=c).count(),
        checkin_photos=FacePhoto.objects.filter(training_class=c, kind=FacePhoto.Kind.CHECKIN).count(),
        photo_records=attendance["photos"],
        urls=urls,
    )


# --- the judgement (no database) ---------------------------------------------------------------------


def _hours(value: Decimal) -> str:
    return f"{Decimal(value):.1f}"


def _money(value: Decimal) -> str:
    return f"¥{Decimal(value):,.2f}"


def _day(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value)
    return f"{value:%Y-%m-%d}"


def _files(facts: ArchiveFacts, docs: list[DocumentFact]) -> list[ArchiveFile]:
    return [
        ArchiveFile(
            name=f"{d.title}（{_day(d.uploaded_at)}）",
            url=facts.urls.get("documents", {}).get(d.pk, ""),
            sha256=d.sha256,
            size=d.size,
        )
        for d in docs
    ]


def _review_item(label: str, review: ReviewFact | None, *, due: bool, not_due_text: str, docs=()) -> Item:
    if review is None:
        return _item(
            label, State.MISSING if due else State.NOT_DUE, "未找到审核记录" if due else not_due_text, docs
        )
    rounds = f"共{review.rounds}轮提交" if review.rounds else ""
    if review.state == Review.State.APPROVED:
        who = f"，{review.decided_by}" if review.decided_by else ""
        return _item(label, State.PRESENT, f"已通过（{_day(review.decided_at)}{who}），{rounds}", docs)
    if review.state == Review.State.REJECTED:
        return _item(
            label, State.PRESENT, f"不予通过（{_day(review.decided_at)}）：{review.reason}；{rounds}", docs
        )
    if review.state == Review.State.WITHDRAWN:
        return _item(label, State.PRESENT, f"申请已撤回，{rounds}", docs)
    if review.state == Review.State.RETURNED:
        return _item(
            label,
            State.PENDING,
            f"已退回补正，审核已用{review.workdays_used}个工作日，待重新提交；{rounds}",
            docs,
        )
    return _item(label, State.PENDING, f"审核中，截止日期{_day(review.due_date)}；{rounds}", docs)


def items_from_facts(facts: ArchiveFacts) -> list[Item]:
    """The archive items of 第二十三条 for the class's current stage."""
    f = facts
    K = ClassDocument.Kind
    imported = f.status == ClassStatus.IMPORTED
    training_started = f.status in TRAINING_RAN and (f.first_lesson is None or f.first_lesson <= f.today)
    items: list[Item] = []

    # 花名册
    if f.enrolled or f.removed:
        detail = f"在册{f.enrolled}人" + (f"，已移出{f.removed}人（保留记录）" if f.removed else "")
        items.append(_item("花名册", State.PRESENT, detail))
    else:
        items.append(_item("花名册", State.MISSING, "花名册为空"))

    # 教学计划 (with the schedule, the teaching resources and the assessment plan)
    plan_docs = _files(f, f.docs(K.TEACHING_RESOURCES, K.ASSESSMENT_PLAN))
    problems = []
    if not f.modules:
        problems.append("未填写教学计划")
    if not f.lessons:
        problems.append("未填写课程表")
    if problems:
        items.append(_item("教学计划", State.MISSING, "；".join(problems), plan_docs))
    else:
        detail = (
            f"{f.modules}个教学模块，合计{_hours(f.module_hours)}课时；"
            f"课程表{f.lessons}节，合计{_hours(f.lesson_hours)}课时"
        )
        items.append(_item("教学计划", State.PRESENT, detail, plan_docs))

    # 开班申请及审批 (第八、九条)
    if imported:
        items.append(_item("开班申请及审批", State.NOT_DUE, "数据包导入的班级，开班审批在原系统办理"))
    else:
        items.append(
            _review_item(
                "开班申请及审批",
                f.opening,
                due=f.status in OPENING_DECIDED,
                not_due_text="尚未提交开班申请",
            )
        )

    # 变更申请及审批 (第二十二条): only classes that changed have one
    if f.changes_pending:
        items.append(
            _item(
                "变更申请及审批", State.PENDING, f"待审核{f.changes_pending}件，已审核{f.changes_decided}件"
            )
        )
    elif f.changes_decided:
        items.append(_item("变更申请及审批", State.PRESENT, f"已审核{f.changes_decided}件"))
    else:
        items.append(_item("变更申请及审批", State.OPTIONAL, "无变更申请"))

    # 考勤表 (第十八-二十条)
    sheet_files = []
    if f.urls.get("sheet_xlsx"):
        sheet_files = [
            ArchiveFile("考勤表（Excel）", f.urls["sheet_xlsx"]),
            ArchiveFile("考勤表（PDF）", f.urls["sheet_pdf"]),
        ]
    if not training_started:
        items.append(_item("考勤表", State.NOT_DUE, "开班后按课程形成考勤记录"))
    elif f.attendance_records or f.online_sessions:
        detail = f"考勤记录{f.attendance_records}条，线上学习记录{f.online_sessions}条"
        items.append(_item("考勤表", State.PRESENT, detail, sheet_files))
    else:
        items.append(_item("考勤表", State.MISSING, "培训已开始，尚无考勤记录", sheet_files))

    # 过程照片/视频 (第十九条 过程拍照)
    photo_docs = _files(f, f.docs(K.ONSITE_PHOTO))
    if photo_docs or f.checkin_photos or f.photo_records:
        parts = []
        if photo_docs:
            parts.append(f"现场照片或视频{len(photo_docs)}个")
        if f.checkin_photos:
            parts.append(f"签到人脸照片{f.checkin_photos}张")
        if f.photo_records:
            parts.append(f"带现场照片的考勤记录{f.photo_records}条")
        items.append(_item("过程照片/视频", State.PRESENT, "，".join(parts), photo_docs))
    elif training_started:
        items.append(_item("过程照片/视频", State.MISSING, "培训已开始，尚无过程照片或视频"))
    else:
        items.append(_item("过程照片/视频", State.NOT_DUE, "培训过程中形成"))

    # 监督检查记录: 双随机 inspections, so not every class has one
    supervision = _files(f, f.docs(K.SUPERVISION))
    if supervision:
        items.append(_item("监督检查记录", State.PRESENT, f"{len(supervision)}份", supervision))
    else:
        items.append(_item("监督检查记录", State.OPTIONAL, "暂无监督检查记录（随机抽查产生，并非每班都有）"))

    # 结业申请及审批 (第十、十一条)
    completion_docs = _files(f, f.docs(K.COMPLETION_MATERIAL))
    if imported:
        items.append(_item("结业申请及审批", State.NOT_DUE, "数据包导入的班级，结业审核在原系统办理"))
    else:
        items.append(
            _review_item(
                "结业申请及审批",
                f.completion,
                due=f.status in (ClassStatus.COMPLETED, ClassStatus.COMPLETION_REJECTED),
                not_due_text="课程结束、录入考试成绩后申请结业",
                docs=completion_docs,
            )
        )

    # 补贴申请及审批 (第十四条)
    under_way = [
        a
        for a in f.applications
        if a.status in (SubsidyApplication.Status.SUBMITTED, SubsidyApplication.Status.RETURNED)
    ]
    listing = "；".join(
        f"{a.code} {a.status_label}"
        + (f"（审核截止{_day(a.due_date)}）" if a in under_way and a.due_date else "")
        for a in f.applications
    )
    if f.status != ClassStatus.COMPLETED and not f.applications:
        items.append(_item("补贴申请及审批", State.NOT_DUE, "结业后申请补贴"))
    elif not f.applications:
        items.append(_item("补贴申请及审批", State.NOT_DUE, "尚未申请补贴"))
    elif under_way:
        items.append(_item("补贴申请及审批", State.PENDING, listing))
    else:  # decided (公示, closed, refused) or withdrawn: the record is complete
        items.append(_item("补贴申请及审批", State.PRESENT, listing))

    # 补贴人员名单
    if not f.applications:
        items.append(_item("补贴人员名单", State.NOT_DUE, "随补贴申请形成"))
    elif f.lines:
        items.append(_item("补贴人员名单", State.PRESENT, f"{f.lines}人，合计{_money(f.lines_amount)}"))
    else:
        items.append(_item("补贴人员名单", State.MISSING, "补贴申请中没有人员名单"))

    # 拨付凭证: due once 公示 is over without objection (lines payable or paid)
    paid = [p for p in f.payments if p.outcome == Payment.Outcome.PAID]
    failed = [p for p in f.payments if p.outcome != Payment.Outcome.PAID]
    vouchers = "、".join(p.voucher_no for p in paid)
    if not (f.lines_payable or f.lines_paid):
        items.append(_item("拨付凭证", State.NOT_DUE, "补贴审核通过、公示期满无异议后拨付"))
    elif f.lines_payable:
        detail = f"待拨付{f.lines_payable}人" + (f"；已拨付{len(paid)}笔（凭证号{vouchers}）" if paid else "")
        if failed:
            detail += f"；支付失败{len(failed)}笔"
        items.append(_item("拨付凭证", State.PENDING, detail))
    elif paid:
        total = sum((p.amount for p in paid), Decimal(0))
        items.append(
            _item("拨付凭证", State.PRESENT, f"{len(paid)}笔，合计{_money(total)}，凭证号{vouchers}")
        )
    else:
        items.append(_item("拨付凭证", State.MISSING, "补贴已标记为已拨付，但没有拨付记录"))

    # 承诺书 (第八条): the institution's, and the trainees' once there is a roster
    undertakings = _files(f, f.docs(K.INSTITUTION_UNDERTAKING, K.TRAINEE_UNDERTAKING))
    lacking = []
    if not f.docs(K.INSTITUTION_UNDERTAKING):
        lacking.append("未上传机构承诺书")
    if (f.enrolled or f.removed) and not f.docs(K.TRAINEE_UNDERTAKING):
        lacking.append("未上传学员承诺书")
    if not lacking:
        items.append(_item("承诺书", State.PRESENT, f"{len(undertakings)}份", undertakings))
    elif imported:
        items.append(_item("承诺书", State.NOT_DUE, "数据包导入的班级，承诺书在原系统存档", undertakings))
    else:
        items.append(_item("承诺书", State.MISSING, "；".join(lacking), undertakings))

    others = _files(f, f.docs(K.OTHER))
    if others:
        items.append(_item("其他材料", State.PRESENT, f"{len(others)}份", others))
    return items


def archive_items(training_class: TrainingClass, *, today: dt.date | None = None) -> list[Item]:
    return items_from_facts(archive_facts(training_class, today=today))


# --- the ZIP -----------------------------------------------------------------------------------------


def _local(value: dt.datetime | None) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else ""


def _who(user) -> str:
    return user.get_full_name() if user else ""


def mask_account(account: str) -> str:
    """Bank accounts keep their last four digits, like the other personal numbers on screen."""
    account = account or ""
    return "*" * max(len(account) - 4, 0) + account[-4:] if len(account) > 4 else "*" * len(account)


def roster_xlsx(c: TrainingClass) -> bytes:
    exams = {e.person_id: e for e in ExamResult.objects.filter(training_class=c)}
    rows = []
    enrollments = (
        Enrollment.objects.filter(training_class=c).select_related("person").order_by("enrolled_at", "id")
    )
    for i, e in enumerate(enrollments, start=1):
        exam = exams.get(e.person_id)
        rows.append(
            [
                i,
                e.person.name,
                e.person.id_masked,
                e.person.get_sex_display(),
                e.get_category_display(),
                mask_phone(e.phone or e.person.phone),
                _local(e.enrolled_at),
                "已移出" if e.removed_at else "在册",
                _local(e.removed_at),
                e.removed_reason,
                f"{exam.exam_date:%Y-%m-%d}" if exam else "",
                exam.score if exam and exam.score is not None else "",
                ("合格" if exam.passed else "不合格") if exam else "",
                exam.certificate_no if exam else "",
            ]
        )
    columns = [
        "序号",
        "姓名",
        "身份证号",
        "性别",
        "人员类别",
        "手机号码",
        "登记时间",
        "状态",
        "移出时间",
        "移出原因",
        "考试日期",
        "成绩",
        "考试结果",
        "证书编号",
    ]
    return write_xlsx("花名册", columns, rows)


def teaching_plan_xlsx(c: TrainingClass) -> bytes:
    rows = [
        [m.order, m.name, m.hours, m.get_mode_display(), m.platform.name if m.platform else "", m.content]
        for m in TeachingModule.objects.filter(training_class=c).select_related("platform")
    ]
    return write_xlsx("教学计划", ["序号", "模块名称", "课时", "方式", "线上培训平台", "主要内容"], rows)


def schedule_xlsx(c: TrainingClass) -> bytes:
    rows = [
        [
            f"{x.date:%Y-%m-%d}",
            f"{x.start_time:%H:%M}",
            f"{x.end_time:%H:%M}",
            x.hours,
            x.get_mode_display(),
            x.teacher.name if x.teacher else "",
        ]
        for x in Lesson.objects.filter(training_class=c).select_related("teacher")
    ]
    return write_xlsx("课程表", ["日期", "开始时间", "结束时间", "课时", "方式", "授课教师"], rows)


REVIEW_COLUMNS = [
    "环节",
    "编号或轮次",
    "提交时间",
    "提交人",
    "审核截止日期",
    "退回时间",
    "退回人",
    "补正事项或变更内容",
    "结果",
    "办结时间",
    "审核人",
    "审核意见",
    "材料审核情况",
    "部门数据比对情况",
    "现场核查情况",
]


def reviews_csv(c: TrainingClass) -> str:
    """The approval history: every round of the opening and completion reviews, every change request,
    every subsidy application (第二十三条: 开班、结业、补贴申请及审批)."""
    rows = []
    reviews = (
        Review.objects.filter(training_class=c)
        .select_related("decided_by")
        .prefetch_related("rounds__submitted_by", "rounds__returned_by", "rounds__deficiencies")
        .order_by("first_submitted_at", "id")
    )
    for review in reviews:
        rounds = list(review.rounds.all())
        for r in rounds:
            last = r is rounds[-1]
            rows.append(
                [
                    review.get_stage_display(),
                    f"第{r.number}轮",
                    _local(r.submitted_at),
                    _who(r.submitted_by),
                    f"{review.due_date:%Y-%m-%d}" if last and review.due_date else "",
                    _local(r.returned_at),
                    _who(r.returned_by),
                    "；".join(d.text for d in r.deficiencies.all()),
                    review.get_state_display() if last else "退回补正",
                    _local(review.decided_at) if last else "",
                    _who(review.decided_by) if last else "",
                    review.decision_reason if last else "",
                    review.material_review if last else "",
                    review.crosscheck_review if last else "",
                    review.onsite_check if last else "",
                ]
            )
    changes = ChangeRequest.objects.filter(training_class=c).select_related("requested_by", "decided_by")
    for ch in changes.order_by("requested_at", "id"):
        rows.append(
            [
                "变更申请",
                ch.get_kind_display(),
                _local(ch.requested_at),
                _who(ch.requested_by),
                "",
                "",
                "",
                f"{ch.summary}（理由：{ch.reason}）",
                ch.get_state_display(),
                _local(ch.decided_at),
                _who(ch.decided_by),
                ch.decision_reason,
                "",
                "",
                "",
            ]
        )
    applications = SubsidyApplication.objects.filter(training_class=c).select_related(
        "submitted_by", "decided_by"
    )
    for a in applications.order_by("submitted_at", "id"):
        rows.append(
            [
                "补贴申请审核",
                a.code,
                _local(a.submitted_at),
                _who(a.submitted_by),
                f"{a.due_date:%Y-%m-%d}" if a.due_date else "",
                "",
                "",
                a.returned_reasons,
                a.get_status_display(),
                _local(a.decided_at),
                _who(a.decided_by),
                a.decision_reason,
                "",
                "",
                "",
            ]
        )
    return write_csv(REVIEW_COLUMNS, rows)


def subsidy_lines_csv(c: TrainingClass) -> str:
    lines = (
        SubsidyLine.objects.filter(application__training_class=c)
        .select_related("application", "person", "enrollment", "certificate")
        .order_by("application__submitted_at", "id")
    )
    rows = [
        [
            line.application.code,
            line.person.name,
            line.person.id_masked,
            line.enrollment.get_category_display(),
            line.certificate.number if line.certificate else "",
            line.amount,
            line.get_status_display(),
            line.problems,
        ]
        for line in lines
    ]
    return write_csv(
        ["申请编号", "姓名", "身份证号", "人员类别", "证书编号", "补贴金额", "状态", "不符合条件的原因"], rows
    )


def payments_csv(c: TrainingClass) -> str:
    payments = (
        Payment.objects.filter(application__training_class=c)
        .select_related("application", "recorded_by")
        .annotate(people=Count("lines"))
        .order_by("paid_on", "id")
    )
    rows = [
        [
            p.application.code,
            p.voucher_no,
            f"{p.paid_on:%Y-%m-%d}",
            p.amount,
            p.people,
            p.get_payee_kind_display(),
            p.payee_name,
            mask_account(p.payee_account),
            p.get_outcome_display(),
            p.failure_reason,
            _who(p.recorded_by),
            _local(p.recorded_at),
        ]
        for p in payments
    ]
    columns = [
        "申请编号",
        "凭证号",
        "支付日期",
        "金额",
        "人数",
        "收款方式",
        "收款人",
        "收款账号",
        "结果",
        "失败原因",
        "经办人",
        "登记时间",
    ]
    return write_csv(columns, rows)


def _csv_bytes(text: str) -> bytes:
    return ("\ufeff" + text).encode()  # Excel opens UTF-8 CSV correctly only with a BOM


@dataclass
class BuiltArchive:
    file: tempfile.SpooledTemporaryFile
    manifest_sha256: str
    files: int


def _document_name(d: ClassDocument) -> str:
    base = d.file.name.rsplit("/", 1)[-1]
    return f"documents/{d.pk:06d}_{d.kind.lower()}_{base}"


def archive_zip_build(request, training_class: TrainingClass) -> BuiltArchive:
    """The ZIP of the archive, written to a temporary file (in memory up to 8 MB) so that every
    problem shows before the first byte is sent and the audit entry can name the manifest's hash.

    The attendance sheets come from the attendance views themselves (the same Excel and PDF the
    考勤与学时 page offers), called with this request: one builder, one scope check."""
    c = training_class
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (handed to FileResponse)
    manifest: list[list] = []
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def add(path: str, data: bytes, source: str, recorded: str = "") -> None:
            digest = hashlib.sha256(data).hexdigest()
            zf.writestr(path, data)
            check = "" if not recorded else ("一致" if recorded == digest else "不一致")
            manifest.append([path, digest, len(data), source, recorded, check])

        add("roster.xlsx", roster_xlsx(c), "花名册（身份证号、手机号脱敏）")
        add("teaching_plan.xlsx", teaching_plan_xlsx(c), "教学计划")
        add("schedule.xlsx", schedule_xlsx(c), "课程表")
        add("reviews.csv", _csv_bytes(reviews_csv(c)), "开班、变更、结业、补贴申请及审批记录")
        add(
            "attendance/attendance_sheet.xlsx",
            attendance_views.sheet_xlsx(request, pk=c.pk).content,
            "考勤表",
        )
        add("attendance/attendance_sheet.pdf", attendance_views.sheet_pdf(request, pk=c.pk).content, "考勤表")
        add("subsidy_lines.csv", _csv_bytes(subsidy_lines_csv(c)), "补贴人员名单")
        add("payments.csv", _csv_bytes(payments_csv(c)), "拨付记录及凭证号")
        for d in ClassDocument.objects.filter(training_class=c).order_by("kind", "uploaded_at", "id"):
            label = f"{d.get_kind_display()}：{d.title}"
            try:
                with d.file.open("rb") as fh:
                    data = fh.read()
            except (FileNotFoundError, OSError):
                manifest.append([_document_name(d), "", 0, label, d.sha256, "文件缺失"])
                continue
            add(_document_name(d), data, label, recorded=d.sha256)
        text = write_csv(["path", "sha256", "size", "content", "recorded_sha256", "check"], manifest)
        manifest_bytes = _csv_bytes(text)
        manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
        zf.writestr("manifest.csv", manifest_bytes)
        zf.writestr("manifest.sha256", f"{manifest_sha}  manifest.csv\n")
    spool.seek(0)
    return BuiltArchive(file=spool, manifest_sha256=manifest_sha, files=len(manifest))


def archive_export_record(
    *, training_class: TrainingClass, actor, ip: str | None, manifest_sha256: str, files: int
) -> None:
    """An archive holds the roster: its export is a personal-data export (个人信息保护法), logged once
    per export naming the class, and an audit entry that ties the manifest's hash to who took it."""
    c = training_class
    with transaction.atomic():
        PersonAccessLog.objects.create(
            viewer=actor,
            person=None,
            kind=PersonAccessLog.Kind.EXPORT,
            detail=f"导出培训档案：{c.code} {c.occupation_name}"[:200],
            ip=ip,
        )
        audit_record(
            actor=actor,
            action="class.archive.exported",
            obj=c,
            area=c.area,
            organisation=c.institution.organisation,
            after={"files": files, "manifest_sha256": manifest_sha256},
        )


# --- pages -------------------------------------------------------------------------------------------


def _scoped_class(request, pk: int) -> TrainingClass:
    return get_scoped_or_404(TrainingClass.objects.select_related(*CLASS_RELATED), request.user, pk=pk)


@require_perm(Perm.VIEW_PEOPLE)
def class_archive(request, pk: int):
    klass = _scoped_class(request, pk)
    items = archive_items(klass)
    counts = {state: sum(1 for i in items if i.state == state) for state in STATE_LABELS}
    return render(
        request,
        "web/archive.html",
        {
            "klass": klass,
            "items": items,
            "counts": counts,
            "today": timezone.localdate(),
            "detail_url": _safe_reverse("training:detail", klass.pk),
            "status_colour": STATUS_COLOURS.get(klass.status, "light border"),
        },
    )


@require_perm(Perm.VIEW_PEOPLE)
def class_archive_zip(request, pk: int):
    klass = _scoped_class(request, pk)
    built = archive_zip_build(request, klass)
    archive_export_record(
        training_class=klass,
        actor=request.user,
        ip=client_ip(request),
        manifest_sha256=built.manifest_sha256,
        files=built.files,
    )
    name = f"培训档案_{klass.code}_{built.manifest_sha256[:12]}.zip"
    return FileResponse(built.file, as_attachment=True, filename=name, content_type="application/zip")
