"""Second factor (TOTP, 动态口令) for officials: they see full ID numbers, health and payroll data, so
a stolen password alone must not open peixun. One function per action, used by the pages and the
`reset_2fa` command; failed codes count toward the same lockout as failed passwords."""

import base64
import datetime as dt

import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from peixun.core.audit import audit_record
from peixun.core.errors import PeixunError, PermissionDeniedError

from .models import User
from .roles import OFFICIAL_ROLES, Perm, has_perm

DEVICE_NAME = "peixun"


def second_factor_required(user) -> bool:
    return bool(settings.PEIXUN_REQUIRE_2FA) and getattr(user, "role", None) in OFFICIAL_ROLES


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def enrolment_device(user) -> TOTPDevice:
    """The unconfirmed device being set up (a new key each time setup starts over)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def provisioning_qr(device: TOTPDevice) -> str:
    """The otpauth:// URI as an SVG data URI (drawn here: no inline script, no external service)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=4, border=2)


def secret_text(device: TOTPDevice) -> str:
    """The key in Base32, grouped by four, for entering by hand in an authenticator app."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _count_failure(user: User) -> str:
    now = timezone.now()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.failed_logins += 1
        fields = ["failed_logins"]
        if locked.failed_logins >= settings.PEIXUN_LOGIN_MAX_FAILURES:
            locked.locked_until = now + dt.timedelta(minutes=settings.PEIXUN_LOGIN_LOCK_MINUTES)
            locked.failed_logins = 0
            fields.append("locked_until")
            audit_record(
                actor=None,
                action="user.locked",
                obj=locked,
                area=locked.organisation.area if locked.organisation else None,
                organisation=locked.organisation,
                after={"locked_until": locked.locked_until, "reason": "动态口令连续错误"},
            )
            locked.save(update_fields=fields)
            return f"动态口令连续{settings.PEIXUN_LOGIN_MAX_FAILURES}次错误，账户已锁定{settings.PEIXUN_LOGIN_LOCK_MINUTES}分钟"
        locked.save(update_fields=fields)
    return "动态口令不正确，请核对手机上当前显示的6位数字"


def _clean(token: str) -> str:
    token = "".join((token or "").split())
    if not (token.isdigit() and len(token) == 6):
        raise PeixunError("请输入6位数字动态口令")
    return token


def second_factor_enrol(*, request, token: str) -> TOTPDevice:
    """Confirm the authenticator app with its first code; the session is verified at once."""
    user = request.user
    token = _clean(token)
    device = enrolment_device(user)
    if not device.verify_token(token):
        raise PeixunError(_count_failure(user))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        User.objects.filter(pk=user.pk).update(failed_logins=0)
        audit_record(
            actor=user,
            action="user.second_factor_enrolled",
            obj=user,
            area=user.organisation.area if user.organisation else None,
            organisation=user.organisation,
        )
    otp_login(request, device)
    return device


def second_factor_verify(*, request, token: str) -> None:
    user = request.user
    if user.locked_until and user.locked_until > timezone.now():
        raise PeixunError("账户已被锁定，请稍后再试或联系管理员解锁")
    token = _clean(token)
    device = confirmed_device(user)
    if device is None:
        raise PeixunError("尚未绑定动态口令，请先完成绑定")
    if not device.verify_token(token):
        raise PeixunError(_count_failure(user))
    User.objects.filter(pk=user.pk).update(failed_logins=0)
    otp_login(request, device)


def second_factor_reset(*, user: User, actor) -> int:
    """A lost phone: the user sets up a new authenticator at the next sign-in. Only user managers
    (region and city admins) within their scope; recorded in the audit chain."""
    from .scope import restrict

    if actor is not None:
        if (
            not has_perm(actor, Perm.MANAGE_USERS)
            or not restrict(User.objects.filter(pk=user.pk), actor).exists()
        ):
            raise PermissionDeniedError("您无权重置该用户的动态口令")
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        audit_record(
            actor=actor,
            action="user.second_factor_reset",
            obj=user,
            area=user.organisation.area if user.organisation else None,
            organisation=user.organisation,
            after={"devices_removed": removed},
        )
    return removed
