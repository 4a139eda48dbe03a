"""Pages of training institutions, the directory (培训机构目录), teachers and evaluation bodies.

Views stay thin: they fetch through the scope helper, call one service, and render. Every rule
(第六条 on-site assessment before listing, 第二十一条 directory, 第二十二条 licence scope) lives in
services.py; the transition buttons are read from DIRECTORY_TRANSITIONS.
"""

import mimetypes

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from peixun.accounts.http import download_response, read_upload, require_perm
from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import get_scoped_or_404, restrict, scope_of
from peixun.catalog.models import Level
from peixun.core.errors import PeixunError
from peixun.core.identity import id_check_char
from peixun.core.models import Area
from peixun.core.tabular import ImportFailed, write_xlsx

from . import services
from .forms import (
    DESCRIPTIVE_FIELDS,
    IMPORT_KINDS,
    AssessmentForm,
    DirectoryChangeForm,
    EvaluationBodyForm,
    ImportForm,
    InstitutionForm,
    PoolForm,
    StyledForm,
    TeacherForm,
)
from .models import (
    AssessmentPhoto,
    EvaluationBody,
    EvaluationScope,
    Institution,
    InstitutionListing,
    SiteAssessment,
    Teacher,
)

PAGE_SIZE = 50
Status = Institution.Status
DETAIL_TABS = ("basic", "occupations", "assessments", "directory", "teachers")


# --- helpers ------------------------------------------------------------------------------------


def _scoped_areas(user):
    """The 盟市 and 旗县区 the user's office covers (the region itself is never an institution's area)."""
    return restrict(Area.objects.exclude(kind=Area.Kind.REGION).select_related("parent"), user)


def _user_city(user) -> Area | None:
    """The 盟市 whose shared teacher pool the user works with; None for the region department."""
    org = getattr(user, "organisation", None)
    if org is None:
        return None
    area = org.area
    if area.kind == Area.Kind.REGION:
        return None
    if area.kind in (Area.Kind.CITY, Area.Kind.COUNTY_DIRECT) or area.parent is None:
        return area
    return area.parent


def _pool_areas(user):
    """The cities whose shared pool (共享师资库) the user may manage."""
    return restrict(Area.objects.filter(kind__in=[Area.Kind.CITY, Area.Kind.COUNTY_DIRECT]), user)


def _own_institution(user) -> Institution | None:
    if user.organisation_id is None:
        return None
    return Institution.objects.filter(organisation_id=user.organisation_id).first()


def _visible_teachers(user):
    """Teacher's scope path goes through the institution; a pool teacher has none, so the pool of the
    user's city (or every pool, for the region department) is added explicitly."""
    scoped = Q(pk__in=restrict(Teacher.objects.all(), user).values("pk"))
    if not scope_of(user).everything:
        city = _user_city(user)
        if city is not None:
            scoped |= Q(shared_pool_area=city)
    return Teacher.objects.filter(scoped)


def _institution_filters(request, user):
    institutions = restrict(Institution.objects.select_related("area", "area__parent"), user)
    f = {
        "area": request.GET.get("area", "").strip(),
        "status": request.GET.get("status", "").strip(),
        "type": request.GET.get("type", "").strip(),
        "occupation": request.GET.get("occupation", "").strip(),
        "q": request.GET.get("q", "").strip(),
    }
    if f["area"]:
        institutions = institutions.filter(Q(area__code=f["area"]) | Q(area__parent__code=f["area"]))
    if f["status"] in Status.values:
        institutions = institutions.filter(status=f["status"])
    if f["type"] in Institution.Type.values:
        institutions = institutions.filter(type=f["type"])
    if f["occupation"]:
        institutions = institutions.filter(
            pk__in=Institution.licensed_occupations.through.objects.filter(
                occupation__code__startswith=f["occupation"]
            ).values("institution_id")
        )
    if f["q"]:
        institutions = institutions.filter(Q(name__contains=f["q"]) | Q(code__icontains=f["q"]))
    return institutions.order_by("area__code", "name", "pk"), f


def _last_removal(institution: Institution):
    """Hints mirror the service's guard (第六条): after a removal only a newer assessment counts."""
    return (
        institution.listings.filter(status=Status.REMOVED)
        .order_by("-effective_date")
        .values_list("effective_date", flat=True)
        .first()
    )


def _form_error(form, exc: PeixunError) -> None:
    form.add_error(None, exc.message)


# --- institutions -------------------------------------------------------------------------------


@require_perm(Perm.VIEW_INSTITUTIONS)
def institution_list(request):
    user = request.user
    institutions, filters = _institution_filters(request, user)
    page = Paginator(institutions, PAGE_SIZE).get_page(request.GET.get("page"))
    own = scope_of(user).organisation_id is not None
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "institutions/list.html",
        {
            "page": page,
            "f": filters,
            "areas": [] if own else _scoped_areas(user),
            "statuses": Status.choices,
            "types": Institution.Type.choices,
            "can_manage": has_perm(user, Perm.MANAGE_INSTITUTIONS),
            "export_query": query.urlencode(),
        },
    )


EXPORT_COLUMNS = (*services.INSTITUTION_COLUMNS, "目录状态")
# Captions size the Excel columns (names and addresses are long).
EXPORT_LABELS = (
    "统一社会信用代码",
    "机构名称（全称）",
    "机构类型",
    "地区代码",
    "地址（详细地址）",
    "许可培训职业（工种）",
    "是否列入目录",
    "目录状态",
)
TEMPLATE_LABELS = {
    "institutions": EXPORT_LABELS[:-1],
    "teachers": ("居民身份证号码", "姓名", "机构统一社会信用代码", "任教资格（职业、等级、职称）"),
}


@require_perm(Perm.VIEW_INSTITUTIONS)
def institution_export(request):
    """The list as filtered, in the columns of contract.md's institutions.csv plus the status in Chinese."""
    institutions, _filters = _institution_filters(request, request.user)
    institutions = institutions.prefetch_related("licensed_occupations")
    rows = (
        (
            i.code,
            i.name,
            i.type,
            i.area.code,
            i.address,
            ";".join(sorted(o.code for o in i.licensed_occupations.all())),
            "Y" if i.status == Status.LISTED else "N",
            i.get_status_display(),
        )
        for i in institutions
    )
    content = write_xlsx("institutions", EXPORT_COLUMNS, rows, labels=EXPORT_LABELS)
    return download_response(content, f"培训机构_{timezone.localdate():%Y%m%d}.xlsx")


@require_perm(Perm.VIEW_INSTITUTIONS)
def institution_detail(request, pk: int):
    user = request.user
    institution = get_scoped_or_404(
        Institution.objects.select_related("area", "area__parent", "organisation"), user, pk=pk
    )
    tab = request.GET.get("tab", "basic")
    if tab not in DETAIL_TABS:
        tab = "basic"
    transitions = services.directory_transitions_for(user, institution)
    last_removal = _last_removal(institution)
    has_passing = services._passing_assessment_since(institution, last_removal) is not None
    teachers = (
        _visible_teachers(user)
        .filter(institution=institution)
        .select_related("person", "shared_pool_area")
        .prefetch_related("occupations")
    )
    return render(
        request,
        "institutions/detail.html",
        {
            "institution": institution,
            "tab": tab,
            "transitions": transitions,
            "needs_assessment_hint": any(t.needs_assessment for t in transitions),
            "has_passing": has_passing,
            "last_removal": last_removal,
            "occupations": institution.licensed_occupations.order_by("code"),
            "assessments": institution.assessments.select_related("recorded_by").prefetch_related("photos"),
            "listings": institution.listings.select_related("decided_by"),
            "teachers": teachers,
            "can_edit": services.institution_may_edit(user, institution),
            "can_assess": has_perm(user, Perm.ASSESS_INSTITUTIONS),
            "can_add_teacher": _may_add_teacher(user, institution),
            "today": timezone.localdate(),
        },
    )


@require_perm(Perm.MANAGE_INSTITUTIONS)
def institution_create(request):
    user = request.user
    form = InstitutionForm(request.POST or None, areas=_scoped_areas(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            institution = services.institution_register(
                code=data["code"],
                name=data["name"],
                type=data["type"],
                area=data["area"],
                actor=user,
                address=data["address"],
                licensed_occupation_codes=data["licensed_occupations"],
                licence_no=data["licence_no"],
                licence_valid_to=data["licence_valid_to"],
                premises=data["premises"],
                equipment=data["equipment"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
            )
        except PeixunError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已登记培训机构“{institution.name}”")
            if institution.code_warning:
                messages.warning(request, institution.code_warning)
            return redirect("institutions:detail", pk=institution.pk)
    return render(request, "institutions/form.html", {"form": form, "institution": None})


@require_perm(Perm.VIEW_INSTITUTIONS)
def institution_edit(request, pk: int):
    user = request.user
    institution = get_scoped_or_404(Institution.objects.select_related("area"), user, pk=pk)
    if not services.institution_may_edit(user, institution):
        raise Http404("页面不存在")
    # An institution's own operator keeps its descriptive data current; name, type, licence and
    # licensed occupations (第二十二条 办学许可范围) are the bureau's to change.
    fields_allowed = None if has_perm(user, Perm.MANAGE_INSTITUTIONS) else DESCRIPTIVE_FIELDS
    initial = {f: getattr(institution, f) for f in services.EDITABLE_FIELDS}
    initial["licensed_occupations"] = list(
        institution.licensed_occupations.order_by("code").values_list("code", flat=True)
    )
    form = InstitutionForm(
        request.POST or None, initial=initial, creating=False, fields_allowed=fields_allowed
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        codes = data.pop("licensed_occupations", None)
        try:
            services.institution_update(
                institution=institution, actor=user, licensed_occupation_codes=codes, **data
            )
        except PeixunError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "机构信息已保存")
            return redirect("institutions:detail", pk=institution.pk)
    return render(request, "institutions/form.html", {"form": form, "institution": institution})


@require_perm(Perm.MANAGE_INSTITUTIONS)
def directory_change(request, pk: int, transition: str):
    """列入目录 / 暂停 / 恢复 / 移出目录 / 重新列入 (第二十一条), as DIRECTORY_TRANSITIONS allows now."""
    user = request.user
    institution = get_scoped_or_404(Institution.objects.select_related("area"), user, pk=pk)
    spec = next((t for t in services.DIRECTORY_TRANSITIONS if t.name == transition), None)
    if spec is None:
        raise Http404("页面不存在")
    allowed = spec in services.directory_transitions_for(user, institution)
    form = DirectoryChangeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.directory_change(
                institution=institution,
                transition=spec.name,
                actor=user,
                effective_date=data["effective_date"],
                reason=data["reason"],
                decision_no=data["decision_no"],
                decision_file=data["decision_file"],
            )
        except PeixunError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request, f"“{institution.name}”已{spec.label}，自{data['effective_date']:%Y-%m-%d}起生效"
            )
            return redirect(reverse("institutions:detail", args=[institution.pk]) + "?tab=directory")
    latest_pass = services._passing_assessment_since(institution, _last_removal(institution))
    return render(
        request,
        "institutions/directory_change.html",
        {
            "institution": institution,
            "spec": spec,
            "allowed": allowed,
            "form": form,
            "latest_pass": latest_pass,
        },
    )


@require_perm(Perm.ASSESS_INSTITUTIONS)
def institution_assess(request, pk: int):
    """实地考察评估 (第六条): 培训场地、设施设备、师资力量 verified on site; all three → 通过."""
    user = request.user
    institution = get_scoped_or_404(Institution.objects.select_related("area"), user, pk=pk)
    form = AssessmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assessment = services.assessment_record(
                institution=institution,
                actor=user,
                assessed_on=data["assessed_on"],
                assessors=data["assessors"],
                premises_ok=data["premises_ok"],
                equipment_ok=data["equipment_ok"],
                teachers_ok=data["teachers_ok"],
                notes=data["notes"],
                photos=data["photos"],
            )
        except PeixunError as exc:
            _form_error(form, exc)
        else:
            if assessment.conclusion == SiteAssessment.Conclusion.PASS:
                messages.success(request, "实地考察评估已录入，结论：通过")
            else:
                messages.warning(request, "实地考察评估已录入，结论：不通过（三项未全部核实）")
            return redirect(reverse("institutions:detail", args=[institution.pk]) + "?tab=assessments")
    return render(request, "institutions/assess.html", {"institution": institution, "form": form})


def _file_response(field, *, inline: bool):
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


@require_perm(Perm.VIEW_INSTITUTIONS)
def assessment_photo(request, pk: int):
    photo = AssessmentPhoto.objects.filter(
        pk=pk, assessment__in=restrict(SiteAssessment.objects.all(), request.user)
    ).first()
    if photo is None:
        raise Http404("对象不存在或无权查看")
    return _file_response(photo.image, inline=True)


@require_perm(Perm.VIEW_INSTITUTIONS)
def decision_file(request, pk: int):
    listing = get_scoped_or_404(InstitutionListing.objects.all(), request.user, pk=pk)
    return _file_response(listing.decision_file, inline=False)


# --- imports ------------------------------------------------------------------------------------


# The Chinese meaning beside each contract column in the row-by-row error table.
COLUMN_LABELS = {
    "institutions": {
        "institution_code": "统一社会信用代码",
        "name": "机构名称",
        "type": "机构类型",
        "area_code": "地区代码",
        "address": "地址",
        "licensed_occupations": "许可培训职业",
        "listed": "是否列入目录",
    },
    "teachers": {
        "id_number": "身份证号",
        "name": "姓名",
        "institution_code": "所在机构代码",
        "qualification": "任教资格",
    },
}


@require_perm(Perm.MANAGE_INSTITUTIONS)
def institution_import(request):
    """institutions.csv / teachers.csv (contract.md): all or nothing, every bad row reported."""
    form = ImportForm(request.POST or None, request.FILES or None)
    errors, result, failure = [], None, None
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        expected = IMPORT_KINDS[kind][0]
        columns = services.INSTITUTION_COLUMNS if kind == "institutions" else services.TEACHER_COLUMNS
        try:
            table = read_upload(form.cleaned_data["file"], required=columns, expected_name=expected)
            if kind == "institutions":
                counts = services.import_institutions(table=table, actor=request.user)
            else:
                counts = services.import_teachers(table=table, actor=request.user)
        except ImportFailed as exc:
            labels = COLUMN_LABELS[kind]
            errors = [{"error": e, "label": labels.get(e.column, "")} for e in exc.errors]
            failure = exc.message
        except PeixunError as exc:
            failure = exc.message
        else:
            result = {"kind": kind, "file": table.file, **counts}
    return render(
        request,
        "institutions/import.html",
        {"form": form, "errors": errors, "failure": failure, "result": result, "kinds": IMPORT_KINDS},
    )


def _example_id_number() -> str:
    first17 = "15010219900101123"
    return first17 + id_check_char(first17)


def _example_uscc(first17: str = "52150102MJY000001") -> str:
    from peixun.core.uscc import uscc_complete

    return uscc_complete(first17)


@require_perm(Perm.VIEW_INSTITUTIONS)
def import_template(request, kind: str):
    if kind == "institutions":
        columns = services.INSTITUTION_COLUMNS
        example = (
            _example_uscc(),
            "呼和浩特市示例职业培训学校",
            "PRIVATE_SCHOOL",
            "150102",
            "呼和浩特市新城区示例路1号",
            "4-10-01-05;4-10-01-06",
            "N",
        )
    elif kind == "teachers":
        columns = services.TEACHER_COLUMNS
        example = (_example_id_number(), "张三", _example_uscc(), "养老护理员二级/技师")
    else:
        raise Http404("页面不存在")
    content = write_xlsx(kind, columns, [example], labels=TEMPLATE_LABELS[kind])
    return download_response(content, f"{kind}.xlsx")


# --- teachers -----------------------------------------------------------------------------------


def _may_add_teacher(user, institution: Institution | None) -> bool:
    if institution is None:
        return has_perm(user, Perm.MANAGE_TEACHER_POOL) or has_perm(user, Perm.MANAGE_INSTITUTIONS)
    return services.institution_may_edit(user, institution)


def _teacher_filters(request, user):
    """The teachers the user sees (their institutions' and their city's pool), as the list filters them."""
    teachers = _visible_teachers(user).select_related(
        "person", "institution", "institution__area", "shared_pool_area"
    )
    pool = bool(request.GET.get("pool"))
    q = request.GET.get("q", "").strip()
    city = _user_city(user)
    if pool:
        if scope_of(user).everything or city is None:
            teachers = teachers.filter(shared_pool_area__isnull=False)
        else:
            teachers = teachers.filter(shared_pool_area=city)
    if q:
        teachers = teachers.filter(Q(person__name__contains=q) | Q(institution__name__contains=q))
    return teachers.order_by("institution__name", "person__name", "pk"), pool, q, city


@require_perm(Perm.VIEW_INSTITUTIONS)
def teacher_list(request):
    user = request.user
    teachers, pool, q, city = _teacher_filters(request, user)
    page = Paginator(teachers, PAGE_SIZE).get_page(request.GET.get("page"))
    can_pool = has_perm(user, Perm.MANAGE_TEACHER_POOL)
    pool_areas = list(_pool_areas(user)) if can_pool else []
    return render(
        request,
        "institutions/teacher_list.html",
        {
            "page": page,
            "pool": pool,
            "q": q,
            "city": city,
            "can_pool": can_pool,
            "pool_areas": pool_areas,
            "pool_area_ids": {a.id for a in pool_areas},
            "can_add": _may_add_teacher(user, None)
            or (has_perm(user, Perm.EDIT_OWN_INSTITUTION) and _own_institution(user) is not None),
            "export_query": _export_query(request),
        },
    )


def _export_query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


TEACHER_EXPORT_COLUMNS = (
    "id_number_masked",
    "name",
    "institution_code",
    "institution_name",
    "qualification",
    "high_skill_title",
    "shared_pool_area",
    "occupations",
)
TEACHER_EXPORT_LABELS = (
    "身份证号（已隐去中间8位）",
    "姓名",
    "机构统一社会信用代码",
    "机构名称（全称）",
    "任教资格（职业、等级、职称）",
    "高技能人才称号",
    "共享师资库（盟市）",
    "可授课职业（工种）",
)


@require_perm(Perm.VIEW_INSTITUTIONS)
def teacher_export(request):
    """The teacher list as filtered. ID numbers are masked: a spreadsheet travels further than a page."""
    teachers, _pool, _q, _city = _teacher_filters(request, request.user)
    teachers = teachers.prefetch_related("occupations")
    rows = (
        (
            t.person.id_masked,
            t.person.name,
            t.institution.code if t.institution else "",
            t.institution.name if t.institution else "",
            t.qualification,
            t.get_high_skill_title_display() if t.high_skill_title else "",
            t.shared_pool_area.name if t.shared_pool_area else "",
            ";".join(sorted(o.code for o in t.occupations.all())),
        )
        for t in teachers
    )
    content = write_xlsx("teachers", TEACHER_EXPORT_COLUMNS, rows, labels=TEACHER_EXPORT_LABELS)
    return download_response(content, f"师资库_{timezone.localdate():%Y%m%d}.xlsx")


@require_perm(Perm.VIEW_INSTITUTIONS)
def teacher_create(request):
    """An institution registers its own teachers; a city bureau also registers pool teachers who
    belong to no institution (共享师资库, 第六条)."""
    user = request.user
    officials = has_perm(user, Perm.MANAGE_INSTITUTIONS) or has_perm(user, Perm.MANAGE_TEACHER_POOL)
    own = None
    if officials:
        institutions = restrict(Institution.objects.all(), user).order_by("name")
        pool_areas = _pool_areas(user) if has_perm(user, Perm.MANAGE_TEACHER_POOL) else None
    elif has_perm(user, Perm.EDIT_OWN_INSTITUTION):
        own = _own_institution(user)
        if own is None or not services.institution_may_edit(user, own):
            raise Http404("本单位尚未登记为培训机构")
        institutions, pool_areas = None, None
    else:
        raise Http404("页面不存在")
    initial = {}
    if officials and request.GET.get("institution"):
        initial["institution"] = institutions.filter(pk=request.GET["institution"]).first()
    form = TeacherForm(
        request.POST or None, institutions=institutions, pool_areas=pool_areas, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        institution = own if own is not None else data.get("institution")
        try:
            teacher = services.teacher_register(
                id_number=data["id_number"],
                name=data["name"],
                institution=institution,
                qualification=data["qualification"],
                actor=user,
                certificates=data["certificates"],
                high_skill_title=data["high_skill_title"],
                occupation_codes=data["occupations"],
                shared_pool_area=data.get("shared_pool_area"),
                phone=data["phone"],
            )
        except PeixunError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已登记教师“{teacher.person.name}”（{teacher.person.id_masked}）")
            if institution is not None:
                return redirect(reverse("institutions:detail", args=[institution.pk]) + "?tab=teachers")
            return redirect(reverse("institutions:teachers") + "?pool=1")
    return render(request, "institutions/teacher_form.html", {"form": form, "own": own})


@require_POST
@require_perm(Perm.MANAGE_TEACHER_POOL)
def teacher_pool(request, pk: int):
    """列入 / 移出 共享师资库: only for a teacher the user sees, and a pool of a city in their scope."""
    user = request.user
    teacher = _visible_teachers(user).select_related("person", "shared_pool_area").filter(pk=pk).first()
    if teacher is None:
        raise Http404("对象不存在或无权查看")
    pool_areas = _pool_areas(user)
    form = PoolForm(request.POST, pool_areas=pool_areas)
    back = request.POST.get("next") or reverse("institutions:teachers")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("institutions:teachers")
    if not form.is_valid():
        messages.error(request, "请选择盟市")
        return redirect(back)
    area = form.cleaned_data["area"]
    if (
        area is None
        and teacher.shared_pool_area_id
        and not pool_areas.filter(pk=teacher.shared_pool_area_id).exists()
    ):
        messages.error(request, "该教师列入的是其他盟市的共享师资库，您无权移出")
        return redirect(back)
    if area is None and teacher.institution_id is None:
        messages.error(request, "该教师不属于任何机构，移出共享师资库后将无人可用，请先为其登记所在机构")
        return redirect(back)
    try:
        services.teacher_pool_set(teacher=teacher, area=area, actor=user)
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        if area is None:
            messages.success(request, f"已将“{teacher.person.name}”移出共享师资库")
        else:
            messages.success(request, f"已将“{teacher.person.name}”列入{area.name}共享师资库")
    return redirect(back)


# --- evaluation bodies --------------------------------------------------------------------------


def _evaluation_body_filters(request, user):
    bodies = restrict(EvaluationBody.objects.select_related("area", "area__parent"), user)
    q = request.GET.get("q", "").strip()
    if q:
        bodies = bodies.filter(
            pk__in=EvaluationBody.objects.filter(
                Q(name__contains=q) | Q(scopes__occupation__code__startswith=q)
            ).values("pk")
        )
    bodies = bodies.prefetch_related(
        Prefetch(
            "scopes",
            queryset=EvaluationScope.objects.select_related("occupation").order_by(
                "occupation__code", "level"
            ),
        )
    )
    return bodies.order_by("area__code", "name", "pk"), q


@require_perm(Perm.VIEW_INSTITUTIONS)
def evaluation_body_list(request):
    bodies, q = _evaluation_body_filters(request, request.user)
    bodies = bodies.annotate(scope_count=Count("scopes"))
    page = Paginator(bodies, PAGE_SIZE).get_page(request.GET.get("page"))
    for body in page:
        # One line per occupation with its levels: 4-10-01-05 养老护理员：五级/初级工、四级/中级工
        groups: dict = {}
        for scope in body.scopes.all():
            groups.setdefault(scope.occupation, []).append(scope.get_level_display())
        body.scope_groups = list(groups.items())
    return render(
        request,
        "institutions/evaluation_body_list.html",
        {
            "page": page,
            "q": q,
            "can_manage": has_perm(request.user, Perm.MANAGE_EVALUATION_BODIES),
            "export_query": _export_query(request),
        },
    )


@require_perm(Perm.MANAGE_EVALUATION_BODIES)
def evaluation_body_create(request):
    user = request.user
    areas = restrict(Area.objects.select_related("parent"), user)
    form = EvaluationBodyForm(request.POST or None, areas=areas)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            body = services.evaluation_body_register(
                code=data["code"],
                name=data["name"],
                area=data["area"],
                actor=user,
                address=data["address"],
                filing_no=data["filing_no"],
                contact_phone=data["contact_phone"],
                scopes=data["scopes"],
            )
        except PeixunError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已登记评价机构“{body.name}”，评价范围{len(data['scopes'])}项")
            return redirect("institutions:evaluation_bodies")
    return render(request, "institutions/evaluation_body_form.html", {"form": form})


# The file an evaluation-body table goes by (an .xlsx is read from the sheet of this name).
EVALUATION_BODY_IMPORT_NAME = "evaluation_bodies.csv"
EVALUATION_BODY_LABELS = {
    "evaluation_body_code": "统一社会信用代码",
    "name": "机构名称",
    "area_code": "地区代码",
    "address": "地址",
    "filing_no": "备案编号",
    "scopes": "评价范围（职业编码:等级）",
}
# Captions size the Excel columns.
EVALUATION_BODY_EXPORT_LABELS = (
    "统一社会信用代码",
    "机构名称（全称）",
    "地区代码",
    "地址（详细地址）",
    "备案编号（备案文号）",
    "评价范围（职业编码:等级，多项用分号分隔）",
)


class EvaluationBodyImportForm(StyledForm):
    file = forms.FileField(
        label="文件",
        help_text="CSV（UTF-8）或Excel（.xlsx），列名与模板一致",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


def _scope_cell(body: EvaluationBody) -> str:
    return ";".join(f"{s.occupation.code}:{s.level}" for s in body.scopes.all())


@require_perm(Perm.MANAGE_EVALUATION_BODIES)
def evaluation_body_import(request):
    """evaluation_bodies.csv: all or nothing, every bad row reported; matched on the code."""
    form = EvaluationBodyImportForm(request.POST or None, request.FILES or None)
    errors, warnings, result, failure = [], [], None, None
    if request.method == "POST" and form.is_valid():
        try:
            table = read_upload(
                form.cleaned_data["file"],
                required=services.EVALUATION_BODY_COLUMNS,
                expected_name=EVALUATION_BODY_IMPORT_NAME,
            )
            counts = services.import_evaluation_bodies(table=table, actor=request.user)
        except ImportFailed as exc:
            errors = [{"error": e, "label": EVALUATION_BODY_LABELS.get(e.column, "")} for e in exc.errors]
            failure = exc.message
        except PeixunError as exc:
            failure = exc.message
        else:
            warnings = [
                {"error": w, "label": EVALUATION_BODY_LABELS.get(w.column, "")}
                for w in counts.pop("warnings")
            ]
            result = {"file": table.file, **counts}
    return render(
        request,
        "institutions/evaluation_body_import.html",
        {
            "form": form,
            "errors": errors,
            "warnings": warnings,
            "failure": failure,
            "result": result,
            "levels": Level.choices,
        },
    )


@require_perm(Perm.VIEW_INSTITUTIONS)
def evaluation_body_template(request):
    example = (
        _example_uscc("52150102MJY000002"),
        "呼和浩特市示例职业技能等级认定中心",
        "150102",
        "呼和浩特市新城区示例路2号",
        "NMPJ-2026-001",
        "4-10-01-05:5;4-10-01-05:4",
    )
    content = write_xlsx(
        EVALUATION_BODY_IMPORT_NAME.removesuffix(".csv"),
        services.EVALUATION_BODY_COLUMNS,
        [example],
        labels=EVALUATION_BODY_EXPORT_LABELS,
    )
    return download_response(content, EVALUATION_BODY_IMPORT_NAME.replace(".csv", ".xlsx"))


@require_perm(Perm.VIEW_INSTITUTIONS)
def evaluation_body_export(request):
    """The list as filtered, in the import columns: the file can be edited and imported back."""
    bodies, _q = _evaluation_body_filters(request, request.user)
    rows = ((b.code, b.name, b.area.code, b.address, b.filing_no, _scope_cell(b)) for b in bodies)
    content = write_xlsx(
        EVALUATION_BODY_IMPORT_NAME.removesuffix(".csv"),
        services.EVALUATION_BODY_COLUMNS,
        rows,
        labels=EVALUATION_BODY_EXPORT_LABELS,
    )
    return download_response(content, f"评价机构_{timezone.localdate():%Y%m%d}.xlsx")
