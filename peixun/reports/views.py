"""统计报表 pages: dashboards, the region's side-by-side view of its 14 city-level areas, employment
follow-up, the training-needs match, and the standard reports as background jobs.

Thin: each view resolves the filters, asks a selector in this app for scoped numbers and renders.
Before showing numbers a page lets the statistics catch up with what was audited since the last
refresh (`refresh.stats_catch_up`), unless that is too much for a page view.
"""

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from peixun.accounts.http import client_ip, download_response, require_perm
from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import get_scoped_or_404, restrict, scope_of
from peixun.catalog.models import TrainingType
from peixun.core.errors import CalendarMissing, PeixunError
from peixun.core.jobs import job_progress, job_submit
from peixun.core.models import Job, PersonAccessLog
from peixun.core.services import current_rule_settings
from peixun.core.tabular import write_xlsx
from peixun.core.workdays import WorkdayCalendar
from peixun.training.models import Enrollment, TrainingClass

from . import employment as rules
from .dashboards import (
    Chart,
    Filters,
    Level,
    NotAnInstitution,
    area_options,
    cities_charts,
    dashboard_for,
    occupation_options,
    resolve_level,
)
from .employment_stats import CappedPaginator, employment_charts, follow_up_list
from .forms import FollowUpForm, ReportForm
from .jobs import REFRESH_KIND, REPORT_KINDS, report_directory, report_submit
from .models import Checkpoint, EmploymentOutcome, FollowUp
from .needs import needs_chart, needs_match
from .refresh import completed_enrollments, stats_catch_up, stats_state

TYPE_CHOICES = TrainingType.choices


def _filters(request) -> Filters:
    return Filters.from_query(request.GET, today=timezone.localdate())


def _catch_up(request) -> bool:
    """Bring the statistics up to date if that is quick; True when they are left behind."""
    result = stats_catch_up()
    return bool(result and result.deferred)


def _years() -> list[int]:
    this = timezone.localdate().year
    return list(range(this + 1, this - 6, -1))


def _context(request, filters: Filters, level: Level, **extra) -> dict:
    return {
        "filters": filters,
        "level": level,
        "years": _years(),
        "areas": area_options(request.user),
        "occupations": occupation_options(request.user, level, filters),
        "types": TYPE_CHOICES,
        "state": stats_state(),
        "can_refresh": has_perm(request.user, Perm.GENERATE_REPORTS),
        "region_view": scope_of(request.user).everything,
        "perms_demand": has_perm(request.user, Perm.VIEW_DEMAND),
        "up_query": _up_query(request.user, level, filters),
        **extra,
    }


def _up_query(user, level: Level, filters: Filters) -> str | None:
    """The filters one level up (an institution → its area; a county → its city), None at the top."""
    if filters.institution and level.institution is not None and not scope_of(user).organisation_id:
        return filters.query(institution="")
    if not filters.area or level.area is None:
        return None
    scope = scope_of(user)
    if not scope.everything and user.organisation_id and level.area.id == user.organisation.area_id:
        return None
    parent = level.area.parent
    if (
        parent is not None
        and parent.kind != parent.Kind.REGION
        and level.area.kind != level.area.Kind.COUNTY_DIRECT
        and (scope.everything or parent.id in scope.area_ids)
        and parent.code != filters.area
    ):
        return filters.query(area=parent.code)
    return filters.query(area="")


# --- dashboards -------------------------------------------------------------------------------------


def _current_timeliness(user):
    """审核时效 now (待审核 / 即将到期 / 已逾期) for the level shown, counted set-wise with the review
    kinds of the 审核时效 page (web/workload.py: which cases, which are pending, which limit) rather
    than a second definition of them. The page's 90-day averages and overdue list stay on that page."""
    from peixun.web.workload import AREA, KINDS

    def current(level: Level) -> dict:
        today = timezone.localdate()
        try:
            soon = WorkdayCalendar().add(today, 1)
        except CalendarMissing:
            soon = today + dt.timedelta(days=1)
        out = {}
        for kind in KINDS:
            qs = restrict(kind.base(), user).filter(kind.pending())
            if level.institution is not None:
                qs = qs.filter(training_class__institution=level.institution)
            elif level.area_ids is not None:
                qs = qs.filter(**{f"{AREA}__in": level.area_ids})
            out[kind.key] = qs.aggregate(
                pending=Count("id"),
                due_soon=Count("id", filter=Q(due_date__gte=today, due_date__lte=soon)),
                overdue=Count("id", filter=Q(due_date__lt=today)),
            )
        return out

    return current


def _limits() -> dict[str, int]:
    rule = current_rule_settings()
    return {
        "opening": rule.opening_review_workdays,
        "completion": rule.completion_review_workdays,
        "subsidy": rule.subsidy_review_workdays,
    }


def _dashboard(request):
    return dashboard_for(
        request.user,
        _filters(request),
        current_timeliness=_current_timeliness(request.user),
        limits=_limits(),
    )


@require_perm(Perm.VIEW_STATISTICS)
def dashboard(request):
    behind = _catch_up(request)
    data = _dashboard(request)
    return render(
        request,
        "reports/dashboard.html",
        _context(
            request, data.filters, data.level, d=data, charts=data.charts, behind=behind, page="dashboard"
        ),
    )


@require_perm(Perm.VIEW_STATISTICS)
def cities(request):
    if not scope_of(request.user).everything:
        raise Http404("页面不存在")
    behind = _catch_up(request)
    filters = _filters(request)
    level = resolve_level(request.user, Filters(year=filters.year))
    charts = cities_charts(request.user, filters)
    return render(
        request,
        "reports/cities.html",
        _context(request, filters, level, charts=charts, behind=behind, page="cities"),
    )


def _charts_of(request, page: str) -> tuple[Filters, list[Chart]]:
    filters = _filters(request)
    if page == "dashboard":
        return filters, _dashboard(request).charts
    if page == "cities":
        if not scope_of(request.user).everything:
            raise Http404("页面不存在")
        return filters, cities_charts(request.user, filters)
    if page == "employment":
        return filters, employment_charts(request.user, resolve_level(request.user, filters), filters)
    if page == "needs":
        if not has_perm(request.user, Perm.VIEW_DEMAND):
            raise Http404("页面不存在")
        level, rows = needs_match(request.user, filters)
        return filters, [needs_chart(level, rows)]
    raise Http404("页面不存在")


@require_perm(Perm.VIEW_STATISTICS)
def chart_export(request, page: str, key: str):
    """导出Excel: the table of one chart, exactly as the page shows it, with its 合计 row."""
    filters, charts = _charts_of(request, page)
    chart = next((c for c in charts if c.key == key), None)
    if chart is None:
        raise Http404("页面不存在")
    content = write_xlsx(chart.title, chart.labels, chart.export_rows())
    return download_response(content, f"{chart.title}_{filters.year}.xlsx")


# --- employment follow-up ---------------------------------------------------------------------------


@require_perm(Perm.VIEW_STATISTICS)
def employment(request):
    behind = _catch_up(request)
    filters = _filters(request)
    level = resolve_level(request.user, filters)
    charts = employment_charts(request.user, level, filters)
    page = CappedPaginator(follow_up_list(request.user, level, filters), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/employment.html",
        _context(
            request,
            filters,
            level,
            charts=charts,
            behind=behind,
            page="employment",
            todo=page,
            can_follow_up=has_perm(request.user, Perm.RECORD_FOLLOW_UP),
        ),
    )


@require_perm(Perm.VIEW_STATISTICS)
def class_employment(request, pk: int):
    """One class's completed trainees at 3 and 6 months, with the evidence and the follow-up records."""
    klass = get_scoped_or_404(
        TrainingClass.objects.select_related("institution", "area"), request.user, pk=pk
    )
    behind = _catch_up(request)
    today = timezone.localdate()
    outcomes = {
        (o.enrollment_id, o.checkpoint): o
        for o in EmploymentOutcome.objects.filter(training_class=klass).select_related("follow_up")
    }
    records = {(f.enrollment_id, f.checkpoint): f for f in FollowUp.objects.filter(training_class=klass)}
    trainees = []
    for enrollment in completed_enrollments([klass.id]).select_related("person").order_by("person__name"):
        points = []
        for months in rules.CHECKPOINTS:
            day = rules.checkpoint_date(klass.end_date, months)
            points.append(
                {
                    "months": months,
                    "date": day,
                    "reached": day <= today,
                    "outcome": outcomes.get((enrollment.id, months)),
                    "record": records.get((enrollment.id, months)),
                }
            )
        trainees.append({"enrollment": enrollment, "points": points})
    return render(
        request,
        "reports/class_employment.html",
        {
            "klass": klass,
            "trainees": trainees,
            "behind": behind,
            "can_follow_up": has_perm(request.user, Perm.RECORD_FOLLOW_UP),
            "completed_statuses": ("COMPLETED", "IMPORTED"),
        },
    )


@require_perm(Perm.RECORD_FOLLOW_UP)
def follow_up(request, enrollment_pk: int, checkpoint: int):
    enrollment = get_scoped_or_404(
        Enrollment.objects.select_related("training_class__institution", "training_class__area", "person"),
        request.user,
        pk=enrollment_pk,
    )
    if checkpoint not in Checkpoint.values:
        raise Http404("页面不存在")
    klass = enrollment.training_class
    existing = FollowUp.objects.filter(enrollment=enrollment, checkpoint=checkpoint).first()
    if request.method == "POST":
        form = FollowUpForm(request.POST)
        if form.is_valid():
            try:
                from .services import follow_up_record

                follow_up_record(
                    enrollment=enrollment, actor=request.user, checkpoint=checkpoint, **form.cleaned_data
                )
            except PeixunError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, f"已登记{enrollment.person.name}结业后{checkpoint}个月的就业跟踪回访"
                )
                return redirect("reports:class_employment", klass.pk)
    else:
        initial = {"contacted_on": timezone.localdate(), "method": FollowUp.Method.PHONE}
        if existing:
            initial.update(
                outcome=existing.outcome,
                method=existing.method,
                contacted_on=existing.contacted_on,
                employer_name=existing.employer_name,
                employed_since=existing.employed_since,
                note=existing.note,
            )
        form = FollowUpForm(initial=initial)
    return render(
        request,
        "reports/follow_up.html",
        {
            "form": form,
            "enrollment": enrollment,
            "klass": klass,
            "checkpoint": checkpoint,
            "check_date": rules.checkpoint_date(klass.end_date, checkpoint),
            "existing": existing,
            "outcome": EmploymentOutcome.objects.filter(enrollment=enrollment, checkpoint=checkpoint).first(),
        },
    )


# --- training-needs match ---------------------------------------------------------------------------


@require_perm(Perm.VIEW_DEMAND)
def needs(request):
    behind = _catch_up(request)
    filters = _filters(request)
    level, rows = needs_match(request.user, filters)
    chart = needs_chart(level, rows)
    unmet = [r for r in rows if r.status in ("unmet", "partial")]
    return render(
        request,
        "reports/needs.html",
        _context(
            request,
            filters,
            level,
            charts=[chart],
            rows=rows,
            behind=behind,
            page="needs",
            demand_total=sum(r.demand for r in rows),
            trained_total=sum(min(r.trainees, r.demand) for r in rows),
            unmet_count=len(unmet),
            gap_total=sum(r.gap for r in rows),
        ),
    )


# --- standard reports -------------------------------------------------------------------------------


def _my_jobs(user):
    return Job.objects.filter(created_by=user, kind__startswith="reports.")


@require_perm(Perm.GENERATE_REPORTS)
def standard(request):
    level = resolve_level(request.user, Filters(year=timezone.localdate().year))
    if level.key == "institution":
        raise Http404("页面不存在")
    today = timezone.localdate()
    if request.method == "POST":
        form = ReportForm(request.POST, areas=area_options(request.user))
        if form.is_valid():
            data = form.cleaned_data
            with transaction.atomic():
                job = report_submit(
                    actor=request.user,
                    report=data["report"],
                    year=data["year"],
                    month=data.get("month"),
                    area_code=data.get("area") or "",
                )
            return redirect("reports:job", job.public_id)
    else:
        last = today.replace(day=1) - dt.timedelta(days=1)
        form = ReportForm(initial={"year": last.year, "month": last.month}, areas=area_options(request.user))
    return render(
        request,
        "reports/standard.html",
        {"form": form, "jobs": _my_jobs(request.user)[:20], "kinds": REPORT_KINDS, "level": level},
    )


@require_POST
@require_perm(Perm.GENERATE_REPORTS)
def refresh(request):
    with transaction.atomic():
        job = job_submit(kind=REFRESH_KIND, title="更新统计数据", params={"full": False}, actor=request.user)
    return redirect("reports:job", job.public_id)


def _job(request, public_id) -> Job:
    job = _my_jobs(request.user).filter(public_id=public_id).first()
    if job is None:
        raise Http404("任务不存在")
    return job


@require_perm(Perm.GENERATE_REPORTS)
def job_detail(request, public_id):
    job = _job(request, public_id)
    return render(request, "reports/job.html", {"job": job, "progress": job_progress(job)})


@require_perm(Perm.GENERATE_REPORTS)
def job_progress_fragment(request, public_id):
    job = _job(request, public_id)
    response = render(request, "reports/_progress.html", {"job": job, "progress": job_progress(job)})
    if job.finished:
        response["HX-Refresh"] = "true"
    return response


@require_perm(Perm.GENERATE_REPORTS)
def job_download(request, public_id):
    job = _job(request, public_id)
    result = job.result or {}
    if job.status != Job.Status.SUCCEEDED or "file" not in result:
        raise Http404("报表尚未生成")
    path = report_directory() / result["file"]
    if not path.is_file():
        raise Http404("报表文件已清理，请重新生成")
    if result.get("personal_data"):
        # A ledger names trainees: its download is a personal-data export (个人信息保护法).
        PersonAccessLog.objects.create(
            viewer=request.user,
            person=None,
            kind=PersonAccessLog.Kind.EXPORT,
            detail=f"导出{result.get('title', job.title)}"[:200],
            ip=client_ip(request),
        )
    return download_response(path.read_bytes(), result.get("filename") or f"{job.title}.xlsx")


def _explain_no_institution(view):
    """The menu's statistics pages tell an operator of an unregistered organisation why they are empty."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotAnInstitution:
            return render(request, "reports/not_an_institution.html", {})

    return wrapped


dashboard = _explain_no_institution(dashboard)
employment = _explain_no_institution(employment)
