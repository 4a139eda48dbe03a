"""Pages of the cross-check findings (问题线索): the list, one finding with its evidence beside the
records it names, the findings of one class (with a re-run), and the institution risk view.

Views stay thin: every queryset of a scoped model goes through the scope helper, decisions go
through services.finding_decide. Registry rows and history rows carry no scope of their own (they
are other departments' data, keyed by the ID number's HMAC); they are only ever read for the
subject of a finding the user may see.
"""

import datetime as dt
import math
import re
from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Case, Count, IntegerField, Q, When
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from peixun.accounts import services as account_services
from peixun.accounts.http import client_ip, download_response, require_perm
from peixun.accounts.roles import Perm, Role, has_perm
from peixun.accounts.scope import get_scoped_or_404, restrict, scope_of
from peixun.attendance.hours import HoursRules, count_hours, lesson_bounds
from peixun.attendance.models import AttendanceRecord, OnlineSession
from peixun.core.errors import PeixunError, TransitionError
from peixun.core.identity import mask_id_number, mask_phone
from peixun.core.models import Area, Person, RuleSettings
from peixun.core.paging import keyed_page
from peixun.core.tabular import write_xlsx
from peixun.institutions.models import InstitutionListing
from peixun.training.models import Enrollment, ExamResult, Lesson, TrainingClass

from . import services
from .catalog import RULES
from .forms import ACTIVE, DecisionForm, FindingFilterForm
from .models import Finding, FindingEvent, HistoryTraining, RegistryKind, RegistryRow

PAGE_SIZE = 50
Status = Finding.Status
Severity = Finding.Severity

# Who records a decision on a finding: the reviewing offices, not institutions, finance or inspectors.
DECIDER_ROLES = frozenset({Role.REVIEWER, Role.CITY_ADMIN, Role.REGION_ADMIN})


def can_decide(user) -> bool:
    """确认/排除 and re-running a class's check are for reviewers and the city and region admins."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role in DECIDER_ROLES)


# What each rule checks, in the regulation's words (rules.md), shown beside the evidence.
RULE_EXPLANATIONS = {
    "AGE_UNDER_16": "按身份证号中的出生日期，学员在开班日期未满16周岁。",
    "DECEASED": "公安死亡信息中的死亡日期早于开班日期，或早于该学员在本班的考勤、线上学习或考试记录日期。",
    "PUBLIC_PAYROLL": "财政供养信息中该人员的供养期间与培训期间重叠：机关事业单位在编人员不享受职业培训补贴。",
    "UNEMPLOYED_NOT_REGISTERED": "人员类别为城镇登记失业人员，但就业失业登记中没有覆盖开班日期的失业登记。",
    "UNEMPLOYED_BUT_INSURED": "人员类别为城镇登记失业人员、农村转移就业劳动者或应届初高中毕业生，但开班当月有社会保险参保记录。",
    "UNEMPLOYED_BUT_BUSINESS": "人员类别为城镇登记失业人员（非创业培训），但开班日期时持有有效的营业执照。",
    "HOSPITALIZED_PRESENT": "学员在医保住院期间（入院至出院）的某一天有考勤记录。",
    "REPEAT_TRAINING": "该人员此前已参加同一职业同级或更高等级的补贴性培训（历史记录或本系统中更早开班的培训班）。",
    "ALREADY_CERTIFIED": "开班前该人员已取得同一职业同级或更高等级的技能人才评价证书。",
    "LIFETIME_CAP": "按历史记录和本系统培训班排序，本班是该人员第{lifetime_next}次及以上补贴性培训，超过终身{lifetime_cap}次上限。",
    "OVERLAPPING_CLASSES": "学员在本班的考勤与其在另一培训班的考勤时间重叠。",
    "TEACHER_DOUBLE_BOOKED": "同一教师在同一日期、重叠时段给本班和另一培训班授课。",
    "ATTENDANCE_OUTSIDE_SCHEDULE": "考勤记录与本班任何线下课程时段都不重叠。",
    "ATTENDANCE_BELOW_THRESHOLD": "学员有考试记录，但计入学时低于总课时的{exam_share}。",
    "DUPLICATE_PHOTO": "学员的考勤照片与另一人员、或本人另一天的考勤照片完全相同。",
    "LOCATION_MISMATCH": "签到位置距培训地点超过{distance}米（没有定位的记录不作判断）。",
    "BATCH_CHECKIN": "本班有{batch}条及以上考勤记录的签到时间精确到秒完全相同。",
    "ONLINE_SHARE_EXCEEDED": "学员的有效线上学时（每日按上限计）超过总课时的{online_share}。",
    "ONLINE_DAILY_EXCEEDED": "学员某一天的有效线上学时超过{daily}课时。",
    "ONLINE_CONCURRENT": "学员两段线上学习时间重叠，或线上学习与考勤时间重叠（疑似刷课）。",
    "ONLINE_IP_FARM": "同一时刻有{ip_farm}名及以上不同学员从同一IP地址在线学习（疑似外挂刷课）。",
    "ONLINE_FACE_FAILED": "线上学习有人脸核验失败，或超过60分钟没有一次人脸核验通过。",
    "FACE_MISMATCH": "签到照片的人脸与学员报名照片不符。",
    "FACE_SHARED": "同一人脸出现在两个不同身份证号的签到或报名照片中（冒名顶替）。",
    "OUT_OF_SCOPE": "本班的职业（工种）不在培训机构的办学许可范围内。",
    "INSTITUTION_NOT_LISTED": "开班日期时培训机构不在培训机构目录中。",
}


def _pct(value) -> str:
    return f"{(Decimal(value) * 100).normalize():f}%"


def rule_explanation(code: str, settings: RuleSettings | None) -> str:
    """The rule in plain Chinese, with the numbers of the settings version that produced the finding."""
    text = RULE_EXPLANATIONS.get(code, "")
    if settings is None:
        settings = RuleSettings()  # the defaults of rules.md
    cap = settings.lifetime_subsidy_cap
    return text.format(
        lifetime_cap=cap,
        lifetime_next=cap + 1,
        exam_share=_pct(settings.exam_min_attendance_share),
        distance=f"{settings.checkin_distance_m:,}",
        batch=settings.batch_checkin_count,
        online_share=_pct(settings.online_max_share),
        daily=f"{Decimal(settings.online_max_hours_per_day).normalize():f}",
        ip_farm=settings.ip_farm_persons,
    )


def _rule_title(code: str) -> str:
    spec = RULES.get(code)
    return spec.title if spec else code


# --- the list -----------------------------------------------------------------------------------


def _scoped_findings(user):
    return restrict(
        Finding.objects.select_related(
            "training_class",
            "training_class__institution",
            "training_class__area",
            "training_class__area__parent",
            "person",
        ),
        user,
    )


def _filter_areas(user):
    """The 盟市 and 旗县区 of the user's office; an institution's own staff get no area filter."""
    if scope_of(user).organisation_id is not None:
        return []
    return restrict(Area.objects.exclude(kind=Area.Kind.REGION).select_related("parent"), user)


def _area_q(code: str, prefix: str = "training_class__area") -> Q:
    return Q(**{f"{prefix}__code": code}) | Q(**{f"{prefix}__parent__code": code})


def _list_order(queryset):
    """Open findings first, BLOCK before REVIEW, newest first."""
    return queryset.annotate(
        _open_first=Case(When(status=Status.OPEN, then=0), default=1, output_field=IntegerField())
    ).order_by("_open_first", "severity", "-first_found_at", "training_class__code", "pk")


def _filtered_findings(request):
    form = FindingFilterForm(request.GET or None)
    f = form.values()
    findings = _scoped_findings(request.user).filter(is_current=True)
    if f["area"]:
        findings = findings.filter(_area_q(f["area"]))
    if f["institution"]:
        findings = findings.filter(training_class__institution__name__contains=f["institution"])
    if f["rule"]:
        findings = findings.filter(rule_code=f["rule"])
    if f["severity"]:
        findings = findings.filter(severity=f["severity"])
    if f["status"] == ACTIVE:
        findings = findings.filter(status__in=[Status.OPEN, Status.CONFIRMED])
    elif f["status"]:
        findings = findings.filter(status=f["status"])
    if f["class_code"]:
        findings = findings.filter(training_class__code__icontains=f["class_code"])
    return _list_order(findings), f


def _decorate(finding: Finding) -> Finding:
    finding.rule_title = _rule_title(finding.rule_code)
    return finding


@require_perm(Perm.VIEW_PEOPLE)
def finding_list(request):
    findings, f = _filtered_findings(request)
    page = keyed_page(findings, request.GET.get("page"), PAGE_SIZE)
    for finding in page:
        _decorate(finding)
    query = request.GET.copy()
    query.pop("page", None)
    # Both numbers are of open findings: counted among those only (the status index narrows it).
    counts = findings.filter(status=Status.OPEN).aggregate(
        open=Count("pk"), open_block=Count("pk", filter=Q(severity=Severity.BLOCK))
    )
    return render(
        request,
        "checks/list.html",
        {
            "page": page,
            "f": f,
            "areas": _filter_areas(request.user),
            "rules": [(code, spec.title) for code, spec in RULES.items()],
            "severities": Severity.choices,
            "statuses": [*Status.choices, (ACTIVE, "未排除（待处理和已确认）")],
            "export_query": query.urlencode(),
            "counts": counts,
            "filtered": any(f.values()),
            "can_decide": can_decide(request.user),
        },
    )


# Anything in an evidence text shaped like an ID number is masked on its way out.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def _mask_ids_in(text: str) -> str:
    return _ID_LIKE.sub(lambda m: mask_id_number(m.group(0)), text or "")


EXPORT_COLUMNS = (
    "规则代码",
    "规则名称",
    "严重程度",
    "班级编号",
    "培训机构",
    "培训地区",
    "姓名",
    "身份证号（脱敏）",
    "状态",
    "处理结果",
    "处理意见",
    "证据",
    "依据",
    "首次发现",
    "最近发现",
    "规则参数版本",
)
EXPORT_LABELS = (
    "规则代码XXXXXXXX",
    "规则名称XXXX",
    "严重程度",
    "班级编号XXXX",
    "培训机构名称XXXXX",
    "培训地区",
    "姓名",
    "身份证号（脱敏）",
    "状态",
    "处理结果",
    "处理意见XXXXXXXX",
    "证据XXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "依据XXXXXXXX",
    "首次发现",
    "最近发现",
    "规则参数版本",
)


def _date(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else ""


@require_perm(Perm.VIEW_PEOPLE)
def finding_export(request):
    """The list as filtered. ID numbers are masked here (the full number never leaves in a list)."""
    findings, _f = _filtered_findings(request)
    rows = (
        (
            x.rule_code,
            _rule_title(x.rule_code),
            x.get_severity_display(),
            x.training_class.code,
            x.training_class.institution.name,
            x.training_class.area.name,
            x.person.name if x.person else ("（班级）" if not x.subject_key else "（未登记人员）"),
            x.person.id_masked if x.person else "",
            x.get_status_display(),
            x.get_consequence_display() if x.consequence else "",
            x.decision_reason,
            _mask_ids_in(x.evidence),
            x.article,
            _date(x.first_found_at),
            _date(x.last_found_at),
            x.rules_version,
        )
        for x in findings.iterator(chunk_size=2000)
    )
    content = write_xlsx("问题线索", EXPORT_COLUMNS, rows, labels=EXPORT_LABELS)
    return download_response(content, f"问题线索_{timezone.localdate():%Y%m%d}.xlsx")


# --- one finding: evidence beside the records -----------------------------------------------------

K = RegistryKind
# Which registry rows of the person each rule is about (the first kind is the one the rule reads).
RULE_REGISTRY_KINDS: dict[str, tuple[str, ...]] = {
    "DECEASED": (K.DEATH,),
    "PUBLIC_PAYROLL": (K.PUBLIC_PAYROLL,),
    "HOSPITALIZED_PRESENT": (K.HOSPITALIZATION,),
    "UNEMPLOYED_NOT_REGISTERED": (K.UNEMPLOYMENT_REGISTRATION, K.SOCIAL_INSURANCE, K.BUSINESS_LICENSE),
    "UNEMPLOYED_BUT_INSURED": (K.SOCIAL_INSURANCE, K.UNEMPLOYMENT_REGISTRATION, K.BUSINESS_LICENSE),
    "UNEMPLOYED_BUT_BUSINESS": (K.BUSINESS_LICENSE, K.UNEMPLOYMENT_REGISTRATION, K.SOCIAL_INSURANCE),
    "ALREADY_CERTIFIED": (K.SKILL_CERTIFICATE,),
}
HISTORY_RULES = frozenset({"REPEAT_TRAINING", "LIFETIME_CAP"})
ATTENDANCE_RULES = frozenset(
    {
        "DECEASED",
        "HOSPITALIZED_PRESENT",
        "OVERLAPPING_CLASSES",
        "ATTENDANCE_OUTSIDE_SCHEDULE",
        "ATTENDANCE_BELOW_THRESHOLD",
        "DUPLICATE_PHOTO",
        "LOCATION_MISMATCH",
        "ONLINE_CONCURRENT",
        "FACE_MISMATCH",
        "FACE_SHARED",
    }
)
SESSION_RULES = frozenset(
    {
        "DECEASED",
        "ATTENDANCE_BELOW_THRESHOLD",
        "ONLINE_SHARE_EXCEEDED",
        "ONLINE_DAILY_EXCEEDED",
        "ONLINE_CONCURRENT",
        "ONLINE_IP_FARM",
        "ONLINE_FACE_FAILED",
    }
)
LESSON_RULES = frozenset(
    {"ATTENDANCE_OUTSIDE_SCHEDULE", "ATTENDANCE_BELOW_THRESHOLD", "TEACHER_DOUBLE_BOOKED"}
)
HOURS_RULES = frozenset({"ATTENDANCE_BELOW_THRESHOLD", "ONLINE_SHARE_EXCEEDED", "ONLINE_DAILY_EXCEEDED"})

# kind → (caption of date_from, caption of date_to or None, caption of org_name or None, month period?)
REGISTRY_FIELDS = {
    K.DEATH: ("死亡日期", None, None, False),
    K.PUBLIC_PAYROLL: ("供养开始", "供养结束", "供养单位", False),
    K.BUSINESS_LICENSE: ("成立日期", "注销日期", "企业名称", False),
    K.HOSPITALIZATION: ("入院日期", "出院日期", "医院", False),
    K.SOCIAL_INSURANCE: ("参保起始月", "参保截止月", "参保单位", True),
    K.EMPLOYMENT_FILING: ("用工开始", "用工结束", "用工单位", False),
    K.UNEMPLOYMENT_REGISTRATION: ("登记日期", "登记终止", None, False),
    K.SKILL_CERTIFICATE: ("发证日期", None, None, False),
}
OPEN_END = {K.HOSPITALIZATION: "未出院", K.BUSINESS_LICENSE: "未注销"}


def _fmt_day(value, month: bool = False) -> str:
    if value is None:
        return ""
    return f"{value:%Y-%m}" if month else f"{value:%Y-%m-%d}"


def _overlaps(start, end, lo, hi) -> bool:
    """Inclusive date periods; an empty end is still open."""
    return (start is None or hi is None or start <= hi) and (end is None or lo is None or end >= lo)


def _registry_view(row: RegistryRow, klass: TrainingClass) -> dict:
    caption_from, caption_to, caption_org, month = REGISTRY_FIELDS.get(row.kind, ("日期", "至", None, False))
    facts = [(caption_from, _fmt_day(row.date_from, month) or "不详")]
    if caption_to:
        facts.append((caption_to, _fmt_day(row.date_to, month) or OPEN_END.get(row.kind, "至今")))
    if caption_org:
        facts.append((caption_org, row.org_name or "—"))
    if row.org_code:
        facts.append(("统一社会信用代码", row.org_code))
    if row.kind == K.SKILL_CERTIFICATE:
        facts += [
            ("证书编号", row.certificate_no or "—"),
            ("职业编码", row.occupation_code),
            ("等级", _level_label(row.level)),
        ]
    relevant = ""
    if row.kind == K.DEATH:
        if row.date_from and row.date_from <= klass.end_date:
            relevant = "早于开班日期" if row.date_from < klass.start_date else "在培训期间"
    elif row.kind == K.SKILL_CERTIFICATE:
        if (
            row.occupation_code == klass.occupation_code
            and row.date_from
            and row.date_from < klass.start_date
        ):
            relevant = "同职业，开班前取得"
    elif row.kind == K.SOCIAL_INSURANCE:
        month_start = klass.start_date.replace(day=1)
        if _overlaps(row.date_from, row.date_to, month_start, klass.start_date):
            relevant = "覆盖开班月份"
    elif row.kind == K.UNEMPLOYMENT_REGISTRATION or row.kind == K.BUSINESS_LICENSE:
        if _overlaps(row.date_from, row.date_to, klass.start_date, klass.start_date):
            relevant = "覆盖开班日期"
    elif _overlaps(row.date_from, row.date_to, klass.start_date, klass.end_date):
        relevant = "与培训期间重叠"
    return {
        "facts": facts,
        "relevant": relevant,
        "name": row.name,
        "id_masked": row.id_masked,
        "source": row.snapshot.file_name,
        "imported_at": row.snapshot.imported_at,
        "line": row.line,
    }


def _level_label(level: str) -> str:
    from peixun.catalog.models import Level

    try:
        return str(Level(level).label)
    except ValueError:
        return level or "—"


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _distance_m(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _rule_settings_for(finding: Finding) -> RuleSettings | None:
    return (
        RuleSettings.objects.filter(version=finding.rules_version).first()
        or RuleSettings.objects.order_by("-version").first()
    )


def _lesson_shape(lesson: Lesson) -> SimpleNamespace:
    start, end = lesson_bounds(lesson.date, lesson.start_time, lesson.end_time)
    return SimpleNamespace(start=start, end=end, hours=lesson.hours, mode=lesson.mode, source=lesson)


def _evidence(finding: Finding, user) -> dict:
    """The records the finding refers to, each fetched through the scope helper where it has one."""
    rule = finding.rule_code
    spec = RULES.get(rule)
    subject_kind = spec.subject if spec else ("class" if not finding.subject_key else "trainee")
    klass = finding.training_class
    person = finding.person
    ctx: dict = {"subject_kind": subject_kind}
    settings = _rule_settings_for(finding)
    ctx["settings"] = settings

    if person is not None:
        ctx["age_at_start"] = _age_on(person.birth_date, klass.start_date)
        ctx["person_in_scope"] = restrict(Person.objects.filter(pk=person.pk), user).exists()
        if subject_kind == "trainee":
            ctx["enrolment"] = restrict(
                Enrollment.objects.filter(training_class=klass, person=person), user
            ).first()
            if ctx["enrolment"] is not None:
                ctx["enrolment_phone"] = mask_phone(ctx["enrolment"].phone)

    # registry rows of the person relevant to the rule
    kinds = RULE_REGISTRY_KINDS.get(rule, ())
    if kinds and finding.subject_key:
        rows = RegistryRow.objects.filter(id_hmac=finding.subject_key, kind__in=kinds).select_related(
            "snapshot"
        )
        by_kind = defaultdict(list)
        for row in rows.order_by("date_from", "line"):
            by_kind[row.kind].append(_registry_view(row, klass))
        ctx["registry"] = [(K(kind).label, kind == kinds[0], by_kind.get(kind, [])) for kind in kinds]

    # earlier subsidised trainings: history rows and other enrolments of the person
    if rule in HISTORY_RULES and finding.subject_key:
        ctx["history"] = list(
            HistoryTraining.objects.filter(id_hmac=finding.subject_key).order_by("completed_on", "pk")
        )
        for h in ctx["history"]:
            h.level_label = _level_label(h.level)
            h.same_occupation = h.occupation_code == klass.occupation_code
        if person is not None:
            others = Enrollment.objects.filter(person=person).exclude(training_class=klass)
            visible = list(
                restrict(others, user)
                .select_related("training_class", "training_class__institution")
                .order_by("training_class__start_date", "training_class__code")
            )
            for e in visible:
                e.same_occupation = e.training_class.occupation_code == klass.occupation_code
            ctx["other_enrolments"] = visible
            ctx["other_enrolments_hidden"] = others.count() - len(visible)

    if person is not None and (rule in ATTENDANCE_RULES or rule in SESSION_RULES or rule in LESSON_RULES):
        _attendance_evidence(ctx, finding, user, settings)

    if rule == "BATCH_CHECKIN":
        ctx["batches"] = list(
            restrict(AttendanceRecord.objects.filter(training_class=klass), user)
            .values("check_in")
            .annotate(n=Count("pk"))
            .filter(n__gte=2)
            .order_by("-n", "check_in")[:10]
        )
        ctx["batch_threshold"] = settings.batch_checkin_count if settings else 10
    if rule == "OUT_OF_SCOPE":
        ctx["licensed"] = list(klass.institution.licensed_occupations.order_by("code"))
    if rule == "INSTITUTION_NOT_LISTED":
        ctx["listings"] = list(
            restrict(InstitutionListing.objects.filter(institution=klass.institution), user).order_by(
                "-effective_date", "-pk"
            )
        )
    return ctx


def _attendance_evidence(ctx: dict, finding: Finding, user, settings) -> None:
    rule = finding.rule_code
    klass = finding.training_class
    person = finding.person
    lessons = list(restrict(Lesson.objects.filter(training_class=klass), user).select_related("teacher"))
    if rule == "TEACHER_DOUBLE_BOOKED":
        own = [x for x in lessons if x.teacher_id == person.pk]
        ctx["teacher_lessons"] = own
        others = Lesson.objects.filter(teacher=person, date__in={x.date for x in own}).exclude(
            training_class=klass
        )
        visible = list(restrict(others, user).select_related("training_class", "training_class__institution"))
        own_shapes = [_lesson_shape(x) for x in own]
        for other in visible:
            shape = _lesson_shape(other)
            other.clash = any(s.start < shape.end and shape.start < s.end for s in own_shapes)
        ctx["teacher_other_lessons"] = sorted(visible, key=lambda x: (x.date, x.start_time))
        ctx["teacher_other_hidden"] = others.count() - len(visible)
        return

    records = list(restrict(AttendanceRecord.objects.filter(training_class=klass, person=person), user))
    sessions = list(restrict(OnlineSession.objects.filter(training_class=klass, person=person), user))
    offline = [_lesson_shape(x) for x in lessons if x.mode == Lesson.Mode.OFFLINE]
    death = None
    stays = []
    if rule == "DECEASED":
        death = (
            RegistryRow.objects.filter(id_hmac=finding.subject_key, kind=K.DEATH)
            .order_by("date_from")
            .values_list("date_from", flat=True)
            .first()
        )
    if rule == "HOSPITALIZED_PRESENT":
        stays = list(
            RegistryRow.objects.filter(id_hmac=finding.subject_key, kind=K.HOSPITALIZATION).values_list(
                "date_from", "date_to"
            )
        )
    hashes_elsewhere = set()
    if rule == "DUPLICATE_PHOTO":
        own_hashes = {r.photo_sha256 for r in records if r.photo_sha256}
        carriers = (
            AttendanceRecord.objects.filter(photo_sha256__in=own_hashes)
            .exclude(pk__in=[r.pk for r in records])
            .values_list("photo_sha256", flat=True)
        )
        hashes_elsewhere = set(carriers)
        ctx["photo_carriers"] = list(
            restrict(AttendanceRecord.objects.filter(photo_sha256__in=own_hashes), user)
            .exclude(pk__in=[r.pk for r in records])
            .select_related("person", "training_class")
            .order_by("check_in")[:50]
        )
    other_records = []
    if rule in ("OVERLAPPING_CLASSES", "ONLINE_CONCURRENT"):
        others = AttendanceRecord.objects.filter(
            person=person,
            check_in__date__gte=klass.start_date - dt.timedelta(days=1),
            check_in__date__lte=klass.end_date + dt.timedelta(days=1),
        ).exclude(training_class=klass)
        visible = list(restrict(others, user).select_related("training_class"))
        ctx["other_records_hidden"] = others.count() - len(visible)
        other_records = visible
        ctx["other_records"] = visible
    max_m = settings.checkin_distance_m if settings else 1000
    min_cov = Decimal(settings.lesson_min_coverage) if settings else Decimal("0.90")
    from peixun.attendance.hours import lesson_covered, local_day

    for r in records:
        notes = []
        end = r.check_out
        if rule == "LOCATION_MISMATCH" and r.lat is not None and r.lon is not None:
            if klass.site_lat is not None and klass.site_lon is not None:
                r.distance = _distance_m(r.lat, r.lon, klass.site_lat, klass.site_lon)
                if r.distance > max_m:
                    notes.append(f"距培训地点约{r.distance:,.0f}米")
        if rule == "DECEASED" and death and local_day(r.check_in) > death:
            notes.append("死亡日期之后")
        if rule == "HOSPITALIZED_PRESENT":
            day = local_day(r.check_in)
            if any(a and a <= day and (b is None or day <= b) for a, b in stays):
                notes.append("住院期间")
        if rule == "ATTENDANCE_OUTSIDE_SCHEDULE":
            if end is None or not any(x.start < end and r.check_in < x.end for x in offline):
                notes.append("不在任何线下课程时段内")
        if rule == "ATTENDANCE_BELOW_THRESHOLD":
            covered = [x for x in offline if lesson_covered(x, r, min_cov)]
            if not covered:
                notes.append("未覆盖任何课程的90%")
        if rule == "DUPLICATE_PHOTO" and r.photo_sha256 in hashes_elsewhere:
            notes.append("照片在其他记录中出现")
        if other_records and end is not None:
            for o in other_records:
                if o.check_out and o.check_in < end and r.check_in < o.check_out:
                    notes.append(f"与{o.training_class.code}考勤重叠")
                    break
        r.flags = notes
    for s in sessions:
        notes = []
        if rule == "DECEASED" and death and local_day(s.start_at) > death:
            notes.append("死亡日期之后")
        if rule == "ONLINE_FACE_FAILED":
            if s.face_checks_failed:
                notes.append("人脸核验失败")
            elif (s.end_at - s.start_at) > dt.timedelta(minutes=60) and not s.face_checks_passed:
                notes.append("超过60分钟无人脸核验")
        if rule == "ONLINE_CONCURRENT":
            if any(o is not s and o.start_at < s.end_at and s.start_at < o.end_at for o in sessions):
                notes.append("与另一线上学习重叠")
            elif any(a.check_out and a.check_in < s.end_at and s.start_at < a.check_out for a in records):
                notes.append("与考勤时间重叠")
        minutes_per_hour = settings.minutes_per_class_hour if settings else 45
        s.hours = Decimal((s.end_at - s.start_at).total_seconds()) / 60 / minutes_per_hour
        s.flags = notes
    if rule in ATTENDANCE_RULES or rule in HOURS_RULES:
        ctx["attendance"] = records
    if rule in SESSION_RULES:
        ctx["sessions"] = sessions
    if rule in ("ATTENDANCE_OUTSIDE_SCHEDULE", "ATTENDANCE_BELOW_THRESHOLD"):
        ctx["lessons"] = lessons
    if rule in HOURS_RULES or rule == "ATTENDANCE_BELOW_THRESHOLD":
        hours_rules = HoursRules(
            lesson_min_coverage=min_cov,
            minutes_per_class_hour=settings.minutes_per_class_hour if settings else 45,
            online_max_hours_per_day=Decimal(settings.online_max_hours_per_day) if settings else Decimal(8),
            online_max_share=Decimal(settings.online_max_share) if settings else Decimal("0.40"),
        )
        ctx["hours"] = count_hours(
            total_hours=klass.total_hours,
            lessons=[_lesson_shape(x) for x in lessons],
            records=records,
            sessions=sessions,
            rules=hours_rules,
        )
        ctx["hours_share_pct"] = ctx["hours"].share * 100
        missed = {x.source.pk for x in ctx["hours"].missed}
        for lesson in lessons:
            lesson.counted = (lesson.pk not in missed) if lesson.mode == Lesson.Mode.OFFLINE else None
        ctx["exam"] = restrict(ExamResult.objects.filter(training_class=klass, person=person), user).first()
        ctx["exam_min_pct"] = (
            Decimal(settings.exam_min_attendance_share) if settings else Decimal("0.95")
        ) * 100


def _events(finding: Finding):
    return FindingEvent.objects.filter(finding=finding).select_related("actor").order_by("at", "pk")


@require_perm(Perm.VIEW_PEOPLE)
def finding_detail(request, pk: int):
    user = request.user
    finding = get_scoped_or_404(
        Finding.objects.select_related(
            "training_class",
            "training_class__institution",
            "training_class__area",
            "training_class__area__parent",
            "person",
            "decided_by",
        ),
        user,
        pk=pk,
    )
    decide = can_decide(user)
    form = None
    if request.method == "POST":
        if not decide:
            raise Http404("页面不存在")
        form = DecisionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                decided = services.finding_decide(
                    finding=finding,
                    action=data["action"],
                    actor=user,
                    reason=data["reason"],
                    consequence=data["consequence"],
                )
            except TransitionError as exc:
                # Someone decided first (or the finding cannot be decided): show the page as it is now.
                messages.error(request, exc.message)
                return redirect("checks:finding", pk=finding.pk)
            except PeixunError as exc:
                form.add_error(None, exc.message)
            else:
                if decided.status == Status.CONFIRMED:
                    messages.success(
                        request, f"已确认该问题线索，处理结果：{decided.get_consequence_display()}"
                    )
                else:
                    messages.success(request, "已排除该问题线索")
                return redirect("checks:finding", pk=finding.pk)
    elif decide and finding.status == Status.OPEN:
        form = DecisionForm()
    if finding.person is not None:
        # Seeing a finding that names a person is seeing their file (个人信息保护法).
        account_services.person_file_viewed(person=finding.person, viewer=user, ip=client_ip(request))
    _decorate(finding)
    context = {
        "finding": finding,
        "klass": finding.training_class,
        "spec": RULES.get(finding.rule_code),
        "events": _events(finding),
        "form": form,
        "can_decide": decide,
        "can_reveal": has_perm(user, Perm.REVEAL_ID_NUMBER),
        "back_query": request.GET.get("back", ""),
    }
    context.update(_evidence(finding, user))
    context["explanation"] = rule_explanation(finding.rule_code, context["settings"])
    context["evidence_items"] = [x.strip() for x in (finding.evidence or "").split("；") if x.strip()]
    return render(request, "checks/detail.html", context)


# --- one class --------------------------------------------------------------------------------------


@require_perm(Perm.VIEW_PEOPLE)
def class_findings(request, pk: int):
    user = request.user
    klass = get_scoped_or_404(
        TrainingClass.objects.select_related("institution", "area", "area__parent"), user, pk=pk
    )
    if request.method == "POST":
        if not can_decide(user):
            raise Http404("页面不存在")
        try:
            from .run import crosscheck_run

            result = crosscheck_run(class_ids=[klass.pk], actor=user)
        except ImportError:
            messages.error(
                request, "核查引擎尚未就绪，暂不能重新核查本班，请稍后再试。已有的问题线索不受影响。"
            )
        except PeixunError as exc:
            messages.error(request, exc.message)
        else:
            s = result.stored
            messages.success(
                request,
                f"本班核查完成：新发现{s.opened}条，再次发现{s.reopened}条，仍然存在{s.kept}条，"
                f"原因已消除{s.closed}条。",
            )
        return redirect("checks:class_findings", pk=klass.pk)
    findings = [
        _decorate(f)
        for f in _list_order(
            restrict(Finding.objects.filter(training_class=klass).select_related("person"), user)
        )
    ]
    current = [f for f in findings if f.is_current]
    closed = [f for f in findings if not f.is_current]
    enrolled = restrict(Enrollment.objects.filter(training_class=klass), user).count()
    return render(
        request,
        "checks/class_findings.html",
        {
            "klass": klass,
            "current": current,
            "closed": closed,
            "enrolled": enrolled,
            "open_block": sum(1 for f in current if f.status == Status.OPEN and f.severity == Severity.BLOCK),
            "open_review": sum(
                1 for f in current if f.status == Status.OPEN and f.severity == Severity.REVIEW
            ),
            "can_rerun": can_decide(user),
            "last_run": max((f.last_found_at for f in findings), default=None),
        },
    )


# --- institution risk ---------------------------------------------------------------------------

# value → (label, statuses counted, the findings list's status filter showing the same findings)
RISK_STATUS = {
    "": ("未排除（待处理和已确认）", [Status.OPEN, Status.CONFIRMED], ACTIVE),
    "OPEN": ("待处理", [Status.OPEN], Status.OPEN),
    "CONFIRMED": ("已确认", [Status.CONFIRMED], Status.CONFIRMED),
    "ALL": ("全部（含已排除）", [Status.OPEN, Status.CONFIRMED, Status.DISMISSED], ""),
}
TREND_MONTHS = 24


def _months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months, current = [], first.replace(day=1)
    while current <= last:
        months.append(current)
        current = (current + dt.timedelta(days=32)).replace(day=1)
    return months


@require_perm(Perm.VIEW_PEOPLE)
def risk(request):
    user = request.user
    area_code = request.GET.get("area", "").strip()
    status_key = request.GET.get("status", "").strip()
    if status_key not in RISK_STATUS:
        status_key = ""
    status_label, statuses, list_status = RISK_STATUS[status_key]
    institution_id = request.GET.get("institution", "").strip()

    findings = restrict(Finding.objects.filter(is_current=True, status__in=statuses), user)
    enrolments = restrict(Enrollment.objects.all(), user)
    if area_code:
        findings = findings.filter(_area_q(area_code))
        enrolments = enrolments.filter(_area_q(area_code))

    # per institution: trainees (enrolments) and findings per rule
    rows: dict[int, dict] = {}

    def row_for(pk, name, area_name):
        return rows.setdefault(
            pk,
            {
                "pk": pk,
                "name": name,
                "area": area_name,
                "trainees": 0,
                "total": 0,
                "block": 0,
                "review": 0,
                "open": 0,
                "rules": defaultdict(int),
            },
        )

    for e in enrolments.values(
        "training_class__institution_id",
        "training_class__institution__name",
        "training_class__institution__area__name",
    ).annotate(n=Count("pk")):
        row_for(
            e["training_class__institution_id"],
            e["training_class__institution__name"],
            e["training_class__institution__area__name"],
        )["trainees"] = e["n"]
    rule_totals: dict[str, dict] = {}
    for g in findings.values(
        "training_class__institution_id",
        "training_class__institution__name",
        "training_class__institution__area__name",
        "rule_code",
        "severity",
        "status",
    ).annotate(n=Count("pk")):
        row = row_for(
            g["training_class__institution_id"],
            g["training_class__institution__name"],
            g["training_class__institution__area__name"],
        )
        n = g["n"]
        row["total"] += n
        row["block" if g["severity"] == Severity.BLOCK else "review"] += n
        if g["status"] == Status.OPEN:
            row["open"] += n
        row["rules"][g["rule_code"]] += n
        totals = rule_totals.setdefault(
            g["rule_code"],
            {
                "code": g["rule_code"],
                "title": _rule_title(g["rule_code"]),
                "severity": g["severity"],
                "n": 0,
                "inst": set(),
            },
        )
        totals["n"] += n
        totals["inst"].add(g["training_class__institution_id"])
    table = []
    for row in rows.values():
        row["per100"] = (Decimal(row["total"]) * 100 / row["trainees"]) if row["trainees"] else None
        row["rule_list"] = sorted(
            (
                {
                    "code": c,
                    "title": _rule_title(c),
                    "n": n,
                    "severity": RULES[c].severity if c in RULES else "",
                }
                for c, n in row["rules"].items()
            ),
            key=lambda x: (-x["n"], x["code"]),
        )
        table.append(row)
    table.sort(
        key=lambda r: (-(r["per100"] if r["per100"] is not None else Decimal(-1)), -r["total"], r["name"])
    )
    by_rule = sorted(rule_totals.values(), key=lambda x: (-x["n"], x["code"]))
    for x in by_rule:
        x["institutions"] = len(x.pop("inst"))

    # monthly trend by first_found_at (the selected institution, or all in scope)
    trend_qs = findings
    selected = None
    if institution_id.isdigit():
        selected = rows.get(int(institution_id))
        if selected is not None:
            trend_qs = trend_qs.filter(training_class__institution_id=selected["pk"])
    counts: dict[dt.date, dict[str, int]] = defaultdict(lambda: {"BLOCK": 0, "REVIEW": 0})
    for g in (
        trend_qs.annotate(month=TruncMonth("first_found_at"))
        .values("month", "severity")
        .annotate(n=Count("pk"))
    ):
        month = g["month"]
        if isinstance(month, dt.datetime):
            month = timezone.localtime(month).date() if timezone.is_aware(month) else month.date()
        counts[month.replace(day=1)][g["severity"]] += g["n"]
    trend = []
    if counts:
        last = max(max(counts), timezone.localdate().replace(day=1))
        months = _months_between(min(counts), last)[-TREND_MONTHS:]
        for m in months:
            c = counts.get(m, {"BLOCK": 0, "REVIEW": 0})
            trend.append(
                {
                    "month": f"{m:%Y-%m}",
                    "block": c["BLOCK"],
                    "review": c["REVIEW"],
                    "total": c["BLOCK"] + c["REVIEW"],
                }
            )
    chart = {
        "title": f"{selected['name'] if selected else '全部机构'}：问题线索按首次发现月份",
        "months": [t["month"] for t in trend],
        "series": [
            {"name": "合计", "key": "total", "data": [t["total"] for t in trend]},
            {"name": "阻断", "key": "block", "data": [t["block"] for t in trend]},
            {"name": "需复核", "key": "review", "data": [t["review"] for t in trend]},
        ],
    }
    query = request.GET.copy()
    query.pop("institution", None)
    return render(
        request,
        "checks/risk.html",
        {
            "table": table,
            "by_rule": by_rule,
            "trend": trend,
            "trend_totals": {k: sum(t[k] for t in trend) for k in ("total", "block", "review")},
            "chart": chart,
            "selected": selected,
            "areas": _filter_areas(user),
            "area_code": area_code,
            "status_key": status_key,
            "status_label": status_label,
            "status_options": [(k, v[0]) for k, v in RISK_STATUS.items()],
            "base_query": query.urlencode(),
            "findings_url": reverse("checks:findings"),
            # links from the counts open the list with the same area and statuses
            "list_query": urlencode({k: v for k, v in (("area", area_code), ("status", list_status)) if v}),
        },
    )
