"""TOTP two-factor sign-in for officials (个人信息保护法: those who see ID numbers, health and payroll data)."""

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from peixun.accounts.second_factor import second_factor_reset
from peixun.core.errors import PermissionDeniedError
from peixun.core.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_2fa")]


@pytest.fixture
def require_2fa():
    with override_settings(PEIXUN_REQUIRE_2FA=True):
        yield


def code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def sign_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def test_an_official_binds_an_authenticator_on_first_sign_in_and_only_then_sees_pages(client, world):
    reviewer = world.xincheng_reviewer
    sign_in(client, reviewer)
    assert client.get(reverse("home")).url == reverse("otp_setup")
    assert client.get("/api/v1/me").status_code == 401  # the API too
    page = client.get(reverse("otp_setup")).content.decode()
    assert "data:image/svg+xml" in page and "绑定动态口令" in page
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    refused = client.post(reverse("otp_setup"), {"token": "123"})
    assert "请输入6位数字动态口令" in refused.content.decode()
    done = client.post(reverse("otp_setup"), {"token": code(device)})
    assert done.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert AuditEntry.objects.filter(
        action="user.second_factor_enrolled", object_id=str(reviewer.pk)
    ).exists()


def test_the_next_sign_in_asks_for_the_code_and_wrong_codes_lock_the_account(client, world, settings):
    reviewer = world.xincheng_reviewer
    device = TOTPDevice.objects.create(user=reviewer, name="peixun", confirmed=True)
    sign_in(client, reviewer)
    assert client.get(reverse("person_list")).url == reverse("otp_verify")
    for _ in range(settings.PEIXUN_LOGIN_MAX_FAILURES - 1):
        wrong = client.post(
            reverse("otp_verify"), {"token": "000000" if code(device) != "000000" else "111111"}
        )
        assert "动态口令不正确" in wrong.content.decode()
    locked = client.post(reverse("otp_verify"), {"token": "000000" if code(device) != "000000" else "111111"})
    assert "账户已锁定" in locked.content.decode()
    reviewer.refresh_from_db()
    assert reviewer.locked_until is not None
    still = client.post(reverse("otp_verify"), {"token": code(device)})
    assert "账户已被锁定" in still.content.decode()


def test_a_correct_code_opens_the_session(client, world):
    reviewer = world.xincheng_reviewer
    device = TOTPDevice.objects.create(user=reviewer, name="peixun", confirmed=True)
    sign_in(client, reviewer)
    assert client.post(reverse("otp_verify"), {"token": code(device)}).url == reverse("home")
    assert client.get(reverse("person_list")).status_code == 200


def test_institutions_and_trainees_sign_in_with_the_password_alone(client, world):
    for user in (world.inst_a_operator, world.trainee):
        client.logout()
        sign_in(client, user)
        assert client.get(reverse("home")).status_code == 200


def test_a_lost_phone_is_reset_by_a_user_manager_of_the_area_only(world):
    reviewer = world.xincheng_reviewer
    TOTPDevice.objects.create(user=reviewer, name="peixun", confirmed=True)
    with pytest.raises(PermissionDeniedError):
        second_factor_reset(user=reviewer, actor=world.baotou_admin)
    with pytest.raises(PermissionDeniedError):
        second_factor_reset(user=reviewer, actor=world.huimin_reviewer)
    assert second_factor_reset(user=reviewer, actor=world.hohhot_admin) == 1
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    TOTPDevice.objects.create(user=reviewer, name="peixun", confirmed=True)
    call_command("reset_2fa", reviewer.username)
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    assert AuditEntry.objects.filter(action="user.second_factor_reset").count() == 2
