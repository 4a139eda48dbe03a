"""培训班: the classes in the user's scope, and one class's page through its life — 申请开班 (第八条),
开班审核 (第九条), training with its change requests (第二十二条), exams (第十条) and 结业审核 (第十一条).

Views stay thin: fetch the class through the scope helper (a foreign class is a 404), check that the
user acts for the class in the role the action needs (otherwise 404 too), call one service, and show
its Chinese refusal on the page. The buttons in the header are exactly `workflow.moves_for()`.
"""

import functools
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peixun.accounts.http import download_response, read_upload, require_perm
from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import get_scoped_or_404, restrict
from peixun.attendance.services import class_hours, counting_rules
from peixun.core.errors import CalendarMissing, PeixunError
from peixun.core.models import Person
from peixun.core.services import current_rule_settings
from peixun.core.tabular import ImportFailed, write_xlsx
from peixun.core.workdays import workdays_left
from peixun.institutions.models import Institution, Teacher
from peixun.intake.models import Platform

from . import services
from .forms import (
    ChangeDecideForm,
    ChangeRequestForm,
    ClassForm,
    CommentForm,
    CompletionApproveForm,
    DocumentForm,
    ExamForm,
    LessonForm,
    ModuleForm,
    ReasonForm,
    ReturnForm,
    RosterForm,
    TeacherEngageForm,
    UploadForm,
    WithdrawForm,
)
from .models import (
    Category,
    ChangeRequest,
    ClassDocument,
    ClassStatus,
    ClassTeacher,
    Enrollment,
    ExamResult,
    Lesson,
    Review,
    ReviewRound,
    TeachingModule,
    TrainingClass,
)
from .workflow import EDITABLE, EXAM_ENTRY, IN_TRAINING, Actor, acts_as, moves_for

S = ClassStatus
CLASS_RELATED = ("institution", "institution__organisation", "area", "area__parent")
OPENING_STAGE = frozenset({S.DRAFT, S.OPENING_RETURNED, S.OPENING_REVIEW})
COMPLETION_STAGE = frozenset({S.APPROVED, S.COMPLETION_RETURNED, S.COMPLETION_REVIEW})
# Before the class was approved there is nothing to examine and nothing to change by request.
NEVER_OPENED = frozenset({S.DRAFT, S.OPENING_REVIEW, S.OPENING_RETURNED, S.OPENING_REJECTED, S.WITHDRAWN})
# Opening material (undertakings, plans) is filed with the application; the rest also later.
OPENING_DOCUMENT_KINDS = frozenset(
    {
        ClassDocument.Kind.INSTITUTION_UNDERTAKING,
        ClassDocument.Kind.TRAINEE_UNDERTAKING,
        ClassDocument.Kind.TEACHING_RESOURCES,
        ClassDocument.Kind.ASSESSMENT_PLAN,
    }
)
REJECTED = frozenset({S.OPENING_REJECTED, S.COMPLETION_REJECTED})
DOCUMENTS_CLOSED = frozenset({S.COMPLETED, S.WITHDRAWN, S.OPENING_REJECTED})
ROSTER_FILE = "enrollments.csv"
ROSTER_TEMPLATE_COLUMNS = ("class_code", "id_number", "name", "phone", "category")
SUBMIT_REFUSAL = "training_submit_refusal"

# The fields the change-request form shows for each kind (the service reads the same payload keys).
CHANGE_FIELDS = {
    ChangeRequest.Kind.ADD_TRAINEE: ("id_number", "name", "category", "phone"),
    ChangeRequest.Kind.REMOVE_TRAINEE: ("enrollment",),
    ChangeRequest.Kind.MOVE_LESSON: ("lesson", "date", "start_time", "end_time"),
    ChangeRequest.Kind.CHANGE_TEACHER: ("lesson", "teacher"),
}


# --- the list ----------------------------------------------------------------------------------------


def _own_institution(user) -> Institution | None:
    if user.organisation_id is None:
        return None
    return (
        restrict(Institution.objects.select_related("area"), user)
        .filter(organisation_id=user.organisation_id)
        .first()
    )


@require_perm(Perm.VIEW_PEOPLE)
def class_list(request):
    classes = restrict(TrainingClass.objects.select_related("institution", "area"), request.user)
    q = request.GET.get("q", "").strip()
    if q:
        classes = classes.filter(
            Q(code__icontains=q) | Q(occupation_name__contains=q) | Q(institution__name__contains=q)
        )
    status = request.GET.get("status", "").strip()
    if status in S.values:
        classes = classes.filter(status=status)
    else:
        status = ""
    page = Paginator(classes.order_by("-start_date", "code"), 50).get_page(request.GET.get("page"))
    _count_trainees_and_findings(page)
    can_apply = has_perm(request.user, Perm.APPLY_CLASSES) and _own_institution(request.user) is not None
    return render(
        request,
        "training/class_list.html",
        {"page": page, "q": q, "status": status, "statuses": S.choices, "can_apply": can_apply},
    )


def _count_trainees_and_findings(classes) -> None:
    """Trainees on the roster and open findings of the classes on one page. Counted for these 50
    only: annotating the whole scope made PostgreSQL count every roster of the province before
    keeping a page of it (5 s for the region at 1,000,000 trainees)."""
    classes = list(classes)
    counts = {
        pk: (trainees, findings)
        for pk, trainees, findings in TrainingClass.objects.filter(pk__in=[c.pk for c in classes])
        .annotate(
            n_trainees=Count("enrollments", filter=Q(enrollments__removed_at__isnull=True), distinct=True),
            n_findings=Count(
                "findings", filter=Q(findings__is_current=True, findings__status="OPEN"), distinct=True
            ),
        )
        .values_list("pk", "n_trainees", "n_findings")
    }
    for c in classes:
        c.trainee_count, c.open_findings = counts.get(c.pk, (0, 0))


# --- fetching a class for an action ------------------------------------------------------------------


def _scoped_class(request, pk: int) -> TrainingClass:
    return get_scoped_or_404(TrainingClass.objects.select_related(*CLASS_RELATED), request.user, pk=pk)


def _as_institution(request, pk: int) -> TrainingClass:
    """The class, for the operator of its own institution; anyone else gets the 404 of a missing page."""
    klass = _scoped_class(request, pk)
    if not acts_as(request.user, klass, Actor.INSTITUTION):
        raise Http404("页面不存在")
    return klass


def _as_reviewer(request, pk: int) -> TrainingClass:
    """The class, for a reviewer (or the city bureau, when escalated) whose area covers it."""
    klass = _scoped_class(request, pk)
    if not acts_as(request.user, klass, Actor.REVIEWER):
        raise Http404("页面不存在")
    return klass


def _detail_url(klass: TrainingClass, tab: str = "") -> str:
    url = reverse("training:detail", args=[klass.pk])
    return f"{url}?tab={tab}" if tab else url


def _back(klass: TrainingClass, tab: str = ""):
    return redirect(_detail_url(klass, tab))


def _teachers_for(klass: TrainingClass):
    """The institution's own teachers and the shared pool of the class's city (第六条): the pool is
    public to the city's institutions, so it is added to what the scope helper gives."""
    return (
        Teacher.objects.filter(
            Q(institution_id=klass.institution_id) | Q(shared_pool_area=klass.area.city_level()), active=True
        )
        .select_related("person", "institution")
        .order_by("institution_id", "person__name")
    )


def _approved_platforms():
    # The register of filed platforms (第十八条) is public; only 已备案 ones may carry online modules.
    return Platform.objects.filter(status=Platform.Status.APPROVED).order_by("name")


def _mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else phone


# --- 申请开班 (第八条) -------------------------------------------------------------------------------


@require_perm(Perm.APPLY_CLASSES)
def class_create(request):
    institution = _own_institution(request.user)
    if institution is None:
        raise Http404("页面不存在")
    form = ClassForm(request.POST or None, institution=institution)
    if request.method == "POST" and form.is_valid():
        try:
            klass = services.class_create(
                institution=institution, actor=request.user, **form.service_fields()
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "已保存开班申请草稿%(code)s。请继续填写花名册、教学计划、课程表、师资和材料，自查无误后提交。"
                )
                % {"code": klass.code},
            )
            return redirect("training:detail", pk=klass.pk)
    return render(
        request,
        "training/create.html",
        {
            "form": form,
            "institution": institution,
            "listed": institution.status == Institution.Status.LISTED,
            "no_occupations": len(form.fields["occupation"].choices) <= 1,
        },
    )


# --- the class page ----------------------------------------------------------------------------------


def _deadline(review: Review | None) -> dict | None:
    """The review's legal clock as the header shows it: running (due date, working days left) or
    stopped while the application is back with the institution."""
    if review is None:
        return None
    if review.state == Review.State.PENDING and review.due_date:
        try:
            left = workdays_left(review.due_date, timezone.localdate())
        except CalendarMissing:
            left = None
        overdue = left is not None and left < 0
        return {
            "review": review,
            "running": True,
            "left": left,
            "overdue": overdue,
            "overdue_days": -left if overdue else 0,
        }
    if review.state == Review.State.RETURNED:
        return {"review": review, "running": False}
    return None


def _last_return(klass: TrainingClass, review: Review | None) -> dict | None:
    """The 一次性告知 list of the latest return, shown at the top while the class is back with the
    institution, grouped as the reviewer sent it."""
    if review is None or klass.status not in (S.OPENING_RETURNED, S.COMPLETION_RETURNED):
        return None
    round_ = (
        review.rounds.filter(returned_at__isnull=False)
        .select_related("returned_by")
        .prefetch_related("deficiencies")
        .order_by("-number")
        .first()
    )
    if round_ is None:
        return None
    items = list(round_.deficiencies.all())
    return {
        "round": round_,
        "count": len(items),
        "system": [d for d in items if d.source == "SYSTEM"],
        "reviewer": [d for d in items if d.source == "REVIEWER"],
    }


def _stage_checks(klass: TrainingClass):
    if klass.status in OPENING_STAGE:
        return "opening", services.opening_checks(klass, run_rules=False)
    if klass.status in COMPLETION_STAGE:
        return "completion", services.completion_checks(klass)
    return "", []


def _pct(share: Decimal) -> Decimal:
    value = (share * 100).quantize(Decimal("0.1"))
    return value.to_integral_value() if value == value.to_integral_value() else value


def _hours_rows(klass: TrainingClass, rules):
    rows = class_hours(klass, rules=rules)
    for r in rows:
        # One decimal, as on the attendance sheet: 94.6% must not read as the 95% line.
        r.share_pct = (r.count.share * 100).quantize(Decimal("0.1"))
    return rows


# (tab, table, extra condition with its parameters) of the numbers the tabs show.
_TAB_COUNTS = (
    ("roster", Enrollment, "AND removed_at IS NULL", ()),
    ("modules", TeachingModule, "", ()),
    ("lessons", Lesson, "", ()),
    ("teachers", ClassTeacher, "", ()),
    ("documents", ClassDocument, "", ()),
    ("exams", ExamResult, "", ()),
    ("changes", ChangeRequest, "AND state = %s", (ChangeRequest.State.PENDING,)),
    ("reviews", Review, "", ()),
)


@functools.cache
def _tab_counts_sql() -> str:
    # Table names from the models and fixed conditions; every value is a parameter.
    counts = ", ".join(
        f"(SELECT COUNT(*) FROM {model._meta.db_table} WHERE training_class_id = %s {extra})"  # noqa: S608
        for _tab, model, extra, _params in _TAB_COUNTS
    )
    return f"SELECT {counts}"


def _tab_counts(klass: TrainingClass) -> dict:
    """The numbers the tabs show, in one query. The class page is the most opened page, and eight
    ORM COUNT queries were a third of its queries and 6–8 ms. Plain SQL: the same in one ORM query
    of eight subqueries took longer to build than the eight queries took to run."""
    params = [p for _tab, _model, _extra, extra_params in _TAB_COUNTS for p in (klass.pk, *extra_params)]
    with connection.cursor() as cursor:
        cursor.execute(_tab_counts_sql(), params)
        row = cursor.fetchone()
    return {tab: n for (tab, *_rest), n in zip(_TAB_COUNTS, row, strict=True)}


def _tabs(klass: TrainingClass, stage: str, counts: dict) -> list[dict]:
    tabs = [
        ("basic", _("基本信息"), None),
        ("roster", _("花名册"), counts["roster"]),
        ("plan", _("教学计划"), counts["modules"]),
        ("schedule", _("课程表"), counts["lessons"]),
        ("teachers", _("师资"), counts["teachers"]),
        ("documents", _("材料"), counts["documents"]),
    ]
    if stage == "opening":
        tabs.append(("checks", _("开班自查"), None))
    elif stage == "completion":
        tabs.append(("checks", _("结业自查"), None))
    tabs.append(("hours", _("考勤与学时"), None))
    if klass.status not in NEVER_OPENED:
        tabs += [("exams", _("考试成绩"), counts["exams"]), ("changes", _("变更申请"), counts["changes"])]
    tabs.append(("history", _("审批记录"), counts["reviews"]))
    return [{"key": k, "label": label, "count": n} for k, label, n in tabs]


def _render_detail(request, klass: TrainingClass, *, tab: str = "", status: int = 200, **extra):
    user = request.user
    is_institution = acts_as(user, klass, Actor.INSTITUTION)
    is_reviewer = acts_as(user, klass, Actor.REVIEWER)
    editable = is_institution and klass.status in EDITABLE
    moves = moves_for(user, klass)
    move_names = {m.name for m in moves}

    review = services.current_review(klass)
    stage, checks = _stage_checks(klass)
    problems = services.all_problems(checks)
    counts = _tab_counts(klass)
    tabs = _tabs(klass, stage, counts)
    keys = {t["key"] for t in tabs}
    tab = tab or request.GET.get("tab", "")
    if tab not in keys:
        tab = "basic"

    ctx = {
        "klass": klass,
        "tab": tab,
        "tabs": tabs,
        "moves": moves,
        "move_names": move_names,
        "is_institution": is_institution,
        "is_reviewer": is_reviewer,
        "editable": editable,
        "in_training": klass.status in IN_TRAINING,
        "stage": stage,
        "checks": checks,
        "problems": problems,
        "deadline": _deadline(review),
        "last_return": _last_return(klass, review),
        "decision": review if review and klass.status in REJECTED else None,
        "refusal": _pop_refusal(request, klass),
        "counts": counts,
    }
    # The forms the header's buttons open (dialogs), for the moves offered now.
    if move_names & {"return_opening", "return_completion"}:
        ctx["return_form"] = extra.pop("return_form", None) or ReturnForm()
    if move_names & {"reject_opening", "reject_completion"}:
        # Own ids per dialog: the approve and reject dialogs both have a "reason" field.
        ctx["reject_form"] = extra.pop("reject_form", None) or ReasonForm(auto_id="reject_%s")
    if "approve_opening" in move_names:
        ctx["approve_form"] = CommentForm(auto_id="approve_%s")
    if "withdraw" in move_names:
        ctx["withdraw_form"] = WithdrawForm()
    if "approve_completion" in move_names:
        ctx["completion_form"] = extra.pop("completion_form", None) or CompletionApproveForm()

    builder = TAB_CONTEXT.get(tab)
    if builder is not None:
        ctx.update(builder(request, klass, ctx, extra))
    ctx.update(extra)
    return render(request, "training/detail.html", ctx, status=status)


def _basic_tab(request, klass, ctx, extra):
    out = {}
    if ctx["editable"]:
        out["class_form"] = extra.pop("class_form", None) or ClassForm(
            initial=ClassForm.initial_of(klass), institution=klass.institution, current=klass
        )
    return out


def _roster_tab(request, klass, ctx, extra):
    enrollments = list(klass.enrollments.select_related("person").order_by("removed_at", "enrolled_at", "id"))
    for e in enrollments:
        e.phone_masked = _mask_phone(e.phone)
    revealable = set()
    if has_perm(request.user, Perm.REVEAL_ID_NUMBER) and enrollments:
        revealable = set(
            restrict(
                Person.objects.filter(pk__in=[e.person_id for e in enrollments]), request.user
            ).values_list("pk", flat=True)
        )
    out = {"enrollments": enrollments, "revealable": revealable, "categories": Category.choices}
    if ctx["editable"]:
        out["roster_form"] = extra.pop("roster_form", None) or RosterForm()
        out["upload_form"] = UploadForm()
    return out


def _plan_tab(request, klass, ctx, extra):
    modules = list(klass.modules.select_related("platform"))
    out = {
        "modules": modules,
        "module_total": sum((m.hours for m in modules), 0),
        "module_online": sum((m.hours for m in modules if m.mode == Lesson.Mode.ONLINE), 0),
    }
    if ctx["editable"]:
        out["module_form"] = extra.pop("module_form", None) or ModuleForm(platforms=_approved_platforms())
    return out


def _schedule_tab(request, klass, ctx, extra):
    lessons = list(klass.lessons.select_related("teacher"))
    out = {
        "lessons": lessons,
        "lesson_total": sum((x.hours for x in lessons), 0),
        "lesson_online": sum((x.hours for x in lessons if x.mode == Lesson.Mode.ONLINE), 0),
        "minutes_per_class_hour": current_rule_settings().minutes_per_class_hour,
    }
    if ctx["editable"]:
        out["lesson_form"] = extra.pop("lesson_form", None) or LessonForm(teachers=_teachers_for(klass))
    return out


def _teachers_tab(request, klass, ctx, extra):
    engaged = list(
        klass.class_teachers.select_related("teacher__person", "teacher__institution").prefetch_related(
            "teacher__occupations"
        )
    )
    out = {"engaged": engaged, "pool_city": klass.area.city_level()}
    if ctx["editable"]:
        out["teacher_form"] = extra.pop("teacher_form", None) or TeacherEngageForm(
            teachers=_teachers_for(klass)
        )
    return out


def _document_form(klass: TrainingClass, data=None, files=None) -> DocumentForm:
    form = DocumentForm(data, files)
    if klass.status not in EDITABLE:
        form.fields["kind"].choices = [
            (k, label) for k, label in form.fields["kind"].choices if k not in OPENING_DOCUMENT_KINDS
        ]
    return form


def _documents_tab(request, klass, ctx, extra):
    documents = list(klass.documents.select_related("uploaded_by"))
    groups = []
    for kind, label in ClassDocument.Kind.choices:
        docs = [d for d in documents if d.kind == kind]
        if docs:
            groups.append({"kind": kind, "label": label, "documents": docs})
    out = {"document_groups": groups}
    if ctx["is_institution"] and klass.status not in DOCUMENTS_CLOSED:
        out["document_form"] = extra.pop("document_form", None) or _document_form(klass)
    return out


def _checks_tab(request, klass, ctx, extra):
    return {}


def _hours_tab(request, klass, ctx, extra):
    rules = counting_rules()
    rows = _hours_rows(klass, rules)
    line = rules.exam_min_share
    return {
        "hours_rows": rows,
        "line_pct": _pct(line),
        "below_count": sum(1 for r in rows if r.below_line),
    }


def _exams_tab(request, klass, ctx, extra):
    rules = counting_rules()
    rows = _hours_rows(klass, rules)
    results = {e.person_id: e for e in klass.exams.all()}
    last = klass.lessons.order_by("-date").values_list("date", flat=True).first()
    default_date = max(last, timezone.localdate()) if last else timezone.localdate()
    can_enter = ctx["is_institution"] and klass.status in EXAM_ENTRY
    for r in rows:
        r.result = results.get(r.person.pk)
        if can_enter and not r.below_line:
            r.form = ExamForm(
                initial={
                    "enrollment": r.enrollment.pk,
                    "exam_date": r.result.exam_date if r.result else default_date,
                    "score": r.result.score if r.result else None,
                    "passed": ("1" if r.result.passed else "0") if r.result else "",
                },
                prefix=f"e{r.enrollment.pk}",
            )
    line = rules.exam_min_share
    return {"exam_rows": rows, "can_enter_exams": can_enter, "line_pct": _pct(line)}


def _changes_tab(request, klass, ctx, extra):
    requests_ = list(klass.change_requests.select_related("requested_by", "decided_by"))
    out = {"change_requests": requests_, "change_kinds": ChangeRequest.Kind.choices}
    if ctx["is_institution"] and klass.status in IN_TRAINING:
        kind = extra.pop("change_kind", None) or request.GET.get("kind", "")
        if kind not in CHANGE_FIELDS:
            kind = ChangeRequest.Kind.ADD_TRAINEE
        form = extra.pop("change_form", None) or ChangeRequestForm(
            initial={"kind": kind}, training_class=klass, teachers=_teachers_for(klass)
        )
        out.update(
            change_form=form,
            change_kind=kind,
            change_fields=[form[name] for name in CHANGE_FIELDS[kind]],
        )
    if ctx["is_reviewer"]:
        out["decide_form"] = ChangeDecideForm()
    return out


def _history_tab(request, klass, ctx, extra):
    reviews = list(
        klass.reviews.select_related("decided_by")
        .prefetch_related(
            Prefetch(
                "rounds",
                queryset=ReviewRound.objects.select_related("submitted_by", "returned_by").prefetch_related(
                    "deficiencies"
                ),
            )
        )
        .order_by("first_submitted_at", "id")
    )
    for review in reviews:
        for round_ in review.rounds.all():
            items = list(round_.deficiencies.all())
            round_.system_items = [d for d in items if d.source == "SYSTEM"]
            round_.reviewer_items = [d for d in items if d.source == "REVIEWER"]
            round_.item_count = len(items)
            round_.system_count = len(round_.system_items)
    return {"reviews": reviews}


TAB_CONTEXT = {
    "basic": _basic_tab,
    "roster": _roster_tab,
    "plan": _plan_tab,
    "schedule": _schedule_tab,
    "teachers": _teachers_tab,
    "documents": _documents_tab,
    "checks": _checks_tab,
    "hours": _hours_tab,
    "exams": _exams_tab,
    "changes": _changes_tab,
    "history": _history_tab,
}


@require_perm(Perm.VIEW_PEOPLE)
def class_detail(request, pk: int):
    return _render_detail(request, _scoped_class(request, pk))


# --- the moves (workflow.MOVES) ------------------------------------------------------------------------


def _refuse(request, klass: TrainingClass, exc: PeixunError) -> None:
    """A refused submission lists every problem at once (一次性告知): kept for the next page view."""
    message = exc.message
    head, sep, rest = message.partition("：")
    problems = [p for p in rest.split("；") if p.strip()] if sep and rest else []
    if not problems:
        messages.error(request, message)
        return
    request.session[SUBMIT_REFUSAL] = {"pk": klass.pk, "title": head, "problems": problems}


def _pop_refusal(request, klass: TrainingClass):
    refusal = request.session.get(SUBMIT_REFUSAL)
    if refusal and refusal.get("pk") == klass.pk:
        del request.session[SUBMIT_REFUSAL]
        return refusal
    return None


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def submit(request, pk: int):
    """提交开班申请 (first time or after correction); refused with the whole problem list."""
    klass = _as_institution(request, pk)
    try:
        review = services.opening_submit(training_class=klass, actor=request.user)
    except PeixunError as exc:
        _refuse(request, klass, exc)
        return _back(klass, "checks")
    messages.success(
        request,
        _("开班申请已提交审核，审核截止日期为%(due)s。审核期间不能修改申请内容。")
        % {"due": f"{review.due_date:%Y-%m-%d}"},
    )
    return _back(klass)


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def withdraw(request, pk: int):
    klass = _as_institution(request, pk)
    form = WithdrawForm(request.POST)
    form.is_valid()
    try:
        services.class_withdraw(
            training_class=klass, actor=request.user, reason=form.cleaned_data.get("reason", "")
        )
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤回开班申请"))
    return _back(klass)


@require_perm(Perm.REVIEW_CLASSES)
@require_POST
def review_return(request, pk: int):
    """退回补正 (一次性告知): what the system found goes back in any case (the service adds it);
    the reviewer adds their own items, one per line."""
    klass = _as_reviewer(request, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, klass, return_form=form, status=400)
    _stage, checks = _stage_checks(klass)
    found = set(services.all_problems(checks))
    extra = [item for item in dict.fromkeys(form.items()) if item not in found]
    try:
        round_ = services.review_return(training_class=klass, actor=request.user, deficiencies=extra)
    except PeixunError as exc:
        messages.error(request, exc.message)
        return _back(klass)
    messages.success(
        request,
        _("已退回补正，%(n)s项需补正事项已一次性告知机构；审核时限暂停。")
        % {"n": round_.deficiencies.count()},
    )
    return _back(klass, "history")


@require_perm(Perm.REVIEW_CLASSES)
@require_POST
def approve(request, pk: int):
    klass = _as_reviewer(request, pk)
    form = CommentForm(request.POST)
    form.is_valid()
    try:
        services.opening_approve(
            training_class=klass, actor=request.user, reason=form.cleaned_data.get("reason", "")
        )
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已批准开班"))
    return _back(klass)


@require_perm(Perm.REVIEW_CLASSES)
@require_POST
def reject(request, pk: int):
    klass = _as_reviewer(request, pk)
    form = ReasonForm(request.POST, auto_id="reject_%s")
    if not form.is_valid():
        messages.error(request, _("不予批准须填写理由"))
        return _back(klass)
    try:
        services.opening_reject(training_class=klass, actor=request.user, reason=form.cleaned_data["reason"])
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已作出不予批准的决定，理由已通知机构"))
    return _back(klass)


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def completion_submit(request, pk: int):
    klass = _as_institution(request, pk)
    try:
        review = services.completion_submit(training_class=klass, actor=request.user)
    except PeixunError as exc:
        _refuse(request, klass, exc)
        return _back(klass, "checks")
    messages.success(
        request, _("结业申请已提交审核，审核截止日期为%(due)s。") % {"due": f"{review.due_date:%Y-%m-%d}"}
    )
    return _back(klass)


@require_perm(Perm.REVIEW_CLASSES)
@require_POST
def completion_approve(request, pk: int):
    """结业审核通过 (第十一条), recording how it was reviewed, and the certificates in the same step."""
    klass = _as_reviewer(request, pk)
    form = CompletionApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请记录材料审核情况和部门数据比对情况（第十一条）"))
        return _back(klass)
    try:
        # Imported here: the certificates layer sits above training.
        from peixun.certificates.completion import completion_approve_and_certify
    except ImportError:
        messages.error(request, _("发证功能尚未就绪，暂不能办理结业审核通过，请稍后再试"))
        return _back(klass)
    try:
        completion_approve_and_certify(training_class=klass, actor=request.user, **form.cleaned_data)
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("结业审核已通过，证书已签发"))
    return _back(klass)


@require_perm(Perm.REVIEW_CLASSES)
@require_POST
def completion_reject(request, pk: int):
    klass = _as_reviewer(request, pk)
    form = ReasonForm(request.POST, auto_id="reject_%s")
    if not form.is_valid():
        messages.error(request, _("结业不予通过须填写理由"))
        return _back(klass)
    try:
        services.completion_reject(
            training_class=klass, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已作出结业不予通过的决定，理由已通知机构"))
    return _back(klass)


# --- preparing the application: class data, roster, plan, schedule, teachers, documents ---------------


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def class_update(request, pk: int):
    klass = _as_institution(request, pk)
    form = ClassForm(request.POST, institution=klass.institution, current=klass)
    if form.is_valid():
        try:
            services.class_update(training_class=klass, actor=request.user, **form.service_fields())
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("基本信息已保存"))
            return _back(klass, "basic")
    klass.refresh_from_db()
    return _render_detail(request, klass, tab="basic", class_form=form, status=400)


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def roster_add(request, pk: int):
    klass = _as_institution(request, pk)
    form = RosterForm(request.POST)
    if form.is_valid():
        try:
            enrollment = services.roster_add(training_class=klass, actor=request.user, **form.cleaned_data)
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("已将%(name)s（%(id)s）加入花名册")
                % {"name": enrollment.person.name, "id": enrollment.person.id_masked},
            )
            return _back(klass, "roster")
    return _render_detail(request, klass, tab="roster", roster_form=form, status=400)


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def roster_remove(request, pk: int, enrollment: int):
    klass = _as_institution(request, pk)
    row = klass.enrollments.select_related("person", "training_class").filter(pk=enrollment).first()
    if row is None:
        raise Http404("页面不存在")
    try:
        services.roster_remove(enrollment=row, actor=request.user)
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已将%(name)s移出花名册") % {"name": row.person.name})
    return _back(klass, "roster")


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def roster_upload(request, pk: int):
    """花名册 in the contract's enrollments columns, CSV or Excel: all or nothing, errors by row."""
    klass = _as_institution(request, pk)
    upload = request.FILES.get("file")
    try:
        table = read_upload(
            upload,
            required=services.ROSTER_COLUMNS,
            optional=services.ROSTER_OPTIONAL,
            expected_name=ROSTER_FILE,
        )
        result = services.roster_import(training_class=klass, table=table, actor=request.user)
    except ImportFailed as exc:
        return _render_detail(
            request,
            klass,
            tab="roster",
            status=400,
            upload_failure=exc.message,
            upload_errors=exc.errors,
            upload_name=getattr(upload, "name", ""),
        )
    except PeixunError as exc:
        return _render_detail(request, klass, tab="roster", status=400, upload_failure=exc.message)
    messages.success(request, _("花名册“%(file)s”已导入%(n)s人") % {"file": table.file, "n": result["rows"]})
    return _back(klass, "roster")


@require_perm(Perm.APPLY_CLASSES)
def roster_template(request, pk: int):
    _as_institution(request, pk)  # only the class's own institution fills its roster
    content = write_xlsx("enrollments", ROSTER_TEMPLATE_COLUMNS, [])
    return download_response(content, "roster-template.xlsx")


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def module_add(request, pk: int):
    klass = _as_institution(request, pk)
    form = ModuleForm(request.POST, platforms=_approved_platforms())
    if form.is_valid():
        try:
            services.module_add(training_class=klass, actor=request.user, **form.cleaned_data)
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已添加教学计划模块“%(name)s”") % {"name": form.cleaned_data["name"]})
            return _back(klass, "plan")
    return _render_detail(request, klass, tab="plan", module_form=form, status=400)


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def module_delete(request, pk: int, module: int):
    klass = _as_institution(request, pk)
    row = klass.modules.select_related("training_class").filter(pk=module).first()
    if row is None:
        raise Http404("页面不存在")
    try:
        services.module_delete(module=row, actor=request.user)
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除教学计划模块“%(name)s”") % {"name": row.name})
    return _back(klass, "plan")


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def lesson_add(request, pk: int):
    klass = _as_institution(request, pk)
    form = LessonForm(request.POST, teachers=_teachers_for(klass))
    if form.is_valid():
        try:
            lesson = services.lesson_add(training_class=klass, actor=request.user, **form.cleaned_data)
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("已添加%(d)s %(s)s-%(e)s的课程")
                % {
                    "d": f"{lesson.date:%Y-%m-%d}",
                    "s": f"{lesson.start_time:%H:%M}",
                    "e": f"{lesson.end_time:%H:%M}",
                },
            )
            return _back(klass, "schedule")
    return _render_detail(request, klass, tab="schedule", lesson_form=form, status=400)


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def lesson_delete(request, pk: int, lesson: int):
    klass = _as_institution(request, pk)
    row = klass.lessons.select_related("training_class").filter(pk=lesson).first()
    if row is None:
        raise Http404("页面不存在")
    try:
        services.lesson_delete(lesson=row, actor=request.user)
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除%(d)s的课程") % {"d": f"{row.date:%Y-%m-%d}"})
    return _back(klass, "schedule")


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def teacher_engage(request, pk: int):
    klass = _as_institution(request, pk)
    form = TeacherEngageForm(request.POST, teachers=_teachers_for(klass))
    if form.is_valid():
        try:
            services.teacher_engage(training_class=klass, actor=request.user, **form.cleaned_data)
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("已聘用%(name)s为本班授课教师") % {"name": form.cleaned_data["teacher"].person.name},
            )
            return _back(klass, "teachers")
    return _render_detail(request, klass, tab="teachers", teacher_form=form, status=400)


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def document_upload(request, pk: int):
    klass = _as_institution(request, pk)
    form = _document_form(klass, request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            document = services.document_upload(
                training_class=klass,
                actor=request.user,
                kind=data["kind"],
                title=data["title"],
                upload=data["file"],
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已上传“%(title)s”") % {"title": document.title})
            return _back(klass, "documents")
    return _render_detail(request, klass, tab="documents", document_form=form, status=400)


@require_perm(Perm.VIEW_PEOPLE)
def document_download(request, pk: int, document: int):
    """A filed document, for whoever may see the class (scope checked on the document itself)."""
    doc = get_scoped_or_404(ClassDocument.objects.all(), request.user, pk=document, training_class_id=pk)
    name = doc.file.name.rsplit("/", 1)[-1]
    return FileResponse(doc.file.open("rb"), as_attachment=True, filename=name)


# --- during training: exams and change requests ---------------------------------------------------


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def exam_record(request, pk: int):
    """结业考试成绩 of one trainee; the service refuses anyone below the hours line (第十条)."""
    klass = _as_institution(request, pk)
    enrollment_id = request.POST.get("enrollment", "")
    if not enrollment_id.isdigit():
        raise Http404("页面不存在")
    form = ExamForm(request.POST, prefix=f"e{enrollment_id}")
    enrollment = (
        klass.enrollments.select_related("person", "training_class").filter(pk=int(enrollment_id)).first()
    )
    if enrollment is None:
        raise Http404("页面不存在")
    if not form.is_valid():
        problems = "；".join(
            f"{form.fields[n].label}：{e[0]}" for n, e in form.errors.items() if n in form.fields
        )
        messages.error(
            request, _("%(name)s的成绩未保存：%(p)s") % {"name": enrollment.person.name, "p": problems}
        )
        return _back(klass, "exams")
    data = form.cleaned_data
    try:
        services.exam_record(
            enrollment=enrollment,
            actor=request.user,
            exam_date=data["exam_date"],
            score=data["score"],
            passed=data["passed"],
        )
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已保存%(name)s的考试成绩") % {"name": enrollment.person.name})
    return _back(klass, "exams")


@require_perm(Perm.APPLY_CLASSES)
@require_POST
def change_create(request, pk: int):
    klass = _as_institution(request, pk)
    form = ChangeRequestForm(request.POST, training_class=klass, teachers=_teachers_for(klass))
    kind = request.POST.get("kind", "")
    if form.is_valid():
        try:
            change = services.change_request_create(
                training_class=klass,
                actor=request.user,
                kind=form.cleaned_data["kind"],
                payload=form.payload(),
                reason=form.cleaned_data["reason"],
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已提交变更申请：%(s)s，待审核员同意后生效") % {"s": change.summary})
            return _back(klass, "changes")
    return _render_detail(request, klass, tab="changes", change_form=form, change_kind=kind, status=400)


@require_perm(Perm.REVIEW_CLASSES)
@require_POST
def change_decide(request, pk: int, cr: int):
    klass = _as_reviewer(request, pk)
    change = klass.change_requests.select_related("training_class").filter(pk=cr).first()
    if change is None:
        raise Http404("页面不存在")
    form = ChangeDecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择同意或不同意"))
        return _back(klass, "changes")
    approve_it = form.cleaned_data["decision"] == "approve"
    try:
        services.change_request_decide(
            request=change, actor=request.user, approve=approve_it, reason=form.cleaned_data["reason"]
        )
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            (_("已同意变更：%(s)s") if approve_it else _("已不同意变更：%(s)s")) % {"s": change.summary},
        )
    return _back(klass, "changes")
