"""Writes for users and organisations: login with lockout, account creation, unlock."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from peixun.core.audit import audit_record
from peixun.core.errors import PeixunError

from .models import Organisation, User
from .roles import Role


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str | None


GENERIC_LOGIN_ERROR = "用户名或密码错误"


def login_attempt(*, request, username: str, password: str) -> LoginResult:
    """Check a password, counting failures; too many lock the account (brute force protection).

    The message for an unknown user and a wrong password is the same, so usernames cannot be probed.
    """
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        if user is not None and user.locked_until and user.locked_until > now:
            minutes = int((user.locked_until - now).total_seconds() // 60) + 1
            return LoginResult(None, f"账户因连续登录失败已被锁定，请{minutes}分钟后再试或联系管理员解锁")
    authenticated = authenticate(request, username=username, password=password)
    with transaction.atomic():
        if authenticated is not None:
            User.objects.filter(pk=authenticated.pk).update(failed_logins=0, locked_until=None)
            authenticated.failed_logins = 0
            return LoginResult(authenticated, None)
        if user is None:
            return LoginResult(None, GENERIC_LOGIN_ERROR)
        user = User.objects.select_for_update().get(pk=user.pk)
        user.failed_logins += 1
        fields = ["failed_logins"]
        message = GENERIC_LOGIN_ERROR
        if user.failed_logins >= settings.PEIXUN_LOGIN_MAX_FAILURES:
            user.locked_until = now + dt.timedelta(minutes=settings.PEIXUN_LOGIN_LOCK_MINUTES)
            user.failed_logins = 0
            fields.append("locked_until")
            message = f"连续{settings.PEIXUN_LOGIN_MAX_FAILURES}次登录失败，账户已锁定{settings.PEIXUN_LOGIN_LOCK_MINUTES}分钟"
            audit_record(
                actor=None,
                action="user.locked",
                obj=user,
                area=user.organisation.area if user.organisation else None,
                organisation=user.organisation,
                after={"locked_until": user.locked_until},
            )
        user.save(update_fields=fields)
        return LoginResult(None, message)


def user_unlock(*, user: User, actor: User) -> None:
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = {"locked_until": locked.locked_until}
        locked.locked_until = None
        locked.failed_logins = 0
        locked.save(update_fields=["locked_until", "failed_logins"])
        audit_record(
            actor=actor,
            action="user.unlocked",
            obj=locked,
            area=locked.organisation.area if locked.organisation else None,
            organisation=locked.organisation,
            before=before,
            after={"locked_until": None},
        )


# Which roles belong to which kind of organisation; a mismatch is a configuration error.
ROLES_BY_ORG_KIND: dict[str, frozenset[str]] = {
    Organisation.Kind.REGION_DEPT: frozenset(
        {Role.REGION_ADMIN, Role.REVIEWER, Role.FINANCE, Role.INSPECTOR}
    ),
    Organisation.Kind.CITY_BUREAU: frozenset({Role.CITY_ADMIN, Role.REVIEWER, Role.FINANCE, Role.INSPECTOR}),
    Organisation.Kind.COUNTY_BUREAU: frozenset({Role.REVIEWER, Role.FINANCE, Role.INSPECTOR}),
    Organisation.Kind.INSTITUTION: frozenset({Role.INSTITUTION_OPERATOR}),
    Organisation.Kind.EVALUATION_BODY: frozenset({Role.EVALUATOR_OPERATOR}),
    Organisation.Kind.ONLINE_PLATFORM: frozenset({Role.PLATFORM_OPERATOR}),
}


def user_create(
    *,
    username: str,
    password: str,
    role: str,
    display_name: str,
    actor: User | None,
    organisation: Organisation | None = None,
    person=None,
) -> User:
    if role == Role.TRAINEE:
        if person is None or organisation is not None:
            raise PeixunError("学员账户必须关联本人身份信息，且不属于任何单位")
    elif organisation is None or role not in ROLES_BY_ORG_KIND[organisation.kind]:
        raise PeixunError(f"角色“{Role(role).label}”不能设在该类单位")
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise PeixunError(f"用户名“{username}”已被使用")
        user = User(
            username=username, role=role, display_name=display_name, organisation=organisation, person=person
        )
        user.set_password(password)
        user.save()
        audit_record(
            actor=actor,
            action="user.created",
            obj=user,
            area=organisation.area if organisation else None,
            organisation=organisation,
            after={
                "username": username,
                "role": str(Role(role).label),
                "organisation": organisation.name if organisation else None,
            },
        )
    return user


def organisation_create(*, name: str, kind: str, area, actor: User | None, uscc: str = "") -> Organisation:
    with transaction.atomic():
        org = Organisation.objects.create(name=name, kind=kind, area=area, uscc=uscc)
        audit_record(
            actor=actor,
            action="organisation.created",
            obj=org,
            area=area,
            organisation=org,
            after={"name": name, "kind": kind, "area": area.code, "uscc": uscc},
        )
    return org


# --- people as seen by users -------------------------------------------------------------------


def person_register(
    *,
    id_number: str,
    name: str,
    actor: User | None,
    organisation: Organisation | None = None,
    kind: str = "TRAINEE",
    phone: str = "",
    area=None,
):
    """Enter a person (or find them) and, when an organisation registers them, record that it may
    now see them. Used by pages, the API, importers and seed data alike."""
    from peixun.core.services import person_get_or_create

    from .models import PersonAffiliation

    with transaction.atomic():
        person, created = person_get_or_create(
            id_number=id_number, name=name, actor=actor, phone=phone, area=area
        )
        if organisation is not None:
            _aff, new_link = PersonAffiliation.objects.get_or_create(
                person=person, organisation=organisation, kind=kind
            )
            if new_link:
                audit_record(
                    actor=actor,
                    action="person.affiliated",
                    obj=person,
                    area=person.area,
                    organisation=organisation,
                    after={"organisation": organisation.name, "kind": kind},
                )
    return person, created


def person_file_viewed(*, person, viewer: User, ip: str | None = None) -> None:
    """Every view of a person's file is logged (个人信息保护法)."""
    from peixun.core.models import PersonAccessLog

    PersonAccessLog.objects.create(viewer=viewer, person=person, kind=PersonAccessLog.Kind.VIEW_FILE, ip=ip)


def person_reveal_id(*, person, viewer: User, ip: str | None = None) -> str:
    """The full ID number for a viewer whose role needs it; the display is logged.

    The caller has already fetched `person` through the scope helper; here the role is checked.
    """
    from peixun.core.errors import PermissionDeniedError
    from peixun.core.models import PersonAccessLog

    from .roles import Perm, has_perm

    if not has_perm(viewer, Perm.REVEAL_ID_NUMBER):
        raise PermissionDeniedError("您的角色无权查看完整身份证号")
    PersonAccessLog.objects.create(viewer=viewer, person=person, kind=PersonAccessLog.Kind.REVEAL_ID, ip=ip)
    return person.reveal_id_number()
