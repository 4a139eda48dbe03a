"""Pages of the shell: login, home, people, areas, audit, settings, calendar, users.

Views stay thin: they fetch through the scope helper, call one service, and render.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from peixun.accounts import second_factor
from peixun.accounts import services as account_services
from peixun.accounts.http import client_ip, require_perm
from peixun.accounts.models import User
from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import get_scoped_or_404, restrict, scope_of
from peixun.core import services as core_services
from peixun.core.audit import verify_chain
from peixun.core.errors import PeixunError
from peixun.core.identity import mask_phone
from peixun.core.models import (
    Area,
    AuditEntry,
    CalendarDay,
    CalendarYear,
    Person,
    PersonAccessLog,
    RuleSettings,
)

from .forms import CalendarDayForm, CalendarYearForm, LoginForm, RuleSettingsForm
from .pending import pending_for

PAGE_SIZE = 50


def login_view(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = LoginForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        result = account_services.login_attempt(
            request=request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if result.user is not None:
            login(request, result.user)
            next_url = request.GET.get("next", "")
            if next_url.startswith("/") and not next_url.startswith("//"):
                return redirect(next_url)
            return redirect("home")
        error = result.error
    return render(request, "web/login.html", {"form": form, "error": error})


@login_required
def otp_setup(request):
    """First sign-in of an official: bind an authenticator app (TOTP)."""
    if not second_factor.second_factor_required(request.user) or request.user.is_verified():
        return redirect("home")
    if second_factor.confirmed_device(request.user):
        return redirect("otp_verify")
    error = None
    if request.method == "POST":
        try:
            second_factor.second_factor_enrol(request=request, token=request.POST.get("token", ""))
            return redirect("home")
        except PeixunError as exc:
            error = exc.message
    device = second_factor.enrolment_device(request.user)
    return render(
        request,
        "web/otp.html",
        {
            "setup": True,
            "qr": second_factor.provisioning_qr(device),
            "secret": second_factor.secret_text(device),
            "error": error,
        },
    )


@login_required
def otp_verify(request):
    if not second_factor.second_factor_required(request.user) or request.user.is_verified():
        return redirect("home")
    if not second_factor.confirmed_device(request.user):
        return redirect("otp_setup")
    error = None
    if request.method == "POST":
        try:
            second_factor.second_factor_verify(request=request, token=request.POST.get("token", ""))
            next_url = request.GET.get("next", "")
            if next_url.startswith("/") and not next_url.startswith("//"):
                return redirect(next_url)
            return redirect("home")
        except PeixunError as exc:
            error = exc.message
    return render(request, "web/otp.html", {"setup": False, "error": error})


@require_POST
def logout_view(request):
    logout(request)
    return redirect("login")


@login_required
def home(request):
    return render(
        request,
        "web/home.html",
        {
            "pending": pending_for(request.user),
            "scope": scope_of(request.user),
            "today": timezone.localdate(),
        },
    )


@require_perm(Perm.VIEW_AREAS)
def area_tree(request):
    areas = list(Area.objects.all())
    children: dict[int | None, list[Area]] = {}
    for area in areas:
        children.setdefault(area.parent_id, []).append(area)
    covered = scope_of(request.user)
    region = next(a for a in areas if a.parent_id is None)
    cities = []
    # 满洲里/二连浩特 report directly to the region: list them beside the 盟市, not under them.
    direct = [a for a in areas if a.kind == Area.Kind.COUNTY_DIRECT]
    for city in children.get(region.id, []) + direct:
        below = [a for a in children.get(city.id, []) if a.kind != Area.Kind.COUNTY_DIRECT]
        cities.append({"area": city, "children": below})
    return render(
        request,
        "web/area_tree.html",
        {
            "region": region,
            "cities": cities,
            "covered_ids": covered.area_ids,
            "everything": covered.everything,
        },
    )


@require_perm(Perm.VIEW_PEOPLE)
def person_list(request):
    people = restrict(Person.objects.select_related("area"), request.user)
    q = request.GET.get("q", "").strip()
    if q:
        people = people.filter(name__contains=q)
    area_code = request.GET.get("area", "")
    if area_code:
        people = people.filter(Q(area__code=area_code) | Q(area__parent__code=area_code))
    page = Paginator(people.order_by("name", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    areas = (
        restrict(Area.objects.exclude(kind=Area.Kind.REGION), request.user)
        if not scope_of(request.user).organisation_id
        else []
    )
    return render(
        request, "web/person_list.html", {"page": page, "q": q, "area_code": area_code, "areas": areas}
    )


@require_perm(Perm.VIEW_PEOPLE)
def person_detail(request, public_id):
    person = get_scoped_or_404(Person.objects.select_related("area"), request.user, public_id=public_id)
    account_services.person_file_viewed(person=person, viewer=request.user, ip=client_ip(request))
    history = restrict(
        AuditEntry.objects.filter(object_type="core.Person", object_id=str(person.public_id)), request.user
    )
    return render(
        request,
        "web/person_detail.html",
        {
            "person": person,
            "phone_masked": mask_phone(person.phone),
            "can_reveal": has_perm(request.user, Perm.REVEAL_ID_NUMBER),
            "history": history[:50],
            "affiliations": restrict(person.affiliations.select_related("organisation"), request.user),
        },
    )


@require_POST
@require_perm(Perm.REVEAL_ID_NUMBER)
def person_reveal_id(request, public_id):
    person = get_scoped_or_404(Person.objects.all(), request.user, public_id=public_id)
    full = account_services.person_reveal_id(person=person, viewer=request.user, ip=client_ip(request))
    return render(request, "web/_revealed_id.html", {"full": full})


@require_perm(Perm.VIEW_AUDIT)
def audit_list(request):
    entries = restrict(AuditEntry.objects.select_related("area", "organisation"), request.user)
    action = request.GET.get("action", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    page = Paginator(entries.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/audit_list.html",
        {"page": page, "action": action, "can_verify": scope_of(request.user).everything},
    )


@require_POST
@require_perm(Perm.VIEW_AUDIT)
def audit_verify(request):
    if not scope_of(request.user).everything:
        raise Http404("页面不存在")
    problem = verify_chain()
    return render(request, "web/_audit_verify.html", {"problem": problem, "checked_at": timezone.now()})


@require_perm(Perm.VIEW_ACCESS_LOG)
def access_log(request):
    logs = PersonAccessLog.objects.select_related("viewer", "person").order_by("-at")
    page = Paginator(logs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/access_log.html", {"page": page})


@require_perm(Perm.VIEW_AREAS)
def rule_settings(request):
    current = core_services.current_rule_settings()
    can_edit = has_perm(request.user, Perm.EDIT_RULE_SETTINGS)
    form = None
    if can_edit:
        form = RuleSettingsForm(request.POST or None, instance=RuleSettings(**current.as_dict()))
        if request.method == "POST" and form.is_valid():
            values = {f: form.cleaned_data[f] for f in RuleSettings.RULE_FIELDS}
            try:
                new = core_services.rule_settings_change(
                    actor=request.user, reason=form.cleaned_data["reason"], **values
                )
            except PeixunError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"规则参数已更新为第{new.version}版")
                return redirect("rule_settings")
    elif request.method == "POST":
        raise Http404("页面不存在")
    fields = [(current._meta.get_field(f), getattr(current, f)) for f in RuleSettings.RULE_FIELDS]
    return render(
        request,
        "web/rule_settings.html",
        {
            "current": current,
            "fields": fields,
            "form": form,
            "versions": RuleSettings.objects.select_related("created_by").order_by("-version")[:20],
        },
    )


@require_perm(Perm.VIEW_AREAS)
def calendar(request):
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    can_edit = has_perm(request.user, Perm.EDIT_CALENDAR)
    day_form = CalendarDayForm(prefix="day")
    year_form = CalendarYearForm(prefix="year", initial={"year": year})
    if request.method == "POST":
        if not can_edit:
            raise Http404("页面不存在")
        try:
            if "day-date" in request.POST:
                day_form = CalendarDayForm(request.POST, prefix="day")
                if day_form.is_valid():
                    data = day_form.cleaned_data
                    core_services.calendar_set_day(
                        actor=request.user, date=data["date"], kind=data["kind"] or None, name=data["name"]
                    )
                    messages.success(request, f"已保存{data['date'].isoformat()}")
                    return redirect(f"{request.path}?year={data['date'].year}")
            else:
                year_form = CalendarYearForm(request.POST, prefix="year")
                if year_form.is_valid():
                    data = year_form.cleaned_data
                    core_services.calendar_open_year(
                        actor=request.user, year=data["year"], source=data["source"]
                    )
                    messages.success(request, f"{data['year']}年工作日历已启用")
                    return redirect(f"{request.path}?year={data['year']}")
        except PeixunError as exc:
            messages.error(request, exc.message)
    days = CalendarDay.objects.filter(date__year=year).order_by("date")
    loaded = CalendarYear.objects.filter(year=year).first()
    holidays = days.filter(kind=CalendarDay.Kind.HOLIDAY)
    months = _month_grid(year, {d.date: d for d in days}) if loaded else []
    return render(
        request,
        "web/calendar.html",
        {
            "year": year,
            "loaded": loaded,
            "years": CalendarYear.objects.order_by("-year")[:30],
            "holiday_count": holidays.count(),
            "workday_days": days.filter(kind=CalendarDay.Kind.WORKDAY),
            "days": days,
            "months": months,
            "can_edit": can_edit,
            "day_form": day_form,
            "year_form": year_form,
        },
    )


def _month_grid(year: int, special: dict) -> list[dict]:
    months = []
    for month in range(1, 13):
        first = dt.date(year, month, 1)
        weeks, week = [], [None] * first.weekday()
        day = first
        while day.month == month:
            entry = special.get(day)
            if entry is not None:
                css = "holiday" if entry.kind == CalendarDay.Kind.HOLIDAY else "adjusted"
            else:
                css = "weekend" if day.weekday() >= 5 else ""
            week.append({"day": day.day, "css": css, "title": entry.name if entry else ""})
            if len(week) == 7:
                weeks.append(week)
                week = []
            day += dt.timedelta(days=1)
        if week:
            weeks.append(week + [None] * (7 - len(week)))
        months.append({"month": month, "weeks": weeks})
    return months


@require_perm(Perm.MANAGE_USERS)
def user_list(request):
    users = restrict(User.objects.select_related("organisation", "organisation__area"), request.user)
    if request.GET.get("locked"):
        users = users.filter(locked_until__gt=timezone.now())
    page = Paginator(users.order_by("organisation__area__code", "username"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "web/user_list.html", {"page": page, "now": timezone.now()})


@require_POST
@require_perm(Perm.MANAGE_USERS)
def user_unlock(request, user_id: int):
    target = get_scoped_or_404(User.objects.all(), request.user, pk=user_id)
    account_services.user_unlock(user=target, actor=request.user)
    messages.success(request, f"已解锁账户“{target.get_full_name()}”")
    return redirect("user_list")


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
