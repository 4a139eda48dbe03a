"""站内消息: every transition tells the next person what arrived, after its transaction commits."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from peixun.accounts.models import User

from .models import Notification
from .sms import sms_sender


def notify(
    users: Iterable[User],
    *,
    title: str,
    body: str = "",
    url: str = "",
    level: str = Notification.Level.INFO,
    dedupe_key: str = "",
    sms: bool = False,
) -> None:
    """Queue a message for each user, written when the surrounding transaction commits (a refused
    transition tells nobody anything). With `dedupe_key`, a user gets that message once only."""
    recipients = [u for u in users if u is not None and u.is_active]

    def deliver():
        for user in recipients:
            try:
                with transaction.atomic():
                    Notification.objects.create(
                        user=user, title=title[:200], body=body, url=url, level=level, dedupe_key=dedupe_key
                    )
            except IntegrityError:
                continue  # already told about this deadline
            phone = getattr(user.person, "phone", "") if user.person_id else ""
            if sms and phone:
                sms_sender().send(phone, f"【peixun】{title}")

    transaction.on_commit(deliver)


def users_of_organisation(organisation, roles: Iterable[str] | None = None):
    qs = User.objects.filter(organisation=organisation, is_active=True)
    if roles is not None:
        qs = qs.filter(role__in=list(roles))
    return list(qs)


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


def officials_over(area, roles: Iterable[str]) -> list[User]:
    """Officials of the given roles whose area covers `area`: the county bureau of the area itself,
    its city bureau (unless the area reports to the region directly) and the region department."""
    from peixun.core.models import Area

    chain = {area, area.city_level()}
    region_ids = Area.objects.filter(kind=Area.Kind.REGION).values_list("id", flat=True)
    return list(
        User.objects.filter(
            role__in=list(roles),
            is_active=True,
            organisation__area_id__in=[a.id for a in chain] + list(region_ids),
        ).select_related("organisation__area")
    )
