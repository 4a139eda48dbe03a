"""The public portal (第五条: 及时公布培训政策、培训机构目录、评价机构、开班信息, 开展培训需求调查) and the
office page where the region department and the city bureaus publish notices.

Public pages need no login and show public facts only: an institution's name, type, area, address,
licence and licensed occupations; a class's time, place and registration phone. Never a person:
no names, ID numbers or personal phones — not the institution's contact person, not its teachers,
not the people who answered the survey.
"""

import datetime as dt
from itertools import groupby

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from peixun.accounts.http import require_perm
from peixun.accounts.roles import Perm
from peixun.accounts.scope import areas_covered, get_scoped_or_404, restrict
from peixun.catalog.models import Level, Occupation
from peixun.core.errors import PeixunError
from peixun.core.models import Area
from peixun.demand.models import ClassAnnouncement, DemandReport
from peixun.demand.services import demand_submit
from peixun.institutions.models import EvaluationBody, EvaluationScope, Institution, InstitutionListing

from .forms import NoticeForm, PublicSearchForm, SurveyForm, occupation_filter, occupation_matches
from .models import Notice
from .services import notice_publish, notice_withdraw

PAGE_SIZE = 20
SUGGESTIONS = 15
LEVEL_ORDER = {value: i for i, value in enumerate(Level.values)}
# Workers first: most visitors are people looking for training.
SURVEY_TABS = [
    (DemandReport.Kind.WORKER, DemandReport.Kind.WORKER.label),
    (DemandReport.Kind.ENTERPRISE, DemandReport.Kind.ENTERPRISE.label),
]


# --- what the public may see --------------------------------------------------------------------


def public_notices():
    return Notice.objects.filter(published=True, published_on__lte=timezone.localdate()).select_related(
        "area", "created_by__organisation"
    )


def with_publisher(notices):
    """发布单位: the organisation of whoever published, else the bureau of the notice's area — an
    office, never the official's name."""
    notices = list(notices)
    for n in notices:
        org = getattr(n.created_by, "organisation", None) if n.created_by_id else None
        if org is not None:
            n.publisher = org.name
        elif n.area.kind == Area.Kind.REGION:
            n.publisher = "内蒙古自治区人力资源和社会保障厅"
        else:
            n.publisher = f"{n.area.name}人力资源和社会保障局"
    return notices


def listed_institutions():
    """培训机构目录: LISTED only; 暂停, 移出 and never-listed institutions are not shown at all."""
    listed_since = (
        InstitutionListing.objects.filter(institution=OuterRef("pk"), status=Institution.Status.LISTED)
        .order_by("-effective_date", "-id")
        .values("effective_date")[:1]
    )
    return (
        Institution.objects.filter(status=Institution.Status.LISTED)
        .select_related("area__parent")
        .prefetch_related(Prefetch("licensed_occupations", queryset=Occupation.objects.order_by("code")))
        .annotate(listed_since=Subquery(listed_since))
    )


def upcoming_announcements(today: dt.date | None = None):
    """开班信息: published classes not yet started, of institutions still in the directory (a class
    of a suspended institution cannot be subsidised, so the public is not invited to it)."""
    today = today or timezone.localdate()
    return ClassAnnouncement.objects.filter(
        status=ClassAnnouncement.Status.PUBLISHED,
        start_date__gte=today,
        institution__status=Institution.Status.LISTED,
    ).select_related("institution", "occupation", "area__parent")


def _area_ids(code: str) -> frozenset[int] | None:
    area = Area.objects.filter(code=code).first() if code else None
    if area is None or area.kind == Area.Kind.REGION:
        return None
    return areas_covered(area)


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- public pages -------------------------------------------------------------------------------


@require_GET
def home(request):
    today = timezone.localdate()
    notices = public_notices()
    upcoming = upcoming_announcements(today)
    return render(
        request,
        "portal/home.html",
        {
            "policies": notices.filter(category=Notice.Category.POLICY)[:6],
            "notices": notices.filter(category=Notice.Category.NOTICE)[:6],
            "announcements": upcoming[:6],
            "announcement_count": upcoming.count(),
            "institution_count": Institution.objects.filter(status=Institution.Status.LISTED).count(),
            "evaluation_body_count": EvaluationBody.objects.filter(active=True).count(),
            "search": PublicSearchForm(with_name=False),
            "nav": "home",
        },
    )


@require_GET
def institutions(request):
    """培训机构目录 (第五条): searchable by 盟市/旗县区, by occupation and by name."""
    search = PublicSearchForm(request.GET)
    queryset = listed_institutions()
    area_ids = _area_ids(search.value("area"))
    if area_ids is not None:
        queryset = queryset.filter(area_id__in=area_ids)
    by_occupation = occupation_filter(search.value("occupation"), "licensed_occupations")
    if by_occupation is not None:
        # Through a subquery: a join on the many-to-many would repeat an institution per match.
        queryset = queryset.filter(pk__in=Institution.objects.filter(by_occupation).values("pk"))
    if search.value("q"):
        queryset = queryset.filter(name__icontains=search.value("q"))
    filtered = any(search.value(f) for f in ("area", "occupation", "q"))
    return render(
        request,
        "portal/institutions.html",
        {
            "search": search,
            "page": _page(request, queryset.order_by("area__code", "name", "id")),
            "filtered": filtered,
            "query": _query_without_page(request),
            "nav": "institutions",
        },
    )


@require_GET
def institution(request, pk: int):
    """One listed institution: public facts only (no contact person, teachers or premises)."""
    inst = get_object_or_404(listed_institutions(), pk=pk)
    return render(
        request,
        "portal/institution_detail.html",
        {
            "inst": inst,
            "announcements": upcoming_announcements().filter(institution=inst),
            "nav": "institutions",
        },
    )


@require_GET
def announcements(request):
    """开班信息 (第五条): time, occupation, level, place and employment destination of coming classes."""
    search = PublicSearchForm(request.GET, with_name=False)
    queryset = upcoming_announcements()
    area_ids = _area_ids(search.value("area"))
    if area_ids is not None:
        queryset = queryset.filter(area_id__in=area_ids)
    by_occupation = occupation_filter(search.value("occupation"), "occupation")
    if by_occupation is not None:
        queryset = queryset.filter(by_occupation)
    filtered = any(search.value(f) for f in ("area", "occupation"))
    return render(
        request,
        "portal/announcements.html",
        {
            "search": search,
            "page": _page(request, queryset.order_by("start_date", "id")),
            "filtered": filtered,
            "query": _query_without_page(request),
            "today": timezone.localdate(),
            "nav": "announcements",
        },
    )


@require_GET
def evaluation_bodies(request):
    """评价机构 (第五条、第十三条): who may certify which occupation at which level."""
    search = PublicSearchForm(request.GET, with_name=False)
    queryset = (
        EvaluationBody.objects.filter(active=True)
        .select_related("area__parent")
        .prefetch_related(
            Prefetch(
                "scopes",
                queryset=EvaluationScope.objects.select_related("occupation").order_by("occupation__code"),
            )
        )
    )
    area_ids = _area_ids(search.value("area"))
    if area_ids is not None:
        queryset = queryset.filter(area_id__in=area_ids)
    by_occupation = occupation_filter(search.value("occupation"), "occupation")
    if by_occupation is not None:
        queryset = queryset.filter(pk__in=EvaluationScope.objects.filter(by_occupation).values("body_id"))
    page = _page(request, queryset.order_by("area__code", "name", "id"))
    for body in page:
        body.scope_groups = [
            (occupation, [s.get_level_display() for s in sorted(scopes, key=lambda s: LEVEL_ORDER[s.level])])
            for occupation, scopes in groupby(body.scopes.all(), key=lambda s: s.occupation)
        ]
    return render(
        request,
        "portal/evaluation_bodies.html",
        {
            "search": search,
            "page": page,
            "filtered": any(search.value(f) for f in ("area", "occupation")),
            "query": _query_without_page(request),
            "nav": "evaluation_bodies",
        },
    )


@require_GET
def notices(request):
    category = request.GET.get("category", "")
    if category not in Notice.Category.values:
        category = ""
    queryset = public_notices()
    if category:
        queryset = queryset.filter(category=category)
    q = request.GET.get("q", "").strip()[:100]
    if q:
        queryset = queryset.filter(title__icontains=q)
    page = _page(request, queryset)
    page.object_list = with_publisher(page.object_list)
    return render(
        request,
        "portal/notices.html",
        {
            "page": page,
            "category": category,
            "categories": Notice.Category.choices,
            "q": q,
            "query": _query_without_page(request),
            "nav": "notices",
        },
    )


@require_GET
def notice(request, pk: int):
    item = with_publisher([get_object_or_404(public_notices(), pk=pk)])[0]
    return render(request, "portal/notice_detail.html", {"notice": item, "nav": "notices"})


def _survey_kind(request) -> str:
    kind = request.POST.get("kind") or request.GET.get("kind") or ""
    return kind if kind in DemandReport.Kind.values else DemandReport.Kind.WORKER


@require_http_methods(["GET", "POST"])
def survey(request):
    """培训需求调查 (第五条): an enterprise's labour need or a worker's training wish, into the
    training-needs pool of the area's bureau. Anonymous; CSRF-protected; a honeypot field turns
    away form-filling robots."""
    kind = _survey_kind(request)
    form = SurveyForm(request.POST or None, kind=kind)
    status = 200
    if request.method == "POST":
        if form.is_bot:
            form.is_valid()
            form.add_error(None, "提交未成功，请刷新页面后重新填写。")
            status = 400
        elif form.is_valid():
            data = form.cleaned_data
            try:
                demand_submit(
                    kind=kind,
                    channel=DemandReport.Channel.PUBLIC_FORM,
                    actor=None,
                    area=data["area"],
                    occupation_code=data["occupation"].code,
                    level=data.get("level") or "",
                    headcount=data.get("headcount") or 1,
                    enterprise_name=data.get("enterprise_name") or "",
                    enterprise_uscc=data.get("enterprise_uscc") or "",
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    preferred_period=data.get("preferred_period") or "",
                    note=data.get("note") or "",
                )
            except PeixunError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect(f"{reverse('portal:survey_thanks')}?kind={kind}")
    return render(
        request,
        "portal/survey.html",
        {"form": form, "kind": kind, "kinds": SURVEY_TABS, "nav": "survey"},
        status=status,
    )


@require_GET
def survey_thanks(request):
    kind = _survey_kind(request)
    return render(
        request,
        "portal/survey_thanks.html",
        {"kind_label": DemandReport.Kind(kind).label, "nav": "survey"},
    )


@require_GET
def occupation_suggest(request):
    """Options for the 职业（工种） box's suggestion list (htmx)."""
    text = request.GET.get("occupation", "")[:100]
    matches = occupation_matches(text).order_by("code")[:SUGGESTIONS] if len(text.strip()) >= 1 else []
    return render(request, "portal/_occupation_options.html", {"occupations": matches})


# --- office: notices (第五条 及时公布培训政策) --------------------------------------------------------


def _publisher_area(user) -> Area:
    area = getattr(getattr(user, "organisation", None), "area", None)
    if area is None:
        raise Http404("页面不存在")
    return area


@require_perm(Perm.MANAGE_NOTICES)
@require_GET
def notice_manage(request):
    """The notices of the user's scope, published and withdrawn, newest first."""
    _publisher_area(request.user)
    queryset = restrict(Notice.objects.select_related("area"), request.user)
    category = request.GET.get("category", "")
    if category in Notice.Category.values:
        queryset = queryset.filter(category=category)
    status = request.GET.get("status", "")
    if status == "published":
        queryset = queryset.filter(published=True)
    elif status == "withdrawn":
        queryset = queryset.filter(published=False)
    return render(
        request,
        "portal/notice_manage.html",
        {
            "page": Paginator(queryset, 50).get_page(request.GET.get("page")),
            "category": category,
            "status": status,
            "categories": Notice.Category.choices,
            "today": timezone.localdate(),
        },
    )


@require_perm(Perm.MANAGE_NOTICES)
@require_http_methods(["GET", "POST"])
def notice_create(request):
    area = _publisher_area(request.user)
    form = NoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = notice_publish(
                category=data["category"],
                title=data["title"],
                body=data["body"],
                document_no=data["document_no"],
                published_on=data["published_on"],
                area=area,
                actor=request.user,
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已发布《{item.title}》，公众可在门户“政策通知”中查看。")
            return redirect("portal:notice_manage")
    return render(request, "portal/notice_form.html", {"form": form, "area": area})


@require_perm(Perm.MANAGE_NOTICES)
@require_POST
def notice_withdraw_view(request, pk: int):
    item = get_scoped_or_404(Notice.objects.all(), request.user, pk=pk)
    try:
        notice_withdraw(notice=item, actor=request.user)
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已撤下《{item.title}》，门户不再显示。")
    target = reverse("portal:notice_manage")
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)
