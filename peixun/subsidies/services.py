"""补贴申请、审核、公示、异议和拨付 (第十四条、第二十一条, 财社〔2023〕181号): one function per action.

Each action is one transaction: lock the application (then its lines, in id order — the same order
everywhere, so two actions on one application queue instead of deadlocking), check the move in
`workflow.py`, change status with `update_fields`, append the audit entry (on the application, so
its page shows one timeline), and notify on commit.

Deciding who is included (subsidy_apply): trainees with a problem (no certificate, over a cap,
repeat, public payroll, an open BLOCK finding …) are *not* put into the application; the result
lists them with their reasons (一次性告知), and the institution applies again for them once the
problem is resolved. Only when nobody qualifies is nothing created, with every reason in the error.
At approval the same rules run again: a line that has become ineligible is refused with the
reasons; a line with an open BLOCK finding stops the approval until the finding is decided or the
reviewer refuses that line explicitly (rules.md: BLOCK = the step cannot be approved until resolved).
"""

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from peixun.accounts.models import User
from peixun.accounts.roles import Perm, Role, has_perm
from peixun.catalog.services import catalog_lookup
from peixun.core.audit import audit_record
from peixun.core.errors import PeixunError, PermissionDeniedError, TransitionError
from peixun.core.identity import mask_name, mask_phone
from peixun.core.services import current_rule_settings
from peixun.core.workdays import add_workdays, clock_due, clock_used
from peixun.inbox.models import Notification
from peixun.inbox.services import notify, officials_over, users_of_organisation
from peixun.training.models import ClassStatus, Enrollment, TrainingClass

from .eligibility import FINDINGS_OPEN, Params, certificates_of, evaluate, load_facts
from .models import Objection, Payment, SubsidyApplication, SubsidyLine
from .workflow import IN_NOTICE, Actor, acts_as, application_move, line_move

A = SubsidyApplication.Status
L = SubsidyLine.Status

PAYEE_FOR = {
    SubsidyApplication.Applicant.INSTITUTION: Payment.PayeeKind.INSTITUTION_ACCOUNT,
    SubsidyApplication.Applicant.PERSON: Payment.PayeeKind.SOCIAL_SECURITY_CARD,
}
PHONE = re.compile(r"^[0-9+\-\s()（）]{7,20}$")


# --- helpers ------------------------------------------------------------------------------------


def eligibility_params() -> Params:
    return Params.from_settings(current_rule_settings())


def who(person) -> str:
    """A person as the audit log and officials' messages name them: 张*明（150102********1234）."""
    return f"{mask_name(person.name)}（{person.id_masked}）"


def application_url(application: SubsidyApplication) -> str:
    return reverse("subsidies:application_detail", args=[application.pk])


def applicant_users(application: SubsidyApplication) -> list[User]:
    if application.applicant_kind == SubsidyApplication.Applicant.PERSON:
        return list(User.objects.filter(person_id=application.person_id, role=Role.TRAINEE, is_active=True))
    return users_of_organisation(application.institution.organisation, roles=[Role.INSTITUTION_OPERATOR])


def _reviewers(application: SubsidyApplication) -> list[User]:
    return officials_over(application.training_class.area, [Role.REVIEWER])


def _finance(application: SubsidyApplication) -> list[User]:
    return officials_over(application.training_class.area, [Role.FINANCE])


def _lock(pk: int) -> SubsidyApplication:
    return (
        SubsidyApplication.objects.select_for_update(of=("self",))
        .select_related("training_class__area", "institution__organisation", "person")
        .get(pk=pk)
    )


def _guard(name: str, application: SubsidyApplication, actor) -> None:
    move = application_move(name)
    if not acts_as(actor, application, move.actor):
        raise PermissionDeniedError(f"无权对补贴申请{application.code}执行“{move.label}”")
    if application.status not in move.source:
        raise TransitionError(
            f"补贴申请{application.code}当前状态为“{application.get_status_display()}”，不能{move.label}"
        )


def _audit(actor, action: str, application: SubsidyApplication, *, before=None, after=None) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=application,
        area=application.training_class.area,
        organisation=application.institution.organisation,
        before=before,
        after=after,
    )


def _reasons(reasons: str | Iterable[str]) -> list[str]:
    items = reasons.splitlines() if isinstance(reasons, str) else list(reasons)
    return [r.strip() for r in (str(i) for i in items) if r.strip()]


def _close_if_done(application: SubsidyApplication, today: dt.date, actor=None) -> bool:
    """公示结束: the period is over and no line is still in 公示 or held by an objection."""
    if application.status != A.NOTICE or application.notice_end is None or application.notice_end >= today:
        return False
    if application.lines.filter(status__in=IN_NOTICE).exists():
        return False
    application.status = application_move("close").target
    application.save(update_fields=["status"])
    _audit(
        actor, "subsidy.notice_closed", application, before={"status": A.NOTICE}, after={"status": A.CLOSED}
    )
    return True


# --- apply --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Skipped:
    enrollment: Enrollment
    problems: list[str]


@dataclass(frozen=True)
class ApplyResult:
    application: SubsidyApplication
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    """A trainee as the apply form shows them: the certificate found and the problems, if any."""

    enrollment: Enrollment
    certificate: object
    problems: list[str]
    live_line: SubsidyLine | None = None

    @property
    def eligible(self) -> bool:
        return not self.problems


def subsidy_candidates(
    *, training_class: TrainingClass, enrollments: Iterable[Enrollment]
) -> list[Candidate]:
    """Read-only: what `subsidy_apply` would decide for each trainee today (the apply form's preview)."""
    enrollments = list(enrollments)
    params = eligibility_params()
    today = timezone.localdate()
    live = {
        line.enrollment_id: line
        for line in SubsidyLine.objects.filter(
            enrollment__in=enrollments, status__in=SubsidyLine.LIVE
        ).select_related("application")
    }
    facts = load_facts(training_class, enrollments)
    certificates = certificates_of(training_class, [e.person_id for e in enrollments])
    result = []
    for e in enrollments:
        line = live.get(e.pk)
        if line is not None:
            problems = [f"已在补贴申请{line.application.code}中（{line.get_status_display()}），不能重复申请"]
        else:
            problems = [p.text for p in evaluate(facts[e.pk], params, today)]
        result.append(Candidate(e, certificates.get(e.person_id), problems, line))
    return result


def subsidy_apply(
    *,
    training_class: TrainingClass,
    actor,
    enrollments: Iterable[Enrollment] | None = None,
    person=None,
    payee_name: str = "",
    payee_account: str = "",
    payee_bank: str = "",
) -> ApplyResult:
    """第十四条: the institution applies for the trainees of its completed class (all of them, or
    `enrollments` / `person`), or a trainee applies for themself (payee: their social security card).
    Each line's amount is the catalog's standard in force on the class start date."""
    if not has_perm(actor, Perm.APPLY_CLASSES):
        raise PermissionDeniedError("无权申请培训补贴")
    if actor.role == Role.TRAINEE:
        kind = SubsidyApplication.Applicant.PERSON
        if person is not None and person.pk != actor.person_id:
            raise PermissionDeniedError("学员只能为本人申请补贴")
        person = actor.person
        payee_name = person.name
        if not payee_account.strip():
            raise PeixunError("请填写本人社会保障卡号（补贴发放至个人社会保障卡）")
    elif actor.role == Role.INSTITUTION_OPERATOR:
        kind = SubsidyApplication.Applicant.INSTITUTION
        if not (payee_name.strip() and payee_account.strip() and payee_bank.strip()):
            raise PeixunError("请填写培训机构基本账户的户名、账号和开户银行")
    else:
        raise PermissionDeniedError("只有培训机构经办人或学员本人可以申请补贴")
    settings = current_rule_settings()
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        # Locking the class makes two applications for it (two operators, or the institution and a
        # trainee at once) take turns: the second sees the first's lines and leaves those trainees out.
        klass = (
            TrainingClass.objects.select_for_update(of=("self",))
            .select_related("institution__organisation", "area")
            .get(pk=training_class.pk)
        )
        if kind == SubsidyApplication.Applicant.INSTITUTION and (
            klass.institution.organisation_id != actor.organisation_id
        ):
            raise PermissionDeniedError("只能为本机构的培训班申请补贴")
        if klass.status != ClassStatus.COMPLETED:
            raise TransitionError(
                f"培训班{klass.code}当前状态为“{klass.get_status_display()}”，结业审核通过后方可申请补贴"
            )
        match = catalog_lookup(
            occupation_code=klass.occupation_code,
            level=klass.level,
            training_type=klass.training_type,
            area=klass.area,
            on_date=klass.start_date,
        )
        if match is None:
            raise PeixunError(
                f"开班日期{klass.start_date.isoformat()}适用的补贴目录中没有{klass.occupation_name}"
                f"（{klass.occupation_code}）{klass.get_level_display()}{klass.get_training_type_display()}的补贴标准"
            )
        roster = Enrollment.objects.filter(training_class=klass).select_related("person").order_by("id")
        if person is not None:
            roster = roster.filter(person=person)
        if enrollments is not None:
            wanted = {e.pk for e in enrollments}
            roster = roster.filter(pk__in=wanted)
            if roster.count() != len(wanted):
                raise PeixunError("所选学员不在该培训班的花名册中")
        roster = list(roster)
        if not roster:
            raise PeixunError(
                "您不在该培训班的花名册中" if kind == SubsidyApplication.Applicant.PERSON else "请选择学员"
            )
        candidates = subsidy_candidates(training_class=klass, enrollments=roster)
        included = [c for c in candidates if c.eligible]
        skipped = [Skipped(c.enrollment, c.problems) for c in candidates if not c.eligible]
        if not included:
            listed = "；".join(f"{s.enrollment.person.name}：{'；'.join(s.problems)}" for s in skipped)
            raise PeixunError(f"没有符合补贴条件的学员，未提交申请。{listed}")
        application = SubsidyApplication.objects.create(
            code=f"pending-{uuid.uuid4().hex[:20]}",
            applicant_kind=kind,
            training_class=klass,
            institution=klass.institution,
            person=person if kind == SubsidyApplication.Applicant.PERSON else None,
            status=application_move("apply").target,
            submitted_at=now,
            submitted_by=actor,
            submitted_on=today,
            limit_workdays=settings.subsidy_review_workdays,
            due_date=clock_due(today, settings.subsidy_review_workdays),
            payee_name=payee_name.strip()[:128],
            payee_account=payee_account.strip()[:64],
            payee_bank=payee_bank.strip()[:128],
        )
        # The number comes from the row id: unique without a counter, so concurrent applications
        # never draw the same one.
        application.code = f"BT{today.year}{application.pk:06d}"
        application.save(update_fields=["code"])
        try:
            with transaction.atomic():
                SubsidyLine.objects.bulk_create(
                    SubsidyLine(
                        application=application,
                        enrollment=c.enrollment,
                        person=c.enrollment.person,
                        certificate=c.certificate,
                        catalog_entry=match.entry,
                        amount=match.subsidy_amount,
                        status=line_move("include").target,
                    )
                    for c in included
                )
        except IntegrityError as exc:
            # uniq_live_subsidy_line: another application took one of these trainees meanwhile.
            raise PeixunError(
                "所选学员中有人已在其他补贴申请中（可能刚刚由他人提交），请刷新页面后重新申请"
            ) from exc
        _audit(
            actor,
            "subsidy.applied",
            application,
            after={
                "status": application.status,
                "applicant_kind": kind,
                "class": klass.code,
                "trainees": [who(c.enrollment.person) for c in included],
                "amount": match.subsidy_amount * len(included),
                "due_date": application.due_date,
                "skipped": {who(s.enrollment.person): s.problems for s in skipped},
            },
        )
        notify(
            _reviewers(application),
            title=f"新的补贴申请{application.code}待审核（{klass.institution.name}，{len(included)}人）",
            body=f"培训班{klass.code} {klass.occupation_name}，请于{application.due_date:%Y-%m-%d}前审核。",
            url=application_url(application),
        )
    return ApplyResult(application, skipped)


# --- review -------------------------------------------------------------------------------------


def subsidy_return(
    *, application: SubsidyApplication, actor, reasons: str | Iterable[str]
) -> SubsidyApplication:
    """退回补正 with every item at once (一次性告知); the review clock stops, keeping the days used."""
    items = _reasons(reasons)
    if not items:
        raise PeixunError("请逐项列出需要补正的事项（一次性告知）")
    today = timezone.localdate()
    with transaction.atomic():
        app = _lock(application.pk)
        _guard("return", app, actor)
        before = {"status": app.status, "workdays_used": app.workdays_used, "due_date": app.due_date}
        app.workdays_used = clock_used(app.submitted_on, today, app.workdays_used)
        app.status = application_move("return").target
        app.due_date = None
        app.returned_reasons = "\n".join(items)
        app.save(update_fields=["status", "workdays_used", "due_date", "returned_reasons"])
        _audit(
            actor,
            "subsidy.returned",
            app,
            before=before,
            after={"status": app.status, "workdays_used": app.workdays_used, "reasons": items},
        )
        notify(
            applicant_users(app),
            title=f"补贴申请{app.code}被退回补正",
            body="需补正：" + "；".join(items),
            url=application_url(app),
            level=Notification.Level.WARNING,
        )
    return app


def subsidy_resubmit(
    *,
    application: SubsidyApplication,
    actor,
    note: str = "",
    payee_name: str | None = None,
    payee_account: str | None = None,
    payee_bank: str | None = None,
) -> SubsidyApplication:
    """补正后重新提交: the clock restarts with the working days left (at least one)."""
    today = timezone.localdate()
    with transaction.atomic():
        app = _lock(application.pk)
        _guard("resubmit", app, actor)
        before = {"status": app.status, "payee_account": app.payee_account}
        updated = ["status", "submitted_on", "due_date"]
        corrections = {"payee_account": payee_account, "payee_bank": payee_bank}
        if app.applicant_kind == SubsidyApplication.Applicant.INSTITUTION:
            corrections["payee_name"] = payee_name  # a person's card is always in their own name
        for name, value in corrections.items():
            if value is not None and value.strip():
                setattr(app, name, value.strip()[: SubsidyApplication._meta.get_field(name).max_length])
                updated.append(name)
        app.status = application_move("resubmit").target
        app.submitted_on = today
        app.due_date = clock_due(today, app.limit_workdays, app.workdays_used)
        app.save(update_fields=updated)
        _audit(
            actor,
            "subsidy.resubmitted",
            app,
            before=before,
            after={
                "status": app.status,
                "due_date": app.due_date,
                "workdays_used": app.workdays_used,
                "payee_account": app.payee_account,
                "reason": note.strip(),
            },
        )
        notify(
            _reviewers(app),
            title=f"补贴申请{app.code}已补正，重新提交",
            body=f"请于{app.due_date:%Y-%m-%d}前审核。{note.strip()}",
            url=application_url(app),
        )
    return app


def subsidy_withdraw(*, application: SubsidyApplication, actor, reason: str = "") -> SubsidyApplication:
    """撤回: the trainees leave the application (they may be applied for again)."""
    with transaction.atomic():
        app = _lock(application.pk)
        _guard("withdraw", app, actor)
        lines = list(
            app.lines.select_for_update().filter(status__in=line_move("withdraw").source).order_by("id")
        )
        for line in lines:
            line.status = line_move("withdraw").target
            line.problems = "申请人撤回申请"
        SubsidyLine.objects.bulk_update(lines, ["status", "problems"])
        before = {"status": app.status}
        app.status = application_move("withdraw").target
        app.due_date = None
        app.save(update_fields=["status", "due_date"])
        _audit(
            actor,
            "subsidy.withdrawn",
            app,
            before=before,
            after={"status": app.status, "reason": reason.strip()},
        )
    return app


def subsidy_approve(
    *,
    application: SubsidyApplication,
    actor,
    line_decisions: dict[int, tuple[bool, str]] | None = None,
    reason: str = "",
) -> SubsidyApplication:
    """审核通过 → 公示 (第十四条): every trainee's eligibility is judged again now; the reviewer may
    refuse a line with a reason (`line_decisions = {line_id: (False, "理由")}`; lines not named pass).
    Lines with problems are refused with the reasons; the others go into 公示 from the next working
    day for `public_notice_workdays` working days."""
    decisions = line_decisions or {}
    settings = current_rule_settings()
    params = Params.from_settings(settings)
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        app = _lock(application.pk)
        _guard("approve", app, actor)
        klass = app.training_class
        if klass.status != ClassStatus.COMPLETED:
            raise TransitionError(
                f"培训班{klass.code}当前状态为“{klass.get_status_display()}”，不能审核通过补贴"
            )
        lines = list(
            app.lines.select_for_update(of=("self",))
            .filter(status__in=line_move("pass").source)
            .select_related("enrollment__person", "person")
            .order_by("id")
        )
        unknown = set(decisions) - {line.pk for line in lines}
        if unknown:
            raise PeixunError("审核意见中有不属于本申请待审核学员的明细，请刷新页面后重试")
        facts = load_facts(klass, [line.enrollment for line in lines])
        certificates = certificates_of(klass, [line.person_id for line in lines])
        applied_on = timezone.localdate(app.submitted_at)
        passed, refused, blocked, missing_reason = [], [], [], []
        for line in lines:
            ok, why = decisions.get(line.pk, (True, ""))
            why = (why or "").strip()
            if not ok:
                if not why:
                    missing_reason.append(line.person.name)
                refused.append((line, f"审核不予补贴：{why}"))
                continue
            problems = evaluate(facts[line.enrollment_id], params, applied_on)
            if any(p.code == FINDINGS_OPEN for p in problems):
                blocked.append(
                    f"{line.person.name}（{'；'.join(p.text for p in problems if p.code == FINDINGS_OPEN)}）"
                )
            elif problems:
                refused.append((line, "；".join(p.text for p in problems)))
            else:
                passed.append(line)
        if missing_reason:
            raise PeixunError(f"请填写不予补贴的理由：{'、'.join(missing_reason)}")
        if blocked:
            raise PeixunError(
                "以下学员有未处理的阻断性问题线索，须先处理问题线索，或对其选择不予补贴："
                + "；".join(blocked)
            )
        if not passed:
            listed = "；".join(f"{line.person.name}：{text}" for line, text in refused)
            raise PeixunError(f"没有可以通过的学员，请选择“不予补贴”。{listed}")
        for line in passed:
            line.status = line_move("pass").target
            line.certificate = certificates.get(line.person_id, line.certificate)
        for line, text in refused:
            line.status = line_move("refuse").target
            line.problems = text
        SubsidyLine.objects.bulk_update(
            passed + [line for line, _ in refused], ["status", "problems", "certificate"]
        )
        before = {"status": app.status}
        app.status = application_move("approve").target
        app.workdays_used = clock_used(app.submitted_on, today, app.workdays_used)
        app.decided_at, app.decided_by, app.decision_reason = now, actor, reason.strip()
        # 公示 starts on the next working day and lasts public_notice_workdays working days.
        app.notice_start = add_workdays(today, 1)
        app.notice_end = add_workdays(today, settings.public_notice_workdays)
        app.save(
            update_fields=[
                "status",
                "workdays_used",
                "decided_at",
                "decided_by",
                "decision_reason",
                "notice_start",
                "notice_end",
            ]
        )
        _audit(
            actor,
            "subsidy.approved",
            app,
            before=before,
            after={
                "status": app.status,
                "passed": [who(line.person) for line in passed],
                "refused": {who(line.person): text for line, text in refused},
                "notice_start": app.notice_start,
                "notice_end": app.notice_end,
                "reason": app.decision_reason,
            },
        )
        notify(
            applicant_users(app),
            title=f"补贴申请{app.code}审核通过，{app.notice_start:%Y-%m-%d}至{app.notice_end:%Y-%m-%d}公示",
            body=f"通过{len(passed)}人，不予补贴{len(refused)}人。",
            url=application_url(app),
        )
    return app


def subsidy_reject(*, application: SubsidyApplication, actor, reason: str) -> SubsidyApplication:
    """不予补贴 for the whole application, with the reason told to the applicant."""
    reason = (reason or "").strip()
    if not reason:
        raise PeixunError("请填写不予补贴的理由")
    now = timezone.now()
    with transaction.atomic():
        app = _lock(application.pk)
        _guard("reject", app, actor)
        lines = list(
            app.lines.select_for_update().filter(status__in=line_move("refuse").source).order_by("id")
        )
        for line in lines:
            line.status = line_move("refuse").target
            line.problems = f"不予补贴：{reason}"
        SubsidyLine.objects.bulk_update(lines, ["status", "problems"])
        before = {"status": app.status}
        app.status = application_move("reject").target
        app.workdays_used = clock_used(app.submitted_on, timezone.localdate(now), app.workdays_used)
        app.decided_at, app.decided_by, app.decision_reason = now, actor, reason
        app.save(update_fields=["status", "workdays_used", "decided_at", "decided_by", "decision_reason"])
        _audit(actor, "subsidy.rejected", app, before=before, after={"status": app.status, "reason": reason})
        notify(
            applicant_users(app),
            title=f"补贴申请{app.code}不予补贴",
            body=reason,
            url=application_url(app),
            level=Notification.Level.WARNING,
        )
    return app


# --- 公示 and objections ------------------------------------------------------------------------


def public_notice_lines(today: dt.date | None = None):
    """What the public 公示 shows today: lines in 公示 (or held by an objection) of applications whose
    notice period runs today."""
    today = today or timezone.localdate()
    return SubsidyLine.objects.filter(
        status__in=IN_NOTICE,
        application__status=A.NOTICE,
        application__notice_start__lte=today,
        application__notice_end__gte=today,
    )


def objection_lodge(*, line: SubsidyLine, name: str, phone: str, content: str) -> Objection:
    """异议 (第十四条 公示): anyone, without login, while the line is in its notice period. The line is
    held (SUSPENDED) until a reviewer decides every objection on it."""
    name, phone, content = (name or "").strip(), (phone or "").strip(), (content or "").strip()
    problems = []
    if not name:
        problems.append("请填写您的姓名")
    elif len(name) > 64:
        problems.append("姓名不能超过64个字")
    if not PHONE.match(phone) or sum(ch.isdigit() for ch in phone) < 7:
        problems.append("请填写有效的联系电话，以便核实异议")
    if len(content) < 5:
        problems.append("请写明异议的具体内容（至少5个字）")
    elif len(content) > 2000:
        problems.append("异议内容不能超过2000字")
    if problems:
        raise PeixunError("；".join(problems))
    today = timezone.localdate()
    move = line_move("object")
    with transaction.atomic():
        app = _lock(line.application_id)
        line = SubsidyLine.objects.select_for_update(of=("self",)).select_related("person").get(pk=line.pk)
        in_period = app.notice_start is not None and app.notice_start <= today <= app.notice_end
        if app.status != A.NOTICE or line.status not in move.source or not in_period:
            raise TransitionError("该补贴不在公示期内，不能提出异议")
        objection = Objection.objects.create(line=line, name=name, phone=phone, content=content)
        before = {"line_status": line.status}
        if line.status != move.target:
            line.status = move.target
            line.save(update_fields=["status"])
        _audit(
            None,
            "subsidy.objection_lodged",
            app,
            before=before,
            after={
                "line_status": line.status,
                "trainee": who(line.person),
                "objection": objection.pk,
                "objector": mask_name(name),
                "phone": mask_phone(phone),
            },
        )
        notify(
            _reviewers(app),
            title=f"补贴公示收到异议（{app.code}，{mask_name(line.person.name)}）",
            body="该学员的补贴已暂停，请核实处理。",
            url=reverse("subsidies:objection_decide", args=[objection.pk]),
            level=Notification.Level.WARNING,
        )
    return objection


def objection_decide(*, objection: Objection, actor, upheld: bool, reason: str) -> Objection:
    """异议处理: upheld → the line is refused with the reason; dismissed → once no objection on the
    line is open, it returns to 公示 (or to 待拨付 when the period has already ended)."""
    reason = (reason or "").strip()
    if not reason:
        raise PeixunError("请填写处理意见")
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        line_id, app_id = (
            Objection.objects.filter(pk=objection.pk).values_list("line_id", "line__application_id").get()
        )
        app = _lock(app_id)
        line = SubsidyLine.objects.select_for_update(of=("self",)).select_related("person").get(pk=line_id)
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        if not acts_as(actor, app, Actor.REVIEWER):
            raise PermissionDeniedError("无权处理该异议")
        if objection.status != Objection.Status.OPEN:
            raise TransitionError(f"该异议已处理（{objection.get_status_display()}）")
        objection.status = Objection.Status.UPHELD if upheld else Objection.Status.DISMISSED
        objection.decided_at, objection.decided_by, objection.decision_reason = now, actor, reason
        objection.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
        before = {"line_status": line.status}
        if line.status == L.SUSPENDED:
            if upheld:
                move = line_move("uphold")
                line.status, line.problems = move.target, f"公示异议成立：{reason}"
                line.save(update_fields=["status", "problems"])
            elif not line.objections.filter(status=Objection.Status.OPEN).exists():
                move = line_move("resume") if today <= app.notice_end else line_move("release")
                line.status = move.target
                line.save(update_fields=["status"])
        _audit(
            actor,
            "subsidy.objection_upheld" if upheld else "subsidy.objection_dismissed",
            app,
            before=before,
            after={
                "line_status": line.status,
                "trainee": who(line.person),
                "objection": objection.pk,
                "reason": reason,
            },
        )
        _close_if_done(app, today)
        if upheld:
            notify(
                applicant_users(app),
                title=f"补贴申请{app.code}中{line.person.name}的公示异议成立，不予补贴",
                body=reason,
                url=application_url(app),
                level=Notification.Level.WARNING,
            )
        elif line.status == L.PAYABLE:
            notify(
                _finance(app), title=f"补贴申请{app.code}有待拨付的补贴", url=reverse("subsidies:payments")
            )
    return objection


def line_stop(*, line: SubsidyLine, actor, reason: str) -> SubsidyLine:
    """停止拨付: a line approved but not yet paid is refused when its certificate is revoked or a
    violation comes to light before payment (凡补必进、不进不补 — nothing unpaid is beyond recall)."""
    reason = (reason or "").strip()
    if not reason:
        raise PeixunError("请填写停止拨付的理由")
    move = line_move("stop")
    with transaction.atomic():
        app = _lock(line.application_id)
        locked = SubsidyLine.objects.select_for_update(of=("self",)).select_related("person").get(pk=line.pk)
        if not acts_as(actor, app, Actor.REVIEWER):
            raise PermissionDeniedError("无权停止拨付")
        if locked.status not in move.source:
            raise TransitionError(f"该明细当前为“{locked.get_status_display()}”，不能“{move.label}”")
        before = {"line_status": locked.status}
        locked.status, locked.problems = move.target, f"停止拨付：{reason}"
        locked.save(update_fields=["status", "problems"])
        _audit(
            actor,
            "subsidy.line_stopped",
            app,
            before=before,
            after={"line_status": locked.status, "trainee": who(locked.person), "reason": reason},
        )
        _close_if_done(app, timezone.localdate())
        notify(
            applicant_users(app),
            title=f"补贴申请{app.code}中{locked.person.name}的补贴已停止拨付",
            body=reason,
            url=application_url(app),
            level=Notification.Level.WARNING,
        )
    return locked


@dataclass(frozen=True)
class CloseResult:
    lines_payable: int
    applications_closed: int


def notices_close(today: dt.date | None = None) -> CloseResult:
    """公示期满: lines still in 公示 the day after the period become payable; an application whose
    lines have all left 公示 and objections is closed. Run daily (`peixun close_notices`) and
    whenever finance opens the payment page; running it twice changes nothing."""
    today = today or timezone.localdate()
    release = line_move("release")
    payable = closed = 0
    due = SubsidyApplication.objects.filter(status=A.NOTICE, notice_end__lt=today).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        with transaction.atomic():
            app = _lock(pk)
            if app.status != A.NOTICE or app.notice_end >= today:
                continue  # another run got here first
            # An open objection holds its line SUSPENDED; only lines in plain 公示 are released.
            lines = list(app.lines.select_for_update().filter(status=L.NOTICE).order_by("id"))
            for line in lines:
                line.status = release.target
            SubsidyLine.objects.bulk_update(lines, ["status"])
            if lines:
                _audit(
                    None,
                    "subsidy.notice_ended",
                    app,
                    before={"line_status": L.NOTICE},
                    after={"line_status": L.PAYABLE, "lines": len(lines)},
                )
                notify(
                    _finance(app),
                    title=f"补贴申请{app.code}公示期满无异议，{len(lines)}人待拨付",
                    url=reverse("subsidies:payments"),
                )
            closed += _close_if_done(app, today)
        payable += len(lines)
    return CloseResult(payable, closed)


# --- payment ------------------------------------------------------------------------------------


def payment_chain_problems(
    application: SubsidyApplication, lines: list[SubsidyLine], today: dt.date
) -> list[str]:
    """凡补必进、不进不补: money goes out only for a line that went apply → approve → 公示 without an
    open objection, of a completed class, with its certificate still valid."""
    problems = []
    app = application
    if app.decided_at is None or app.status not in (A.NOTICE, A.CLOSED):
        problems.append(f"补贴申请{app.code}未经审核通过（当前“{app.get_status_display()}”）")
    if app.notice_end is None or app.notice_end >= today:
        problems.append(f"补贴申请{app.code}的公示期尚未结束")
    if app.training_class.status != ClassStatus.COMPLETED:
        problems.append(f"培训班{app.training_class.code}不是已结业状态")
    pay = line_move("pay")
    open_objections = set(
        Objection.objects.filter(line__in=lines, status=Objection.Status.OPEN).values_list(
            "line_id", flat=True
        )
    )
    for line in lines:
        name = line.person.name
        if line.status not in pay.source:
            problems.append(f"{name}的补贴当前为“{line.get_status_display()}”，不是待拨付")
        if line.certificate is None:
            problems.append(f"{name}没有证书记录")
        elif line.certificate.is_revoked:
            problems.append(f"{name}的证书{line.certificate.number}已撤销")
        if line.pk in open_objections:
            problems.append(f"{name}的公示异议尚未处理")
    return problems


def payment_record(
    *,
    application: SubsidyApplication,
    lines: Iterable[SubsidyLine],
    actor,
    payee_kind: str,
    payee_name: str,
    payee_account: str,
    voucher_no: str,
    paid_on: dt.date,
    amount: Decimal,
    outcome: str,
    failure_reason: str = "",
) -> Payment:
    """拨付登记 (第二十一条): one transfer for some payable lines of an application, to the institution's
    account or the trainee's social security card. PAID → the lines are paid; FAILED → they stay
    payable (payments_failed + 1) and are paid later with a new voucher. One voucher pays once."""
    voucher_no, payee_name, payee_account = voucher_no.strip(), payee_name.strip(), payee_account.strip()
    failure_reason = (failure_reason or "").strip()
    line_ids = sorted({line.pk for line in lines})
    today = timezone.localdate()
    problems = []
    if not line_ids:
        problems.append("请选择要拨付的学员")
    if not voucher_no:
        problems.append("请填写凭证号")
    if not (payee_name and payee_account):
        problems.append("请填写收款人和收款账号")
    if outcome not in Payment.Outcome.values:
        problems.append("请选择支付结果")
    if outcome == Payment.Outcome.FAILED and not failure_reason:
        problems.append("支付失败须填写银行退回的原因")
    if paid_on > today:
        problems.append("支付日期不能晚于今天")
    if problems:
        raise PeixunError("；".join(problems))
    amount = Decimal(amount)
    with transaction.atomic():
        app = _lock(application.pk)
        if not acts_as(actor, app, Actor.FINANCE):
            raise PermissionDeniedError(f"无权登记补贴申请{app.code}的拨付")
        # Locking the lines (after the application, in id order) makes a double-submitted form or
        # two finance officers at once take turns: the second finds the lines already paid.
        locked = list(
            SubsidyLine.objects.select_for_update(of=("self",))
            .filter(pk__in=line_ids)
            .select_related("certificate", "person")
            .order_by("id")
        )
        if len(locked) != len(line_ids) or any(line.application_id != app.pk for line in locked):
            raise PeixunError("所选学员不属于该补贴申请")
        chain = payment_chain_problems(app, locked, today)
        if chain:
            raise TransitionError("不能拨付：" + "；".join(chain))
        expected = sum((line.amount for line in locked), Decimal("0"))
        if amount != expected:
            raise PeixunError(f"拨付金额¥{amount:,.2f}与所选{len(locked)}人补贴合计¥{expected:,.2f}不符")
        if payee_kind != PAYEE_FOR[app.applicant_kind]:
            raise PeixunError(f"该申请的补贴应拨付至{Payment.PayeeKind(PAYEE_FOR[app.applicant_kind]).label}")
        if Payment.objects.filter(voucher_no=voucher_no).exists():
            raise PeixunError(f"凭证号{voucher_no}已登记过，不能重复登记；重新拨付请使用新的凭证号")
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    application=app,
                    payee_kind=payee_kind,
                    payee_name=payee_name[:128],
                    payee_account=payee_account[:64],
                    voucher_no=voucher_no[:64],
                    paid_on=paid_on,
                    amount=amount,
                    outcome=outcome,
                    failure_reason=failure_reason[:300],
                    recorded_by=actor,
                )
        except IntegrityError as exc:
            raise PeixunError(f"凭证号{voucher_no}已登记过，不能重复登记") from exc
        payment.lines.set(locked)
        if outcome == Payment.Outcome.PAID:
            for line in locked:
                line.status = line_move("pay").target
            SubsidyLine.objects.bulk_update(locked, ["status"])
        else:
            for line in locked:
                line.payments_failed += 1
            SubsidyLine.objects.bulk_update(locked, ["payments_failed"])
        _audit(
            actor,
            "subsidy.paid" if outcome == Payment.Outcome.PAID else "subsidy.payment_failed",
            app,
            after={
                "voucher_no": voucher_no,
                "amount": amount,
                "paid_on": paid_on,
                "trainees": [who(line.person) for line in locked],
                "payee_kind": payee_kind,
                "failure_reason": failure_reason,
            },
        )
        if outcome == Payment.Outcome.PAID:
            notify(
                applicant_users(app),
                title=f"补贴申请{app.code}已拨付¥{amount:,.2f}",
                body=f"{len(locked)}人，凭证号{voucher_no}，支付日期{paid_on:%Y-%m-%d}。",
                url=application_url(app),
            )
        else:
            notify(
                applicant_users(app),
                title=f"补贴申请{app.code}支付失败",
                body=f"银行退回原因：{failure_reason}。请核对收款账户信息。",
                url=application_url(app),
                level=Notification.Level.WARNING,
            )
    return payment
