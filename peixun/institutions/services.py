"""Training institutions, the subsidised-provider directory, teachers and evaluation bodies.

The directory (培训机构目录) is a workflow: its transitions are the one table DIRECTORY_TRANSITIONS,
read by the service, the buttons on the page and the tests alike.
"""

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from peixun.accounts.models import Organisation, PersonAffiliation
from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import restrict, scope_of
from peixun.accounts.services import person_register
from peixun.catalog.models import Level, Occupation
from peixun.core.audit import audit_record
from peixun.core.contract import PACKAGE_COLUMNS
from peixun.core.errors import InvalidIdNumber, PeixunError, PermissionDeniedError, TransitionError
from peixun.core.identity import parse_id_number
from peixun.core.models import Area
from peixun.core.tabular import ImportFailed, RowError, Table, parse_yes_no
from peixun.core.uscc import uscc_problem

from .models import (
    AssessmentPhoto,
    EvaluationBody,
    EvaluationScope,
    Institution,
    InstitutionListing,
    SiteAssessment,
    Teacher,
)

Status = Institution.Status


# --- registry -----------------------------------------------------------------------------------


def _occupations_by_code(codes: list[str]) -> list[Occupation]:
    codes = [c.strip() for c in codes if c.strip()]
    found = {o.code: o for o in Occupation.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise PeixunError(f"职业编码不在职业分类中：{'、'.join(unknown)}")
    return [found[c] for c in codes]


def institution_register(
    *,
    code: str,
    name: str,
    type: str,
    area: Area,
    actor,
    address: str = "",
    licensed_occupation_codes: list[str] = (),
    licence_no: str = "",
    licence_valid_to: dt.date | None = None,
    premises: str = "",
    equipment: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> Institution:
    """Register an institution (and its organisation). A USCC that fails its check is kept with a
    warning (rules.md: some real codes fail); a duplicate code is refused."""
    code = (code or "").strip().upper()
    if not code:
        raise PeixunError("统一社会信用代码不能为空")
    # A wrong check character is only a warning, but the length is structural (and the column
    # holds 18 characters: a longer code would fail in the database instead of with a message).
    if len(code) != 18:
        raise PeixunError(f"统一社会信用代码应为18位，实际为{len(code)}位")
    if not (name or "").strip():
        raise PeixunError("机构名称不能为空")
    if type not in Institution.Type.values:
        raise PeixunError("机构类型无效")
    if area.kind == Area.Kind.REGION:
        raise PeixunError("请选择机构所在的盟市或旗县区")
    occupations = _occupations_by_code(list(licensed_occupation_codes))
    with transaction.atomic():
        if Institution.objects.filter(code=code).exists():
            raise PeixunError(f"统一社会信用代码{code}已登记")
        org = Organisation.objects.create(name=name, kind=Organisation.Kind.INSTITUTION, area=area, uscc=code)
        institution = Institution.objects.create(
            organisation=org,
            code=code,
            code_warning=uscc_problem(code) or "",
            name=name,
            type=type,
            area=area,
            address=address,
            licence_no=licence_no,
            licence_valid_to=licence_valid_to,
            premises=premises,
            equipment=equipment,
            contact_name=contact_name,
            contact_phone=contact_phone,
        )
        institution.licensed_occupations.set(occupations)
        audit_record(
            actor=actor,
            action="institution.registered",
            obj=institution,
            area=area,
            organisation=org,
            after={
                "code": code,
                "name": name,
                "type": type,
                "area": area.code,
                "licensed_occupations": [o.code for o in occupations],
            },
        )
    return institution


EDITABLE_FIELDS = (
    "name",
    "type",
    "address",
    "licence_no",
    "licence_valid_to",
    "premises",
    "equipment",
    "contact_name",
    "contact_phone",
)


def institution_update(
    *, institution: Institution, actor, licensed_occupation_codes=None, **changes
) -> Institution:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise PeixunError(f"不能修改的字段：{'、'.join(sorted(unknown))}")
    occupations = (
        _occupations_by_code(list(licensed_occupation_codes))
        if licensed_occupation_codes is not None
        else None
    )
    with transaction.atomic():
        locked = Institution.objects.select_for_update().get(pk=institution.pk)
        before, after = {}, {}
        for field, value in changes.items():
            if getattr(locked, field) != value:
                before[field], after[field] = getattr(locked, field), value
                setattr(locked, field, value)
        if occupations is not None:
            old = sorted(locked.licensed_occupations.values_list("code", flat=True))
            new = sorted(o.code for o in occupations)
            if old != new:
                before["licensed_occupations"], after["licensed_occupations"] = old, new
                locked.licensed_occupations.set(occupations)
        if not after:
            return locked
        locked.save()
        if "name" in after:
            Organisation.objects.filter(pk=locked.organisation_id).update(name=locked.name)
        audit_record(
            actor=actor,
            action="institution.updated",
            obj=locked,
            area=locked.area,
            organisation=locked.organisation,
            before=before,
            after=after,
        )
    return locked


def institution_may_edit(user, institution: Institution) -> bool:
    if has_perm(user, Perm.MANAGE_INSTITUTIONS):
        return restrict(Institution.objects.filter(pk=institution.pk), user).exists()
    return has_perm(user, Perm.EDIT_OWN_INSTITUTION) and user.organisation_id == institution.organisation_id


# --- on-site assessment (第六条) -----------------------------------------------------------------


def assessment_record(
    *,
    institution: Institution,
    actor,
    assessed_on: dt.date,
    assessors: str,
    premises_ok: bool,
    equipment_ok: bool,
    teachers_ok: bool,
    notes: str = "",
    photos: list = (),
) -> SiteAssessment:
    """The conclusion follows from the three checks: all verified → 通过, otherwise 不通过."""
    if assessed_on > timezone.localdate():
        raise PeixunError("考察日期不能晚于今天")
    if not assessors.strip():
        raise PeixunError("请填写考察人员")
    conclusion = (
        SiteAssessment.Conclusion.PASS
        if premises_ok and equipment_ok and teachers_ok
        else SiteAssessment.Conclusion.FAIL
    )
    with transaction.atomic():
        assessment = SiteAssessment.objects.create(
            institution=institution,
            assessed_on=assessed_on,
            assessors=assessors.strip(),
            premises_ok=premises_ok,
            equipment_ok=equipment_ok,
            teachers_ok=teachers_ok,
            conclusion=conclusion,
            notes=notes,
            recorded_by=actor,
        )
        for upload in photos:
            content = upload.read()
            upload.seek(0)
            AssessmentPhoto.objects.create(
                assessment=assessment,
                image=upload,
                sha256=hashlib.sha256(content).hexdigest(),
                caption=getattr(upload, "name", "")[:100],
            )
        audit_record(
            actor=actor,
            action="institution.assessed",
            obj=institution,
            area=institution.area,
            organisation=institution.organisation,
            after={
                "assessed_on": assessed_on,
                "premises_ok": premises_ok,
                "equipment_ok": equipment_ok,
                "teachers_ok": teachers_ok,
                "conclusion": conclusion,
                "photos": len(photos),
            },
        )
    return assessment


# --- the directory (培训机构目录, 第二十一条) ---------------------------------------------------------


@dataclass(frozen=True)
class DirectoryTransition:
    name: str
    label: str
    source: frozenset[str]
    target: str
    needs_assessment: bool = False


DIRECTORY_TRANSITIONS = (
    DirectoryTransition(
        "list", "列入目录", frozenset({Status.UNLISTED}), Status.LISTED, needs_assessment=True
    ),
    DirectoryTransition("suspend", "暂停", frozenset({Status.LISTED}), Status.SUSPENDED),
    DirectoryTransition("resume", "恢复", frozenset({Status.SUSPENDED}), Status.LISTED),
    DirectoryTransition("remove", "移出目录", frozenset({Status.LISTED, Status.SUSPENDED}), Status.REMOVED),
    # A removed institution comes back only after a new on-site assessment.
    DirectoryTransition(
        "relist", "重新列入", frozenset({Status.REMOVED}), Status.LISTED, needs_assessment=True
    ),
)


def directory_transitions_for(user, institution: Institution) -> list[DirectoryTransition]:
    if not has_perm(user, Perm.MANAGE_INSTITUTIONS):
        return []
    if not restrict(Institution.objects.filter(pk=institution.pk), user).exists():
        return []
    return [t for t in DIRECTORY_TRANSITIONS if institution.status in t.source]


def _passing_assessment_since(institution: Institution, since: dt.date | None) -> SiteAssessment | None:
    qs = institution.assessments.filter(conclusion=SiteAssessment.Conclusion.PASS)
    if since is not None:
        qs = qs.filter(assessed_on__gte=since)
    return qs.order_by("-assessed_on").first()


def directory_change(
    *,
    institution: Institution,
    transition: str,
    actor,
    effective_date: dt.date,
    reason: str,
    decision_no: str = "",
    decision_file=None,
    from_import: bool = False,
) -> InstitutionListing:
    """List, suspend, resume, remove or re-list. Locks the institution: two officials acting at
    once cannot both win — the second finds the status already changed and is refused."""
    spec = next((t for t in DIRECTORY_TRANSITIONS if t.name == transition), None)
    if spec is None:
        raise TransitionError(f"未知的目录操作：{transition}")
    if not reason.strip():
        raise PeixunError("请填写原因")
    with transaction.atomic():
        locked = Institution.objects.select_for_update().get(pk=institution.pk)
        # Imports check the importer's rights once, at the entry point; pages and API check here.
        if actor is not None and not from_import and not directory_transitions_for(actor, locked):
            if (
                not has_perm(actor, Perm.MANAGE_INSTITUTIONS)
                or not restrict(Institution.objects.filter(pk=locked.pk), actor).exists()
            ):
                raise PermissionDeniedError("您无权决定该培训机构的目录状态")
        if locked.status not in spec.source:
            raise TransitionError(f"机构当前状态为“{locked.get_status_display()}”，不能执行“{spec.label}”")
        if spec.needs_assessment and not from_import:
            last_removal = (
                locked.listings.filter(status=Status.REMOVED)
                .order_by("-effective_date")
                .values_list("effective_date", flat=True)
                .first()
            )
            if _passing_assessment_since(locked, last_removal) is None:
                raise TransitionError(
                    "列入目录前须经实地考察评估且结论为“通过”（第六条：核实培训场地、设施设备和师资力量）"
                    + ("；移出目录后重新列入须重新考察" if last_removal else "")
                )
        before = locked.status
        listing = InstitutionListing.objects.create(
            institution=locked,
            status=spec.target,
            effective_date=effective_date,
            reason=reason.strip(),
            decision_no=decision_no,
            decision_file=decision_file or "",
            decided_by=actor if getattr(actor, "pk", None) else None,
        )
        locked.status = spec.target
        locked.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action=f"institution.directory.{spec.name}",
            obj=locked,
            area=locked.area,
            organisation=locked.organisation,
            before={"status": before},
            after={
                "status": spec.target,
                "effective_date": effective_date,
                "reason": reason.strip(),
                "decision_no": decision_no,
            },
        )
    institution.status = spec.target
    return listing


def institution_status_on(institution: Institution, day: dt.date) -> str:
    """The directory status in force on a date, from the history (a class is judged on its start date)."""
    listing = institution.listings.filter(effective_date__lte=day).order_by("-effective_date", "-id").first()
    return listing.status if listing else Status.UNLISTED


def institution_check_may_open_class(
    *, institution: Institution, start_date: dt.date, occupation_code: str
) -> None:
    """Only listed institutions may apply to open classes (第二十一条), only within their licence
    (第二十二条 超越办学许可范围). Raises PeixunError with every reason at once."""
    problems = []
    status = institution_status_on(institution, start_date)
    if status != Status.LISTED:
        problems.append(
            f"{start_date.isoformat()}机构目录状态为“{Status(status).label}”，未列入培训机构目录的机构不能申请开班"
        )
    if not institution.licensed_occupations.filter(code=occupation_code).exists():
        problems.append(f"职业（工种）{occupation_code}不在机构的办学许可范围内")
    if problems:
        raise PeixunError("；".join(problems))


# --- teachers ---------------------------------------------------------------------------------


def teacher_register(
    *,
    id_number: str,
    name: str,
    institution: Institution | None,
    qualification: str,
    actor,
    certificates: str = "",
    high_skill_title: str = "",
    occupation_codes: list[str] = (),
    shared_pool_area: Area | None = None,
    phone: str = "",
) -> Teacher:
    if institution is None and shared_pool_area is None:
        raise PeixunError("教师须属于某个机构，或列入某个盟市的共享师资库")
    if shared_pool_area is not None and shared_pool_area.kind not in (
        Area.Kind.CITY,
        Area.Kind.COUNTY_DIRECT,
    ):
        raise PeixunError("共享师资库按盟市建立")
    if not qualification.strip():
        raise PeixunError("请填写任教资格")
    if high_skill_title and high_skill_title not in Teacher.HighSkillTitle.values:
        raise PeixunError("高技能人才称号无效")
    occupations = _occupations_by_code(list(occupation_codes))
    with transaction.atomic():
        person, _created = person_register(
            id_number=id_number,
            name=name,
            actor=actor,
            organisation=institution.organisation if institution else None,
            kind=PersonAffiliation.Kind.TEACHER,
            phone=phone,
        )
        teacher, created = Teacher.objects.get_or_create(
            person=person,
            institution=institution,
            defaults={
                "qualification": qualification.strip(),
                "certificates": certificates,
                "high_skill_title": high_skill_title,
                "shared_pool_area": shared_pool_area,
            },
        )
        changed = created
        if not created:
            before = (
                teacher.qualification,
                teacher.certificates,
                teacher.high_skill_title,
                teacher.shared_pool_area_id,
            )
            teacher.qualification = qualification.strip()
            teacher.certificates = certificates or teacher.certificates
            teacher.high_skill_title = high_skill_title or teacher.high_skill_title
            teacher.shared_pool_area = shared_pool_area or teacher.shared_pool_area
            after = (
                teacher.qualification,
                teacher.certificates,
                teacher.high_skill_title,
                teacher.shared_pool_area_id,
            )
            if before != after:
                teacher.save()
                changed = True
        if occupations:
            known = set(teacher.occupations.values_list("pk", flat=True))
            if any(o.pk not in known for o in occupations):
                teacher.occupations.add(*occupations)
                changed = True
        if not changed:
            # Re-importing the same teachers.csv is idempotent: no write, no audit entry.
            return teacher
        audit_record(
            actor=actor,
            action="teacher.registered" if created else "teacher.updated",
            obj=teacher,
            object_repr=f"教师 {person.name}",
            area=institution.area if institution else shared_pool_area,
            organisation=institution.organisation if institution else None,
            after={
                "person": person.id_masked,
                "qualification": qualification.strip(),
                "high_skill_title": high_skill_title,
                "shared_pool": shared_pool_area.code if shared_pool_area else None,
            },
        )
    return teacher


def teacher_pool_set(*, teacher: Teacher, area: Area | None, actor) -> Teacher:
    """Put a teacher into a city's shared pool (共享师资库, 第六条), or take them out (area None)."""
    if area is not None and area.kind not in (Area.Kind.CITY, Area.Kind.COUNTY_DIRECT):
        raise PeixunError("共享师资库按盟市建立")
    with transaction.atomic():
        locked = Teacher.objects.select_for_update().get(pk=teacher.pk)
        before = locked.shared_pool_area.code if locked.shared_pool_area else None
        locked.shared_pool_area = area
        locked.save(update_fields=["shared_pool_area"])
        audit_record(
            actor=actor,
            action="teacher.pool_changed",
            obj=locked,
            object_repr=f"教师 {locked.person.name}",
            area=area or (locked.institution.area if locked.institution else None),
            before={"shared_pool": before},
            after={"shared_pool": area.code if area else None},
        )
    return locked


# --- evaluation bodies --------------------------------------------------------------------------


def evaluation_body_register(
    *,
    code: str,
    name: str,
    area: Area,
    actor,
    address: str = "",
    filing_no: str = "",
    contact_phone: str = "",
    scopes: list[tuple[str, str]] = (),
) -> EvaluationBody:
    code = (code or "").strip().upper()
    if len(code) != 18:
        raise PeixunError(f"统一社会信用代码应为18位，实际为{len(code)}位")
    # The same line entered twice would break the unique (body, occupation, level) constraint.
    scopes = list(dict.fromkeys((c.strip(), lvl.strip()) for c, lvl in scopes))
    for _occupation, level in scopes:
        if level not in Level.values:
            raise PeixunError(f"等级“{level}”无效")
    occupations = {o.code: o for o in _occupations_by_code([c for c, _l in scopes])}
    with transaction.atomic():
        if EvaluationBody.objects.filter(code=code).exists():
            raise PeixunError(f"统一社会信用代码{code}已登记")
        org = Organisation.objects.create(
            name=name, kind=Organisation.Kind.EVALUATION_BODY, area=area, uscc=code
        )
        body = EvaluationBody.objects.create(
            organisation=org,
            code=code,
            name=name,
            area=area,
            address=address,
            filing_no=filing_no,
            contact_phone=contact_phone,
        )
        EvaluationScope.objects.bulk_create(
            [EvaluationScope(body=body, occupation=occupations[c], level=lvl) for c, lvl in scopes]
        )
        audit_record(
            actor=actor,
            action="evaluation_body.registered",
            obj=body,
            area=area,
            organisation=org,
            after={"code": code, "name": name, "scopes": [f"{c}/{lvl}" for c, lvl in scopes]},
        )
    return body


# --- imports (contract.md: institutions.csv, teachers.csv) -------------------------------------

INSTITUTION_COLUMNS = PACKAGE_COLUMNS["institutions.csv"]
TEACHER_COLUMNS = PACKAGE_COLUMNS["teachers.csv"]


def _importer_area_ids(actor) -> set[int] | None:
    """The areas an importer may write to; None = no limit (the region department, the command line)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    scope = scope_of(actor)
    return None if scope.everything else set(scope.area_ids)


# The date given to a listing carried over from the previous system, whose date is unknown.
IMPORTED_LISTING_DATE = dt.date(2000, 1, 1)


def import_institutions(*, table: Table, actor, on_date: dt.date | None = None) -> dict:
    """institutions.csv: all or nothing; matched on institution_code; listed=Y puts a new or
    unlisted institution into the directory (records from the previous system were assessed there)."""
    on_date = on_date or timezone.localdate()
    areas = {a.code: a for a in Area.objects.exclude(kind=Area.Kind.REGION)}
    occupation_codes = set(Occupation.objects.values_list("code", flat=True))
    allowed_area_ids = _importer_area_ids(actor)
    registered = {
        i.code: i
        for i in Institution.objects.filter(
            code__in=[r.values["institution_code"].upper() for r in table.rows]
        ).select_related("area")
    }
    errors, parsed, seen = [], [], {}
    for row in table.rows:
        v = row.values

        def bad(column, message, line=row.line):
            errors.append(RowError(table.file, line, column, message))

        code = v["institution_code"].upper()
        if len(code) != 18:
            bad("institution_code", f"统一社会信用代码应为18位，实际为{len(code)}位")
        if code in seen:
            bad("institution_code", f"与第{seen[code]}行重复")
        seen.setdefault(code, row.line)
        if not v["name"]:
            bad("name", "机构名称不能为空")
        if v["type"] not in Institution.Type.values:
            bad("type", f"机构类型“{v['type']}”无效，应为 {'/'.join(Institution.Type.values)}")
        if v["area_code"] not in areas:
            bad("area_code", f"地区代码“{v['area_code']}”不是内蒙古的盟市或旗县区")
        elif allowed_area_ids is not None and areas[v["area_code"]].id not in allowed_area_ids:
            bad("area_code", f"地区代码“{v['area_code']}”（{areas[v['area_code']].name}）不在您的管辖范围内")
        existing = registered.get(code)
        if existing is not None and v["area_code"] in areas and existing.area.code != v["area_code"]:
            # The area decides who supervises the institution: it is not changed by an import.
            bad(
                "area_code",
                f"该机构已登记在{existing.area.name}（{existing.area.code}），导入不能变更所在地区",
            )
        codes = [c.strip() for c in v["licensed_occupations"].split(";") if c.strip()]
        unknown = [c for c in codes if c not in occupation_codes]
        if unknown:
            bad("licensed_occupations", f"职业编码不在职业分类中：{'、'.join(unknown)}")
        listed = None
        try:
            listed = parse_yes_no(v["listed"])
        except ValueError as exc:
            bad("listed", str(exc))
        parsed.append((code, v, codes, listed))
    if errors:
        raise ImportFailed(errors)
    created = updated = 0
    with transaction.atomic():
        for code, v, codes, listed in parsed:
            existing = Institution.objects.filter(code=code).first()
            if existing is None:
                institution = institution_register(
                    code=code,
                    name=v["name"],
                    type=v["type"],
                    area=areas[v["area_code"]],
                    actor=actor,
                    address=v["address"],
                    licensed_occupation_codes=codes,
                )
                created += 1
            else:
                institution = institution_update(
                    institution=existing,
                    actor=actor,
                    licensed_occupation_codes=codes,
                    name=v["name"],
                    type=v["type"],
                    address=v["address"],
                )
                updated += 1
            if listed and institution.status != Status.LISTED:
                name = (
                    "resume"
                    if institution.status == Status.SUSPENDED
                    else ("relist" if institution.status == Status.REMOVED else "list")
                )
                # contract.md's `listed` says the institution is in the directory, not since when.
                # One the previous system listed and peixun has never seen is taken as listed
                # throughout (its old classes were subsidised as listed); a later change dates today.
                first_listing = name == "list" and not institution.listings.exists()
                directory_change(
                    institution=institution,
                    transition=name,
                    actor=actor,
                    effective_date=IMPORTED_LISTING_DATE if first_listing else on_date,
                    reason=f"数据导入（{table.file}）"
                    + ("：原系统已列入目录，列入日期不详" if first_listing else ""),
                    from_import=True,
                )
            elif listed is False and institution.status in (Status.LISTED, Status.SUSPENDED):
                directory_change(
                    institution=institution,
                    transition="remove",
                    actor=actor,
                    effective_date=on_date,
                    reason=f"数据导入（{table.file}）标记为未列入目录",
                    from_import=True,
                )
    return {"rows": len(parsed), "created": created, "updated": updated}


def import_teachers(*, table: Table, actor) -> dict:
    visible = Institution.objects.all()
    if _importer_area_ids(actor) is not None:
        # A city or county bureau attaches teachers only to institutions it supervises.
        visible = restrict(visible, actor)
    institutions = {i.code: i for i in visible}
    errors, parsed, seen = [], [], {}
    for row in table.rows:
        v = row.values

        def bad(column, message, line=row.line):
            errors.append(RowError(table.file, line, column, message))

        try:
            number = parse_id_number(v["id_number"]).value
        except InvalidIdNumber as exc:
            bad("id_number", exc.message)
            number = None
        if not v["name"]:
            bad("name", "姓名不能为空")
        institution = institutions.get(v["institution_code"].upper())
        if institution is None:
            bad(
                "institution_code",
                f"机构“{v['institution_code']}”未登记或不在您的管辖范围内（请先导入 institutions.csv）",
            )
        if not v["qualification"]:
            bad("qualification", "任教资格不能为空")
        key = (number, v["institution_code"].upper())
        if number and key in seen:
            bad("id_number", f"与第{seen[key]}行重复")
        seen.setdefault(key, row.line)
        parsed.append((row.line, number, v, institution))
    if errors:
        raise ImportFailed(errors)
    with transaction.atomic():
        for line, number, v, institution in parsed:
            try:
                teacher_register(
                    id_number=number,
                    name=v["name"],
                    institution=institution,
                    qualification=v["qualification"],
                    actor=actor,
                )
            except PeixunError as exc:
                # e.g. the same ID number registered under another name: fail the whole file.
                raise ImportFailed([RowError(table.file, line, "id_number", exc.message)]) from exc
    return {"rows": len(parsed)}


# --- evaluation bodies import (evaluation_bodies.csv) -------------------------------------------

EVALUATION_BODY_COLUMNS = ("evaluation_body_code", "name", "area_code", "address", "filing_no", "scopes")
# The lengths of the model's columns: a longer value is a row error, not a database error.
_EVALUATION_BODY_LIMITS = {"name": 128, "address": 200, "filing_no": 64}
_SCOPE_SEPARATORS = re.compile(r"[;；]")


def parse_evaluation_scopes(text: str, known_codes) -> tuple[list[tuple[str, str]], list[str]]:
    """The scopes cell: 4-10-01-05:5;4-10-01-05:4 → [("4-10-01-05", "5"), ("4-10-01-05", "4")], and
    every problem found in it (Chinese); an item repeated is kept once."""
    scopes, problems = [], []
    for item in (s.strip() for s in _SCOPE_SEPARATORS.split(text or "")):
        if not item:
            continue
        parts = [p.strip() for p in item.replace("：", ":").split(":")]
        if len(parts) != 2 or not parts[0] or not parts[1]:
            problems.append(f"“{item}”应为“职业编码:等级”，如 4-10-01-05:4")
            continue
        code, level = parts[0], parts[1].upper()
        if code not in known_codes:
            problems.append(f"职业编码“{code}”不在职业分类中")
        if level not in Level.values:
            problems.append(f"“{item}”的等级“{parts[1]}”无效，应为 {'/'.join(Level.values)}")
        scopes.append((code, level))
    return list(dict.fromkeys(scopes)), problems


def evaluation_body_update(
    *,
    body: EvaluationBody,
    actor,
    name: str,
    address: str,
    filing_no: str,
    scopes: list[tuple[str, str]],
) -> bool:
    """Bring a body's name, address, filing number and evaluation scope (the complete list) to the
    given values. Returns whether anything changed; an unchanged body is not written or audited."""
    scopes = list(dict.fromkeys((c.strip(), lvl.strip()) for c, lvl in scopes))
    for _occupation, level in scopes:
        if level not in Level.values:
            raise PeixunError(f"等级“{level}”无效")
    occupations = {o.code: o for o in _occupations_by_code([c for c, _l in scopes])}
    with transaction.atomic():
        locked = EvaluationBody.objects.select_for_update().get(pk=body.pk)
        before, after = {}, {}
        for field, value in (("name", name), ("address", address), ("filing_no", filing_no)):
            if getattr(locked, field) != value:
                before[field], after[field] = getattr(locked, field), value
                setattr(locked, field, value)
        current = {(s.occupation.code, s.level): s for s in locked.scopes.select_related("occupation")}
        wanted = set(scopes)
        if set(current) != wanted:
            before["scopes"] = sorted(f"{c}/{lvl}" for c, lvl in current)
            after["scopes"] = sorted(f"{c}/{lvl}" for c, lvl in wanted)
            EvaluationScope.objects.filter(
                pk__in=[s.pk for k, s in current.items() if k not in wanted]
            ).delete()
            EvaluationScope.objects.bulk_create(
                [
                    EvaluationScope(body=locked, occupation=occupations[c], level=lvl)
                    for c, lvl in scopes
                    if (c, lvl) not in current
                ]
            )
        if not after:
            return False
        locked.save()
        if "name" in after:
            Organisation.objects.filter(pk=locked.organisation_id).update(name=locked.name)
        audit_record(
            actor=actor,
            action="evaluation_body.updated",
            obj=locked,
            area=locked.area,
            organisation=locked.organisation,
            before=before,
            after=after,
        )
    return True


def import_evaluation_bodies(*, table: Table, actor) -> dict:
    """evaluation_bodies.csv: all or nothing; matched on evaluation_body_code. A new code registers
    the body; a known one gets the file's name, address, filing number and scopes (the complete
    list) — an update with an audit entry, or nothing at all when the row is unchanged. A USCC that
    fails its check character is a warning only (rules.md), returned with the counts."""
    areas = {a.code: a for a in Area.objects.all()}
    occupation_codes = set(Occupation.objects.values_list("code", flat=True))
    allowed_area_ids = _importer_area_ids(actor)
    registered = {
        b.code: b
        for b in EvaluationBody.objects.filter(
            code__in=[r.values["evaluation_body_code"].upper() for r in table.rows]
        ).select_related("area")
    }
    errors, warnings, parsed, seen = [], [], [], {}
    for row in table.rows:
        v = row.values

        def bad(column, message, line=row.line):
            errors.append(RowError(table.file, line, column, message))

        code = v["evaluation_body_code"].upper()
        if len(code) != 18:
            bad("evaluation_body_code", f"统一社会信用代码应为18位，实际为{len(code)}位")
        elif code in seen:
            bad("evaluation_body_code", f"与第{seen[code]}行重复")
        else:
            problem = uscc_problem(code)
            if problem:
                warnings.append(RowError(table.file, row.line, "evaluation_body_code", problem))
        seen.setdefault(code, row.line)
        if not v["name"]:
            bad("name", "机构名称不能为空")
        for column, limit in _EVALUATION_BODY_LIMITS.items():
            if len(v[column]) > limit:
                bad(column, f"不能超过{limit}个字，实际为{len(v[column])}个字")
        area = areas.get(v["area_code"])
        existing = registered.get(code)
        if area is None:
            bad("area_code", f"地区代码“{v['area_code']}”不是内蒙古的行政区划代码")
        elif allowed_area_ids is not None and area.id not in allowed_area_ids:
            bad("area_code", f"地区代码“{v['area_code']}”（{area.name}）不在您的管辖范围内")
        elif existing is not None and existing.area_id != area.id:
            # The area decides who supervises the body: it is not changed by an import.
            bad(
                "area_code",
                f"该评价机构已登记在{existing.area.name}（{existing.area.code}），导入不能变更所在地区",
            )
        scopes, problems = parse_evaluation_scopes(v["scopes"], occupation_codes)
        if problems:
            bad("scopes", "；".join(problems))
        elif not scopes:
            bad("scopes", "评价范围不能为空，格式如 4-10-01-05:5;4-10-01-05:4")
        parsed.append((row.line, code, v, area, scopes))
    if errors:
        raise ImportFailed(errors)
    created = updated = 0
    with transaction.atomic():
        for line, code, v, area, scopes in parsed:
            existing = EvaluationBody.objects.filter(code=code).first()
            try:
                if existing is None:
                    evaluation_body_register(
                        code=code,
                        name=v["name"],
                        area=area,
                        actor=actor,
                        address=v["address"],
                        filing_no=v["filing_no"],
                        scopes=scopes,
                    )
                    created += 1
                elif evaluation_body_update(
                    body=existing,
                    actor=actor,
                    name=v["name"],
                    address=v["address"],
                    filing_no=v["filing_no"],
                    scopes=scopes,
                ):
                    updated += 1
            except PeixunError as exc:
                # e.g. registered by someone else meanwhile: fail the whole file.
                raise ImportFailed([RowError(table.file, line, "evaluation_body_code", exc.message)]) from exc
    return {
        "rows": len(parsed),
        "created": created,
        "updated": updated,
        "unchanged": len(parsed) - created - updated,
        "warnings": warnings,
    }
