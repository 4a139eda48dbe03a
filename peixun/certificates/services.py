"""证书 (第十二、十三条): issuing and numbering 培训合格证 and 创业培训合格证 when a completion is
approved, revoking a certificate, recording the certificates of evaluation bodies, and the lookup
behind the public verification page.

Numbering (第十二条): the city numbers 培训合格证 (满洲里市 and 二连浩特市 number their own, they report to
the region directly); the region numbers 创业培训合格证. Serials run per issuer, year and kind without
gap or repeat: `CertificateCounter` is locked while a class's certificates are numbered, so two
completions approved in one city at the same moment take turns.
"""

import datetime as dt
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from peixun.accounts.models import User
from peixun.accounts.roles import Perm, Role, has_perm
from peixun.accounts.scope import restrict
from peixun.catalog.models import Level, Occupation, TrainingType
from peixun.core.audit import audit_record
from peixun.core.errors import PeixunError, PermissionDeniedError
from peixun.core.models import Area, AuditChainHead, Person
from peixun.inbox.models import Notification
from peixun.inbox.services import notify, users_of_organisation
from peixun.institutions.models import EvaluationBody
from peixun.training.models import Enrollment, ExamResult, TrainingClass

from .models import Certificate, CertificateCounter
from .selectors import certificate_related, certificates_visible

Kind = Certificate.Kind

NUMBER_PREFIX = {Kind.TRAINING: "PX", Kind.STARTUP: "CY"}
SERIAL_DIGITS = 6
MAX_SERIAL = 10**SERIAL_DIGITS - 1

# Certificates of evaluation bodies (第十三条): recorded with the number the body gave.
EXTERNAL_KINDS = (Kind.QUALIFICATION, Kind.SKILL_LEVEL, Kind.SPECIAL)
# 职业资格 and 职业技能等级 name one of the five levels; 专项职业能力 has none of its own.
GRADED_LEVELS = (Level.L5, Level.L4, Level.L3, Level.L2, Level.L1)


# --- numbering ------------------------------------------------------------------------------------


def certificate_kind_for(training_class: TrainingClass) -> str:
    return Kind.STARTUP if training_class.training_type == TrainingType.STARTUP else Kind.TRAINING


def _region_of(area: Area) -> Area:
    while area.kind != Area.Kind.REGION:
        if area.parent_id is None:
            raise PeixunError(f"地区“{area.name}”不属于任何自治区，无法确定创业培训合格证的编号机关")
        area = area.parent
    return area


def city_of(area: Area) -> Area:
    """The city-level area over `area`: its 盟市 for a county or zone; 满洲里市 and 二连浩特市 are their
    own (they report to the region directly)."""
    city = area.city_level()
    if city.is_city_level:
        return city
    raise PeixunError(f"培训地区“{area.name}”不属于任何盟市，无法确定培训合格证的编号机关")


def issuer_area_for(kind: str, class_area: Area) -> Area:
    """第十二条: the city numbers 培训合格证, the region 创业培训合格证."""
    if kind == Kind.STARTUP:
        return _region_of(class_area)
    return city_of(class_area)


def certificate_number(kind: str, issuer_area: Area, year: int, serial: int) -> str:
    """PX1501002026000001: prefix, the issuer's area code, the year, the serial in six digits."""
    return f"{NUMBER_PREFIX[kind]}{issuer_area.code}{year}{serial:0{SERIAL_DIGITS}d}"


def _allocate_serials(*, issuer_area: Area, year: int, kind: str, count: int) -> int:
    """Reserve `count` consecutive serials and return the first. Must run inside the transaction that
    writes the certificates: the counter row stays locked until it commits, so a rolled-back
    issuance gives its serials back and the sequence has no gap."""
    key = {"issuer_area": issuer_area, "year": year, "kind": kind}
    # The first certificate of a year: two transactions may both find no counter and both insert.
    # The loser's insert waits for the winner's commit and then fails on the unique constraint; the
    # savepoint keeps that failure from aborting the caller's transaction, and the lock below then
    # reads the winner's row.
    try:
        with transaction.atomic():
            CertificateCounter.objects.get_or_create(**key)
    except IntegrityError:
        pass
    counter = CertificateCounter.objects.select_for_update().get(**key)
    first = counter.last_serial + 1
    if counter.last_serial + count > MAX_SERIAL:
        raise PeixunError(
            f"{issuer_area.name}{year}年{Kind(kind).label}编号已用尽（每年最多{MAX_SERIAL}个），请联系系统管理员"
        )
    counter.last_serial += count
    counter.save(update_fields=["last_serial"])
    return first


def _wait_for_audit_turn() -> None:
    """Lock the audit chain head now, before the counter, as `audit_record` would a moment later.

    Lock order matters: the completion approval around this call may already have written its own
    audit entry and so hold the head. Were the counter taken first here, approval A (holding the
    head, wanting the counter) and approval B (holding the counter, wanting the head) would wait on
    each other. Head first, counter second, in every transaction: no cycle. It costs no concurrency,
    since the head is held to the commit anyway once the issuance is audited.
    """
    AuditChainHead.objects.select_for_update().get_or_create(singleton=1)


# --- issuing --------------------------------------------------------------------------------------


def _exams_to_certify(training_class: TrainingClass) -> list[ExamResult]:
    """Passed exams of trainees still on the roster that carry no certificate yet, in roster order.

    An exam that already names a certificate number (a 职业技能等级证书 entered with the result, or an
    imported one) is not given a 培训合格证 on top of it.
    """
    roster = Enrollment.objects.filter(training_class=training_class, person=OuterRef("person"))
    return list(
        ExamResult.objects.filter(
            training_class=training_class, passed=True, certificate__isnull=True, certificate_no=""
        )
        .filter(Exists(roster.filter(removed_at__isnull=True)))
        .annotate(roster_order=Subquery(roster.values("pk")[:1]))
        .select_related("person")
        .order_by("roster_order", "pk")
    )


def certificates_issue_for_class(
    *, training_class: TrainingClass, actor: User, issued_on: dt.date | None = None
) -> list[Certificate]:
    """Issue a 培训合格证 (or 创业培训合格证 for a STARTUP class) to every trainee of the class who passed
    the final exam and is still on the roster (第十二条). Called by the completion approval inside its
    own transaction; safe to call again: trainees who already have one get nothing new.

    Returns the certificates issued by this call.
    """
    if not getattr(actor, "pk", None):
        raise PeixunError("发证必须记录操作人")
    issued_on = issued_on or timezone.localdate()
    kind = certificate_kind_for(training_class)
    with transaction.atomic():
        # Two issuances for one class (a retried approval) take turns: the second finds the first's
        # certificates and issues nothing.
        klass = (
            TrainingClass.objects.select_for_update(of=("self",))
            .select_related("area", "area__parent", "institution", "institution__organisation")
            .get(pk=training_class.pk)
        )
        exams = _exams_to_certify(klass)
        if not exams:
            return []
        issuer = issuer_area_for(kind, klass.area)
        year = issued_on.year
        _wait_for_audit_turn()
        first = _allocate_serials(issuer_area=issuer, year=year, kind=kind, count=len(exams))
        certificates = []
        for offset, exam in enumerate(exams):
            serial = first + offset
            number = certificate_number(kind, issuer, year, serial)
            certificates.append(
                Certificate(
                    number=number,
                    kind=kind,
                    person=exam.person,
                    training_class=klass,
                    exam=exam,
                    occupation_code=klass.occupation_code,
                    occupation_name=klass.occupation_name,
                    level=klass.level,
                    issued_on=issued_on,
                    issuer_area=issuer,
                    year=year,
                    serial=serial,
                    recorded_by=actor,
                )
            )
            exam.certificate_type = kind
            exam.certificate_no = number
        Certificate.objects.bulk_create(certificates)
        ExamResult.objects.bulk_update(exams, ["certificate_type", "certificate_no"])
        numbers = [c.number for c in certificates]
        audit_record(
            actor=actor,
            action="certificate.issued",
            obj=klass,
            object_repr=f"{klass.code} {Kind(kind).label}{len(numbers)}张",
            area=klass.area,
            organisation=klass.institution.organisation,
            after={
                "kind": kind,
                "issued_on": issued_on,
                "issuer": issuer.code,
                "count": len(numbers),
                "numbers": numbers,
            },
        )
        _notify_issued(klass, certificates, kind)
    return certificates


def _notify_issued(klass: TrainingClass, certificates: list[Certificate], kind: str) -> None:
    label = Kind(kind).label
    trainees = {
        u.person_id: u
        for u in User.objects.filter(
            role=Role.TRAINEE, is_active=True, person_id__in=[c.person_id for c in certificates]
        )
    }
    for cert in certificates:
        user = trainees.get(cert.person_id)
        if user is not None:
            notify(
                [user],
                title=f"您的{label}已生成：{cert.number}",
                body=f"{klass.occupation_name}（{klass.code}）",
                url=reverse("certificates:detail", args=[cert.pk]),
            )
    # 第十二条: the institution hands the certificates out.
    notify(
        users_of_organisation(klass.institution.organisation, roles=[Role.INSTITUTION_OPERATOR]),
        title=f"{klass.code}班{len(certificates)}张{label}已编号，请打印发放",
        url=reverse("certificates:list") + "?" + urlencode({"q": klass.code}),
    )


# --- revoking -------------------------------------------------------------------------------------


def certificate_revoke(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    """撤销 a certificate (issued in error, obtained by fraud, 第二十二条). The row stays; the public
    verification page shows it as revoked with the date and reason."""
    if not has_perm(actor, Perm.ISSUE_CERTIFICATES):
        raise PermissionDeniedError("您没有撤销证书的权限")
    reason = (reason or "").strip()
    if not reason:
        raise PeixunError("请填写撤销原因")
    max_reason = Certificate._meta.get_field("revoked_reason").max_length
    if len(reason) > max_reason:
        raise PeixunError(f"撤销原因不能超过{max_reason}字")
    if not certificates_visible(actor).filter(pk=certificate.pk).exists():
        raise PermissionDeniedError("证书不存在或不在您的管辖范围内")
    with transaction.atomic():
        locked = (
            Certificate.objects.select_for_update(of=("self",))
            .select_related("person", "training_class", "training_class__institution__organisation")
            .get(pk=certificate.pk)
        )
        if locked.revoked_at is not None:
            raise PeixunError(
                f"证书{locked.number}已于{timezone.localtime(locked.revoked_at):%Y-%m-%d}撤销，不能重复撤销"
            )
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.revoked_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
        klass = locked.training_class
        audit_record(
            actor=actor,
            action="certificate.revoked",
            obj=locked,
            area=klass.area if klass else locked.issuer_area,
            organisation=klass.institution.organisation
            if klass
            else getattr(locked.evaluation_body, "organisation", None),
            before={"status": "有效"},
            after={"status": "已撤销", "reason": reason, "number": locked.number},
        )
        holder = User.objects.filter(role=Role.TRAINEE, is_active=True, person_id=locked.person_id)
        notify(
            holder,
            title=f"您的{locked.get_kind_display()}{locked.number}已被撤销",
            body=f"撤销原因：{reason}",
            url=reverse("certificates:detail", args=[locked.pk]),
            level=Notification.Level.WARNING,
        )
    return locked


# --- certificates of evaluation bodies (第十三条) -------------------------------------------------


def certificate_record_external(
    *,
    person: Person,
    kind: str,
    number: str,
    occupation_code: str,
    occupation_name: str,
    level: str,
    issued_on: dt.date,
    evaluation_body: EvaluationBody,
    actor: User,
) -> Certificate:
    """Record a 职业资格证书, 职业技能等级证书 or 专项职业能力证书 that an evaluation body issued. Its
    operator records for their own body; an official for the bodies of their area. Every problem is
    reported at once (一次性告知)."""
    if not has_perm(actor, Perm.RECORD_CERTIFICATES):
        raise PermissionDeniedError("您没有登记证书的权限")
    if (
        evaluation_body is None
        or not restrict(EvaluationBody.objects, actor).filter(pk=evaluation_body.pk).exists()
    ):
        raise PermissionDeniedError(
            "评价机构不存在或不在您的管辖范围内（评价机构经办人只能登记本机构的证书）"
        )

    number = (number or "").strip()
    occupation_code = (occupation_code or "").strip()
    occupation_name = (occupation_name or "").strip()
    level = (level or "").strip()
    problems: list[str] = []
    if kind not in EXTERNAL_KINDS:
        problems.append("证书类型只能是职业资格证书、职业技能等级证书或专项职业能力证书")
    if not evaluation_body.active:
        problems.append(f"评价机构“{evaluation_body.name}”已停用，不能登记新证书")
    max_number = Certificate._meta.get_field("number").max_length
    if not number:
        problems.append("请填写证书编号")
    elif len(number) > max_number:
        problems.append(f"证书编号不能超过{max_number}个字符")
    elif Certificate.objects.filter(number=number).exists():
        problems.append(f"证书编号{number}已登记，不能重复登记")
    occupation = Occupation.objects.filter(code=occupation_code).first() if occupation_code else None
    if not occupation_code:
        problems.append("请填写职业编码")
    elif occupation is None:
        problems.append(f"职业编码“{occupation_code}”不在职业分类目录中")
    if kind == Kind.SPECIAL:
        level = level or Level.SPECIAL
        if level != Level.SPECIAL:
            problems.append("专项职业能力证书不分等级")
    elif kind in EXTERNAL_KINDS and level not in GRADED_LEVELS:
        problems.append("请选择等级（五级至一级）")
    if issued_on is None:
        problems.append("请填写发证日期")
    elif issued_on > timezone.localdate():
        problems.append("发证日期不能晚于今天")
    if occupation is not None and level and not problems:
        if not evaluation_body.scopes.filter(occupation=occupation, level=level).exists():
            level_label = Level(level).label if level in Level.values else level
            problems.append(f"“{occupation.name}（{level_label}）”不在{evaluation_body.name}的评价范围内")
    if problems:
        raise PeixunError("；".join(problems))

    with transaction.atomic():
        try:
            with transaction.atomic():
                certificate = Certificate.objects.create(
                    number=number,
                    kind=kind,
                    person=person,
                    evaluation_body=evaluation_body,
                    occupation_code=occupation.code,
                    occupation_name=occupation_name or occupation.name,
                    level=level,
                    issued_on=issued_on,
                    issuer_area=evaluation_body.area,
                    recorded_by=actor,
                )
        except IntegrityError as exc:  # the same number recorded at the same moment
            raise PeixunError(f"证书编号{number}已登记，不能重复登记") from exc
        audit_record(
            actor=actor,
            action="certificate.recorded",
            obj=certificate,
            object_repr=f"{certificate} {person.name}",
            area=evaluation_body.area,
            organisation=evaluation_body.organisation,
            after={
                "kind": kind,
                "number": number,
                "holder": f"{person.name}（{person.id_masked}）",
                "occupation": f"{occupation.code} {certificate.occupation_name}",
                "level": level,
                "issued_on": issued_on,
                "evaluation_body": evaluation_body.name,
            },
        )
    return certificate


# --- verification ---------------------------------------------------------------------------------


def certificate_verify(token: str) -> Certificate | None:
    """The certificate behind a QR code, revoked or not; None for an unknown token."""
    token = (token or "").strip()
    if not token or len(token) > Certificate._meta.get_field("verify_token").max_length:
        return None
    return certificate_related().filter(verify_token=token).first()
