"""Pending work (待办事项): each app registers what a user has to do next; the home page lists it.

A provider is a function `(user) -> list[PendingItem]` built from real queries on the user's scope.
Later apps (class openings, completions, subsidies …) register theirs with `register`.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from peixun.accounts.models import User
from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import restrict
from peixun.core.models import CalendarYear


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
