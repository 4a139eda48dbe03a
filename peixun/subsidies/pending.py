"""待办事项 of the subsidy workflow: reviewers see applications to review with their legal deadline
(第十四条, 8 working days) and objections to decide; finance sees payable subsidies; the applicant
sees returned applications."""

import datetime as dt

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone

from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import restrict
from peixun.core.errors import CalendarMissing
from peixun.core.workdays import deadline_text, deadline_urgency, workdays_left
from peixun.web.pending import PendingItem, register

from .models import Objection, SubsidyApplication, SubsidyLine

LIMIT = 50


def deadline(due: dt.date | None, today: dt.date) -> tuple[int | None, str]:
    """Working days left and the badge colour of ui.md: amber at 1 day, red when overdue."""
    if due is None:
        return None, "info"
    try:
        left = workdays_left(due, today)
    except CalendarMissing:
        left = (due - today).days  # the page still shows something; the calendar page asks for the year
    return left, deadline_urgency(left)


@register
def subsidy_reviews(user) -> list[PendingItem]:
    if not has_perm(user, Perm.REVIEW_SUBSIDIES):
        return []
    today = timezone.localdate()
    items = []
    applications = (
        restrict(SubsidyApplication.objects.filter(status=SubsidyApplication.Status.SUBMITTED), user)
        .select_related("training_class", "institution")
        .annotate(trainees=Count("lines"))
        .order_by("due_date", "id")[:LIMIT]
    )
    for app in applications:
        left, urgency = deadline(app.due_date, today)
        items.append(
            PendingItem(
                category="补贴审核",
                title=f"审核补贴申请{app.code}（{app.institution.name}，{app.training_class.occupation_name}，"
                f"{app.trainees}人）{deadline_text(left)}",
                url=reverse("subsidies:application_detail", args=[app.pk]),
                due=app.due_date,
                urgency=urgency,
            )
        )
    objections = (
        restrict(Objection.objects.filter(status=Objection.Status.OPEN), user)
        .select_related("line__application")
        .order_by("lodged_at")[:LIMIT]
    )
    items.extend(
        PendingItem(
            category="公示异议",
            title=f"处理补贴申请{o.line.application.code}的公示异议（{o.lodged_at:%Y-%m-%d}提出，补贴已暂停）",
            url=reverse("subsidies:objection_decide", args=[o.pk]),
            urgency="warning",
        )
        for o in objections
    )
    return items


@register
def subsidy_payments(user) -> list[PendingItem]:
    if not has_perm(user, Perm.PAY_SUBSIDIES):
        return []
    payable = Q(lines__status=SubsidyLine.Status.PAYABLE)
    applications = (
        restrict(
            SubsidyApplication.objects.filter(
                pk__in=SubsidyLine.objects.filter(status=SubsidyLine.Status.PAYABLE).values("application_id")
            ),
            user,
        )
        .select_related("institution")
        .annotate(trainees=Count("lines", filter=payable), total=Sum("lines__amount", filter=payable))
        .order_by("notice_end", "id")[:LIMIT]
    )
    return [
        PendingItem(
            category="补贴拨付",
            title=f"拨付补贴申请{app.code}（{app.institution.name}，{app.trainees}人，¥{app.total:,.2f}）",
            url=reverse("subsidies:payment_record", args=[app.pk]),
            due=app.notice_end,
        )
        for app in applications
    ]


@register
def subsidy_returned(user) -> list[PendingItem]:
    if not has_perm(user, Perm.APPLY_CLASSES):
        return []
    applications = restrict(
        SubsidyApplication.objects.filter(status=SubsidyApplication.Status.RETURNED), user
    ).select_related("training_class")[:LIMIT]
    return [
        PendingItem(
            category="补贴申请",
            title=f"补贴申请{app.code}（{app.training_class.occupation_name}）已退回，请补正后重新提交",
            url=reverse("subsidies:application_detail", args=[app.pk]),
            urgency="warning",
        )
        for app in applications
    ]
