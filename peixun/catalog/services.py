"""Subsidy catalogs (第七条): versions by date, entries, Excel import/export, and the lookup a class
opening uses: what does the catalog in force on the class's start date say about this occupation?"""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q

from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import scope_of
from peixun.core.audit import audit_record
from peixun.core.errors import PeixunError, PermissionDeniedError
from peixun.core.models import Area
from peixun.core.tabular import ImportFailed, RowError, Table, parse_decimal

from .models import CatalogEntry, Level, Occupation, SubsidyCatalog, TrainingType

CATALOG_COLUMNS = ("occupation_code", "level", "training_type", "subsidy_amount", "min_hours")
CATALOG_OPTIONAL = ("occupation_name",)
CATALOG_LABELS = ("职业编码", "等级", "培训类型", "补贴标准（元/人）", "最低课时", "职业名称（可选）")


def catalog_create(
    *,
    area: Area,
    title: str,
    valid_from: dt.date,
    actor,
    document_no: str = "",
    valid_to: dt.date | None = None,
) -> SubsidyCatalog:
    """A new version for the region or a city. An open-ended earlier version of the same area ends
    the day before this one starts, so exactly one version is in force on any day."""
    if area.kind not in (Area.Kind.REGION, Area.Kind.CITY, Area.Kind.COUNTY_DIRECT):
        raise PeixunError("补贴目录由自治区或盟市发布")
    if valid_to and valid_to < valid_from:
        raise PeixunError("失效日期不能早于生效日期")
    with transaction.atomic():
        overlapping = (
            SubsidyCatalog.objects.select_for_update()
            .filter(area=area)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
        )
        if valid_to is not None:
            overlapping = overlapping.filter(valid_from__lte=valid_to)
        for earlier in overlapping:
            if earlier.valid_from >= valid_from:
                raise PeixunError(f"与已有目录“{earlier.title}”（{earlier.valid_from}起）的有效期重叠")
            before = {"valid_to": earlier.valid_to}
            earlier.valid_to = valid_from - dt.timedelta(days=1)
            earlier.save(update_fields=["valid_to"])
            audit_record(
                actor=actor,
                action="catalog.superseded",
                obj=earlier,
                area=area,
                before=before,
                after={"valid_to": earlier.valid_to},
            )
        catalog = SubsidyCatalog.objects.create(
            area=area,
            title=title,
            document_no=document_no,
            valid_from=valid_from,
            valid_to=valid_to,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor,
            action="catalog.created",
            obj=catalog,
            area=area,
            after={
                "title": title,
                "document_no": document_no,
                "valid_from": valid_from,
                "valid_to": valid_to,
            },
        )
    return catalog


def catalogs_in_force(*, area: Area, on_date: dt.date) -> list[SubsidyCatalog]:
    """The region's catalog and the catalog of the area's city (or the area itself when it is a
    city-level area) in force on the date; the city's comes first."""
    city = area
    while city.parent_id and city.kind not in (Area.Kind.CITY, Area.Kind.COUNTY_DIRECT, Area.Kind.REGION):
        city = city.parent
    codes = [city.code] if city.kind != Area.Kind.REGION else []
    codes.append("150000")
    found = (
        SubsidyCatalog.objects.filter(area__code__in=codes, valid_from__lte=on_date)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on_date))
        .select_related("area")
    )
    return sorted(found, key=lambda c: c.area.code == "150000")


@dataclass(frozen=True)
class CatalogMatch:
    entry: CatalogEntry
    catalog: SubsidyCatalog

    @property
    def subsidy_amount(self) -> Decimal:
        return self.entry.subsidy_amount


def catalog_lookup(
    *, occupation_code: str, level: str, training_type: str, area: Area, on_date: dt.date
) -> CatalogMatch | None:
    """The entry that governs a class: the city's catalog takes precedence over the region's
    (cities may set local standards, 第七条); None when the occupation is in neither."""
    for catalog in catalogs_in_force(area=area, on_date=on_date):
        entry = (
            catalog.entries.select_related("occupation")
            .filter(occupation__code=occupation_code, level=level, training_type=training_type)
            .first()
        )
        if entry is not None:
            return CatalogMatch(entry=entry, catalog=catalog)
    return None


def catalog_import_entries(*, catalog: SubsidyCatalog, table: Table, actor) -> dict:
    """All-or-nothing: every row is checked first; one bad row writes nothing. Rows are matched on
    (occupation_code, level, training_type): a re-import updates, never duplicates."""
    occupations = {o.code: o for o in Occupation.objects.filter(active=True)}
    errors: list[RowError] = []
    parsed = []
    seen: dict[tuple, int] = {}
    for row in table.rows:
        v = row.values

        def bad(column, message, line=row.line):
            errors.append(RowError(table.file, line, column, message))

        occupation = occupations.get(v["occupation_code"])
        if occupation is None:
            bad("occupation_code", f"职业编码“{v['occupation_code']}”不在职业分类中")
        elif v.get("occupation_name") and v["occupation_name"] != occupation.name:
            bad("occupation_name", f"职业名称应为“{occupation.name}”，与编码不符")
        if v["level"] not in Level.values:
            bad("level", f"等级“{v['level']}”无效，应为 {'/'.join(Level.values)}")
        if v["training_type"] not in TrainingType.values:
            bad("training_type", f"培训类型“{v['training_type']}”无效，应为 {'/'.join(TrainingType.values)}")
        amount = hours = None
        try:
            amount = parse_decimal(v["subsidy_amount"])
            if amount < 0 or amount > Decimal("100000"):
                bad("subsidy_amount", "补贴标准应在0至100000元之间")
            elif amount != amount.quantize(Decimal("0.01")):
                # The column keeps fen: a third decimal would be rounded silently on save, and the
                # stored value would then differ from the file on every re-import.
                bad("subsidy_amount", f"补贴标准“{v['subsidy_amount']}”最多保留两位小数（元、角、分）")
        except ValueError as exc:
            bad("subsidy_amount", str(exc))
        try:
            hours = int(v["min_hours"])
            if not 1 <= hours <= 2000:
                bad("min_hours", "最低课时应在1至2000之间")
        except ValueError:
            bad("min_hours", f"“{v['min_hours']}”不是整数")
        key = (v["occupation_code"], v["level"], v["training_type"])
        if key in seen:
            bad("occupation_code", f"与第{seen[key]}行重复（同一职业、等级、培训类型）")
        seen.setdefault(key, row.line)
        parsed.append((key, occupation, amount, hours))
    if errors:
        raise ImportFailed(errors)
    created = updated = 0
    changes_before: dict[str, dict] = {}
    changes_after: dict[str, dict] = {}
    with transaction.atomic():
        existing = {
            (e.occupation.code, e.level, e.training_type): e
            for e in catalog.entries.select_related("occupation")
        }
        for key, occupation, amount, hours in parsed:
            entry = existing.get(key)
            if entry is None:
                CatalogEntry.objects.create(
                    catalog=catalog,
                    occupation=occupation,
                    level=key[1],
                    training_type=key[2],
                    subsidy_amount=amount,
                    min_hours=hours,
                )
                created += 1
            elif (entry.subsidy_amount, entry.min_hours) != (amount, hours):
                # contract.md: a changed row is an update, recorded in the audit log — with the
                # old and the new values, so a changed subsidy standard can be traced.
                label = "/".join(key)
                changes_before[label] = {"subsidy_amount": entry.subsidy_amount, "min_hours": entry.min_hours}
                changes_after[label] = {"subsidy_amount": amount, "min_hours": hours}
                entry.subsidy_amount, entry.min_hours = amount, hours
                entry.save(update_fields=["subsidy_amount", "min_hours"])
                updated += 1
        audit_record(
            actor=actor,
            action="catalog.entries_imported",
            obj=catalog,
            area=catalog.area,
            before={"changed": changes_before} if changes_before else None,
            after={
                "file": table.file,
                "rows": len(parsed),
                "created": created,
                "updated": updated,
                **({"changed": changes_after} if changes_after else {}),
            },
        )
    return {"rows": len(parsed), "created": created, "updated": updated}


def catalog_export_rows(catalog: SubsidyCatalog):
    for e in catalog.entries.select_related("occupation").order_by("occupation__code", "level"):
        yield (e.occupation.code, e.level, e.training_type, e.subsidy_amount, e.min_hours, e.occupation.name)


# --- 自治区专项职业能力 project codes -------------------------------------------------------------

REGION_SPECIAL_PATTERN = re.compile(r"^NM-ZX-\d{4}$", re.ASCII)
REGION_SPECIAL_EXAMPLE = "NM-ZX-0001"
REGION_SPECIAL_COLUMNS = ("code", "name")
REGION_SPECIAL_LABELS = ("项目编码（NM-ZX-四位数字）", "专项职业能力项目名称")
_OCCUPATION_NAME_MAX = Occupation._meta.get_field("name").max_length


def may_manage_region_occupations(user) -> bool:
    """The region's 专项职业能力 project codes are the region department's to keep (not a city's)."""
    return has_perm(user, Perm.MANAGE_CATALOG) and scope_of(user).everything


def _check_region_occupation_actor(actor) -> None:
    # The command line (actor None) may; a signed-in user only from the region department.
    if getattr(actor, "is_authenticated", False) and not may_manage_region_occupations(actor):
        raise PermissionDeniedError("只有自治区人社部门可以维护自治区专项职业能力考核项目编码")


def _region_special_problems(code: str, name: str) -> dict[str, str]:
    problems = {}
    if not code:
        problems["code"] = "项目编码不能为空"
    elif not REGION_SPECIAL_PATTERN.match(code):
        problems["code"] = (
            f"项目编码“{code}”格式不符：自治区专项职业能力考核项目编码为“NM-ZX-”加4位数字，"
            f"如 {REGION_SPECIAL_EXAMPLE}"
        )
    if not name:
        problems["name"] = "项目名称不能为空"
    elif len(name) > _OCCUPATION_NAME_MAX:
        problems["name"] = f"项目名称不能超过{_OCCUPATION_NAME_MAX}个字，实际为{len(name)}个字"
    return problems


def _region_area():
    return Area.objects.filter(kind=Area.Kind.REGION).first()


def occupation_add_region_special(*, code: str, name: str, actor) -> Occupation:
    """Add a 自治区专项职业能力 project (code NM-ZX-0001 …) to the occupation list, so catalogs,
    classes and evaluation scopes can use it. A code already in the list is refused."""
    _check_region_occupation_actor(actor)
    code = (code or "").strip().upper()
    name = (name or "").strip()
    problems = _region_special_problems(code, name)
    if problems:
        raise PeixunError("；".join(problems.values()))
    duplicate = f"职业编码{code}已存在"
    with transaction.atomic():
        existing = Occupation.objects.filter(code=code).first()
        if existing is not None:
            raise PeixunError(f"{duplicate}（{existing.name}）")
        try:
            with transaction.atomic():
                occupation = Occupation.objects.create(
                    code=code, name=name, source=Occupation.Source.REGION_SPECIAL, active=True
                )
        except IntegrityError as exc:  # added by someone else a moment ago
            raise PeixunError(duplicate) from exc
        audit_record(
            actor=actor,
            action="occupation.region_special_added",
            obj=occupation,
            area=_region_area(),
            after={"code": code, "name": name, "source": Occupation.Source.REGION_SPECIAL},
        )
    return occupation


def import_region_special_occupations(*, table: Table, actor) -> dict:
    """code,name: all or nothing. A new code is added; a project already in the list keeps its code
    and takes the file's name (an update with an audit entry); an unchanged row writes nothing."""
    _check_region_occupation_actor(actor)
    existing = {
        o.code: o
        for o in Occupation.objects.filter(code__in=[r.values["code"].strip().upper() for r in table.rows])
    }
    errors: list[RowError] = []
    parsed = []
    seen: dict[str, int] = {}
    for row in table.rows:
        code, name = row.values["code"].strip().upper(), row.values["name"].strip()
        problems = _region_special_problems(code, name)
        if "code" not in problems:
            if code in seen:
                problems["code"] = f"与第{seen[code]}行重复"
            elif code in existing and existing[code].source != Occupation.Source.REGION_SPECIAL:
                problems["code"] = f"编码{code}已是国家职业分类大典中的职业，不能作为专项职业能力项目导入"
        seen.setdefault(code, row.line)
        errors += [RowError(table.file, row.line, column, message) for column, message in problems.items()]
        parsed.append((row.line, code, name))
    if errors:
        raise ImportFailed(errors)
    created = updated = 0
    with transaction.atomic():
        for line, code, name in parsed:
            occupation = Occupation.objects.select_for_update().filter(code=code).first()
            if occupation is None:
                try:
                    occupation_add_region_special(code=code, name=name, actor=actor)
                except PeixunError as exc:
                    raise ImportFailed([RowError(table.file, line, "code", exc.message)]) from exc
                created += 1
            elif occupation.name != name:
                before = occupation.name
                occupation.name = name
                occupation.save(update_fields=["name"])
                audit_record(
                    actor=actor,
                    action="occupation.updated",
                    obj=occupation,
                    area=_region_area(),
                    before={"name": before},
                    after={"name": name},
                )
                updated += 1
    return {"rows": len(parsed), "created": created, "updated": updated}
