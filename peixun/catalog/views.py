"""Pages of the subsidy catalogs (职业技能培训补贴目录, 第七条) and the occupation list.

Catalogs are public documents: every official and every institution may read every version (a class
in a county is judged against the region's catalog and its city's). Changing one is scoped: a city
bureau manages only its own city's versions, the region's versions only the region department —
checked through `restrict()`, so a foreign catalog answers 404 like a missing one.
"""

import datetime as dt
import io
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from openpyxl import load_workbook

from peixun.accounts.http import download_response, read_upload, require_perm
from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import get_scoped_or_404, restrict
from peixun.core.errors import PeixunError
from peixun.core.models import Area
from peixun.core.tabular import ImportFailed, write_csv, write_xlsx

from .forms import MAJOR_GROUPS, CatalogCreateForm, CatalogImportForm, CatalogLookupForm
from .models import CatalogEntry, Level, Occupation, SubsidyCatalog, TrainingType
from .services import (
    CATALOG_COLUMNS,
    CATALOG_LABELS,
    CATALOG_OPTIONAL,
    REGION_SPECIAL_COLUMNS,
    REGION_SPECIAL_EXAMPLE,
    REGION_SPECIAL_LABELS,
    catalog_create,
    catalog_export_rows,
    catalog_import_entries,
    catalog_lookup,
    catalogs_in_force,
    import_region_special_occupations,
    may_manage_region_occupations,
    occupation_add_region_special,
)

PAGE_SIZE = 50
ENTRY_PAGE_SIZE = 100
# The name an entries file goes by (an .xlsx is read from the sheet of this name, contract.md).
IMPORT_NAME = "catalog_entries.csv"
PUBLISHING_KINDS = (Area.Kind.REGION, Area.Kind.CITY, Area.Kind.COUNTY_DIRECT)
COLUMN_LABELS = dict(zip((*CATALOG_COLUMNS, *CATALOG_OPTIONAL), CATALOG_LABELS, strict=True))


def error_hint(column: str, message: str) -> str:
    """What to type instead, next to a bad cell: clerks think in 初级/中级, the file takes codes."""
    if column == "level":
        return "填写代码：" + "、".join(f"{v}={label}" for v, label in Level.choices)
    if column == "training_type":
        return "填写代码：" + "、".join(f"{v}={label}" for v, label in TrainingType.choices)
    if column == "occupation_code" and "不在职业分类中" in message:
        return "职业编码可在“职业分类”页面查询"
    return ""


EXAMPLE_ROW = ("4-10-01-06", "5", "EMPLOYMENT", "1200.00", "80", "家政服务员")


def yuan(amount: Decimal | None) -> str:
    """¥1,200.00 (ui.md)."""
    return "" if amount is None else f"¥{amount:,.2f}"


def catalog_state(catalog: SubsidyCatalog, today: dt.date) -> tuple[str, str]:
    """Badge text and colour: one colour per meaning on every catalog page."""
    if catalog.in_force_on(today):
        return "现行", "success"
    if catalog.valid_from > today:
        return "未生效", "info"
    return "已失效", "secondary"


def may_manage(user, catalog: SubsidyCatalog) -> bool:
    """第七条: the region department keeps the region's catalog, a city bureau its city's."""
    if not has_perm(user, Perm.MANAGE_CATALOG):
        return False
    return restrict(SubsidyCatalog.objects.filter(pk=catalog.pk), user).exists()


def publishing_areas(user):
    """Areas whose catalogs the user may create: the region admin any, a city admin their city."""
    return restrict(Area.objects.filter(kind__in=PUBLISHING_KINDS), user).order_by("code")


# --- list and lookup ----------------------------------------------------------------------------


@require_perm(Perm.VIEW_CATALOG)
def catalog_list(request):
    today = timezone.localdate()
    area_code = request.GET.get("area", "")
    # Public documents: every version of every area (see the module docstring).
    catalogs = SubsidyCatalog.objects.select_related("area").annotate(entry_count=Count("entries"))
    if area_code:
        catalogs = catalogs.filter(area__code=area_code)
    groups: dict[int, dict] = {}
    for catalog in catalogs.order_by("area__code", "-valid_from"):
        catalog.state, catalog.state_css = catalog_state(catalog, today)
        group = groups.setdefault(catalog.area_id, {"area": catalog.area, "catalogs": []})
        group["catalogs"].append(catalog)
    lookup_form = CatalogLookupForm(
        request.GET if "lk-area" in request.GET else None,
        prefix="lk",
        initial={
            "on_date": today,
            "area": getattr(request.user.organisation, "area", None)
            or Area.objects.filter(kind=Area.Kind.REGION).first(),
        },
    )
    lookup = None
    if lookup_form.is_bound and lookup_form.is_valid():
        lookup = _lookup(**lookup_form.cleaned_data)
    return render(
        request,
        "catalog/list.html",
        {
            "groups": list(groups.values()),
            "area_code": area_code,
            "areas": Area.objects.filter(kind__in=PUBLISHING_KINDS).order_by("code"),
            "lookup_form": lookup_form,
            "lookup": lookup,
            "can_create": has_perm(request.user, Perm.MANAGE_CATALOG)
            and publishing_areas(request.user).exists(),
            "today": today,
        },
    )


def _lookup(*, area: Area, on_date: dt.date, occupation: str, level: str, training_type: str) -> dict:
    """Every (level, training type) of the occupation in the catalogs in force, each resolved by
    `catalog_lookup` (the city's entry takes precedence over the region's, 第七条)."""
    in_force = catalogs_in_force(area=area, on_date=on_date)
    if level and training_type:
        combos = [(level, training_type)]
    else:
        found = CatalogEntry.objects.filter(catalog__in=in_force, occupation__code=occupation)
        if level:
            found = found.filter(level=level)
        if training_type:
            found = found.filter(training_type=training_type)
        combos = sorted(set(found.values_list("level", "training_type")))
    rows = []
    for lvl, ttype in combos:
        match = catalog_lookup(
            occupation_code=occupation, level=lvl, training_type=ttype, area=area, on_date=on_date
        )
        if match is None:
            continue
        rows.append(
            {
                "level": Level(lvl).label,
                "training_type": TrainingType(ttype).label,
                "amount": yuan(match.subsidy_amount),
                "min_hours": match.entry.min_hours,
                "catalog": match.catalog,
                "local": match.catalog.area.kind != Area.Kind.REGION,
            }
        )
    return {
        "area": area,
        "on_date": on_date,
        "occupation": Occupation.objects.filter(code=occupation).first(),
        "in_force": in_force,
        "rows": rows,
    }


@require_perm(Perm.VIEW_CATALOG)
def occupation_suggest(request):
    """The <datalist> behind every occupation input: up to 30 codes or names containing the text."""
    text = next((v.strip() for v in request.GET.values() if v.strip()), "")
    text = text.split()[0] if text else ""
    options = []
    if text:
        options = Occupation.objects.filter(active=True).filter(
            Q(code__startswith=text) | Q(name__contains=text)
        )[:30]
    return render(request, "catalog/_occupation_options.html", {"options": options})


# --- one catalog --------------------------------------------------------------------------------


def _detail_context(request, catalog: SubsidyCatalog, **extra) -> dict:
    today = timezone.localdate()
    entries = catalog.entries.select_related("occupation").order_by(
        "occupation__code", "level", "training_type"
    )
    q = request.GET.get("q", "").strip()
    if q:
        entries = entries.filter(Q(occupation__code__startswith=q) | Q(occupation__name__contains=q))
    page = Paginator(entries, ENTRY_PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page:
        entry.amount_display = yuan(entry.subsidy_amount)
    catalog.state, catalog.state_css = catalog_state(catalog, today)
    can_manage = may_manage(request.user, catalog)
    context = {
        "catalog": catalog,
        "page": page,
        "q": q,
        "entry_total": catalog.entries.count(),
        "can_manage": can_manage,
        "import_form": CatalogImportForm() if can_manage else None,
        "column_labels": COLUMN_LABELS,
        "required_columns": CATALOG_COLUMNS,
        "optional_columns": CATALOG_OPTIONAL,
        "levels": Level.choices,
        "training_types": TrainingType.choices,
    }
    context.update(extra)
    return context


@require_perm(Perm.VIEW_CATALOG)
def catalog_detail(request, pk: int):
    catalog = get_object_or_404(SubsidyCatalog.objects.select_related("area", "created_by"), pk=pk)
    return render(request, "catalog/detail.html", _detail_context(request, catalog))


@require_POST
@require_perm(Perm.MANAGE_CATALOG)
def catalog_import(request, pk: int):
    """All or nothing (contract.md): one bad row and nothing is written; every bad row is listed."""
    catalog = get_scoped_or_404(SubsidyCatalog.objects.select_related("area"), request.user, pk=pk)
    form = CatalogImportForm(request.POST, request.FILES)
    try:
        table = read_upload(
            request.FILES.get("file"),
            required=CATALOG_COLUMNS,
            optional=CATALOG_OPTIONAL,
            expected_name=IMPORT_NAME,
        )
        result = catalog_import_entries(catalog=catalog, table=table, actor=request.user)
    except ImportFailed as exc:
        errors = [
            {
                "line": e.line,
                "column": e.column,
                "label": COLUMN_LABELS.get(e.column, ""),
                "message": e.message,
                "hint": error_hint(e.column, e.message),
            }
            for e in exc.errors
        ]
        context = _detail_context(
            request, catalog, import_form=form, import_errors=errors, import_file=request.FILES.get("file")
        )
        return render(request, "catalog/detail.html", context, status=422)
    unchanged = result["rows"] - result["created"] - result["updated"]
    messages.success(
        request,
        f"导入完成：共{result['rows']}行，新增{result['created']}条，更新{result['updated']}条，"
        f"未变化{unchanged}条。",
    )
    return redirect("catalog:detail", pk=catalog.pk)


@require_perm(Perm.VIEW_CATALOG)
def catalog_export(request, pk: int):
    """The entries as an .xlsx with the import columns, so the file can be edited and imported back."""
    catalog = get_object_or_404(SubsidyCatalog.objects.select_related("area"), pk=pk)
    content = write_xlsx(
        IMPORT_NAME.removesuffix(".csv"),
        (*CATALOG_COLUMNS, *CATALOG_OPTIONAL),
        catalog_export_rows(catalog),
        labels=CATALOG_LABELS,
    )
    return download_response(content, f"补贴目录_{catalog.area.name}_{catalog.valid_from.isoformat()}.xlsx")


@require_perm(Perm.VIEW_CATALOG)
def catalog_template(request):
    """The entries template: the contract's columns, one example row and a sheet explaining them."""
    columns = (*CATALOG_COLUMNS, *CATALOG_OPTIONAL)
    if request.GET.get("format") == "csv":
        return download_response(write_csv(columns, [EXAMPLE_ROW]), IMPORT_NAME)
    content = write_xlsx(IMPORT_NAME.removesuffix(".csv"), columns, [EXAMPLE_ROW], labels=CATALOG_LABELS)
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.create_sheet("填写说明")
    sheet.append(["列名", "含义", "填写要求"])
    notes = {
        "occupation_code": "国家职业分类大典编码（如4-10-01-06）或自治区专项职业能力编码",
        "level": "、".join(f"{v}={label}" for v, label in Level.choices),
        "training_type": "、".join(f"{v}={label}" for v, label in TrainingType.choices),
        "subsidy_amount": "元/人，0至100000，最多两位小数",
        "min_hours": "整数课时，1至2000",
        "occupation_name": "可不填；填写时须与职业分类中的名称一致，用于核对编码",
    }
    for column in columns:
        sheet.append([column, COLUMN_LABELS[column], notes[column]])
    sheet.append([])
    sheet.append(["说明", "第一行列名不要修改；同一职业、等级、培训类型只能出现一行；整个文件无误才会导入。"])
    for letter, width in (("A", 18), ("B", 22), ("C", 90)):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return download_response(buffer.getvalue(), IMPORT_NAME.replace(".csv", ".xlsx"))


# --- a new version ------------------------------------------------------------------------------


def _superseded_preview(area: Area | None, valid_from: dt.date | None) -> dict:
    """What saving would do to the area's current versions (the same rule as `catalog_create`)."""
    if area is None:
        return {}
    versions = SubsidyCatalog.objects.filter(area=area).order_by("-valid_from")
    open_version = versions.filter(valid_to__isnull=True).first()
    preview = {"area": area, "open_version": open_version, "latest": versions.first()}
    if valid_from and open_version:
        if open_version.valid_from >= valid_from:
            preview["conflict"] = open_version
        else:
            preview["closes_on"] = valid_from - dt.timedelta(days=1)
    return preview


@require_perm(Perm.MANAGE_CATALOG)
def catalog_create_view(request):
    areas = publishing_areas(request.user)
    if not areas.exists():
        raise Http404("页面不存在")
    if request.method == "POST":
        form = CatalogCreateForm(request.POST, areas=areas)
        if form.is_valid():
            data = form.cleaned_data
            try:
                catalog = catalog_create(
                    area=data["area"],
                    title=data["title"].strip(),
                    document_no=data["document_no"].strip(),
                    valid_from=data["valid_from"],
                    valid_to=data["valid_to"],
                    actor=request.user,
                )
            except PeixunError as exc:
                form.add_error(None, exc.message)
            else:
                closed = (
                    SubsidyCatalog.objects.filter(
                        area=catalog.area, valid_to=catalog.valid_from - dt.timedelta(days=1)
                    )
                    .exclude(pk=catalog.pk)
                    .first()
                )
                note = f"已新建目录“{catalog.title}”，请导入目录条目。"
                if closed:
                    note += f"上一版“{closed.title}”的失效日期已设为{closed.valid_to.isoformat()}。"
                messages.success(request, note)
                return redirect("catalog:detail", pk=catalog.pk)
    else:
        form = CatalogCreateForm(areas=areas, initial={"area": areas.first()})
    if request.headers.get("HX-Request"):
        # The note under the form follows the chosen area and date.
        area = areas.filter(pk=request.GET.get("area") or 0).first()
        try:
            valid_from = dt.date.fromisoformat(request.GET.get("valid_from", ""))
        except ValueError:
            valid_from = None
        return render(
            request, "catalog/_create_preview.html", {"preview": _superseded_preview(area, valid_from)}
        )
    chosen = form["area"].value()
    area = areas.filter(pk=chosen).first() if str(chosen or "").isdigit() else None
    try:
        valid_from = dt.date.fromisoformat(str(form["valid_from"].value() or ""))
    except ValueError:
        valid_from = None
    return render(
        request,
        "catalog/create.html",
        {"form": form, "preview": _superseded_preview(area, valid_from)},
    )


# --- occupations --------------------------------------------------------------------------------


OCCUPATION_EXPORT_COLUMNS = ("code", "name", "major_group", "source", "active")
OCCUPATION_EXPORT_LABELS = (
    "职业编码",
    "职业名称（工种名称）",
    "大类",
    "来源（国家职业分类大典）",
    "是否有效",
)
# The name a project-code file goes by (an .xlsx is read from the sheet of this name).
REGION_SPECIAL_IMPORT_NAME = "region_special_occupations.csv"
REGION_SPECIAL_COLUMN_LABELS = dict(zip(REGION_SPECIAL_COLUMNS, ("项目编码", "项目名称"), strict=True))
REGION_SPECIAL_EXAMPLE_ROW = (REGION_SPECIAL_EXAMPLE, "蒙古族刺绣")


class OccupationAddForm(forms.Form):
    """One 自治区专项职业能力 project code; the service checks the pattern and uniqueness."""

    code = forms.CharField(
        label="项目编码",
        max_length=20,
        help_text=f"自治区专项职业能力考核项目编码，如 {REGION_SPECIAL_EXAMPLE}",
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-sm font-monospace",
                "placeholder": REGION_SPECIAL_EXAMPLE,
                "autocomplete": "off",
            }
        ),
    )
    name = forms.CharField(
        label="项目名称",
        max_length=100,
        widget=forms.TextInput(
            attrs={"class": "form-control form-control-sm", "placeholder": "如：蒙古族刺绣"}
        ),
    )


class OccupationImportForm(forms.Form):
    file = forms.FileField(
        label="专项职业能力项目文件",
        help_text="接受 .csv（UTF-8）或 .xlsx，列与模板一致（code、name）",
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control form-control-sm", "accept": ".csv,.xlsx"}
        ),
    )


def _occupation_filters(request):
    occupations = Occupation.objects.all()
    q = request.GET.get("q", "").strip()
    if q:
        occupations = occupations.filter(Q(code__contains=q) | Q(name__contains=q))
    group = request.GET.get("group", "")
    if group:
        occupations = occupations.filter(major_group=group)
    return occupations.order_by("code"), q, group


def _occupations_context(request, **extra) -> dict:
    occupations, q, group = _occupation_filters(request)
    page = Paginator(occupations, PAGE_SIZE).get_page(request.GET.get("page"))
    group_names = dict(MAJOR_GROUPS)
    # Whether the region's catalog in force today lists the occupation (any level or type).
    region = Area.objects.get(kind=Area.Kind.REGION)
    listed = set(
        CatalogEntry.objects.filter(
            catalog__in=catalogs_in_force(area=region, on_date=timezone.localdate()),
            occupation__in=list(page.object_list),
        ).values_list("occupation_id", flat=True)
    )
    for occupation in page:
        occupation.group_name = group_names.get(occupation.major_group, "")
        occupation.in_catalog = occupation.id in listed
    query = request.GET.copy()
    query.pop("page", None)
    can_add = may_manage_region_occupations(request.user)
    context = {
        "page": page,
        "q": q,
        "group": group,
        "groups": MAJOR_GROUPS,
        "export_query": query.urlencode(),
        "can_add": can_add,
        "add_form": OccupationAddForm() if can_add else None,
        "import_form": OccupationImportForm() if can_add else None,
        "region_special_columns": REGION_SPECIAL_COLUMNS,
    }
    context.update(extra)
    return context


@require_perm(Perm.VIEW_CATALOG)
def occupation_list(request):
    return render(request, "catalog/occupations.html", _occupations_context(request))


@require_perm(Perm.VIEW_CATALOG)
def occupation_export(request):
    """The occupation list as filtered on the page."""
    occupations, _q, _group = _occupation_filters(request)
    rows = (
        (o.code, o.name, o.major_group, o.get_source_display(), "Y" if o.active else "N") for o in occupations
    )
    content = write_xlsx("occupations", OCCUPATION_EXPORT_COLUMNS, rows, labels=OCCUPATION_EXPORT_LABELS)
    return download_response(content, f"职业分类_{timezone.localdate():%Y%m%d}.xlsx")


def _require_region_occupations(user) -> None:
    """A city bureau manages catalogs but not the region's project codes: the page does not exist."""
    if not may_manage_region_occupations(user):
        raise Http404("页面不存在")


@require_perm(Perm.MANAGE_CATALOG)
def occupation_add(request):
    """Add a 自治区专项职业能力 project code (NM-ZX-0001 …), region department only."""
    _require_region_occupations(request.user)
    form = OccupationAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            occupation = occupation_add_region_special(
                code=form.cleaned_data["code"], name=form.cleaned_data["name"], actor=request.user
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已新增自治区专项职业能力项目“{occupation.code} {occupation.name}”")
            return redirect(reverse("catalog:occupations") + f"?q={occupation.code}")
    status = 422 if form.is_bound else 200
    return render(
        request, "catalog/occupations.html", _occupations_context(request, add_form=form), status=status
    )


@require_POST
@require_perm(Perm.MANAGE_CATALOG)
def occupation_import(request):
    """code,name of 自治区专项职业能力 projects: all or nothing, every bad row listed."""
    _require_region_occupations(request.user)
    form = OccupationImportForm(request.POST, request.FILES)
    upload = request.FILES.get("file")
    try:
        table = read_upload(upload, required=REGION_SPECIAL_COLUMNS, expected_name=REGION_SPECIAL_IMPORT_NAME)
        result = import_region_special_occupations(table=table, actor=request.user)
    except ImportFailed as exc:
        errors = [
            {
                "line": e.line,
                "column": e.column,
                "label": REGION_SPECIAL_COLUMN_LABELS.get(e.column, ""),
                "message": e.message,
            }
            for e in exc.errors
        ]
        context = _occupations_context(request, import_form=form, import_errors=errors, import_file=upload)
        return render(request, "catalog/occupations.html", context, status=422)
    except PeixunError as exc:
        messages.error(request, exc.message)
        return redirect("catalog:occupations")
    unchanged = result["rows"] - result["created"] - result["updated"]
    messages.success(
        request,
        f"导入完成：共{result['rows']}行，新增{result['created']}个项目，更新名称{result['updated']}个，"
        f"未变化{unchanged}个。",
    )
    return redirect("catalog:occupations")


@require_perm(Perm.VIEW_CATALOG)
def occupation_template(request):
    """The project-code template: code, name and one example row."""
    if request.GET.get("format") == "csv":
        return download_response(
            write_csv(REGION_SPECIAL_COLUMNS, [REGION_SPECIAL_EXAMPLE_ROW]), REGION_SPECIAL_IMPORT_NAME
        )
    content = write_xlsx(
        REGION_SPECIAL_IMPORT_NAME.removesuffix(".csv"),
        REGION_SPECIAL_COLUMNS,
        [REGION_SPECIAL_EXAMPLE_ROW],
        labels=REGION_SPECIAL_LABELS,
    )
    return download_response(content, REGION_SPECIAL_IMPORT_NAME.replace(".csv", ".xlsx"))
