"""数据采集 services: device registration, platform filing and review, request signing, and the
signed batch intake of attendance records and online learning sessions.

Secrets. A device or platform secret is a random 256-bit token (`secrets.token_urlsafe(32)`),
shown once when issued. Checking an HMAC needs the secret itself, so it is stored AES-GCM
encrypted (random nonce, associated data naming the kind and code) under a key derived with
HKDF-SHA256 from PEIXUN_IDENTITY_KEY (info "peixun intake credential secret"), the pattern of
core.identity. A database dump alone does not reveal any secret.

Signature. X-Peixun-Signature = hex HMAC-SHA256(secret, METHOD "\n" PATH "\n" TIMESTAMP "\n"
NONCE "\n" sha256_hex(BODY)); PATH without the query string. Checks, in order: the key is known
(401), the timestamp is within ±300 s (401), the signature matches (401), the device is active /
the platform approved (403), the nonce was not used by this key before (409). A nonce is kept
NONCE_KEEP seconds — longer than any timestamp could still be accepted — then pruned.

Platform filing is a workflow whose transitions are the one table PLATFORM_TRANSITIONS, read by
the service, the buttons on the page and the tests.
"""

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from peixun.accounts.models import Organisation
from peixun.accounts.roles import Role
from peixun.accounts.scope import restrict
from peixun.attendance.models import AttendanceRecord, OnlineSession
from peixun.core.audit import audit_record
from peixun.core.errors import InvalidIdNumber, PeixunError, PermissionDeniedError, TransitionError
from peixun.core.identity import id_lookup_hash, mask_id_number, parse_id_number
from peixun.core.models import Area, Person
from peixun.institutions.models import Institution
from peixun.training.models import TrainingClass

from .models import Device, Nonce, Platform, PlatformCourse, PlatformEvent

WINDOW_SECONDS = 300
NONCE_KEEP_SECONDS = 2 * WINDOW_SECONDS + 60
MAX_ITEMS = 2000
SHANGHAI = ZoneInfo("Asia/Shanghai")
_NONCE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


# --- secrets ------------------------------------------------------------------------------------


@cache
def _secret_key(master_b64: str) -> bytes:
    master = base64.urlsafe_b64decode(master_b64)
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"peixun intake credential secret"
    ).derive(master)


def encrypt_secret(secret: str, *, kind: str, code: str) -> str:
    nonce = os.urandom(12)
    blob = AESGCM(_secret_key(settings.PEIXUN_IDENTITY_KEY)).encrypt(
        nonce, secret.encode(), f"{kind}:{code}".encode()
    )
    return base64.b64encode(nonce + blob).decode()


def decrypt_secret(token: str, *, kind: str, code: str) -> str:
    blob = base64.b64decode(token)
    return (
        AESGCM(_secret_key(settings.PEIXUN_IDENTITY_KEY))
        .decrypt(blob[:12], blob[12:], f"{kind}:{code}".encode())
        .decode()
    )


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _new_code(prefix: str, model) -> str:
    while True:
        code = prefix + secrets.token_hex(5).upper()
        if not model.objects.filter(code=code).exists():
            return code


# --- signing ------------------------------------------------------------------------------------


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method, path, timestamp, nonce, body)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_headers(secret: str, key: str, method: str, path: str, body: bytes, *, timestamp=None, nonce=None):
    """The four headers of a signed request (used by tests, the benchmark and the guide)."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    return {
        "X-Peixun-Key": key,
        "X-Peixun-Timestamp": timestamp,
        "X-Peixun-Nonce": nonce,
        "X-Peixun-Signature": sign(secret, method, path, timestamp, nonce, body),
    }


class IntakeAuthError(Exception):
    """A signed request refused before its items are read: 401, 403 or 409 with a Chinese message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


_last_prune = 0.0


def nonce_prune(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _ = Nonce.objects.filter(at__lt=now - dt.timedelta(seconds=NONCE_KEEP_SECONDS)).delete()
    return deleted


def _nonce_claim(key: str, nonce: str, now: dt.datetime) -> None:
    global _last_prune
    if time.monotonic() - _last_prune > 60:
        _last_prune = time.monotonic()
        nonce_prune(now)
    try:
        with transaction.atomic():
            Nonce.objects.create(key=key, nonce=nonce, at=now)
    except IntegrityError as exc:
        raise IntakeAuthError(
            409, "nonce_reused", "请求随机数（X-Peixun-Nonce）已使用过，疑似重放，请求被拒绝"
        ) from exc


def authenticate(*, kind: str, method: str, path: str, headers, body: bytes, now: float | None = None):
    """The Device (kind "device") or Platform (kind "platform") that signed this request."""
    key = (headers.get("X-Peixun-Key") or "").strip()
    timestamp = (headers.get("X-Peixun-Timestamp") or "").strip()
    nonce = (headers.get("X-Peixun-Nonce") or "").strip()
    signature = (headers.get("X-Peixun-Signature") or "").strip().lower()
    if not (key and timestamp and nonce and signature):
        raise IntakeAuthError(
            401,
            "missing_headers",
            "缺少签名请求头：X-Peixun-Key、X-Peixun-Timestamp、X-Peixun-Nonce、X-Peixun-Signature",
        )
    if kind == "device":
        principal = Device.objects.filter(code=key).select_related("institution").first()
        label = "设备"
    else:
        principal = Platform.objects.filter(code=key).exclude(secret_cipher="").first()
        label = "平台"
    if principal is None:
        raise IntakeAuthError(401, "unknown_key", f"{label}编码{key[:32]}未登记或尚未签发密钥")
    if not timestamp.isdigit():
        raise IntakeAuthError(401, "bad_timestamp", "X-Peixun-Timestamp应为Unix时间戳（秒）")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > WINDOW_SECONDS:
        raise IntakeAuthError(
            401,
            "stale_timestamp",
            f"请求时间戳与服务器时间相差超过{WINDOW_SECONDS}秒，请校准设备时钟后重新签名发送",
        )
    if not _NONCE_SHAPE.match(nonce):
        raise IntakeAuthError(401, "bad_nonce", "X-Peixun-Nonce应为8至64位字母、数字、下划线或连字符")
    secret = decrypt_secret(principal.secret_cipher, kind=kind, code=principal.code)
    expected = sign(secret, method, path, timestamp, nonce, body)
    if not hmac.compare_digest(expected, signature):
        raise IntakeAuthError(401, "bad_signature", "签名不正确，请核对密钥和签名算法")
    if kind == "device" and principal.status != Device.Status.ACTIVE:
        raise IntakeAuthError(403, "device_revoked", "该设备已被吊销，不能上传考勤记录")
    if kind == "platform" and principal.status != Platform.Status.APPROVED:
        raise IntakeAuthError(
            403,
            "platform_not_approved",
            f"该平台当前状态为“{principal.get_status_display()}”，不能上传学习记录",
        )
    _nonce_claim(key, nonce, timezone.now())
    return principal


# --- devices ------------------------------------------------------------------------------------


def _check_coordinates(lat, lon) -> None:
    if (lat is None) != (lon is None):
        raise PeixunError("经度和纬度应同时填写或同时不填")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise PeixunError("经纬度超出范围")


def device_register(
    *,
    institution: Institution,
    actor,
    name: str,
    site_address: str,
    serial_no: str = "",
    site_lat: float | None = None,
    site_lon: float | None = None,
) -> tuple[Device, str]:
    """Register a device of the actor's own institution; returns it and its secret (shown once)."""
    if actor is not None and actor.organisation_id != institution.organisation_id:
        raise PermissionDeniedError("只能为本机构登记考勤设备")
    if not (name or "").strip():
        raise PeixunError("设备名称不能为空")
    if not (site_address or "").strip():
        raise PeixunError("安装地点不能为空")
    _check_coordinates(site_lat, site_lon)
    secret = new_secret()
    with transaction.atomic():
        code = _new_code("DV", Device)
        device = Device.objects.create(
            institution=institution,
            code=code,
            name=name.strip(),
            serial_no=(serial_no or "").strip(),
            site_address=site_address.strip(),
            site_lat=site_lat,
            site_lon=site_lon,
            secret_cipher=encrypt_secret(secret, kind="device", code=code),
            registered_by=actor,
        )
        audit_record(
            actor=actor,
            action="intake.device.registered",
            obj=device,
            area=institution.area,
            organisation=institution.organisation,
            after={"code": code, "name": device.name, "site_address": device.site_address},
        )
    return device, secret


def can_revoke_device(user, device: Device) -> bool:
    if device.status != Device.Status.ACTIVE:
        return False
    if user.role == Role.INSTITUTION_OPERATOR:
        return user.organisation_id == device.institution.organisation_id
    if user.role in (Role.CITY_ADMIN, Role.REGION_ADMIN):
        return restrict(Device.objects.filter(pk=device.pk), user).exists()
    return False


def device_revoke(*, device: Device, actor, reason: str) -> Device:
    if not (reason or "").strip():
        raise PeixunError("请填写吊销原因")
    with transaction.atomic():
        device = Device.objects.select_for_update().select_related("institution").get(pk=device.pk)
        if not can_revoke_device(actor, device):
            raise PermissionDeniedError("无权吊销该设备，或设备已吊销")
        device.status = Device.Status.REVOKED
        device.revoked_reason = reason.strip()[:200]
        device.revoked_at = timezone.now()
        device.save(update_fields=["status", "revoked_reason", "revoked_at"])
        audit_record(
            actor=actor,
            action="intake.device.revoked",
            obj=device,
            area=device.institution.area,
            organisation=device.institution.organisation,
            after={"status": device.status, "reason": device.revoked_reason},
        )
    return device


# --- platforms ----------------------------------------------------------------------------------

PLATFORM_FIELDS = (
    "name",
    "operator_name",
    "uscc",
    "address",
    "website",
    "contact_name",
    "contact_phone",
    "security_level",
    "security_cert_no",
    "stability_info",
)

PS = Platform.Status
REVIEWER_ROLES = frozenset({Role.CITY_ADMIN, Role.REGION_ADMIN})


@dataclass(frozen=True)
class PlatformTransition:
    name: str
    label: str
    source: frozenset
    target: str
    by: str  # "reviewer" (CITY_ADMIN / REGION_ADMIN of the area filed with) or "operator"
    needs_reason: bool


PLATFORM_TRANSITIONS = (
    PlatformTransition("approve", "备案通过", frozenset({PS.SUBMITTED}), PS.APPROVED, "reviewer", False),
    PlatformTransition("return", "退回修改", frozenset({PS.SUBMITTED}), PS.RETURNED, "reviewer", True),
    PlatformTransition("reject", "不予备案", frozenset({PS.SUBMITTED}), PS.REJECTED, "reviewer", True),
    PlatformTransition("suspend", "暂停", frozenset({PS.APPROVED}), PS.SUSPENDED, "reviewer", True),
    PlatformTransition("resume", "恢复", frozenset({PS.SUSPENDED}), PS.APPROVED, "reviewer", False),
    PlatformTransition("resubmit", "重新提交", frozenset({PS.RETURNED}), PS.SUBMITTED, "operator", False),
)


def filing_areas():
    """Where a platform may file: the region department or a city (盟市) bureau."""
    return Area.objects.filter(kind__in=[Area.Kind.REGION, Area.Kind.CITY]).order_by("code")


def is_platform_reviewer(user, platform: Platform) -> bool:
    return user.role in REVIEWER_ROLES and restrict(Platform.objects.filter(pk=platform.pk), user).exists()


def is_platform_operator(user, platform: Platform) -> bool:
    return user.role == Role.PLATFORM_OPERATOR and user.organisation_id == platform.organisation_id


def platform_transitions_for(user, platform: Platform) -> list[PlatformTransition]:
    reviewer = is_platform_reviewer(user, platform)
    operator = is_platform_operator(user, platform)
    return [
        t
        for t in PLATFORM_TRANSITIONS
        if platform.status in t.source
        and ((t.by == "reviewer" and reviewer) or (t.by == "operator" and operator))
    ]


def parse_courses(text: str) -> list[dict]:
    """One course a line: 职业编码|课程名称|学时|依据标准 (｜ full-width bar also accepted)."""
    courses, problems = [], []
    for n, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        if len(parts) != 4 or not all(parts):
            problems.append(f"第{n}行应为“职业编码|课程名称|学时|依据标准”四项")
            continue
        try:
            hours = Decimal(parts[2])
        except InvalidOperation:
            problems.append(f"第{n}行学时“{parts[2]}”不是数字")
            continue
        if hours <= 0 or hours >= 10000 or hours != hours.quantize(Decimal("0.1")):
            problems.append(f"第{n}行学时应为大于0的数，最多一位小数")
            continue
        courses.append(
            {
                "occupation_code": parts[0][:20],
                "name": parts[1][:100],
                "hours": hours,
                "standard": parts[3][:200],
            }
        )
    if problems:
        raise PeixunError("；".join(problems))
    if not courses:
        raise PeixunError("请至少填写一门课程（职业编码|课程名称|学时|依据标准）")
    return courses


def _check_filing(fields: dict, capabilities: dict) -> None:
    missing = [f for f in PLATFORM_FIELDS if not str(fields.get(f) or "").strip()]
    if missing:
        names = "、".join(str(Platform._meta.get_field(f).verbose_name) for f in missing)
        raise PeixunError(f"以下备案信息不能为空：{names}")
    if fields["security_level"] not in Platform.SecurityLevel.values:
        raise PeixunError("网络安全等级保护级别无效")
    if len(fields["uscc"].strip()) != 18:
        raise PeixunError("统一社会信用代码应为18位")
    lacking = [f for f in Platform.CAPABILITIES if not capabilities.get(f)]
    if lacking:
        names = "、".join(str(Platform._meta.get_field(f).verbose_name) for f in lacking)
        raise PeixunError(f"线上平台须具备以下功能（第十八条），尚未确认：{names}")


def platform_file(
    *, actor, filed_with: Area, fields: dict, capabilities: dict, courses_text: str
) -> Platform:
    """A platform operator files their platform with a city or the region (status 待审核)."""
    if actor.role != Role.PLATFORM_OPERATOR or actor.organisation is None:
        raise PermissionDeniedError("只有线上平台经办人可以提交平台备案")
    if actor.organisation.kind != Organisation.Kind.ONLINE_PLATFORM:
        raise PermissionDeniedError("只有线上培训平台单位可以提交平台备案")
    if filed_with.kind not in (Area.Kind.REGION, Area.Kind.CITY):
        raise PeixunError("备案机关应为自治区人社厅或盟市人社局")
    _check_filing(fields, capabilities)
    courses = parse_courses(courses_text)
    with transaction.atomic():
        platform = Platform.objects.create(
            organisation=actor.organisation,
            filed_with=filed_with,
            filed_by=actor,
            status=PS.SUBMITTED,
            **{f: str(fields[f]).strip() for f in PLATFORM_FIELDS},
            **{f: bool(capabilities.get(f)) for f in Platform.CAPABILITIES},
        )
        PlatformCourse.objects.bulk_create(PlatformCourse(platform=platform, **c) for c in courses)
        PlatformEvent.objects.create(
            platform=platform, action="submit", label="提交备案", to_status=PS.SUBMITTED, actor=actor
        )
        audit_record(
            actor=actor,
            action="intake.platform.filed",
            obj=platform,
            area=filed_with,
            organisation=actor.organisation,
            after={f: fields[f] for f in PLATFORM_FIELDS} | {"courses": len(courses)},
        )
    return platform


def platform_update(
    *, platform: Platform, actor, fields: dict, capabilities: dict, courses_text: str
) -> Platform:
    """A returned filing is corrected by its operator before it is submitted again."""
    if not is_platform_operator(actor, platform):
        raise PermissionDeniedError("只能修改本单位的平台备案")
    if platform.status != PS.RETURNED:
        raise TransitionError("只有被退回的备案可以修改")
    _check_filing(fields, capabilities)
    courses = parse_courses(courses_text)
    with transaction.atomic():
        for f in PLATFORM_FIELDS:
            setattr(platform, f, str(fields[f]).strip())
        for f in Platform.CAPABILITIES:
            setattr(platform, f, bool(capabilities.get(f)))
        platform.save()
        platform.courses.all().delete()
        PlatformCourse.objects.bulk_create(PlatformCourse(platform=platform, **c) for c in courses)
        audit_record(
            actor=actor,
            action="intake.platform.updated",
            obj=platform,
            area=platform.filed_with,
            organisation=platform.organisation,
            after={f: fields[f] for f in PLATFORM_FIELDS} | {"courses": len(courses)},
        )
    return platform


def platform_transition(*, platform: Platform, transition: str, actor, reason: str = "") -> Platform:
    spec = next((t for t in PLATFORM_TRANSITIONS if t.name == transition), None)
    if spec is None:
        raise TransitionError("未知的操作")
    reason = (reason or "").strip()
    if spec.needs_reason and not reason:
        raise PeixunError(f"请填写{spec.label}的理由")
    with transaction.atomic():
        platform = Platform.objects.select_for_update().get(pk=platform.pk)
        allowed = (
            is_platform_reviewer(actor, platform)
            if spec.by == "reviewer"
            else is_platform_operator(actor, platform)
        )
        if not allowed:
            raise PermissionDeniedError(f"无权对该平台执行“{spec.label}”")
        if platform.status not in spec.source:
            raise TransitionError(f"平台当前状态为“{platform.get_status_display()}”，不能{spec.label}")
        before = platform.status
        platform.status = spec.target
        if spec.name == "approve" and not platform.code:
            platform.code = _new_code("PF", Platform)
        platform.save(update_fields=["status", "code", "updated_at"])
        PlatformEvent.objects.create(
            platform=platform,
            action=spec.name,
            label=spec.label,
            from_status=before,
            to_status=spec.target,
            reason=reason,
            actor=actor,
        )
        audit_record(
            actor=actor,
            action=f"intake.platform.{spec.name}",
            obj=platform,
            area=platform.filed_with,
            organisation=platform.organisation,
            before={"status": before},
            after={"status": spec.target, "reason": reason, "code": platform.code},
        )
    return platform


def platform_issue_secret(*, platform: Platform, actor) -> str:
    """The platform's operator takes (or renews) its API secret; any earlier secret stops working.
    Officials never see it."""
    with transaction.atomic():
        platform = Platform.objects.select_for_update().get(pk=platform.pk)
        if not is_platform_operator(actor, platform):
            raise PermissionDeniedError("只有本平台经办人可以领取接口密钥")
        if platform.status != PS.APPROVED or not platform.code:
            raise TransitionError("平台备案通过后方可领取接口密钥")
        secret = new_secret()
        renewed = bool(platform.secret_cipher)
        platform.secret_cipher = encrypt_secret(secret, kind="platform", code=platform.code)
        platform.secret_issued_at = timezone.now()
        platform.save(update_fields=["secret_cipher", "secret_issued_at", "updated_at"])
        PlatformEvent.objects.create(
            platform=platform,
            action="secret",
            label="重置接口密钥" if renewed else "领取接口密钥",
            from_status=platform.status,
            to_status=platform.status,
            actor=actor,
        )
        audit_record(
            actor=actor,
            action="intake.platform.secret_issued",
            obj=platform,
            area=platform.filed_with,
            organisation=platform.organisation,
            after={"code": platform.code, "renewed": renewed},
        )
    return secret


# --- batch intake -------------------------------------------------------------------------------


@dataclass
class ItemResult:
    index: int
    status: str  # "created" | "duplicate" | "error"
    message: str
    field: str = ""


@dataclass
class IntakeResult:
    created: int
    duplicates: int
    errors: int
    results: list[ItemResult]


def parse_local_datetime(value) -> dt.datetime:
    """contract.md date-time: YYYY-MM-DDTHH:MM:SS in Asia/Shanghai (an explicit offset is honoured)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("不能为空")
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"“{value[:40]}”不是YYYY-MM-DDTHH:MM:SS格式的时间") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed


class _ItemProblem(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _lookups(items: list[dict]) -> tuple[dict, dict]:
    """Classes by code, and per raw ID number either its Person, None (not registered) or the
    InvalidIdNumber message: one query each for the whole batch."""
    codes = {str(it.get("class_code") or "").strip() for it in items}
    classes = {c.code: c for c in TrainingClass.objects.filter(code__in=codes).select_related("institution")}
    hmacs: dict[str, str | InvalidIdNumber] = {}
    for it in items:
        raw = str(it.get("id_number") or "")
        if raw not in hmacs:
            try:
                hmacs[raw] = id_lookup_hash(parse_id_number(raw).value)
            except InvalidIdNumber as exc:
                hmacs[raw] = exc
    wanted = [h for h in hmacs.values() if isinstance(h, str)]
    found = Person.objects.in_bulk(wanted, field_name="id_hmac") if wanted else {}
    persons = {raw: (h if isinstance(h, InvalidIdNumber) else found.get(h)) for raw, h in hmacs.items()}
    return classes, persons


def _class_and_person(it: dict, classes: dict, persons: dict):
    code = str(it.get("class_code") or "").strip()
    klass = classes.get(code)
    if klass is None:
        raise _ItemProblem("class_code", f"班级编号“{code[:40]}”不存在" if code else "班级编号不能为空")
    raw = str(it.get("id_number") or "")
    person = persons.get(raw)
    if isinstance(person, InvalidIdNumber):
        raise _ItemProblem("id_number", person.message)
    if person is None:
        raise _ItemProblem("id_number", f"身份证号为{mask_id_number(raw.strip().upper())}的学员未在系统登记")
    return klass, person


def _time(it: dict, name: str, *, required: bool, cache: dict) -> dt.datetime | None:
    value = it.get(name)
    if value in (None, "") and not required:
        return None
    try:
        parsed = cache.get(value)  # a batch repeats the same times for a whole class
        if parsed is None:
            parsed = cache[value] = parse_local_datetime(value)
        return parsed
    except (ValueError, TypeError) as exc:
        raise _ItemProblem(name, str(exc)) from exc


def _run(items: list[dict], prepare, append, *, model, key_field: str) -> IntakeResult:
    """Check each item's shape, group the good ones by class, append each group through the
    attendance service, and give every item its outcome (by its index in the request)."""
    results: list[ItemResult | None] = [None] * len(items)
    classes, persons = _lookups(items)
    groups: dict[int, tuple[TrainingClass, list[int], list]] = {}
    for index, it in enumerate(items):
        try:
            klass, person = _class_and_person(it, classes, persons)
            item = prepare(it, klass, person)
        except _ItemProblem as problem:
            results[index] = ItemResult(index, "error", problem.message, problem.field)
            continue
        group = groups.setdefault(klass.pk, (klass, [], []))
        group[1].append(index)
        group[2].append(item)
    for klass, indexes, batch in groups.values():
        outcome = append(klass, batch)
        for err in outcome.errors:
            i = indexes[err.index]
            results[i] = ItemResult(i, "error", err.message, err.field)
        _mark_created(klass, indexes, batch, outcome, results, model, key_field)
    counts = {"created": 0, "duplicate": 0, "error": 0}
    for r in results:
        counts[r.status] += 1
    return IntakeResult(counts["created"], counts["duplicate"], counts["error"], results)


def _mark_created(klass, indexes, batch, outcome, results, model, key_field) -> None:
    """Tell created from duplicate items. The service counts both and numbers the created records
    first_seq … first_seq + created − 1 of the class's chain; only when a group has both kinds are
    those records read back (one query) to know which items they were."""
    pending = [(i, item) for i, item in zip(indexes, batch, strict=True) if results[i] is None]
    created_keys = None
    if outcome.created and outcome.duplicates:
        rows = model.objects.filter(
            training_class=klass, seq__gte=outcome.first_seq, seq__lt=outcome.first_seq + outcome.created
        ).values_list("person_id", key_field)
        created_keys = set(rows)
    for i, item in pending:
        if created_keys is None:
            is_new = outcome.created > 0
        else:
            key = (item.person.pk, getattr(item, key_field))
            is_new = key in created_keys
            created_keys.discard(key)  # a repeat of it later in the batch is a duplicate
        results[i] = (
            ItemResult(i, "created", "已接收")
            if is_new
            else ItemResult(i, "duplicate", "重复记录，此前已接收，未重复写入")
        )


def _float(it: dict, name: str) -> float | None:
    value = it.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise _ItemProblem(name, f"{name}应为数字") from exc


def device_attendance_ingest(*, device: Device, items: list[dict]) -> IntakeResult:
    """A device's batch of attendance.csv items; a class of another institution is an item error."""
    from peixun.attendance.services import AttendanceItem, attendance_append_batch

    institution_id = device.institution_id
    times: dict = {}

    def prepare(it, klass, person):
        if klass.institution_id != institution_id:
            raise _ItemProblem("class_code", f"班级“{klass.code}”不属于本设备登记的培训机构")
        return AttendanceItem(
            person=person,
            check_in=_time(it, "check_in", required=True, cache=times),
            check_out=_time(it, "check_out", required=False, cache=times),
            method=str(it.get("method") or "").strip().upper(),
            photo_sha256=str(it.get("photo_sha256") or "").strip().lower(),
            lat=_float(it, "lat"),
            lon=_float(it, "lon"),
        )

    def append(klass, batch):
        return attendance_append_batch(
            training_class=klass, items=batch, source="DEVICE", device_code=device.code
        )

    result = _run(items, prepare, append, model=AttendanceRecord, key_field="check_in")
    Device.objects.filter(pk=device.pk).update(last_used_at=timezone.now())
    return result


def _count(it: dict, name: str) -> int:
    value = it.get(name)
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and value.isdigit())
    ):
        raise _ItemProblem(name, f"{name}应为非负整数")
    return int(value)


def platform_sessions_ingest(*, platform: Platform, items: list[dict]) -> IntakeResult:
    """A platform's batch of online_sessions.csv items; the platform code is the authenticated one
    (an item naming another platform is an error)."""
    from peixun.attendance.services import OnlineItem, online_sessions_append_batch

    times: dict = {}

    def prepare(it, klass, person):
        named = str(it.get("platform_code") or "").strip()
        if named and named != platform.code:
            raise _ItemProblem(
                "platform_code", f"平台编码“{named[:32]}”与签名使用的平台编码{platform.code}不一致"
            )
        ip = it.get("ip")
        return OnlineItem(
            person=person,
            start_at=_time(it, "start_at", required=True, cache=times),
            end_at=_time(it, "end_at", required=True, cache=times),
            ip=str(ip).strip() if ip not in (None, "") else None,
            face_checks_passed=_count(it, "face_checks_passed"),
            face_checks_failed=_count(it, "face_checks_failed"),
        )

    def append(klass, batch):
        return online_sessions_append_batch(
            training_class=klass, items=batch, source="PLATFORM", platform_code=platform.code
        )

    result = _run(items, prepare, append, model=OnlineSession, key_field="start_at")
    Platform.objects.filter(pk=platform.pk).update(last_used_at=timezone.now())
    return result
