"""Pages of 培训补贴 (第十四条、第二十一条): applications, review, objections, payment — and the public
公示 with its objection form. Views fetch through the scope helper, call one service, render; an
application outside the user's scope, or a move the user may not make, is a 404."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from peixun.accounts.http import require_perm
from peixun.accounts.roles import OFFICIAL_ROLES, Perm, Role, has_perm
from peixun.accounts.scope import get_scoped_or_404, restrict
from peixun.core.errors import PeixunError
from peixun.core.identity import mask_name
from peixun.core.models import AuditEntry
from peixun.core.paging import keyed_page
from peixun.core.services import current_rule_settings
from peixun.core.workdays import deadline_text
from peixun.training.models import ClassStatus, Enrollment, TrainingClass

from .eligibility import evaluate, load_facts
from .forms import (
    ApproveForm,
    InstitutionApplyForm,
    ObjectionDecideForm,
    ObjectionForm,
    OptionalReasonForm,
    PaymentForm,
    PersonApplyForm,
    ReasonForm,
    ResubmitForm,
    ReturnForm,
)
from .models import Objection, Payment, SubsidyApplication, SubsidyLine
from .pending import deadline
from .services import (
    PAYEE_FOR,
    eligibility_params,
    line_stop,
    notices_close,
    objection_decide,
    objection_lodge,
    payment_record,
    public_notice_lines,
    subsidy_apply,
    subsidy_approve,
    subsidy_candidates,
    subsidy_reject,
    subsidy_resubmit,
    subsidy_return,
    subsidy_withdraw,
)
from .workflow import PAGE_MOVES, Actor, acts_as, application_move, line_move, moves_for

A = SubsidyApplication.Status
L = SubsidyLine.Status
PAGE_SIZE = 50
PUBLIC_PAGE_SIZE = 30
APPLICATION_RELATED = (
    "training_class__area",
    "institution__organisation",
    "person",
    "submitted_by",
    "decided_by",
)


def may_view_subsidies(user) -> bool:
    """Applicants, reviewers, finance and the other officials (within their scope)."""
    return any(
        has_perm(user, p) for p in (Perm.APPLY_CLASSES, Perm.REVIEW_SUBSIDIES, Perm.PAY_SUBSIDIES)
    ) or (getattr(user, "role", None) in OFFICIAL_ROLES)


def require_subsidy_view(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_view_subsidies(request.user):
            raise Http404("页面不存在")
        return view(request, *args, **kwargs)

    return wrapped


def _with_deadline(app: SubsidyApplication, today) -> SubsidyApplication:
    if app.status == A.SUBMITTED:
        app.days_left, app.urgency = deadline(app.due_date, today)
        app.deadline_text = deadline_text(app.days_left)
    else:
        app.days_left, app.urgency, app.deadline_text = None, "", ""
    return app


# --- applications -------------------------------------------------------------------------------


def _applicable(user) -> list[dict]:
    """Completed classes (or, for a trainee, their own completed training) with trainees not yet in
    a live application: where the 申请补贴 button leads."""
    if not has_perm(user, Perm.APPLY_CLASSES):
        return []
    if user.role == Role.TRAINEE:
        enrollments = (
            Enrollment.objects.filter(
                person_id=user.person_id,
                removed_at__isnull=True,
                training_class__status=ClassStatus.COMPLETED,
            )
            .exclude(subsidy_lines__status__in=SubsidyLine.LIVE)
            .select_related("training_class__institution")
        )
        return [{"klass": e.training_class, "open": 1} for e in enrollments]
    classes = list(
        restrict(TrainingClass.objects.filter(status=ClassStatus.COMPLETED), user)
        .select_related("institution")
        .order_by("-end_date", "code")[:100]
    )
    enrolled = dict(
        Enrollment.objects.filter(training_class__in=classes, removed_at__isnull=True)
        .values_list("training_class")
        .annotate(n=Count("id"))
    )
    # A line belongs to an application of its trainee's class: found through the few applications
    # of these classes, not through their thousands of enrollments (36 → 5 ms for an institution
    # with 100 completed classes).
    covered = dict(
        SubsidyLine.objects.filter(application__training_class__in=classes, status__in=SubsidyLine.LIVE)
        .values_list("application__training_class")
        .annotate(n=Count("id"))
    )
    rows = [{"klass": c, "open": enrolled.get(c.pk, 0) - covered.get(c.pk, 0)} for c in classes]
    return [r for r in rows if r["open"] > 0][:20]


@require_subsidy_view
@require_GET
def application_list(request):
    user = request.user
    queryset = restrict(
        SubsidyApplication.objects.select_related("training_class", "institution", "person"), user
    )
    status = request.GET.get("status", "")
    if status in A.values:
        queryset = queryset.filter(status=status)
    else:
        status = ""
    q = request.GET.get("q", "").strip()[:50]
    if q:
        queryset = queryset.filter(
            Q(code__icontains=q)
            | Q(training_class__code__icontains=q)
            | Q(institution__name__contains=q)
            | Q(training_class__occupation_name__contains=q)
        )
    page = keyed_page(queryset.order_by("-submitted_at", "-id"), request.GET.get("page"), PAGE_SIZE)
    # The line sums of this page's applications only: annotating the whole scope summed every
    # line of the region before keeping a page of it (seconds at 1,000,000 trainees).
    sums = {
        row["pk"]: row
        for row in SubsidyApplication.objects.filter(pk__in=[app.pk for app in page])
        .annotate(
            trainees=Count("lines"),
            total=Sum("lines__amount", filter=~Q(lines__status=L.REFUSED)),
            # 公示结束 says nothing about the money: the list shows how much of it has been paid.
            live=Count("lines", filter=~Q(lines__status=L.REFUSED)),
            paid=Count("lines", filter=Q(lines__status=L.PAID)),
        )
        .values("pk", "trainees", "total", "live", "paid")
    }
    today = timezone.localdate()
    for app in page:
        row = sums.get(app.pk, {})
        app.trainees, app.total = row.get("trainees", 0), row.get("total")
        app.live, app.paid = row.get("live", 0), row.get("paid", 0)
        _with_deadline(app, today)
    return render(
        request,
        "subsidies/application_list.html",
        {
            "page": page,
            "status": status,
            "statuses": A.choices,
            "q": q,
            "applicable": _applicable(user),
            "may_apply": has_perm(user, Perm.APPLY_CLASSES),
            # A trainee also sees the subsidy their institution applied for on their behalf.
            "my_lines": (
                restrict(
                    SubsidyLine.objects.select_related(
                        "application__training_class", "application__institution", "certificate"
                    ),
                    user,
                ).order_by("-application__submitted_at")
                if user.role == Role.TRAINEE
                else None
            ),
        },
    )


def _timeline(app: SubsidyApplication) -> list[AuditEntry]:
    entries = list(
        AuditEntry.objects.filter(object_type=SubsidyApplication._meta.label, object_id=str(app.pk)).order_by(
            "at", "id"
        )
    )
    for e in entries:
        after = e.after or {}
        parts = []
        if after.get("reasons"):
            parts.append("；".join(after["reasons"]))
        if after.get("reason"):
            parts.append(after["reason"])
        if after.get("trainee"):
            parts.append(f"学员{after['trainee']}")
        if after.get("voucher_no"):
            parts.append(f"凭证号{after['voucher_no']}，¥{after.get('amount')}")
        if after.get("failure_reason"):
            parts.append(f"失败原因：{after['failure_reason']}")
        if after.get("notice_start"):
            parts.append(f"公示{after['notice_start']}至{after['notice_end']}")
        e.comment = "；".join(parts)
    return entries


@require_subsidy_view
@require_GET
def application_detail(request, pk: int):
    user = request.user
    app = get_scoped_or_404(SubsidyApplication.objects.select_related(*APPLICATION_RELATED), user, pk=pk)
    lines = list(app.lines.select_related("person", "certificate", "enrollment").order_by("id"))
    reviewer = acts_as(user, app, Actor.REVIEWER)
    for line in lines:
        line.check = None
    if reviewer and app.status == A.SUBMITTED:
        # What the approval would find today, so the reviewer sees it before clicking.
        pending = [line for line in lines if line.status == L.PENDING]
        facts = load_facts(app.training_class, [line.enrollment for line in pending])
        params = eligibility_params()
        applied_on = timezone.localdate(app.submitted_at)
        for line in pending:
            line.check = [p.text for p in evaluate(facts[line.enrollment_id], params, applied_on)]
    today = timezone.localdate()
    _with_deadline(app, today)
    payable = [line for line in lines if line.status == L.PAYABLE]
    return render(
        request,
        "subsidies/application_detail.html",
        {
            "app": app,
            "lines": lines,
            "moves": moves_for(user, app),
            "reviewer": reviewer,
            "stoppable": line_move("stop").source,
            "objections": Objection.objects.filter(line__application=app).select_related("line__person")
            if reviewer
            else [],
            "payments": app.payments.prefetch_related("lines__person").select_related("recorded_by"),
            "timeline": _timeline(app),
            "can_pay": bool(payable) and acts_as(user, app, Actor.FINANCE),
            "total": sum((line.amount for line in lines if line.status != L.REFUSED), 0),
        },
    )


@require_perm(Perm.APPLY_CLASSES)
@require_http_methods(["GET", "POST"])
def application_apply(request, class_pk: int):
    """申请补贴 for a completed class: the institution picks trainees (those with problems cannot be
    picked and show why); a trainee applies for themself."""
    user = request.user
    if user.role == Role.TRAINEE:
        enrollment = get_scoped_or_404(
            Enrollment.objects.select_related(
                "training_class__institution", "training_class__area", "person"
            ),
            user,
            training_class_id=class_pk,
        )
        klass, roster = enrollment.training_class, [enrollment]
        form = PersonApplyForm(request.POST or None)
    else:
        klass = get_scoped_or_404(
            TrainingClass.objects.select_related("institution", "area"), user, pk=class_pk
        )
        roster = list(
            restrict(Enrollment.objects.filter(training_class=klass), user)
            .select_related("person")
            .order_by("id")
        )
        form = InstitutionApplyForm(request.POST or None, initial={"payee_name": klass.institution.name})
    completed = klass.status == ClassStatus.COMPLETED
    candidates = subsidy_candidates(training_class=klass, enrollments=roster) if completed else []
    if request.method == "POST" and completed and form.is_valid():
        data = form.cleaned_data
        chosen = None
        if user.role != Role.TRAINEE:
            picked = set(request.POST.getlist("enrollment"))
            chosen = [e for e in roster if str(e.pk) in picked]
            if not chosen:
                form.add_error(None, "请至少选择一名学员")
        if not form.errors:
            try:
                result = subsidy_apply(
                    training_class=klass,
                    actor=user,
                    enrollments=chosen,
                    payee_name=data.get("payee_name", ""),
                    payee_account=data["payee_account"],
                    payee_bank=data.get("payee_bank", ""),
                )
            except PeixunError as exc:
                form.add_error(None, exc.message)
            else:
                app = result.application
                messages.success(
                    request,
                    f"已提交补贴申请{app.code}，共{app.lines.count()}人，审核截止日期{app.due_date:%Y-%m-%d}。",
                )
                for s in result.skipped:
                    messages.warning(
                        request, f"{s.enrollment.person.name}未列入申请：{'；'.join(s.problems)}"
                    )
                return redirect("subsidies:application_detail", pk=app.pk)
    return render(
        request,
        "subsidies/apply.html",
        {
            "klass": klass,
            "form": form,
            "candidates": candidates,
            "completed": completed,
            "trainee": user.role == Role.TRAINEE,
            "picked": set(request.POST.getlist("enrollment")) if request.method == "POST" else None,
        },
    )


MOVE_FORMS = {
    "return": ReturnForm,
    "approve": ApproveForm,
    "reject": ReasonForm,
    "resubmit": ResubmitForm,
    "withdraw": OptionalReasonForm,
}


def _run_move(name: str, app: SubsidyApplication, user, form) -> None:
    data = form.cleaned_data
    if name == "return":
        subsidy_return(application=app, actor=user, reasons=data["reasons"])
    elif name == "approve":
        subsidy_approve(application=app, actor=user, line_decisions=form.decisions(), reason=data["reason"])
    elif name == "reject":
        subsidy_reject(application=app, actor=user, reason=data["reason"])
    elif name == "resubmit":
        subsidy_resubmit(
            application=app,
            actor=user,
            note=data["note"],
            payee_name=data.get("payee_name"),
            payee_account=data["payee_account"],
            payee_bank=data["payee_bank"],
        )
    elif name == "withdraw":
        subsidy_withdraw(application=app, actor=user, reason=data["reason"])


@login_required
@require_http_methods(["GET", "POST"])
def application_move_view(request, pk: int, name: str):
    if name not in PAGE_MOVES:
        raise Http404("页面不存在")
    user = request.user
    app = get_scoped_or_404(SubsidyApplication.objects.select_related(*APPLICATION_RELATED), user, pk=pk)
    move = application_move(name)
    if not acts_as(user, app, move.actor):
        raise Http404("页面不存在")
    if app.status not in move.source:
        messages.error(request, f"补贴申请当前状态为“{app.get_status_display()}”，不能{move.label}。")
        return redirect("subsidies:application_detail", pk=app.pk)
    lines = list(app.lines.filter(status=L.PENDING).select_related("person", "certificate", "enrollment"))
    kwargs = {"lines": lines} if name == "approve" else {}
    initial = {}
    if name == "resubmit":
        initial = {
            "payee_name": app.payee_name,
            "payee_account": app.payee_account,
            "payee_bank": app.payee_bank,
        }
    form = MOVE_FORMS[name](request.POST or None, initial=initial, **kwargs)
    if name == "resubmit" and app.applicant_kind == SubsidyApplication.Applicant.PERSON:
        form.fields.pop("payee_name")  # a social security card is always in the trainee's own name
    if request.method == "POST" and form.is_valid():
        try:
            _run_move(name, app, user, form)
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已{move.label}：补贴申请{app.code}。")
            return redirect("subsidies:application_detail", pk=app.pk)
    if name == "approve":
        facts = load_facts(app.training_class, [line.enrollment for line in lines])
        params = eligibility_params()
        applied_on = timezone.localdate(app.submitted_at)
        for line in lines:
            line.check = [p.text for p in evaluate(facts[line.enrollment_id], params, applied_on)]
    return render(
        request,
        "subsidies/move.html",
        {
            "app": app,
            "move": move,
            "form": form,
            "lines": lines,
            "notice_workdays": current_rule_settings().public_notice_workdays,
        },
    )


# --- objections ---------------------------------------------------------------------------------


@require_perm(Perm.REVIEW_SUBSIDIES)
@require_GET
def objection_list(request):
    queryset = restrict(
        Objection.objects.select_related("line__person", "line__application__institution", "decided_by"),
        request.user,
    )
    status = request.GET.get("status", Objection.Status.OPEN)
    if status in Objection.Status.values:
        queryset = queryset.filter(status=status)
    else:
        status = ""
    return render(
        request,
        "subsidies/objection_list.html",
        {
            "page": Paginator(queryset.order_by("-lodged_at", "-id"), PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "status": status,
            "statuses": Objection.Status.choices,
        },
    )


@require_perm(Perm.REVIEW_SUBSIDIES)
@require_http_methods(["GET", "POST"])
def objection_decide_view(request, pk: int):
    objection = get_scoped_or_404(
        Objection.objects.select_related(
            "line__person",
            "line__application__institution",
            "line__application__training_class",
            "decided_by",
        ),
        request.user,
        pk=pk,
    )
    form = ObjectionDecideForm(request.POST or None)
    if request.method == "POST":
        if objection.status != Objection.Status.OPEN:
            messages.error(request, "该异议已处理。")
            return redirect("subsidies:objection_decide", pk=objection.pk)
        if form.is_valid():
            try:
                objection_decide(
                    objection=objection,
                    actor=request.user,
                    upheld=form.cleaned_data["decision"] == "upheld",
                    reason=form.cleaned_data["reason"],
                )
            except PeixunError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "异议已处理。")
                return redirect("subsidies:objections")
    others = Objection.objects.filter(line=objection.line).exclude(pk=objection.pk).order_by("lodged_at")
    return render(
        request,
        "subsidies/objection_decide.html",
        {
            "objection": objection,
            "line": objection.line,
            "app": objection.line.application,
            "form": form,
            "others": others,
        },
    )


# --- payment ------------------------------------------------------------------------------------


@require_perm(Perm.PAY_SUBSIDIES)
@require_GET
def payments(request):
    """补贴拨付: what is payable in the finance officer's area. Notice periods that ended are closed
    first, so a subsidy is payable here on the first working day after its 公示."""
    notices_close()
    user = request.user
    payable_ids = SubsidyLine.objects.filter(status=L.PAYABLE).values("application_id")
    applications = list(
        restrict(SubsidyApplication.objects.filter(pk__in=payable_ids), user)
        .select_related("training_class", "institution")
        .order_by("notice_end", "id")[:200]
    )
    by_app: dict[int, list] = {}
    for line in SubsidyLine.objects.filter(application__in=applications, status=L.PAYABLE).select_related(
        "person"
    ):
        by_app.setdefault(line.application_id, []).append(line)
    for app in applications:
        app.payable = by_app.get(app.pk, [])
        app.payable_total = sum((line.amount for line in app.payable), 0)
    recent = restrict(Payment.objects.select_related("application", "recorded_by"), user).order_by(
        "-recorded_at", "-id"
    )[:20]
    return render(request, "subsidies/payments.html", {"applications": applications, "recent": recent})


@require_perm(Perm.PAY_SUBSIDIES)
@require_http_methods(["GET", "POST"])
def payment_record_view(request, pk: int):
    user = request.user
    app = get_scoped_or_404(SubsidyApplication.objects.select_related(*APPLICATION_RELATED), user, pk=pk)
    all_lines = list(
        app.lines.exclude(status=L.REFUSED).select_related("person", "certificate").order_by("id")
    )
    payable = [line for line in all_lines if line.status == L.PAYABLE]
    form = PaymentForm(
        request.POST or None,
        lines=all_lines,
        initial={
            "lines": [str(line.pk) for line in payable],
            "payee_kind": PAYEE_FOR[app.applicant_kind],
            "payee_name": app.payee_name,
            "payee_account": app.payee_account,
            "outcome": Payment.Outcome.PAID,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = [line for line in all_lines if str(line.pk) in data["lines"]]
        try:
            payment = payment_record(
                application=app,
                lines=chosen,
                actor=user,
                payee_kind=data["payee_kind"],
                payee_name=data["payee_name"],
                payee_account=data["payee_account"],
                voucher_no=data["voucher_no"],
                paid_on=data["paid_on"],
                amount=data["amount"],
                outcome=data["outcome"],
                failure_reason=data["failure_reason"],
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            if payment.outcome == Payment.Outcome.PAID:
                messages.success(
                    request, f"已登记拨付：{app.code}，{len(chosen)}人，¥{payment.amount:,.2f}。"
                )
            else:
                messages.warning(
                    request, f"已登记支付失败：{app.code}，这些学员仍为待拨付，可用新凭证号重新拨付。"
                )
            return redirect("subsidies:payments")
    checked = set(form["lines"].value() or [])
    return render(
        request,
        "subsidies/payment_form.html",
        {
            "app": app,
            "form": form,
            "payable": payable,
            "checked": {str(x) for x in checked},
            "payable_total": sum((line.amount for line in payable), 0),
        },
    )


# --- public 公示 (no login) ----------------------------------------------------------------------


def _public_lines():
    return public_notice_lines().select_related(
        "person", "application__institution", "application__training_class"
    )


@require_GET
def public_notices(request):
    """补贴公示 (第十四条; 181号 第二十八条): name and ID number masked, with institution, occupation,
    level, amount and the notice period; anyone may object while it runs."""
    queryset = _public_lines()
    q = request.GET.get("q", "").strip()[:50]
    if q:
        queryset = queryset.filter(
            Q(application__institution__name__contains=q)
            | Q(application__training_class__occupation_name__contains=q)
            | Q(application__code__icontains=q)
        )
    page = Paginator(
        queryset.order_by("application__notice_end", "application_id", "id"), PUBLIC_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    rows = [
        {"line": line, "name": mask_name(line.person.name), "id_masked": line.person.id_masked}
        for line in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "subsidies/public_notices.html",
        {"page": page, "rows": rows, "q": q, "query": query.urlencode(), "nav": "subsidy_notices"},
    )


@require_http_methods(["GET", "POST"])
def public_objection(request, line_pk: int):
    line = get_object_or_404(_public_lines(), pk=line_pk)
    form = ObjectionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_bot:
            form.is_valid()
            form.add_error(None, "提交未成功，请刷新页面后重新填写。")
            status = 400
        elif form.is_valid():
            data = form.cleaned_data
            try:
                objection = objection_lodge(
                    line=line, name=data["name"], phone=data["phone"], content=data["content"]
                )
            except PeixunError as exc:
                form.add_error(None, exc.message)
            else:
                request.session["subsidy_objection"] = objection.receipt_no
                return redirect("subsidies:objection_thanks")
    return render(
        request,
        "subsidies/public_objection.html",
        {
            "line": line,
            "name": mask_name(line.person.name),
            "id_masked": line.person.id_masked,
            "form": form,
            "nav": "subsidy_notices",
        },
        status=status,
    )


@require_GET
def public_objection_thanks(request):
    number = request.session.pop("subsidy_objection", None)
    if number is None:
        return redirect("subsidies:notices")
    return render(
        request,
        "subsidies/public_objection_thanks.html",
        {"number": number, "today": timezone.localdate(), "nav": "subsidy_notices"},
    )


@require_perm(Perm.REVIEW_SUBSIDIES)
@require_http_methods(["POST"])
def line_stop_view(request, pk: int):
    """停止拨付 one line (certificate revoked, violation found before payment)."""
    line = get_scoped_or_404(SubsidyLine.objects.select_related("application"), request.user, pk=pk)
    try:
        line_stop(line=line, actor=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, f"已停止拨付：{line.person.name}")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect("subsidies:application_detail", pk=line.application_id)
