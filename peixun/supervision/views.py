"""Pages of 监督检查 (第二十至二十五条). Views fetch through the scope helper, call one service, render;
an object outside the user's scope, or a page the role may not use, is a 404. The public pages of
一公开 need no login and show no person but the published inspectors."""

import hashlib
import mimetypes
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, Sum, Value, When
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from peixun.accounts.http import client_ip, require_perm
from peixun.accounts.models import Organisation, User
from peixun.accounts.roles import OFFICIAL_ROLES, Perm, Role, has_perm
from peixun.accounts.scope import get_scoped_or_404, restrict
from peixun.checks.models import Finding
from peixun.core.errors import PeixunError
from peixun.core.identity import id_lookup_hash, mask_id_number, mask_phone, parse_id_number
from peixun.core.models import PersonAccessLog
from peixun.institutions.models import Institution
from peixun.subsidies.models import SubsidyLine
from peixun.training.models import ClassStatus, TrainingClass

from . import draw as algo
from . import services as sv
from .forms import (
    OUTCOME_HELP,
    AnnualForm,
    ClueCloseForm,
    ClueForm,
    ClueReplyForm,
    ConflictForm,
    DrawForm,
    ExpertForm,
    InspectionPlanForm,
    InspectionRecordForm,
    JointForm,
    NoteForm,
    PhoneCheckForm,
    ReasonForm,
    ReceiptForm,
    RecoveryForm,
    RectificationForm,
    SanctionEndForm,
    SanctionForm,
    StaffTrainingForm,
    ViolationForm,
)
from .models import (
    AnnualInspection,
    CheckItem,
    ClueTransfer,
    Conflict,
    Draw,
    DrawAssignment,
    Inspection,
    InspectionPhoto,
    Inspector,
    IntegrityRecord,
    JointEnforcement,
    Recovery,
    Rectification,
    Sanction,
    SanctionKind,
    StaffTraining,
    Violation,
    ViolationType,
)
from .rating import GRADE_LABELS, credit_rating
from .selectors import (
    annual_facts,
    credit_facts_bulk,
    draw_revealed,
    inspector_of,
    institution_rating,
    is_official,
    public_inspections,
    visible_draws,
    visible_inspections,
)
from .workflow import (
    CLUE_MOVES,
    DRAW_MOVES,
    INSPECTION_MOVES,
    RECOVERY_MOVES,
    VIOLATION_MOVES,
    moves_for,
    sanction_moves_for,
)

PAGE_SIZE = 50
LADDER = list(SanctionKind)


def require_official(perm: str):
    """Pages for the bureaus only: an institution or trainee gets a 404 even with the permission."""

    def decorator(view):
        @require_perm(perm)
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.user.role not in OFFICIAL_ROLES:
                raise Http404("页面不存在")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def require_any(*perms):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not any(has_perm(request.user, p) for p in perms):
                raise Http404("页面不存在")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _scoped_institutions(user):
    return restrict(Institution.objects.all(), user).order_by("area__code", "name")


def _file(field, *, inline: bool):
    if not field:
        raise Http404("文件不存在")
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:
        raise Http404("文件不存在") from exc
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    return FileResponse(
        handle, as_attachment=not inline, filename=field.name.rsplit("/", 1)[-1], content_type=content_type
    )


# --- overview ----------------------------------------------------------------------------------------


@require_perm(Perm.VIEW_SUPERVISION)
@require_GET
def home(request):
    user = request.user
    today = timezone.localdate()
    inspections = visible_inspections(user)
    violations = restrict(Violation.objects.all(), user)
    recoveries = restrict(Recovery.objects.all(), user)
    open_recoveries = recoveries.exclude(status=Recovery.Status.COMPLETED)
    me = inspector_of(user)
    context = {
        "official": is_official(user),
        "can_draw": has_perm(user, Perm.MANAGE_DRAWS),
        "can_decide": has_perm(user, Perm.DECIDE_SANCTIONS),
        "can_hand_over": has_perm(user, Perm.HAND_OVER),
        "can_inspect": has_perm(user, Perm.INSPECT),
        "can_train": has_perm(user, Perm.MANAGE_STAFF_TRAINING),
        "counts": {
            "draws_committed": visible_draws(user).filter(status=Draw.Status.COMMITTED).count(),
            "draws_year": visible_draws(user).filter(created_at__year=today.year).count(),
            "planned": inspections.filter(status=Inspection.Status.PLANNED).count(),
            "follow_up": inspections.filter(status=Inspection.Status.FOLLOW_UP).count(),
            "inspected_year": inspections.filter(inspected_on__year=today.year).count(),
            "violations_open": violations.filter(status=Violation.Status.OPEN).count(),
            "sanctions_in_force": restrict(
                Sanction.objects.filter(status=Sanction.Status.IN_FORCE), user
            ).count(),
            "recoveries_open": open_recoveries.count(),
            "outstanding": sum((r.outstanding for r in open_recoveries), 0),
            "clues_waiting": restrict(
                ClueTransfer.objects.filter(status=ClueTransfer.Status.SENT), user
            ).count()
            if is_official(user)
            else 0,
        },
        "mine": (
            inspections.filter(
                inspectors=me, status__in=[Inspection.Status.PLANNED, Inspection.Status.FOLLOW_UP]
            )
            .select_related("institution", "training_class")
            .order_by("due_date", "id")[:20]
            if me
            else []
        ),
        "recent": inspections.exclude(status=Inspection.Status.PLANNED)
        .select_related("institution")
        .order_by("-inspected_on", "-id")[:8],
        "own_institution": Institution.objects.filter(organisation_id=user.organisation_id).first()
        if user.role == Role.INSTITUTION_OPERATOR
        else None,
    }
    if context["own_institution"]:
        context["own_rating"] = institution_rating(context["own_institution"])
    return render(request, "supervision/home.html", context)


# --- the inspector roster and conflicts ----------------------------------------------------------------


@require_official(Perm.MANAGE_DRAWS)
@require_http_methods(["GET", "POST"])
def inspectors(request):
    user = request.user
    area = user.organisation.area
    organisations = restrict(Organisation.objects.all(), user).order_by("kind", "name")
    form = ExpertForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            expert = sv.expert_register(actor=user, **form.cleaned_data)
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已将特邀专家“{expert.name}”登记入名录")
            return redirect("supervision:inspectors")
    if request.method == "GET":
        sv.inspector_roster_sync(area=area, actor=user)
    roster = (
        restrict(Inspector.objects.all(), user)
        .select_related("organisation__area", "user")
        .annotate(
            conflicts_open=Count("conflicts", filter=Q(conflicts__withdrawn_at__isnull=True)),
            assigned=Count("inspections", distinct=True),
        )
    )
    return render(
        request,
        "supervision/inspectors.html",
        {"roster": roster, "form": form, "reason_form": ReasonForm()},
    )


@require_official(Perm.MANAGE_DRAWS)
@require_POST
def inspector_active(request, pk: int):
    inspector = get_scoped_or_404(Inspector.objects.all(), request.user, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写原因")
    else:
        try:
            sv.inspector_set_active(
                actor=request.user,
                inspector=inspector,
                active=request.POST.get("active") == "1",
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, f"已更新“{inspector.name}”的名录状态")
        except PeixunError as exc:
            messages.error(request, exc.message)
    return redirect("supervision:inspectors")


@require_any(Perm.MANAGE_DRAWS, Perm.INSPECT)
@require_http_methods(["GET", "POST"])
def conflicts(request):
    user = request.user
    me = inspector_of(user)
    if has_perm(user, Perm.MANAGE_DRAWS):
        roster = restrict(Inspector.objects.filter(active=True), user)
        declared = restrict(Conflict.objects.all(), user)
    else:
        if me is None:
            sv.inspector_roster_sync(area=user.organisation.area, actor=user)
            me = inspector_of(user)
        roster = Inspector.objects.filter(pk=me.pk) if me else Inspector.objects.none()
        declared = Conflict.objects.filter(inspector=me) if me else Conflict.objects.none()
    institutions = Institution.objects.exclude(status=Institution.Status.UNLISTED).order_by(
        "area__code", "name"
    )
    if has_perm(user, Perm.MANAGE_DRAWS):
        institutions = restrict(institutions, user)
    form = ConflictForm(request.POST or None, inspectors=roster, institutions=institutions)
    if request.method == "POST" and form.is_valid():
        try:
            sv.conflict_declare(actor=user, **form.cleaned_data)
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "回避申报已登记，今后的抽取不会将其派往该机构")
            return redirect("supervision:conflicts")
    rows = declared.select_related("inspector__organisation", "institution", "declared_by").order_by(
        "withdrawn_at", "-declared_at"
    )
    return render(
        request,
        "supervision/conflicts.html",
        {
            "rows": rows,
            "form": form,
            "reason_form": ReasonForm(),
            "is_organiser": has_perm(user, Perm.MANAGE_DRAWS),
        },
    )


@require_any(Perm.MANAGE_DRAWS, Perm.INSPECT)
@require_POST
def conflict_withdraw(request, pk: int):
    user = request.user
    qs = (
        restrict(Conflict.objects.all(), user)
        if has_perm(user, Perm.MANAGE_DRAWS)
        else Conflict.objects.filter(inspector__user=user)
    )
    conflict = get_object_or_404(qs, pk=pk)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise PeixunError("请填写撤回原因")
        sv.conflict_withdraw(actor=user, conflict=conflict, reason=form.cleaned_data["reason"])
        messages.success(request, "回避申报已撤回")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect("supervision:conflicts")


# --- draws --------------------------------------------------------------------------------------------


@require_official(Perm.MANAGE_DRAWS)
@require_GET
def draws(request):
    qs = (
        visible_draws(request.user)
        .select_related("organisation", "created_by")
        .annotate(drawn=Count("targets"))
        .order_by("-created_at", "-id")
    )
    status = request.GET.get("status", "")
    if status in Draw.Status.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "supervision/draws.html",
        {"page": _page(request, qs), "status": status, "statuses": Draw.Status.choices},
    )


@require_official(Perm.MANAGE_DRAWS)
@require_http_methods(["GET", "POST"])
def draw_create(request):
    form = DrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = sv.draw_create(actor=request.user, **form.service_args())
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"抽查{created.code}已公布：对象池{created.pool_targets}个、检查人员{created.pool_inspectors}名，"
                f"种子哈希{created.seed_sha256[:16]}…已向社会公开。确认无误后点击“抽取”。",
            )
            return redirect("supervision:draw_detail", pk=created.pk)
    area = request.user.organisation.area
    return render(request, "supervision/draw_create.html", {"form": form, "area": area})


def _pool_rows(draw: Draw):
    pool = algo.parse_pool(draw.pool_text)
    return pool, pool["targets"], pool["inspectors"]


@require_official(Perm.MANAGE_DRAWS)
@require_GET
def draw_detail(request, pk: int):
    draw = get_scoped_or_404(
        Draw.objects.select_related("organisation", "created_by", "drawn_by", "area"), request.user, pk=pk
    )
    pool, pool_targets, pool_inspectors = _pool_rows(draw)
    names = {i["key"]: i for i in pool_inspectors}
    targets = list(
        draw.targets.select_related("institution", "training_class", "inspection")
        .prefetch_related(
            Prefetch("assignments", queryset=DrawAssignment.objects.select_related("inspector__organisation"))
        )
        .order_by("rank")
    )
    return render(
        request,
        "supervision/draw_detail.html",
        {
            "draw": draw,
            "pool": pool,
            "pool_targets": pool_targets,
            "pool_inspectors": pool_inspectors,
            "names": names,
            "targets": targets,
            "moves": moves_for(DRAW_MOVES, draw.status, request.user),
            "strata": {k: algo.STRATUM_LABELS[k] for k in pool["settings"]["strata"]},
            "share_percent": draw.sample_share * 100,
            "high_share_percent": (draw.high_risk_share or 0) * 100,
            "reason_form": ReasonForm(),
        },
    )


@require_official(Perm.MANAGE_DRAWS)
@require_POST
def draw_execute(request, pk: int):
    draw = get_scoped_or_404(Draw.objects.all(), request.user, pk=pk)
    try:
        sv.draw_execute(draw=draw, actor=request.user)
        messages.success(request, f"抽查{draw.code}已抽取，检查任务已通知抽中的检查人员")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect("supervision:draw_detail", pk=pk)


@require_official(Perm.MANAGE_DRAWS)
@require_POST
def draw_cancel(request, pk: int):
    draw = get_scoped_or_404(Draw.objects.all(), request.user, pk=pk)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise PeixunError("请填写作废原因（作废记录向社会公开）")
        sv.draw_cancel(draw=draw, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"抽查{draw.code}已作废")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect("supervision:draw_detail", pk=pk)


@require_official(Perm.MANAGE_DRAWS)
@require_POST
def assignment_replace(request, pk: int):
    draw = get_scoped_or_404(Draw.objects.all(), request.user, pk=pk)
    assignment = get_object_or_404(
        DrawAssignment.objects.select_related("target__draw", "inspector"),
        pk=request.POST.get("assignment") if str(request.POST.get("assignment", "")).isdigit() else 0,
        target__draw=draw,
    )
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise PeixunError("请填写替换原因")
        new = sv.draw_replace_inspector(
            assignment=assignment, actor=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, f"已按抽取顺序由“{new.inspector.name}”替换“{assignment.inspector.name}”")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect("supervision:draw_detail", pk=draw.pk)


def _pool_response(draw: Draw) -> HttpResponse:
    response = HttpResponse(draw.pool_text.encode(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{draw.code}-pool.json"'
    return response


@require_official(Perm.MANAGE_DRAWS)
@require_GET
def draw_pool(request, pk: int):
    return _pool_response(get_scoped_or_404(Draw.objects.all(), request.user, pk=pk))


# --- inspections ----------------------------------------------------------------------------------------


@require_perm(Perm.VIEW_SUPERVISION)
@require_GET
def inspections(request):
    user = request.user
    qs = visible_inspections(user).select_related("institution__area", "training_class", "draw_target__draw")
    status, kind, q = (
        request.GET.get("status", ""),
        request.GET.get("kind", ""),
        request.GET.get("q", "").strip()[:50],
    )
    mine = request.GET.get("mine") == "1"
    if status in Inspection.Status.values:
        qs = qs.filter(status=status)
    if kind in Inspection.Kind.values:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(
            Q(institution__name__contains=q) | Q(code__icontains=q) | Q(training_class__code__icontains=q)
        )
    if mine:
        qs = qs.filter(inspectors__user=user)
    # what still needs doing first: planned, then followed up, then done
    stage = Case(
        When(status=Inspection.Status.PLANNED, then=Value(0)),
        When(status=Inspection.Status.FOLLOW_UP, then=Value(1)),
        default=Value(2),
    )
    qs = qs.prefetch_related("inspectors").order_by(stage, "due_date", "-inspected_on", "-id")
    return render(
        request,
        "supervision/inspections.html",
        {
            "page": _page(request, qs),
            "status": status,
            "kind": kind,
            "q": q,
            "mine": mine,
            "statuses": Inspection.Status.choices,
            "kinds": Inspection.Kind.choices,
            "can_plan": is_official(user)
            and (has_perm(user, Perm.MANAGE_DRAWS) or has_perm(user, Perm.INSPECT)),
            "is_inspector": has_perm(user, Perm.INSPECT),
        },
    )


@require_any(Perm.MANAGE_DRAWS, Perm.INSPECT)
@require_http_methods(["GET", "POST"])
def inspection_create(request):
    user = request.user
    institutions = _scoped_institutions(user).exclude(status=Institution.Status.UNLISTED)
    classes = (
        restrict(
            TrainingClass.objects.filter(status__in=[ClassStatus.APPROVED, ClassStatus.COMPLETION_REVIEW]),
            user,
        )
        .select_related("institution")
        .order_by("institution__name", "code")
    )
    area = user.organisation.area
    sv.inspector_roster_sync(area=area, actor=user)
    roster = restrict(Inspector.objects.filter(active=True), user).select_related("organisation")
    initial = {}
    me = inspector_of(user)
    if me:
        initial["inspectors"] = [me]
    if request.GET.get("institution", "").isdigit():
        initial["institution"] = request.GET["institution"]
    form = InspectionPlanForm(
        request.POST or None, institutions=institutions, classes=classes, inspectors=roster, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            inspection = sv.inspection_plan(
                actor=user,
                kind=d["kind"],
                institution=d["institution"],
                training_class=d.get("training_class"),
                inspectors=list(d["inspectors"]),
                due_date=d.get("due_date"),
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已安排{inspection.get_kind_display()}{inspection.code}")
            return redirect("supervision:inspection_detail", pk=inspection.pk)
    return render(request, "supervision/inspection_create.html", {"form": form})


def _inspection(request, pk: int) -> Inspection:
    return get_object_or_404(
        visible_inspections(request.user).select_related(
            "institution__area",
            "institution__organisation",
            "training_class",
            "draw_target__draw",
            "recorded_by",
        ),
        pk=pk,
    )


@require_perm(Perm.VIEW_SUPERVISION)
@require_GET
def inspection_detail(request, pk: int):
    user = request.user
    inspection = _inspection(request, pk)
    assigned = inspection.inspectors.filter(user=user).exists()
    moves = [
        m
        for m in moves_for(INSPECTION_MOVES, inspection.status, user)
        if (m.name != "record" or assigned)
        and (m.name != "close" or assigned or has_perm(user, Perm.DECIDE_SANCTIONS))
        and (
            m.name != "publish"
            or (inspection.kind == Inspection.Kind.DRAW and inspection.published_at is None)
        )
    ]
    if has_perm(user, Perm.DECIDE_SANCTIONS) and inspection.status == Inspection.Status.FOLLOW_UP:
        moves = moves + [m for m in INSPECTION_MOVES if m.name == "close" and m not in moves]
    awaiting_case = inspection.outcome == Inspection.Outcome.VIOLATION and not inspection.violations.exists()
    if awaiting_case:
        # closed once the case is opened (services.inspection_close says so too)
        moves = [m for m in moves if m.name != "close"]
    is_institution = user.role == Role.INSTITUTION_OPERATOR
    can_rectify = (
        is_institution
        and inspection.status == Inspection.Status.FOLLOW_UP
        and inspection.outcome == Inspection.Outcome.RECTIFY
    )
    items = {i.item: i for i in inspection.items.all()}
    checklist = [(code, label, items.get(code)) for code, label in CheckItem.choices]
    return render(
        request,
        "supervision/inspection_detail.html",
        {
            "inspection": inspection,
            "inspectors": inspection.inspectors.select_related("organisation"),
            "checklist": checklist,
            "photos": inspection.photos.all(),
            "phone_checks": inspection.phone_checks.select_related("enrollment__person"),
            "rectifications": inspection.rectifications.select_related("submitted_by"),
            "violations": inspection.violations.all() if is_official(user) else inspection.violations.none(),
            "moves": moves,
            "assigned": assigned,
            "can_photo": assigned and inspection.status != Inspection.Status.CLOSED,
            "can_phone": assigned and inspection.status != Inspection.Status.CLOSED,
            "can_rectify": can_rectify,
            "rectification_form": RectificationForm() if can_rectify else None,
            "note_form": NoteForm(),
            "awaiting_case": awaiting_case and inspection.status == Inspection.Status.FOLLOW_UP,
            "can_open_case": has_perm(user, Perm.DECIDE_SANCTIONS)
            and inspection.outcome in (Inspection.Outcome.VIOLATION, Inspection.Outcome.RECTIFY),
            "public": inspection.kind == Inspection.Kind.DRAW
            and public_inspections().filter(pk=inspection.pk).exists(),
        },
    )


@require_perm(Perm.INSPECT)
@require_http_methods(["GET", "POST"])
def inspection_record(request, pk: int):
    inspection = _inspection(request, pk)
    if (
        not inspection.inspectors.filter(user=request.user).exists()
        or inspection.status != Inspection.Status.PLANNED
    ):
        raise Http404("页面不存在")
    initial = {
        "inspected_on": timezone.localdate(),
        "place": inspection.training_class.site_address
        if inspection.training_class_id
        else inspection.institution.address,
    }
    form = InspectionRecordForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            sv.inspection_record(
                inspection=inspection,
                actor=request.user,
                inspected_on=d["inspected_on"],
                items=form.items(),
                outcome=d["outcome"],
                summary=d["summary"],
                place=d.get("place") or "",
                trainees_present=d.get("trainees_present"),
                follow_up=d.get("follow_up") or "",
                follow_up_due=d.get("follow_up_due"),
            )
            for upload in d.get("photos") or []:
                sv.inspection_photo_add(
                    inspection=inspection, actor=request.user, upload=upload, caption=upload.name
                )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"检查结果已录入：{Inspection.Outcome(d['outcome']).label}")
            return redirect("supervision:inspection_detail", pk=pk)
    roster = None
    if inspection.training_class_id:
        roster = inspection.training_class.enrollments.filter(removed_at__isnull=True).count()
    return render(
        request,
        "supervision/inspection_record.html",
        {"inspection": inspection, "form": form, "outcome_help": OUTCOME_HELP, "roster": roster},
    )


@require_perm(Perm.INSPECT)
@require_POST
def inspection_photo(request, pk: int):
    inspection = _inspection(request, pk)
    uploads = request.FILES.getlist("photos")
    try:
        if not uploads:
            raise PeixunError("请选择照片")
        for upload in uploads:
            sv.inspection_photo_add(
                inspection=inspection,
                actor=request.user,
                upload=upload,
                caption=request.POST.get("caption", ""),
            )
        messages.success(request, f"已上传{len(uploads)}张照片")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("supervision:inspection_detail", args=[pk]) + "#photos")


@require_perm(Perm.VIEW_SUPERVISION)
@require_GET
def photo(request, pk: int):
    item = get_object_or_404(InspectionPhoto, pk=pk, inspection__in=visible_inspections(request.user))
    return _file(item.image, inline=True)


def _call_order(inspection: Inspection, enrollments):
    """A fixed random order to call from: the same for both inspectors, different per inspection."""
    return sorted(enrollments, key=lambda e: hashlib.sha256(f"{inspection.code}:{e.pk}".encode()).hexdigest())


@require_perm(Perm.INSPECT)
@require_http_methods(["GET", "POST"])
def phone_checks(request, pk: int):
    inspection = _inspection(request, pk)
    if not inspection.inspectors.filter(user=request.user).exists():
        raise Http404("页面不存在")
    candidates = list(sv.phone_check_candidates(inspection).filter(removed_at__isnull=True))
    revealed = None
    form = (
        PhoneCheckForm(request.POST or None) if request.POST.get("action") == "record" else PhoneCheckForm()
    )
    if request.method == "POST" and request.POST.get("action") == "reveal":
        enrollment = next((e for e in candidates if str(e.pk) == request.POST.get("enrollment")), None)
        if enrollment is None:
            raise Http404("学员不存在")
        PersonAccessLog.objects.create(
            viewer=request.user,
            person=enrollment.person,
            kind=PersonAccessLog.Kind.VIEW_FILE,
            detail=f"电话抽查{inspection.code}：查看学员手机号",
            ip=client_ip(request),
        )
        revealed = enrollment.pk
    elif request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        enrollment = next((e for e in candidates if e.pk == d["enrollment"]), None)
        if enrollment is None:
            raise Http404("学员不存在")
        try:
            sv.phone_check_record(
                inspection=inspection,
                actor=request.user,
                enrollment=enrollment,
                reached=d["reached"],
                attended=d.get("attended") or "",
                taught=d.get("taught") or "",
                matches_plan=d.get("matches_plan"),
                note=d.get("note") or "",
            )
        except PeixunError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已记录对{enrollment.person.name}的电话抽查")
            return redirect(reverse("supervision:phone_checks", args=[pk]) + f"#e{enrollment.pk}")
    done = {c.enrollment_id: c for c in inspection.phone_checks.all()}
    rows = [
        {
            "e": e,
            "phone": (e.phone or e.person.phone),
            "masked": mask_phone(e.phone or e.person.phone),
            "done": done.get(e.pk),
            "revealed": revealed == e.pk,
        }
        for e in _call_order(inspection, candidates)
    ]
    return render(
        request,
        "supervision/phone_checks.html",
        {
            "inspection": inspection,
            "rows": rows,
            "form": form,
            "failed": request.method == "POST" and form.errors,
        },
    )


@require_perm(Perm.VIEW_SUPERVISION)
@require_POST
def inspection_close(request, pk: int):
    inspection = _inspection(request, pk)
    user = request.user
    assigned = has_perm(user, Perm.INSPECT) and inspection.inspectors.filter(user=user).exists()
    if not assigned and not (has_perm(user, Perm.DECIDE_SANCTIONS) and is_official(user)):
        raise Http404("页面不存在")
    form = NoteForm(request.POST)
    try:
        if not form.is_valid():
            raise PeixunError("请填写复查意见")
        sv.inspection_close(inspection=inspection, actor=request.user, note=form.cleaned_data["note"])
        messages.success(request, "检查已复查办结")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect("supervision:inspection_detail", pk=pk)


@require_official(Perm.MANAGE_DRAWS)
@require_POST
def inspection_publish(request, pk: int):
    inspection = _inspection(request, pk)
    try:
        sv.inspection_publish(inspection=inspection, actor=request.user)
        messages.success(request, "抽查结果已在公共服务门户公开")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect("supervision:inspection_detail", pk=pk)


@require_perm(Perm.VIEW_SUPERVISION)
@require_POST
def inspection_rectification(request, pk: int):
    if request.user.role != Role.INSTITUTION_OPERATOR:
        raise Http404("页面不存在")  # the report is the inspected institution's to submit
    inspection = _inspection(request, pk)
    form = RectificationForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise PeixunError("；".join(e for errors in form.errors.values() for e in errors))
        sv.rectification_submit(
            actor=request.user,
            inspection=inspection,
            text=form.cleaned_data["text"],
            upload=form.cleaned_data.get("file"),
        )
        messages.success(request, "整改报告已提交，等待检查人员复查")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect("supervision:inspection_detail", pk=pk)


@require_perm(Perm.VIEW_SUPERVISION)
@require_GET
def rectification_file(request, pk: int):
    report = get_object_or_404(
        Rectification.objects.filter(
            Q(inspection__in=visible_inspections(request.user))
            | Q(sanction__in=restrict(Sanction.objects.all(), request.user))
        ),
        pk=pk,
    )
    return _file(report.file, inline=False)


# --- violations, sanctions, recoveries ---------------------------------------------------------------


@require_perm(Perm.VIEW_SUPERVISION)
@require_GET
def violations(request):
    user = request.user
    qs = (
        restrict(Violation.objects.all(), user)
        .select_related("institution__area")
        .annotate(
            sanctions_n=Count("sanctions", distinct=True),
            due=Sum("recoveries__amount_due"),
        )
    )
    status, type_, q = (
        request.GET.get("status", ""),
        request.GET.get("type", ""),
        request.GET.get("q", "").strip()[:50],
    )
    if status in Violation.Status.values:
        qs = qs.filter(status=status)
    if type_ in ViolationType.values:
        qs = qs.filter(type=type_)
    if q:
        qs = qs.filter(Q(institution__name__contains=q) | Q(code__icontains=q))
    page = _page(request, qs.prefetch_related("sanctions").order_by("status", "-found_on", "-id"))
    return render(
        request,
        "supervision/violations.html",
        {
            "page": page,
            "status": status,
            "type": type_,
            "q": q,
            "statuses": Violation.Status.choices,
            "types": ViolationType.choices,
            "can_decide": has_perm(user, Perm.DECIDE_SANCTIONS),
        },
    )


@require_official(Perm.DECIDE_SANCTIONS)
@require_http_methods(["GET", "POST"])
def violation_create(request):
    """Two steps: choose the institution (or come from an inspection), then the case with its evidence."""
    user = request.user
    source = None
    if request.GET.get("inspection", "").isdigit():
        source = get_object_or_404(visible_inspections(user), pk=request.GET["inspection"])
        institution = source.institution
    elif request.GET.get("institution", "").isdigit():
        institution = get_scoped_or_404(Institution.objects.all(), user, pk=request.GET["institution"])
    else:
        q = request.GET.get("q", "").strip()[:50]
        found = _scoped_institutions(user)
        if q:
            found = found.filter(Q(name__contains=q) | Q(code__icontains=q))
        return render(
            request,
            "supervision/violation_pick.html",
            {"institutions": found.select_related("area")[:100], "q": q},
        )
    inspections_qs = (
        visible_inspections(user).filter(institution=institution).exclude(status=Inspection.Status.PLANNED)
    )
    classes = TrainingClass.objects.filter(institution=institution).order_by("-start_date")
    findings = (
        Finding.objects.filter(training_class__institution=institution, is_current=True)
        .exclude(status=Finding.Status.DISMISSED)
        .select_related("training_class", "person")
        .order_by("training_class__code", "rule_code")
    )
    initial = {}
    if source:
        initial = {
            "inspection": source,
            "training_class": source.training_class,
            "description": source.summary,
            "found_on": source.inspected_on,
        }
    form = ViolationForm(
        request.POST or None, inspections=inspections_qs, classes=classes, findings=findings, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            violation = sv.violation_record(
                actor=user,
                institution=institution,
                type=d["type"],
                description=d["description"],
                found_on=d["found_on"],
                inspection=d.get("inspection"),
                training_class=d.get("training_class"),
                findings=list(d.get("findings") or []),
                responsible_name=d.get("responsible_name") or "",
                responsible_role=d.get("responsible_role") or "",
                responsible_id_number=d.get("responsible_id_number") or "",
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已立案{violation.code}，请决定处理措施")
            return redirect("supervision:violation_detail", pk=violation.pk)
    return render(
        request,
        "supervision/violation_create.html",
        {"form": form, "institution": institution, "source": source},
    )


def _violation(request, pk: int) -> Violation:
    return get_scoped_or_404(
        Violation.objects.select_related("institution__area", "inspection", "training_class", "recorded_by"),
        request.user,
        pk=pk,
    )


@require_perm(Perm.VIEW_SUPERVISION)
@require_GET
def violation_detail(request, pk: int):
    user = request.user
    violation = _violation(request, pk)
    sanctions = list(violation.sanctions.select_related("decided_by").prefetch_related("rectifications"))
    for s in sanctions:
        s.moves = sanction_moves_for(s, user)
        s.can_rectify = (
            user.role == Role.INSTITUTION_OPERATOR
            and s.kind == SanctionKind.RECTIFY
            and s.status == Sanction.Status.IN_FORCE
        )
    taken = {s.kind for s in sanctions}
    recoveries = list(violation.recoveries.prefetch_related("receipts", "lines__person"))
    for r in recoveries:
        r.moves = moves_for(RECOVERY_MOVES, r.status, user)
    official = is_official(user)
    return render(
        request,
        "supervision/violation_detail.html",
        {
            "violation": violation,
            "sanctions": sanctions,
            "ladder": [(k, k in taken) for k in LADDER],
            "recoveries": recoveries,
            "findings": violation.findings.select_related("training_class", "person"),
            "moves": moves_for(VIOLATION_MOVES, violation.status, user),
            "close_problems": sv.violation_close_problems(violation)
            if violation.status == Violation.Status.OPEN
            else [],
            "can_decide": has_perm(user, Perm.DECIDE_SANCTIONS) and violation.status == Violation.Status.OPEN,
            "end_form": SanctionEndForm(),
            "receipt_form": ReceiptForm(),
            "rectification_form": RectificationForm(),
            "note_form": NoteForm(),
            "clues": violation.clues.all() if official and has_perm(user, Perm.HAND_OVER) else [],
            "can_hand_over": official and has_perm(user, Perm.HAND_OVER),
            "integrity": IntegrityRecord.objects.filter(violation=violation).order_by("recorded_on", "id"),
            "removal_missing": violation.type in sv.REMOVAL_REQUIRED and SanctionKind.REMOVE not in taken,
        },
    )


@require_official(Perm.DECIDE_SANCTIONS)
@require_http_methods(["GET", "POST"])
def sanction_create(request, pk: int):
    violation = _violation(request, pk)
    if violation.status != Violation.Status.OPEN:
        raise Http404("案件已结案")
    initial = {}
    if request.GET.get("kind") in SanctionKind.values:
        initial["kind"] = request.GET["kind"]
    form = SanctionForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            sanction = sv.sanction_decide(
                violation=violation,
                actor=request.user,
                kind=d["kind"],
                decided_on=d["decided_on"],
                document_no=d["document_no"],
                content=d["content"],
                effective_to=d.get("effective_to"),
                fine_amount=d.get("fine_amount"),
                document=d.get("document"),
                recipient=d.get("recipient") or "",
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已决定{sanction.get_kind_display()}（{sanction.document_no}）")
            return redirect("supervision:violation_detail", pk=pk)
    institution = violation.institution
    return render(
        request,
        "supervision/sanction_create.html",
        {
            "violation": violation,
            "form": form,
            "institution": institution,
            "taken": set(violation.sanctions.values_list("kind", flat=True)),
            "removal_required": violation.type in sv.REMOVAL_REQUIRED,
            "ladder_help": {
                SanctionKind.INTERVIEW: "约谈机构负责人，指出问题",
                SanctionKind.RECTIFY: "限期整改，机构提交整改报告后复查",
                SanctionKind.SUSPEND: "机构目录状态即改为“暂停”，当日起不能申请开班",
                SanctionKind.REMOVE: "机构即移出目录，当日起不能申请开班（第二十二条）",
                SanctionKind.PENALTY: "依法给予行政处罚，可登记罚款金额",
                SanctionKind.JUDICIAL: "涉嫌犯罪的，移送公安机关，证据包随即生成",
            },
        },
    )


@require_official(Perm.DECIDE_SANCTIONS)
@require_POST
def sanction_end(request, pk: int, how: str):
    sanction = get_scoped_or_404(Sanction.objects.select_related("violation"), request.user, pk=pk)
    if how not in ("complete", "lift"):
        raise Http404("页面不存在")
    form = SanctionEndForm(request.POST)
    try:
        if not form.is_valid():
            raise PeixunError("请填写日期和执行情况")
        sv.sanction_end(sanction=sanction, actor=request.user, how=how, **form.cleaned_data)
        messages.success(request, "处理措施状态已更新")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect("supervision:violation_detail", pk=sanction.violation_id)


@require_perm(Perm.VIEW_SUPERVISION)
@require_GET
def sanction_document(request, pk: int):
    sanction = get_scoped_or_404(Sanction.objects.all(), request.user, pk=pk)
    return _file(sanction.document, inline=False)


@require_perm(Perm.VIEW_SUPERVISION)
@require_POST
def sanction_rectification(request, pk: int):
    if request.user.role != Role.INSTITUTION_OPERATOR:
        raise Http404("页面不存在")  # the report is the sanctioned institution's to submit
    sanction = get_scoped_or_404(
        Sanction.objects.select_related("violation__institution"), request.user, pk=pk
    )
    form = RectificationForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise PeixunError("；".join(e for errors in form.errors.values() for e in errors))
        sv.rectification_submit(
            actor=request.user,
            sanction=sanction,
            text=form.cleaned_data["text"],
            upload=form.cleaned_data.get("file"),
        )
        messages.success(request, "整改报告已提交")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect("supervision:violation_detail", pk=sanction.violation_id)


@require_official(Perm.DECIDE_SANCTIONS)
@require_POST
def violation_close(request, pk: int):
    violation = _violation(request, pk)
    try:
        sv.violation_close(violation=violation, actor=request.user, note=request.POST.get("note", ""))
        messages.success(request, f"案件{violation.code}已结案")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect("supervision:violation_detail", pk=pk)


def _recoverable_lines(violation: Violation):
    return (
        SubsidyLine.objects.filter(
            application__institution=violation.institution, status=SubsidyLine.Status.PAID
        )
        .exclude(Exists(Recovery.lines.through.objects.filter(subsidyline_id=OuterRef("pk"))))
        .select_related("application", "person")
        .order_by("application__code", "id")
    )


@require_official(Perm.DECIDE_SANCTIONS)
@require_http_methods(["GET", "POST"])
def recovery_create(request, pk: int):
    violation = _violation(request, pk)
    if violation.status != Violation.Status.OPEN:
        raise Http404("案件已结案")
    lines = _recoverable_lines(violation)
    form = RecoveryForm(request.POST or None, lines=lines)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            recovery = sv.recovery_order(
                violation=violation,
                actor=request.user,
                lines=list(d["lines"]),
                ordered_on=d["ordered_on"],
                due_date=d["due_date"],
                document_no=d["document_no"],
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, f"已下达追回决定{recovery.document_no}，应追回¥{recovery.amount_due:,.2f}"
            )
            return redirect("supervision:violation_detail", pk=pk)
    return render(request, "supervision/recovery_create.html", {"violation": violation, "form": form})


@require_perm(Perm.VIEW_SUPERVISION)
@require_GET
def recoveries(request):
    user = request.user
    qs = restrict(Recovery.objects.all(), user).select_related("violation__institution__area")
    status, q = request.GET.get("status", ""), request.GET.get("q", "").strip()[:50]
    if status in Recovery.Status.values:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(document_no__icontains=q) | Q(violation__institution__name__contains=q))
    totals = qs.aggregate(due=Sum("amount_due"), back=Sum("amount_recovered"))
    page = _page(request, qs.prefetch_related("receipts").order_by("status", "due_date", "id"))
    for r in page:
        r.moves = moves_for(RECOVERY_MOVES, r.status, user)
    return render(
        request,
        "supervision/recoveries.html",
        {
            "page": page,
            "status": status,
            "q": q,
            "statuses": Recovery.Status.choices,
            "totals": totals,
            "today": timezone.localdate(),
            "receipt_form": ReceiptForm(),
        },
    )


@require_official(Perm.RECORD_RECOVERY)
@require_POST
def recovery_receive(request, pk: int):
    recovery = get_scoped_or_404(Recovery.objects.all(), request.user, pk=pk)
    form = ReceiptForm(request.POST)
    try:
        if not form.is_valid():
            raise PeixunError(
                "；".join(f"{form.fields[f].label}：{e}" for f, errors in form.errors.items() for e in errors)
            )
        sv.recovery_receive(recovery=recovery, actor=request.user, **form.cleaned_data)
        messages.success(request, "追回资金到账已登记")
    except PeixunError as exc:
        messages.error(request, exc.message)
    back = request.POST.get("next", "")
    if back == "violation":
        return redirect("supervision:violation_detail", pk=recovery.violation_id)
    return redirect("supervision:recoveries")


# --- integrity and annual inspection ----------------------------------------------------------------------


@require_perm(Perm.VIEW_SUPERVISION)
@require_http_methods(["GET", "POST"])
def integrity(request):
    user = request.user
    today = timezone.localdate()
    institutions = _scoped_institutions(user).select_related("area")
    q, grade = request.GET.get("q", "").strip()[:50], request.GET.get("grade", "")
    # an ID number is posted, not put in the address (which proxies and browser history keep)
    who = request.POST.get("who", "").strip()[:30] if request.method == "POST" else ""
    can_search_people = is_official(user)
    person_records = _responsible_records(user, who) if who and can_search_people else None
    try:
        who = mask_id_number(parse_id_number(who).value) if who else who
    except PeixunError:
        pass
    if q:
        institutions = institutions.filter(Q(name__contains=q) | Q(code__icontains=q))
    institutions = list(institutions[:500])
    facts = credit_facts_bulk([i.pk for i in institutions], today)
    last_annual = {
        a.institution_id: a
        for a in AnnualInspection.objects.filter(institution__in=institutions).order_by(
            "institution_id", "year"
        )
    }
    records = dict(
        IntegrityRecord.objects.filter(institution__in=institutions)
        .values_list("institution")
        .annotate(n=Count("pk"))
    )
    rows = []
    for i in institutions:
        rating = credit_rating(facts[i.pk])
        if grade and rating.grade != grade:
            continue
        rows.append(
            {
                "institution": i,
                "rating": rating,
                "annual": last_annual.get(i.pk),
                "records": records.get(i.pk, 0),
            }
        )
    rows.sort(key=lambda r: (r["rating"].score, r["institution"].name))
    return render(
        request,
        "supervision/integrity.html",
        {
            "rows": rows,
            "q": q,
            "grade": grade,
            "grades": list(GRADE_LABELS.items()),
            "who": who,
            "person_records": person_records,
            "can_search_people": can_search_people,
        },
    )


def _responsible_records(user, who: str):
    """诚信记录 of a responsible person, by full ID number (matched through its keyed hash, never
    stored in clear) or by name."""
    records = restrict(IntegrityRecord.objects.exclude(person_name=""), user).select_related(
        "institution", "person", "violation"
    )
    try:
        parsed = parse_id_number(who)
    except PeixunError:
        return records.filter(person_name=who).order_by("-recorded_on", "-id")[:200]
    return records.filter(person__id_hmac=id_lookup_hash(parsed.value)).order_by("-recorded_on", "-id")[:200]


@require_perm(Perm.VIEW_SUPERVISION)
@require_http_methods(["GET", "POST"])
def integrity_detail(request, pk: int):
    user = request.user
    institution = get_scoped_or_404(Institution.objects.select_related("area"), user, pk=pk)
    today = timezone.localdate()
    can_decide = has_perm(user, Perm.DECIDE_SANCTIONS) and is_official(user)
    year = today.year - 1 if today.month < 12 else today.year
    asked = request.GET.get("year", "")
    selected_year = int(asked) if asked.isdigit() and 2000 <= int(asked) <= today.year else year
    form = AnnualForm(request.POST or None, initial={"year": selected_year}) if can_decide else None
    if request.method == "POST":
        if not can_decide:
            raise Http404("页面不存在")
        if form.is_valid():
            try:
                sv.annual_inspection_decide(institution=institution, actor=user, **form.cleaned_data)
            except PeixunError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "年度检查结论已记录")
                return redirect("supervision:integrity_detail", pk=pk)
    return render(
        request,
        "supervision/integrity_detail.html",
        {
            "institution": institution,
            "rating": institution_rating(institution, today),
            "records": IntegrityRecord.objects.filter(institution=institution).select_related(
                "violation", "sanction"
            ),
            "annuals": AnnualInspection.objects.filter(institution=institution).select_related("decided_by"),
            "inspections": visible_inspections(user)
            .filter(institution=institution)
            .exclude(status=Inspection.Status.PLANNED)[:20],
            "violations": restrict(Violation.objects.filter(institution=institution), user),
            "form": form,
            "facts": annual_facts(institution, selected_year) if can_decide else None,
            "facts_year": selected_year,
            "fact_years": [today.year - 2, today.year - 1, today.year],
        },
    )


@require_perm(Perm.VIEW_SUPERVISION)
@require_GET
def annual_list(request):
    qs = restrict(AnnualInspection.objects.all(), request.user).select_related(
        "institution__area", "decided_by"
    )
    year = request.GET.get("year", "")
    if year.isdigit():
        qs = qs.filter(year=int(year))
    years = sorted(
        set(restrict(AnnualInspection.objects.all(), request.user).values_list("year", flat=True)),
        reverse=True,
    )
    return render(
        request, "supervision/annual_list.html", {"page": _page(request, qs), "year": year, "years": years}
    )


# --- hand-over, joint enforcement, staff training --------------------------------------------------------


@require_official(Perm.HAND_OVER)
@require_GET
def clues(request):
    qs = restrict(ClueTransfer.objects.all(), request.user).select_related(
        "institution", "violation", "sent_by"
    )
    status = request.GET.get("status", "")
    if status in ClueTransfer.Status.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "supervision/clues.html",
        {
            "page": _page(request, qs),
            "status": status,
            "statuses": ClueTransfer.Status.choices,
            "today": timezone.localdate(),
        },
    )


@require_official(Perm.HAND_OVER)
@require_http_methods(["GET", "POST"])
def clue_create(request):
    user = request.user
    violations = restrict(Violation.objects.all(), user).select_related("institution").order_by("-found_on")
    initial = {}
    if request.GET.get("violation", "").isdigit():
        v = violations.filter(pk=request.GET["violation"]).first()
        if v:
            initial = {"violation": v, "institution": v.institution}
    form = ClueForm(
        request.POST or None,
        request.FILES or None,
        institutions=_scoped_institutions(user),
        violations=violations,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            clue = sv.clue_transfer_send(
                actor=user,
                department=d["department"],
                recipient=d["recipient"],
                summary=d["summary"],
                sent_on=d["sent_on"],
                institution=d.get("institution"),
                violation=d.get("violation"),
                attachments=d.get("attachments") or [],
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"线索已移送（{clue.code}），证据包{clue.evidence_files}个文件，SHA-256 {clue.evidence_sha256[:16]}…",
            )
            return redirect("supervision:clue_detail", pk=clue.pk)
    return render(request, "supervision/clue_create.html", {"form": form})


@require_official(Perm.HAND_OVER)
@require_GET
def clue_detail(request, pk: int):
    clue = get_scoped_or_404(
        ClueTransfer.objects.select_related("institution", "violation", "sent_by", "organisation"),
        request.user,
        pk=pk,
    )
    moves = moves_for(CLUE_MOVES, clue.status, request.user)
    return render(
        request,
        "supervision/clue_detail.html",
        {
            "clue": clue,
            "moves": [m.name for m in moves],
            "reply_form": ClueReplyForm(),
            "close_form": ClueCloseForm(),
        },
    )


@require_official(Perm.HAND_OVER)
@require_GET
def clue_evidence(request, pk: int):
    clue = get_scoped_or_404(ClueTransfer.objects.all(), request.user, pk=pk)
    response = _file(clue.evidence, inline=False)
    sv.clue_evidence_downloaded(clue=clue, actor=request.user, ip=client_ip(request))
    return response


@require_official(Perm.HAND_OVER)
@require_POST
def clue_move(request, pk: int, how: str):
    clue = get_scoped_or_404(ClueTransfer.objects.all(), request.user, pk=pk)
    form = ClueReplyForm(request.POST) if how == "reply" else ClueCloseForm(request.POST)
    if how not in ("reply", "close"):
        raise Http404("页面不存在")
    try:
        if not form.is_valid():
            raise PeixunError("请填写日期和内容")
        if how == "reply":
            sv.clue_transfer_reply(clue=clue, actor=request.user, **form.cleaned_data)
        else:
            sv.clue_transfer_close(clue=clue, actor=request.user, **form.cleaned_data)
        messages.success(request, "已登记")
    except PeixunError as exc:
        messages.error(request, exc.message)
    return redirect("supervision:clue_detail", pk=pk)


@require_official(Perm.HAND_OVER)
@require_http_methods(["GET", "POST"])
def joint(request):
    user = request.user
    form = JointForm(request.POST or None, institutions=_scoped_institutions(user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            sv.joint_enforcement_record(
                actor=user,
                held_on=d["held_on"],
                departments=d["departments"],
                partner_units=d["partner_units"],
                place=d["place"],
                summary=d["summary"],
                institutions=list(d.get("institutions") or []),
                outcome=d.get("outcome") or "",
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "联合执法记录已登记")
            return redirect("supervision:joint")
    qs = (
        restrict(JointEnforcement.objects.all(), user)
        .select_related("organisation", "recorded_by")
        .prefetch_related("institutions")
    )
    return render(
        request,
        "supervision/joint.html",
        {
            "page": _page(request, qs),
            "form": form,
            "show_form": request.method == "POST" or request.GET.get("new") == "1",
        },
    )


@require_official(Perm.MANAGE_STAFF_TRAINING)
@require_http_methods(["GET", "POST"])
def staff_training(request):
    user = request.user
    staff = (
        restrict(User.objects.filter(is_active=True, role__in=list(OFFICIAL_ROLES)), user)
        .select_related("organisation")
        .order_by("organisation__area__code", "organisation__name", "display_name")
    )
    form = StaffTrainingForm(request.POST or None, attendees=staff)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            sv.staff_training_record(actor=user, **{**d, "attendees": list(d["attendees"])})
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "培训记录已登记")
            return redirect("supervision:staff_training")
    qs = (
        restrict(StaffTraining.objects.all(), user)
        .select_related("organisation")
        .annotate(headcount=Count("attendees"))
        .order_by("-held_on", "-id")
    )
    year = timezone.localdate().year
    hours_by_person = (
        StaffTraining.attendees.through.objects.filter(
            stafftraining__in=qs, stafftraining__held_on__year=year
        )
        .values("user__display_name", "user__organisation__name")
        .annotate(hours=Sum("stafftraining__hours"), sessions=Count("pk"))
        .order_by("-hours", "user__display_name")[:30]
    )
    return render(
        request,
        "supervision/staff_training.html",
        {
            "page": _page(request, qs),
            "form": form,
            "show_form": request.method == "POST" or request.GET.get("new") == "1",
            "hours_by_person": hours_by_person,
            "year": year,
        },
    )


# --- public (一公开) ---------------------------------------------------------------------------------------


@require_GET
def public_draws(request):
    qs = Draw.objects.select_related("organisation", "area").order_by("-created_at", "-id")
    today = timezone.localdate()
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    for d in page:
        d.revealed = draw_revealed(d, today)
    results = (
        public_inspections(today)
        .select_related("institution__area", "draw_target__draw", "training_class")
        .prefetch_related("items")
        .order_by("-inspected_on", "-id")[:20]
    )
    return render(
        request, "supervision/public_draws.html", {"page": page, "results": results, "nav": "supervision"}
    )


@require_GET
def public_draw(request, pk: int):
    draw = get_object_or_404(Draw.objects.select_related("organisation", "area"), pk=pk)
    today = timezone.localdate()
    revealed = draw_revealed(draw, today)
    context = {
        "draw": draw,
        "revealed": revealed,
        "nav": "supervision",
        "share_percent": draw.sample_share * 100,
    }
    if revealed:
        pool = algo.parse_pool(draw.pool_text)
        result = algo.select(pool, draw.seed)
        names = {t["key"]: t["name"] for t in pool["targets"]}
        people = {i["key"]: i for i in pool["inspectors"]}
        shown = {
            i.draw_target.key: i
            for i in public_inspections(today).filter(draw_target__draw=draw).prefetch_related("items")
        }
        context.update(
            {
                "pool": pool,
                "verified": result.sha256 == draw.result_sha256
                and algo.seed_sha256(draw.seed) == draw.seed_sha256,
                "rows": [
                    {
                        "t": t,
                        "name": names[t.key],
                        "stratum": algo.STRATUM_LABELS[t.stratum],
                        "inspectors": [people[k] for k, _s in t.inspectors],
                        "inspection": shown.get(t.key),
                    }
                    for t in result.targets
                ],
            }
        )
    return render(request, "supervision/public_draw.html", context)


@require_GET
def public_pool(request, pk: int):
    draw = get_object_or_404(Draw, pk=pk)
    if not draw_revealed(draw):
        raise Http404("抽取池在结果公开后提供下载")
    return _pool_response(draw)


@require_GET
def public_results(request):
    qs = (
        public_inspections()
        .select_related("institution__area", "draw_target__draw", "training_class")
        .prefetch_related("items")
        .order_by("-inspected_on", "-id")
    )
    q = request.GET.get("q", "").strip()[:50]
    if q:
        qs = qs.filter(institution__name__contains=q)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "supervision/public_results.html",
        {"page": page, "q": q, "query": query.urlencode(), "nav": "supervision"},
    )
