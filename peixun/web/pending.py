"""Pending work (待办事项): each app registers what a user has to do next; the home page lists it.

A provider is a function `(user) -> list[PendingItem]` built from real queries on the user's scope.
Later apps (class openings, completions, subsidies …) register theirs with `register`.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from peixun.accounts.models import User
from peixun.accounts.roles import Perm, Role, has_perm
from peixun.accounts.scope import restrict
from peixun.core.errors import CalendarMissing
from peixun.core.models import CalendarYear
from peixun.core.workdays import WorkdayCalendar, deadline_text, deadline_urgency, workdays_left
from peixun.training.models import ChangeRequest, ClassStatus, Review, TrainingClass


@dataclass(frozen=True)
class PendingItem:
    category: str
    title: str
    url: str
    due: dt.date | None = None
    # "danger" when overdue, "warning" when due soon, "info" otherwise
    urgency: str = "info"


Provider = Callable[[User], list[PendingItem]]
_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    _PROVIDERS.append(provider)
    return provider


def pending_for(user: User) -> list[PendingItem]:
    items: list[PendingItem] = []
    for provider in _PROVIDERS:
        items.extend(provider(user))
    order = {"danger": 0, "warning": 1, "info": 2}
    return sorted(items, key=lambda i: (order.get(i.urgency, 3), i.due or dt.date.max, i.title))


@register
def next_year_calendar(user: User) -> list[PendingItem]:
    """From October on, the region must enter next year's holidays or deadlines after New Year fail."""
    if not has_perm(user, Perm.EDIT_CALENDAR):
        return []
    today = timezone.localdate()
    missing = [y for y in (today.year, today.year + 1) if not CalendarYear.objects.filter(year=y).exists()]
    items = []
    for year in missing:
        if year == today.year or today.month >= 10:
            urgent = "danger" if year == today.year else "warning"
            items.append(
                PendingItem(
                    category="工作日历",
                    title=f"录入{year}年放假和调休安排（未录入前无法计算该年的审核期限）",
                    url=reverse("calendar") + f"?year={year}",
                    due=dt.date(year, 1, 1),
                    urgency=urgent,
                )
            )
    return items


@register
def locked_accounts(user: User) -> list[PendingItem]:
    if not has_perm(user, Perm.MANAGE_USERS):
        return []
    now = timezone.now()
    locked = restrict(User.objects.filter(locked_until__gt=now), user).select_related("organisation")
    return [
        PendingItem(
            category="账户安全",
            title=f"账户“{u.get_full_name()}”（{u.organisation or '学员'}）因连续登录失败被锁定",
            url=reverse("user_list") + "?locked=1",
            urgency="warning",
        )
        for u in locked[:50]
    ]


# --- the class lifecycle (第八-十一条) ------------------------------------------------------------------


@register
def class_reviews(user: User) -> list[PendingItem]:
    """Reviewers see what waits for them with its legal deadline; the city sees what is overdue in its
    counties (escalation, 第九条)."""
    if not has_perm(user, Perm.REVIEW_CLASSES):
        return []
    today = timezone.localdate()
    calendar = WorkdayCalendar()
    reviews = restrict(
        Review.objects.filter(state=Review.State.PENDING).select_related("training_class__institution"), user
    ).order_by("due_date")
    escalated_only = user.role == Role.CITY_ADMIN
    items = []
    for review in reviews[:200]:
        try:
            left = workdays_left(review.due_date, today, calendar)
        except CalendarMissing:
            left = 0
        if escalated_only and left >= 0:
            continue
        c = review.training_class
        prefix = "逾期督办：" if escalated_only else ""
        items.append(
            PendingItem(
                category=review.get_stage_display(),
                title=f"{prefix}{c.code} {c.institution.name} {c.occupation_name}（{deadline_text(left)}）",
                url=reverse("training:detail", args=[c.pk]),
                due=review.due_date,
                urgency=deadline_urgency(left),
            )
        )
    changes = restrict(
        ChangeRequest.objects.filter(state=ChangeRequest.State.PENDING).select_related("training_class"), user
    )
    if not escalated_only:
        items += [
            PendingItem(
                category="变更申请",
                title=f"{r.training_class.code}：{r.summary}",
                url=reverse("training:detail", args=[r.training_class_id]) + "?tab=changes",
                urgency="warning",
            )
            for r in changes[:100]
        ]
    return items


@register
def class_applications(user: User) -> list[PendingItem]:
    """The institution's own classes that need its next step."""
    if not has_perm(user, Perm.APPLY_CLASSES) or user.organisation_id is None:
        return []
    today = timezone.localdate()
    classes = TrainingClass.objects.filter(
        institution__organisation_id=user.organisation_id,
        status__in=[
            ClassStatus.DRAFT,
            ClassStatus.OPENING_RETURNED,
            ClassStatus.COMPLETION_RETURNED,
            ClassStatus.APPROVED,
        ],
    ).annotate(last_lesson=Max("lessons__date"))
    items = []
    for c in classes[:200]:
        url = reverse("training:detail", args=[c.pk])
        if c.status == ClassStatus.DRAFT:
            items.append(PendingItem("开班申请", f"{c.code} {c.occupation_name}：草稿，完成后提交审核", url))
        elif c.status in (ClassStatus.OPENING_RETURNED, ClassStatus.COMPLETION_RETURNED):
            items.append(
                PendingItem(
                    "退回补正",
                    f"{c.code} {c.occupation_name}：{c.get_status_display()}，请按告知事项补正",
                    url,
                    urgency="warning",
                )
            )
        elif c.last_lesson and c.last_lesson < today:
            items.append(
                PendingItem(
                    "结业", f"{c.code} {c.occupation_name}：课程已结束，请录入考试成绩并申请结业", url
                )
            )
    return items
