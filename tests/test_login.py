"""Login through the real page: lockout against password guessing, unlock by an administrator.

网络安全等级保护基本要求 (GB/T 22239-2019, 安全计算环境·身份鉴别): 登录失败处理 — the number of
failed logins is limited and the account locked; 个人信息保护法 第五十一条(三)(四): security measures
and 操作权限 protect the personal data behind the login. Passwords are stored with Argon2.
"""

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from peixun.accounts.models import User
from peixun.accounts.services import GENERIC_LOGIN_ERROR
from peixun.core.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ALERT = re.compile(r'<div class="alert alert-danger py-2" role="alert">(.*?)</div>', re.S)
PROJECT_DIR = Path(__file__).resolve().parent.parent


def post_login(client, username: str, password: str, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def error_of(response) -> str | None:
    found = ALERT.search(response.content.decode())
    return found.group(1).strip() if found else None


def logged_in(client) -> bool:
    return SESSION_KEY in client.session


def lock_by_guessing(client, username: str):
    """Post wrong passwords until the configured limit; return the last response."""
    response = None
    for _ in range(settings.PEIXUN_LOGIN_MAX_FAILURES):
        response = post_login(client, username, "wrong-password")
    return response


class Clock:
    """Moves `timezone.now()` (and so every lock computation) by hand."""

    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta):
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


# --- logging in ---------------------------------------------------------------------------------


def test_login_page_has_username_and_password_fields(client, db):
    html = client.get(reverse("login")).content.decode()
    assert 'name="username"' in html
    assert 'name="password" type="password"' in html
    assert "csrfmiddlewaretoken" in html


def test_correct_password_logs_in_and_lands_on_home(client, world):
    response = post_login(client, "zhao_xincheng", PASSWORD, follow=True)
    assert response.redirect_chain == [(reverse("home"), 302)]
    assert response.status_code == 200
    assert response.context["user"] == world.xincheng_reviewer
    assert "待办事项" in response.content.decode()
    assert logged_in(client)


def test_login_follows_a_local_next_but_never_an_offsite_one(client, world):
    response = client.post(
        reverse("login") + "?next=/people/", {"username": "zhao_xincheng", "password": PASSWORD}
    )
    assert response["Location"] == "/people/"
    client.logout()
    response = client.post(
        reverse("login") + "?next=//evil.example/", {"username": "zhao_xincheng", "password": PASSWORD}
    )
    assert response["Location"] == reverse("home")


def test_wrong_password_is_refused_with_the_generic_message(client, world):
    response = post_login(client, "zhao_xincheng", "not-the-password")
    assert response.status_code == 200
    assert error_of(response) == GENERIC_LOGIN_ERROR == "用户名或密码错误"
    assert not logged_in(client)


def test_unknown_username_and_wrong_password_give_the_same_answer(client, world):
    """Usernames cannot be probed: an unknown user reads exactly like a wrong password."""
    unknown = post_login(client, "no_such_user", "whatever-password")
    wrong = post_login(client, "zhao_xincheng", "whatever-password")
    assert unknown.status_code == wrong.status_code == 200
    assert error_of(unknown) == error_of(wrong) == GENERIC_LOGIN_ERROR
    assert not User.objects.filter(username="no_such_user").exists()


def test_unknown_username_is_never_locked_out_differently(client, world):
    """Even after many tries an unknown username keeps answering the generic message."""
    for _ in range(settings.PEIXUN_LOGIN_MAX_FAILURES + 2):
        response = post_login(client, "no_such_user", "whatever-password")
    assert error_of(response) == GENERIC_LOGIN_ERROR


# --- lockout ------------------------------------------------------------------------------------


def test_lockout_limit_is_five_failures_for_fifteen_minutes():
    assert settings.PEIXUN_LOGIN_MAX_FAILURES == 5
    assert settings.PEIXUN_LOGIN_LOCK_MINUTES == 15


def test_four_wrong_passwords_do_not_lock(client, world):
    for _ in range(settings.PEIXUN_LOGIN_MAX_FAILURES - 1):
        response = post_login(client, "zhao_xincheng", "wrong-password")
        assert error_of(response) == GENERIC_LOGIN_ERROR
    world.xincheng_reviewer.refresh_from_db()
    assert world.xincheng_reviewer.locked_until is None
    assert world.xincheng_reviewer.failed_logins == settings.PEIXUN_LOGIN_MAX_FAILURES - 1
    assert post_login(client, "zhao_xincheng", PASSWORD).status_code == 302
    assert logged_in(client)


def test_five_wrong_passwords_lock_the_account_and_say_so(client, world):
    response = lock_by_guessing(client, "zhao_xincheng")
    message = error_of(response)
    assert "锁定" in message
    assert f"连续{settings.PEIXUN_LOGIN_MAX_FAILURES}次登录失败" in message
    assert f"{settings.PEIXUN_LOGIN_LOCK_MINUTES}分钟" in message
    world.xincheng_reviewer.refresh_from_db()
    assert world.xincheng_reviewer.locked_until > timezone.now() + dt.timedelta(
        minutes=settings.PEIXUN_LOGIN_LOCK_MINUTES - 1
    )


def test_locked_account_refuses_even_the_correct_password(client, world):
    lock_by_guessing(client, "zhao_xincheng")
    response = post_login(client, "zhao_xincheng", PASSWORD)
    assert response.status_code == 200
    assert not logged_in(client)
    message = error_of(response)
    assert message != GENERIC_LOGIN_ERROR
    assert "锁定" in message
    assert "分钟后再试" in message


def test_locking_writes_an_audit_entry(client, world):
    lock_by_guessing(client, "zhao_xincheng")
    entry = AuditEntry.objects.get(action="user.locked")
    assert entry.object_id == str(world.xincheng_reviewer.pk)
    assert entry.area == world.xincheng.area
    assert entry.after["locked_until"]


def test_lock_threshold_follows_the_setting(client, world, settings):
    settings.PEIXUN_LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        assert error_of(post_login(client, "zhao_xincheng", "wrong")) == GENERIC_LOGIN_ERROR
    assert "锁定" in error_of(post_login(client, "zhao_xincheng", "wrong"))
    assert "锁定" in error_of(post_login(client, "zhao_xincheng", PASSWORD))


def test_lock_expires_after_the_lock_period(client, world, clock):
    lock_by_guessing(client, "zhao_xincheng")
    clock.advance(minutes=settings.PEIXUN_LOGIN_LOCK_MINUTES - 1)
    assert "锁定" in error_of(post_login(client, "zhao_xincheng", PASSWORD))
    assert not logged_in(client)
    clock.advance(minutes=1, seconds=1)
    response = post_login(client, "zhao_xincheng", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert logged_in(client)
    world.xincheng_reviewer.refresh_from_db()
    assert world.xincheng_reviewer.locked_until is None


def test_a_lock_set_in_the_past_no_longer_blocks(client, world):
    User.objects.filter(pk=world.xincheng_reviewer.pk).update(
        locked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    response = post_login(client, "zhao_xincheng", PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_after_the_lock_expires_a_wrong_password_starts_counting_again(client, world, clock):
    lock_by_guessing(client, "zhao_xincheng")
    clock.advance(minutes=settings.PEIXUN_LOGIN_LOCK_MINUTES + 1)
    assert error_of(post_login(client, "zhao_xincheng", "wrong")) == GENERIC_LOGIN_ERROR
    world.xincheng_reviewer.refresh_from_db()
    assert world.xincheng_reviewer.failed_logins == 1


def test_successful_login_resets_the_failure_count(client, world):
    almost = settings.PEIXUN_LOGIN_MAX_FAILURES - 1
    for _ in range(almost):
        post_login(client, "zhao_xincheng", "wrong-password")
    world.xincheng_reviewer.refresh_from_db()
    assert world.xincheng_reviewer.failed_logins == almost

    assert post_login(client, "zhao_xincheng", PASSWORD).status_code == 302
    world.xincheng_reviewer.refresh_from_db()
    assert world.xincheng_reviewer.failed_logins == 0
    client.logout()

    # Another run of almost-the-limit failures still does not lock: the count started again.
    for _ in range(almost):
        assert error_of(post_login(client, "zhao_xincheng", "wrong-password")) == GENERIC_LOGIN_ERROR
    world.xincheng_reviewer.refresh_from_db()
    assert world.xincheng_reviewer.locked_until is None
    assert post_login(client, "zhao_xincheng", PASSWORD).status_code == 302


def test_locking_one_account_leaves_others_alone(client, world):
    lock_by_guessing(client, "zhao_xincheng")
    assert post_login(client, "wu_huimin", PASSWORD).status_code == 302


# --- the administrator's side -------------------------------------------------------------------


def test_city_admin_sees_the_locked_user_in_the_locked_filter(client, world):
    lock_by_guessing(client, "zhao_xincheng")
    client.force_login(world.hohhot_admin)
    html = client.get(reverse("user_list"), {"locked": "1"}).content.decode()
    assert "zhao_xincheng" in html
    assert "wu_huimin" not in html  # not locked
    assert reverse("user_unlock", args=[world.xincheng_reviewer.pk]) in html
    # The unfiltered list has both.
    html = client.get(reverse("user_list")).content.decode()
    assert "zhao_xincheng" in html
    assert "wu_huimin" in html
    # Users of another city or of the region department are outside the city admin's scope.
    assert "liu_baotou" not in html
    assert "wang_region" not in html


def test_city_admin_home_lists_the_locked_account_as_pending(client, world):
    client.force_login(world.hohhot_admin)
    before = client.get(reverse("home")).content.decode()
    assert "因连续登录失败被锁定" not in before
    client.logout()
    lock_by_guessing(client, "zhao_xincheng")
    client.force_login(world.hohhot_admin)
    html = client.get(reverse("home")).content.decode()
    assert "账户“赵晓东”（新城区就业服务中心）因连续登录失败被锁定" in html
    assert reverse("user_list") + "?locked=1" in html


def test_another_citys_admin_does_not_see_the_locked_account(client, world):
    lock_by_guessing(client, "zhao_xincheng")
    client.force_login(world.baotou_admin)
    assert "赵晓东" not in client.get(reverse("home")).content.decode()
    assert "zhao_xincheng" not in client.get(reverse("user_list"), {"locked": "1"}).content.decode()


def test_city_admin_unlocks_a_user_and_the_unlock_is_audited(client, world):
    lock_by_guessing(client, "zhao_xincheng")
    client.force_login(world.hohhot_admin)
    response = client.post(reverse("user_unlock", args=[world.xincheng_reviewer.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("user_list")
    world.xincheng_reviewer.refresh_from_db()
    assert world.xincheng_reviewer.locked_until is None
    assert world.xincheng_reviewer.failed_logins == 0

    entry = AuditEntry.objects.get(action="user.unlocked")
    assert entry.actor == world.hohhot_admin
    assert entry.object_id == str(world.xincheng_reviewer.pk)
    assert entry.before["locked_until"] is not None
    assert entry.after == {"locked_until": None}

    assert "zhao_xincheng" not in client.get(reverse("user_list"), {"locked": "1"}).content.decode()
    client.logout()
    assert post_login(client, "zhao_xincheng", PASSWORD).status_code == 302


def test_another_citys_admin_cannot_unlock_a_hohhot_user(client, world):
    lock_by_guessing(client, "zhao_xincheng")
    client.force_login(world.baotou_admin)
    response = client.post(reverse("user_unlock", args=[world.xincheng_reviewer.pk]))
    assert response.status_code == 404
    world.xincheng_reviewer.refresh_from_db()
    assert world.xincheng_reviewer.locked_until is not None
    assert not AuditEntry.objects.filter(action="user.unlocked").exists()


def test_unlocking_a_missing_user_is_the_same_404(client, world):
    client.force_login(world.baotou_admin)
    foreign = client.post(reverse("user_unlock", args=[world.xincheng_reviewer.pk]))
    missing = client.post(reverse("user_unlock", args=[999999]))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content


def test_a_reviewer_cannot_unlock_anyone(client, world):
    lock_by_guessing(client, "wu_huimin")
    client.force_login(world.xincheng_reviewer)
    assert client.get(reverse("user_list")).status_code == 404
    assert client.post(reverse("user_unlock", args=[world.huimin_reviewer.pk])).status_code == 404
    world.huimin_reviewer.refresh_from_db()
    assert world.huimin_reviewer.locked_until is not None


def test_unlock_needs_a_post(client, world):
    lock_by_guessing(client, "zhao_xincheng")
    client.force_login(world.hohhot_admin)
    assert client.get(reverse("user_unlock", args=[world.xincheng_reviewer.pk])).status_code == 405
    world.xincheng_reviewer.refresh_from_db()
    assert world.xincheng_reviewer.locked_until is not None


# --- password storage ---------------------------------------------------------------------------


ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_argon2_is_the_first_real_hasher_in_settings():
    """Tests put MD5 first for speed; behind it Argon2 must lead, as it does in production."""
    real = [h for h in settings.PASSWORD_HASHERS if "MD5" not in h]
    assert real[0] == ARGON2


def test_production_settings_hash_passwords_with_argon2(tmp_path):
    """Load peixun.settings as production does (no PEIXUN_TESTING) and read its first hasher."""
    env = {k: v for k, v in os.environ.items() if k not in ("PEIXUN_TESTING", "PEIXUN_DEBUG")}
    env.update(
        SECRET_KEY="production-like-secret-key-for-this-test-only-0123456789",
        PEIXUN_IDENTITY_KEY=settings.PEIXUN_IDENTITY_KEY,
        PEIXUN_VAR_DIR=str(tmp_path),
    )
    out = subprocess.run(
        [sys.executable, "-c", "import peixun.settings as s; print(s.PASSWORD_HASHERS[0])"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ARGON2


def test_argon2_hasher_is_installed_and_verifies():
    from django.contrib.auth.hashers import check_password, make_password

    encoded = make_password("Another-Passw0rd", hasher="argon2")
    assert encoded.startswith("argon2$argon2id$")
    assert check_password("Another-Passw0rd", encoded)
    assert not check_password("another-passw0rd", encoded)


def test_passwords_are_never_stored_in_clear(world):
    stored = User.objects.get(pk=world.xincheng_reviewer.pk).password
    assert PASSWORD not in stored
    assert world.xincheng_reviewer.check_password(PASSWORD)
