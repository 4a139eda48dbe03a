"""考勤与学时 pages: the class sheet (and its Excel/PDF), one trainee's hours, a trainee's own
classes, and the trainee's 线上学习记录和培训证明 PDF. Every object is fetched through the scope
helper; hours come from services.class_hours (count_hours over the effective records)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from peixun.accounts.http import client_ip, download_response, read_upload, require_perm
from peixun.accounts.roles import Perm, Role
from peixun.accounts.scope import get_scoped_or_404, restrict
from peixun.accounts.services import person_file_viewed
from peixun.core.errors import PeixunError
from peixun.core.tabular import ImportFailed, write_xlsx
from peixun.training.models import Enrollment, ExamResult, TrainingClass

from . import services, uploads
from .forms import CorrectionForm, ManualEntryForm
from .models import AttendanceRecord, Source
from .pdf import render_pdf
from .trainee_status import status_items

CLASS_RELATED = ("institution", "institution__organisation", "area", "area__parent")
RECORDS_PER_PAGE = 100


def _can_enter(user) -> bool:
    """Institution staff enter and correct their own classes' records (the scope decides which)."""
    return user.role == Role.INSTITUTION_OPERATOR


def _pct(share: Decimal) -> Decimal:
    return (share * 100).quantize(Decimal("0.1"))


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    ascii_name = filename.encode("ascii", "ignore").decode() or "document.pdf"
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


def _summary(rows: list[services.TraineeHours]) -> dict:
    return {
        "trainees": len(rows),
        "below": sum(1 for r in rows if r.below_line),
    }


def _sheet_context(klass: TrainingClass) -> dict:
    rules = services.counting_rules()
    rows = services.class_hours(klass, rules=rules)
    for r in rows:
        r.share_pct = _pct(r.count.share)
    lessons = [x for x in services.lesson_shapes(klass) if x.mode == "OFFLINE"]
    missed = {(r.person.pk, x.source.pk) for r in rows for x in r.count.missed}
    for r in rows:
        r.marks = [(r.person.pk, x.source.pk) not in missed for x in lessons]
    return {
        "klass": klass,
        "rows": rows,
        "lessons": lessons,
        "line_pct": _pct(rules.exam_min_share),
        "coverage_pct": _pct(rules.hours.lesson_min_coverage).normalize(),
        "online_max_pct": _pct(rules.hours.online_max_share).normalize(),
        "rules": rules,
        "summary": _summary(rows),
    }


def _records_page(request, klass: TrainingClass):
    records = AttendanceRecord.objects.filter(training_class=klass).select_related("person", "recorded_by")
    corrected = set(
        AttendanceRecord.objects.filter(training_class=klass, corrects__isnull=False).values_list(
            "corrects_id", flat=True
        )
    )
    page = Paginator(records.order_by("check_in", "seq"), RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    seqs = dict(
        AttendanceRecord.objects.filter(id__in=[r.corrects_id for r in page if r.corrects_id]).values_list(
            "id", "seq"
        )
    )
    for r in page:
        r.is_corrected = r.pk in corrected
        r.corrects_seq = seqs.get(r.corrects_id)
    return page


@require_perm(Perm.VIEW_PEOPLE)
def class_sheet(request, pk: int):
    user = request.user
    klass = get_scoped_or_404(TrainingClass.objects.select_related(*CLASS_RELATED), user, pk=pk)
    can_enter = _can_enter(user)
    form = ManualEntryForm(training_class=klass) if can_enter else None
    if request.method == "POST":
        if not can_enter:
            raise Http404("页面不存在")
        form = ManualEntryForm(request.POST, training_class=klass)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.attendance_manual_entry(
                    training_class=klass,
                    person=data["enrollment"].person,
                    check_in=data["check_in"],
                    check_out=data["check_out"],
                    actor=user,
                    reason=data["reason"],
                )
            except PeixunError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"已为{data['enrollment'].person.name}手工补录一条考勤记录")
                return redirect("attendance:class_sheet", pk=klass.pk)
    return _render_sheet(request, klass, form=form, can_enter=can_enter)


def _render_sheet(request, klass: TrainingClass, *, form, can_enter: bool, **extra):
    ctx = _sheet_context(klass)
    ctx.update(
        form=form,
        can_enter=can_enter,
        records=_records_page(request, klass),
        manual_count=AttendanceRecord.objects.filter(training_class=klass, source=Source.MANUAL).count(),
        **extra,
    )
    return render(request, "attendance/class_sheet.html", ctx)


def _entering_class(request, pk: int) -> TrainingClass:
    """The class, for its institution's operator only (anyone else: 404)."""
    if not _can_enter(request.user):
        raise Http404("页面不存在")
    return get_scoped_or_404(TrainingClass.objects.select_related(*CLASS_RELATED), request.user, pk=pk)


@require_perm(Perm.VIEW_PEOPLE)
def upload(request, pk: int):
    """上传考勤表 (attendance.csv / .xlsx of this class): all or nothing, every problem listed."""
    klass = _entering_class(request, pk)
    if request.method != "POST":
        return redirect("attendance:class_sheet", pk=klass.pk)
    upload_file = request.FILES.get("file")
    try:
        table = read_upload(upload_file, required=uploads.COLUMNS, expected_name=uploads.FILE_NAME)
        result = uploads.attendance_upload(training_class=klass, table=table, actor=request.user)
    except ImportFailed as exc:
        return _render_sheet(
            request,
            klass,
            form=ManualEntryForm(training_class=klass),
            can_enter=True,
            upload_failure=exc.message,
            upload_errors=exc.errors,
            upload_name=getattr(upload_file, "name", ""),
        )
    except PeixunError as exc:
        return _render_sheet(
            request,
            klass,
            form=ManualEntryForm(training_class=klass),
            can_enter=True,
            upload_failure=exc.message,
        )
    if result.created:
        text = f"考勤表“{table.file}”已导入：新增{result.created}条记录"
    else:
        text = f"考勤表“{table.file}”中的记录均已存在，未新增记录"
    if result.duplicates:
        text += f"；{result.duplicates}条与已有记录完全相同，按重复处理，未再次写入"
    messages.success(request, text)
    return redirect("attendance:class_sheet", pk=klass.pk)


@require_perm(Perm.VIEW_PEOPLE)
def upload_template(request, pk: int):
    """attendance.xlsx with the contract's columns and one example row of this class."""
    klass = _entering_class(request, pk)
    content = write_xlsx("attendance", uploads.COLUMNS, uploads.template_rows(klass))
    return download_response(content, f"考勤表模板_{klass.code}.xlsx")


@require_perm(Perm.VIEW_PEOPLE)
def correct(request, pk: int):
    """更正 one record: a new record pointing at it, with a reason (the original stays)."""
    user = request.user
    if not _can_enter(user):
        raise Http404("页面不存在")
    record = get_scoped_or_404(
        AttendanceRecord.objects.select_related(
            "person", "training_class", *(f"training_class__{x}" for x in CLASS_RELATED)
        ),
        user,
        pk=pk,
    )
    klass = record.training_class
    if request.method == "POST":
        form = CorrectionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.attendance_correct(
                    record=record,
                    actor=user,
                    reason=data["reason"],
                    check_in=data["check_in"],
                    check_out=data["check_out"],
                    method=data["method"],
                )
            except PeixunError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"已更正{record.person.name}的考勤记录（原记录保留）")
                return redirect("attendance:class_sheet", pk=klass.pk)
    else:
        tz = timezone.get_current_timezone()
        form = CorrectionForm(
            initial={
                "check_in": record.check_in.astimezone(tz),
                "check_out": record.check_out.astimezone(tz) if record.check_out else None,
            }
        )
    return render(request, "attendance/correct.html", {"record": record, "klass": klass, "form": form})


SHEET_COLUMNS = [
    "序号",
    "姓名",
    "身份证号",
    "人员类别",
    "线下学时",
    "线上学时",
    "合计学时",
    "学时占比(%)",
    "达到考试要求",
    "缺课节数",
    "缺课明细",
]


def _missed_text(count) -> str:
    return "；".join(f"{x.source.date:%m-%d} {x.source.start_time:%H:%M}" for x in count.missed)


@require_perm(Perm.VIEW_PEOPLE)
def sheet_xlsx(request, pk: int):
    klass = get_scoped_or_404(TrainingClass.objects.select_related(*CLASS_RELATED), request.user, pk=pk)
    ctx = _sheet_context(klass)
    rows = [
        [
            i,
            r.person.name,
            r.person.id_masked,
            r.enrollment.get_category_display(),
            r.count.offline.quantize(Decimal("0.1")),
            r.count.online.quantize(Decimal("0.1")),
            r.count.total.quantize(Decimal("0.1")),
            r.share_pct,
            "否" if r.below_line else "是",
            len(r.count.missed),
            _missed_text(r.count),
        ]
        for i, r in enumerate(ctx["rows"], start=1)
    ]
    content = write_xlsx("考勤表", SHEET_COLUMNS, rows)
    return download_response(content, f"考勤表_{klass.code}.xlsx")


@require_perm(Perm.VIEW_PEOPLE)
def sheet_pdf(request, pk: int):
    klass = get_scoped_or_404(TrainingClass.objects.select_related(*CLASS_RELATED), request.user, pk=pk)
    ctx = _sheet_context(klass)
    ctx["grid"] = len(ctx["lessons"]) <= 24
    ctx["printed_on"] = timezone.localdate()
    return _pdf_response(render_pdf("attendance/sheet_pdf.html", ctx), f"考勤表_{klass.code}.pdf")


# --- one trainee --------------------------------------------------------------------------------


def _enrollment(request, pk: int, public_id) -> Enrollment:
    """The roster row, fetched through the scope helper (a trainee reaches only their own)."""
    return get_scoped_or_404(
        # Trainees taken off the roster no longer have hours here (their record stays in the archive).
        Enrollment.objects.filter(removed_at__isnull=True).select_related(
            "person", "training_class", *(f"training_class__{x}" for x in CLASS_RELATED)
        ),
        request.user,
        training_class_id=pk,
        person__public_id=public_id,
    )


def _online_days(hours: services.TraineeHours, rules: services.CountingRules) -> list[dict]:
    """Valid online hours per day, what the daily maximum let count and what it cut."""
    daily_max = rules.hours.online_max_hours_per_day
    days = []
    for day, valid in hours.count.online_by_day.items():
        counted = min(valid, daily_max)
        days.append({"day": day, "valid": valid, "counted": counted, "excess": valid - counted})
    return days


def _trainee_context(enrollment: Enrollment) -> dict:
    klass, person = enrollment.training_class, enrollment.person
    rules = services.counting_rules()
    (hours,) = services.class_hours(klass, person=person, rules=rules)
    count = hours.count
    minutes = rules.hours.minutes_per_class_hour
    lessons = [x for x in services.lesson_shapes(klass) if x.mode == "OFFLINE"]
    missed = {x.source.pk for x in count.missed}
    for x in lessons:
        x.counted = x.source.pk not in missed
    for s in hours.sessions:
        s.hours = Decimal((s.end_at - s.start_at).total_seconds()) / 60 / minutes
        s.valid = s.face_checks_failed == 0
    all_records = list(
        AttendanceRecord.objects.filter(training_class=klass, person=person)
        .select_related("recorded_by")
        .order_by("check_in", "seq")
    )
    effective_ids = {r.id for r in hours.records}
    seqs = {r.pk: r.seq for r in all_records}
    for r in all_records:
        r.is_effective = r.pk in effective_ids
        r.corrects_seq = seqs.get(r.corrects_id)
    return {
        "klass": klass,
        "person": person,
        "enrollment": enrollment,
        "hours": hours,
        "count": count,
        "share_pct": _pct(count.share),
        "line_pct": _pct(rules.exam_min_share),
        "rules": rules,
        "lessons": lessons,
        "online_days": _online_days(hours, rules),
        "share_cut": count.online_daily_capped - count.online,
        "online_max_pct": _pct(rules.hours.online_max_share),
        "records": all_records,
        "sessions": hours.sessions,
        "invalid_sessions": sum(1 for s in hours.sessions if not s.valid),
    }


@login_required
def trainee(request, pk: int, public_id):
    enrollment = _enrollment(request, pk, public_id)
    person_file_viewed(person=enrollment.person, viewer=request.user, ip=client_ip(request))
    ctx = _trainee_context(enrollment)
    ctx["is_self"] = request.user.person_id == enrollment.person_id
    return render(request, "attendance/trainee.html", ctx)


@login_required
def online_record_pdf(request, pk: int, public_id):
    enrollment = _enrollment(request, pk, public_id)
    ctx = _trainee_context(enrollment)
    ctx["printed_on"] = timezone.localdate()
    ctx["platforms"] = sorted({s.platform_code for s in ctx["sessions"]})
    name = f"线上学习记录_{enrollment.training_class.code}_{enrollment.person.name}.pdf"
    return _pdf_response(render_pdf("attendance/online_record_pdf.html", ctx), name)


@login_required
def my(request):
    """A trainee's own classes: hours, share, missed lessons, exam and certificate, and what the
    apps above add (the subsidy status, trainee_status.py)."""
    user = request.user
    if user.role != Role.TRAINEE or not user.person_id:
        raise Http404("页面不存在")
    rules = services.counting_rules()
    enrollments = (
        restrict(
            Enrollment.objects.select_related("person", "training_class", "training_class__institution"), user
        )
        .filter(removed_at__isnull=True)
        .order_by("-training_class__start_date")
    )
    exams = {
        x.training_class_id: x
        for x in ExamResult.objects.filter(
            person_id=user.person_id, training_class__in=[e.training_class_id for e in enrollments]
        )
    }
    statuses = status_items(user.person_id, [e.training_class_id for e in enrollments])
    rows = []
    for e in enrollments:
        (hours,) = services.class_hours(e.training_class, person=e.person, rules=rules)
        hours.share_pct = _pct(hours.count.share)
        hours.exam = exams.get(e.training_class_id)
        hours.statuses = statuses.get(e.training_class_id, [])
        rows.append(hours)
    return render(
        request,
        "attendance/my.html",
        {"rows": rows, "line_pct": _pct(rules.exam_min_share)},
    )
