"""Pages of the training-needs pool and class announcements (第五条).

第五条: training follows demand — enterprises' labour needs and workers' training wishes are
collected into a 培训需求资源库, matched with listed institutions able to train for them, and
institutions announce their classes to the public. Every queryset goes through `restrict()`: a
county sees its own reports, a city its counties', an institution only its own announcements.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from peixun.accounts.http import download_response, require_perm
from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import get_scoped_or_404, restrict, scope_of
from peixun.catalog.models import Level, Occupation
from peixun.core.errors import PeixunError
from peixun.core.identity import mask_phone
from peixun.core.models import Area
from peixun.core.tabular import write_xlsx
from peixun.institutions.models import Institution

from .forms import AnnouncementForm, DemandEntryForm
from .models import ClassAnnouncement, DemandReport
from .services import (
    ANNOUNCEMENT_TRANSITIONS,
    announcement_create,
    announcement_transition,
    demand_submit,
    matching_institutions,
    needs_pool,
)

PAGE_SIZE = 50
CITY_KINDS = (Area.Kind.CITY, Area.Kind.COUNTY_DIRECT)
STATUS_CSS = {
    ClassAnnouncement.Status.DRAFT: "secondary",
    ClassAnnouncement.Status.PUBLISHED: "success",
    ClassAnnouncement.Status.WITHDRAWN: "dark",
}
POOL_EXPORT_COLUMNS = (
    "盟市代码",
    "盟市",
    "职业编码",
    "职业名称",
    "等级",
    "企业用工需求（人）",
    "劳动者培训需求（人）",
    "合计（人）",
    "填报条数",
    "可承接的目录内机构（家）",
)


def level_label(level: str) -> str:
    return str(Level(level).label) if level else "未明确等级"


def scope_label(user) -> str:
    scope = scope_of(user)
    if scope.everything:
        return "全自治区"
    area = getattr(user.organisation, "area", None)
    if area is None:
        return ""
    if area.kind == Area.Kind.CITY:
        return f"{area.name}及所辖旗县市区"
    return area.name


# --- the pool -----------------------------------------------------------------------------------


def _pool_filters(request):
    this_year = timezone.localdate().year
    reports = restrict(DemandReport.objects.all(), request.user)
    years = sorted(set(reports.values_list("survey_year", flat=True)) | {this_year}, reverse=True)
    raw_year = request.GET.get("year", str(this_year))
    year = int(raw_year) if raw_year.isdigit() else None
    city_code = request.GET.get("city", "")
    rows = needs_pool(reports=reports, year=year)
    if city_code:
        rows = [r for r in rows if r.city.code == city_code]
    return reports, rows, years, year, city_code


@require_perm(Perm.VIEW_DEMAND)
def pool(request):
    """培训需求资源库 (第五条) by city × occupation × level, with where the demand can be met."""
    _reports, rows, years, year, city_code = _pool_filters(request)
    table = [
        {
            "row": r,
            "level": level_label(r.level),
        }
        for r in rows
    ]
    totals = {
        "enterprise": sum(r.enterprise_headcount for r in rows),
        "worker": sum(r.worker_headcount for r in rows),
        "total": sum(r.total for r in rows),
        "reports": sum(r.reports for r in rows),
    }
    return render(
        request,
        "demand/pool.html",
        {
            "table": table,
            "totals": totals,
            "years": years,
            "year": year,
            "city_code": city_code,
            "cities": restrict(Area.objects.filter(kind__in=CITY_KINDS), request.user).order_by("code"),
            "scope_label": scope_label(request.user),
            "can_enter": has_perm(request.user, Perm.ENTER_DEMAND),
            "query": request.GET.urlencode(),
        },
    )


@require_perm(Perm.VIEW_DEMAND)
def pool_export(request):
    _reports, rows, _years, year, _city = _pool_filters(request)
    data = [
        (
            r.city.code,
            r.city.name,
            r.occupation.code,
            r.occupation.name,
            level_label(r.level),
            r.enterprise_headcount,
            r.worker_headcount,
            r.total,
            r.reports,
            r.matching_institutions,
        )
        for r in rows
    ]
    content = write_xlsx("培训需求资源库", POOL_EXPORT_COLUMNS, data)
    return download_response(content, f"培训需求资源库_{year or '全部年度'}.xlsx")


@require_perm(Perm.VIEW_DEMAND)
def match(request, city_code: str, occupation_code: str):
    """The listed institutions of a city licensed for the occupation (第五条 需求与培训资源对接)."""
    city = get_object_or_404(Area, code=city_code, kind__in=CITY_KINDS)
    occupation = get_object_or_404(Occupation, code=occupation_code)
    city_areas = Area.objects.filter(Q(pk=city.pk) | Q(parent=city)).exclude(
        Q(kind=Area.Kind.COUNTY_DIRECT) & ~Q(pk=city.pk)
    )
    if not restrict(city_areas, request.user).exists():
        raise Http404("对象不存在或无权查看")
    everywhere = matching_institutions(city=city, occupation=occupation)
    institutions = restrict(everywhere.select_related("area"), request.user)
    reports = restrict(DemandReport.objects.filter(area__in=city_areas, occupation=occupation), request.user)
    demand = needs_pool(reports=reports)
    return render(
        request,
        "demand/match.html",
        {
            "city": city,
            "occupation": occupation,
            "institutions": institutions,
            "outside_scope": everywhere.count() - institutions.count(),
            "demand": [{"row": r, "level": level_label(r.level)} for r in demand],
        },
    )


# --- individual reports -------------------------------------------------------------------------


@require_perm(Perm.VIEW_DEMAND)
def reports(request):
    qs = restrict(DemandReport.objects.select_related("area", "occupation", "entered_by"), request.user)
    years = sorted(set(qs.values_list("survey_year", flat=True)), reverse=True)
    year = request.GET.get("year", "")
    if year.isdigit():
        qs = qs.filter(survey_year=int(year))
    kind = request.GET.get("kind", "")
    if kind in DemandReport.Kind.values:
        qs = qs.filter(kind=kind)
    area_code = request.GET.get("area", "")
    if area_code:
        qs = qs.filter(Q(area__code=area_code) | Q(area__parent__code=area_code))
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(occupation__code__startswith=q)
            | Q(occupation__name__contains=q)
            | Q(enterprise_name__contains=q)
        )
    page = Paginator(qs.order_by("-submitted_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    for report in page:
        report.phone_masked = mask_phone(report.contact_phone)
    return render(
        request,
        "demand/reports.html",
        {
            "page": page,
            "years": years,
            "year": year,
            "kind": kind,
            "kinds": DemandReport.Kind.choices,
            "area_code": area_code,
            "areas": restrict(Area.objects.exclude(kind=Area.Kind.REGION), request.user).order_by("code"),
            "q": q,
            "can_enter": has_perm(request.user, Perm.ENTER_DEMAND),
        },
    )


@require_perm(Perm.ENTER_DEMAND)
def entry(request):
    """A bureau enters a survey answer it received on paper or by phone (第五条 需求调查)."""
    areas = restrict(Area.objects.exclude(kind=Area.Kind.REGION), request.user).order_by("code")
    if not areas.exists():
        raise Http404("页面不存在")
    initial = {"area": areas.first()} if areas.count() == 1 else {}
    form = DemandEntryForm(request.POST or None, areas=areas, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = demand_submit(
                kind=data["kind"],
                channel=DemandReport.Channel.BUREAU,
                area=data["area"],
                occupation_code=data["occupation"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                actor=request.user,
                level=data["level"],
                headcount=data["headcount"],
                enterprise_name=data["enterprise_name"]
                if data["kind"] == DemandReport.Kind.ENTERPRISE
                else "",
                enterprise_uscc=data["enterprise_uscc"]
                if data["kind"] == DemandReport.Kind.ENTERPRISE
                else "",
                preferred_period=data["preferred_period"],
                note=data["note"],
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"已录入：{report.get_kind_display()} · {report.area.name} · "
                f"{report.occupation.name} {report.headcount}人。",
            )
            if "again" in request.POST:
                return redirect("demand:entry")
            return redirect("demand:reports")
    return render(request, "demand/entry.html", {"form": form})


# --- announcements ------------------------------------------------------------------------------


def own_institution(user) -> Institution | None:
    organisation = getattr(user, "organisation", None)
    if organisation is None:
        return None
    return Institution.objects.filter(organisation=organisation).first()


def _may_see_announcements(user) -> bool:
    return has_perm(user, Perm.ANNOUNCE_CLASSES) or has_perm(user, Perm.VIEW_DEMAND)


@login_required
def announcements(request):
    """An institution's own 开班公告 with the buttons the transition table allows; officials see
    those of their area."""
    if not _may_see_announcements(request.user):
        raise Http404("页面不存在")
    can_announce = has_perm(request.user, Perm.ANNOUNCE_CLASSES)
    institution = own_institution(request.user) if can_announce else None
    qs = restrict(ClassAnnouncement.objects.select_related("institution", "occupation", "area"), request.user)
    status = request.GET.get("status", "")
    if status in ClassAnnouncement.Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-start_date", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    for a in page:
        a.status_css = STATUS_CSS.get(a.status, "secondary")
        a.actions = (
            [
                (name, label)
                for name, (sources, _target, label) in ANNOUNCEMENT_TRANSITIONS.items()
                if a.status in sources
            ]
            if can_announce
            else []
        )
    return render(
        request,
        "demand/announcements.html",
        {
            "page": page,
            "status": status,
            "statuses": ClassAnnouncement.Status.choices,
            "can_announce": can_announce,
            "institution": institution,
            "listed": institution is not None and institution.status == Institution.Status.LISTED,
        },
    )


@require_perm(Perm.ANNOUNCE_CLASSES)
def announcement_create_view(request):
    institution = own_institution(request.user)
    if institution is None:
        messages.error(request, "本单位尚未登记为培训机构，不能发布开班公告。请联系所在地人社部门登记。")
        return redirect("demand:announcements")
    occupations = institution.licensed_occupations.order_by("code")
    form = AnnouncementForm(request.POST or None, occupations=occupations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            announcement = announcement_create(
                institution=institution,
                actor=request.user,
                title=data["title"],
                occupation_code=data["occupation"].code,
                level=data["level"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                place=data["place"],
                capacity=data["capacity"],
                contact_phone=data["contact_phone"],
                employment_destination=data["employment_destination"],
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已保存草稿“{announcement.title}”。确认无误后点击“发布”向社会公布。")
            return redirect("demand:announcements")
    return render(
        request,
        "demand/announcement_form.html",
        {"form": form, "institution": institution, "no_occupations": not occupations.exists()},
    )


@require_POST
@require_perm(Perm.ANNOUNCE_CLASSES)
def announcement_action(request, pk: int, action: str):
    announcement = get_scoped_or_404(ClassAnnouncement.objects.all(), request.user, pk=pk)
    if action not in ANNOUNCEMENT_TRANSITIONS:
        raise Http404("页面不存在")
    try:
        done = announcement_transition(announcement=announcement, action=action, actor=request.user)
    except PeixunError as exc:
        messages.error(
            request, f"“{announcement.title}”未能{ANNOUNCEMENT_TRANSITIONS[action][2]}：{exc.message}"
        )
    else:
        messages.success(request, f"“{done.title}”已{ANNOUNCEMENT_TRANSITIONS[action][2]}。")
    return redirect("demand:announcements")
