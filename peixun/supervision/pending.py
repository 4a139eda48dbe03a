"""待办事项 of supervision: inspectors see the checks drawn for them and the follow-ups due; the
organiser sees draws to run and results to publish; the deciding bureau sees cases to open and
deadlines passed; finance sees money still to come back; an institution sees what it must put right."""

import datetime as dt

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from peixun.accounts.roles import Perm, Role, has_perm
from peixun.accounts.scope import restrict
from peixun.web.pending import PendingItem, register

from .models import ClueTransfer, Draw, Inspection, Recovery, Rectification, Sanction, SanctionKind, Violation

LIMIT = 50
CLUE_REPLY_DAYS = 30


def _urgency(due: dt.date | None, today: dt.date) -> str:
    if due is None:
        return "info"
    return "danger" if due < today else "warning" if due <= today + dt.timedelta(days=3) else "info"


def _when(due: dt.date | None, today: dt.date) -> str:
    if due is None:
        return ""
    if due < today:
        return f"（已逾期{(today - due).days}天）"
    return "（今天到期）" if due == today else f"（{due:%Y-%m-%d}前）"


def _detail(pk: int) -> str:
    return reverse("supervision:inspection_detail", args=[pk])


@register
def inspector_work(user) -> list[PendingItem]:
    if not has_perm(user, Perm.INSPECT):
        return []
    today = timezone.localdate()
    mine = Inspection.objects.filter(inspectors__user=user).select_related("institution", "training_class")
    items = [
        PendingItem(
            category=i.get_kind_display(),
            title=f"检查{i.institution.name}"
            + (f"（{i.training_class.code}）" if i.training_class_id else "")
            + _when(i.due_date, today),
            url=_detail(i.pk),
            due=i.due_date,
            urgency=_urgency(i.due_date, today),
        )
        for i in mine.filter(status=Inspection.Status.PLANNED).order_by("due_date", "id")[:LIMIT]
    ]
    reported = Rectification.objects.filter(inspection=OuterRef("pk"))
    for i in (
        mine.filter(status=Inspection.Status.FOLLOW_UP, outcome=Inspection.Outcome.RECTIFY)
        .annotate(reported=Exists(reported))
        .order_by("follow_up_due", "id")[:LIMIT]
    ):
        if i.reported or (i.follow_up_due and i.follow_up_due < today):
            items.append(
                PendingItem(
                    category="整改复查",
                    title=f"复查{i.institution.name}的整改（{i.code}）"
                    + ("：机构已提交整改报告" if i.reported else _when(i.follow_up_due, today)),
                    url=_detail(i.pk),
                    due=i.follow_up_due,
                    urgency="warning" if i.reported else _urgency(i.follow_up_due, today),
                )
            )
    return items


@register
def organiser_work(user) -> list[PendingItem]:
    if not has_perm(user, Perm.MANAGE_DRAWS):
        return []
    today = timezone.localdate()
    items = [
        PendingItem(
            category="双随机抽查",
            title=f"抽查{d.code}“{d.title}”已公布种子哈希，待抽取",
            url=reverse("supervision:draw_detail", args=[d.pk]),
        )
        for d in restrict(Draw.objects.filter(status=Draw.Status.COMMITTED), user)[:LIMIT]
    ]
    unpublished = (
        restrict(Inspection.objects.filter(kind=Inspection.Kind.DRAW, published_at__isnull=True), user)
        .exclude(status=Inspection.Status.PLANNED)
        .filter(publish_by__gte=today)
        .select_related("institution")
        .order_by("publish_by")[:LIMIT]
    )
    items += [
        PendingItem(
            category="结果公开",
            title=f"公开{i.institution.name}的抽查结果（{i.code}）{_when(i.publish_by, today)}",
            url=_detail(i.pk),
            due=i.publish_by,
            urgency=_urgency(i.publish_by, today),
        )
        for i in unpublished
    ]
    overdue = (
        restrict(Inspection.objects.filter(status=Inspection.Status.PLANNED, due_date__lt=today), user)
        .select_related("institution")
        .order_by("due_date")[:LIMIT]
    )
    items += [
        PendingItem(
            category="逾期未检查",
            title=f"{i.get_kind_display()}{i.code}（{i.institution.name}）逾期未录入结果{_when(i.due_date, today)}",
            url=_detail(i.pk),
            due=i.due_date,
            urgency="danger",
        )
        for i in overdue
    ]
    return items


@register
def decider_work(user) -> list[PendingItem]:
    if not has_perm(user, Perm.DECIDE_SANCTIONS):
        return []
    today = timezone.localdate()
    to_open = (
        restrict(
            Inspection.objects.filter(
                outcome=Inspection.Outcome.VIOLATION, status=Inspection.Status.FOLLOW_UP
            ),
            user,
        )
        .exclude(Exists(Violation.objects.filter(inspection=OuterRef("pk"))))
        .select_related("institution")[:LIMIT]
    )
    items = [
        PendingItem(
            category="违规立案",
            title=f"检查{i.code}发现{i.institution.name}违规，待立案处理",
            url=reverse("supervision:violation_create") + f"?inspection={i.pk}",
            urgency="warning",
        )
        for i in to_open
    ]
    no_sanction = (
        restrict(Violation.objects.filter(status=Violation.Status.OPEN), user)
        .exclude(Exists(Sanction.objects.filter(violation=OuterRef("pk"))))
        .select_related("institution")[:LIMIT]
    )
    items += [
        PendingItem(
            category="违规处理",
            title=f"案件{v.code}（{v.institution.name}，{v.get_type_display()}）尚未决定处理措施",
            url=reverse("supervision:violation_detail", args=[v.pk]),
            urgency="warning",
        )
        for v in no_sanction
    ]
    expired = (
        restrict(
            Sanction.objects.filter(
                status=Sanction.Status.IN_FORCE,
                kind__in=[SanctionKind.RECTIFY, SanctionKind.SUSPEND],
                effective_to__lt=today,
            ),
            user,
        )
        .select_related("violation__institution")
        .order_by("effective_to")[:LIMIT]
    )
    items += [
        PendingItem(
            category="处理措施到期",
            title=f"{s.violation.institution.name}的{s.get_kind_display()}（{s.document_no}）已到期，请复查并登记执行情况",
            url=reverse("supervision:violation_detail", args=[s.violation_id]),
            due=s.effective_to,
            urgency="danger",
        )
        for s in expired
    ]
    return items


@register
def recovery_work(user) -> list[PendingItem]:
    if not has_perm(user, Perm.RECORD_RECOVERY):
        return []
    today = timezone.localdate()
    open_ = (
        restrict(Recovery.objects.exclude(status=Recovery.Status.COMPLETED), user)
        .select_related("violation__institution")
        .order_by("due_date")[:LIMIT]
    )
    return [
        PendingItem(
            category="资金追回",
            title=f"追回{r.document_no}（{r.violation.institution.name}）尚有¥{r.outstanding:,.2f}未到账{_when(r.due_date, today)}",
            url=reverse("supervision:recoveries") + f"?q={r.document_no}",
            due=r.due_date,
            urgency=_urgency(r.due_date, today),
        )
        for r in open_
    ]


@register
def clue_work(user) -> list[PendingItem]:
    if not has_perm(user, Perm.HAND_OVER):
        return []
    today = timezone.localdate()
    late = restrict(
        ClueTransfer.objects.filter(
            status=ClueTransfer.Status.SENT, sent_on__lt=today - dt.timedelta(days=CLUE_REPLY_DAYS)
        ),
        user,
    ).order_by("sent_on")[:LIMIT]
    return [
        PendingItem(
            category="线索移送",
            title=f"移送{c.code}（{c.recipient}，{c.sent_on:%Y-%m-%d}）超过{CLUE_REPLY_DAYS}天未回复，请跟进",
            url=reverse("supervision:clue_detail", args=[c.pk]),
            urgency="warning",
        )
        for c in late
    ]


@register
def institution_work(user) -> list[PendingItem]:
    if user.role != Role.INSTITUTION_OPERATOR or user.organisation_id is None:
        return []
    today = timezone.localdate()
    own = {"institution__organisation_id": user.organisation_id}
    items = [
        PendingItem(
            category="整改",
            title=f"检查{i.code}责令整改：{i.follow_up[:60]}{_when(i.follow_up_due, today)}",
            url=_detail(i.pk),
            due=i.follow_up_due,
            urgency=_urgency(i.follow_up_due, today),
        )
        for i in Inspection.objects.filter(
            status=Inspection.Status.FOLLOW_UP, outcome=Inspection.Outcome.RECTIFY, **own
        )
        .exclude(Exists(Rectification.objects.filter(inspection=OuterRef("pk"))))
        .order_by("follow_up_due")[:LIMIT]
    ]
    items += [
        PendingItem(
            category="整改",
            title=f"责令整改（{s.document_no}）{_when(s.effective_to, today)}，请整改后提交整改报告",
            url=reverse("supervision:violation_detail", args=[s.violation_id]),
            due=s.effective_to,
            urgency=_urgency(s.effective_to, today),
        )
        for s in Sanction.objects.filter(
            kind=SanctionKind.RECTIFY,
            status=Sanction.Status.IN_FORCE,
            violation__institution__organisation_id=user.organisation_id,
        )
        .exclude(Exists(Rectification.objects.filter(sanction=OuterRef("pk"))))
        .order_by("effective_to")[:LIMIT]
    ]
    items += [
        PendingItem(
            category="资金追回",
            title=f"追回通知（{r.document_no}）：尚须缴回¥{r.outstanding:,.2f}{_when(r.due_date, today)}",
            url=reverse("supervision:violation_detail", args=[r.violation_id]),
            due=r.due_date,
            urgency=_urgency(r.due_date, today),
        )
        for r in Recovery.objects.filter(
            violation__institution__organisation_id=user.organisation_id
        ).exclude(status=Recovery.Status.COMPLETED)[:LIMIT]
    ]
    return items
