"""扫码签到 (issue 5): the signed 30-second QR token, who may check in and when, and what a check-in
records (source SELF, method FACE, the selfie's hash, the position as sent)."""

import datetime as dt
import hashlib
import io

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from peixun.accounts.roles import Role
from peixun.accounts.services import user_create
from peixun.attendance.models import AttendanceRecord
from peixun.checkin import tokens
from peixun.checkin.services import CheckinRefused, checkin_check, checkin_submit, lesson_window
from peixun.core.models import Area
from peixun.core.uscc import uscc_complete as uscc
from peixun.institutions.services import institution_register
from peixun.training.models import Enrollment, Lesson, TrainingClass
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SITE = (40.8427, 111.7492)  # 呼和浩特市新城区
FAR = (40.6574, 109.8403)  # 包头市, about 160 km away


def jpeg(color=(200, 160, 120)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, format="JPEG")
    return out.getvalue()


def lesson_now(klass, now=None, **changes) -> Lesson:
    """An offline lesson today whose time covers `now` (whatever time of day the test runs)."""
    now = timezone.localtime(now or timezone.now())
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(midnight, now - dt.timedelta(minutes=10))
    end = min(midnight + dt.timedelta(hours=23, minutes=59), now + dt.timedelta(minutes=60))
    fields = dict(
        training_class=klass,
        date=now.date(),
        start_time=start.time().replace(second=0),
        end_time=end.time().replace(second=0),
        hours=1,
        mode=Lesson.Mode.OFFLINE,
    )
    fields.update(changes)
    return Lesson.objects.create(**fields)


class Site:
    """An institution with its operator, a class at a known site, 李明 on its roster, a lesson now."""

    def __init__(self, world, code="HX2026-0501", seq="000051"):
        self.world = world
        self.institution = institution_register(
            code=uscc(f"52150102MJY{seq}"),
            name=f"鸿翔职业技能培训学校{seq}",
            type="PRIVATE_SCHOOL",
            area=Area.objects.get(code="150102"),
            actor=world.hohhot_admin,
        )
        self.operator = user_create(
            username=f"op{seq}",
            password=PASSWORD,
            role=Role.INSTITUTION_OPERATOR,
            display_name="马文华",
            organisation=self.institution.organisation,
            actor=None,
        )
        today = timezone.localdate()
        self.klass = TrainingClass.objects.create(
            code=code,
            institution=self.institution,
            area=Area.objects.get(code="150102"),
            occupation_code="4-10-01-05",
            occupation_name="养老护理员",
            level="5",
            training_type="EMPLOYMENT",
            start_date=today - dt.timedelta(days=3),
            end_date=today + dt.timedelta(days=10),
            total_hours=120,
            site_address="呼和浩特市新城区新华大街1号",
            site_lat=SITE[0],
            site_lon=SITE[1],
        )
        Enrollment.objects.create(
            training_class=self.klass, person=world.li_ming, category="REGISTERED_UNEMPLOYED"
        )
        self.lesson = lesson_now(self.klass)
        self.trainee = world.trainee


@pytest.fixture
def site(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Site(world)


def chen_jing_user(world):
    return user_create(
        username="chenjing",
        password=PASSWORD,
        role=Role.TRAINEE,
        display_name="陈静",
        person=world.chen_jing,
        actor=None,
    )


# --- the token ------------------------------------------------------------------------------------


def test_token_fresh_in_its_slot_and_the_next():
    now = timezone.now()
    token = tokens.make_token(7, now)
    assert tokens.read_token(token, moment=now) == tokens.QrToken(7, tokens.slot_of(now))
    assert tokens.read_token(token, lesson_id=7, moment=now + dt.timedelta(seconds=30)).lesson_id == 7


def test_token_expired_after_two_slots():
    now = timezone.now()
    token = tokens.make_token(7, now)
    with pytest.raises(tokens.TokenError) as caught:
        tokens.read_token(token, moment=now + dt.timedelta(seconds=60))
    assert caught.value.code == "expired"
    assert caught.value.message == "二维码已过期，请重新扫码"


def test_token_boundaries_exact():
    # made in the first second of slot s: fresh to the last second of slot s+1, expired at s+2
    start = dt.datetime.fromtimestamp(1_800_000_000 - 1_800_000_000 % 30, tz=dt.UTC)
    token = tokens.make_token(3, start)
    assert tokens.read_token(token, moment=start + dt.timedelta(seconds=59.999)).lesson_id == 3
    with pytest.raises(tokens.TokenError, match="已过期"):
        tokens.read_token(token, moment=start + dt.timedelta(seconds=60))


def test_token_of_another_lesson_refused():
    token = tokens.make_token(7)
    with pytest.raises(tokens.TokenError) as caught:
        tokens.read_token(token, lesson_id=8)
    assert caught.value.code == "wrong_lesson"


@pytest.mark.parametrize("tamper", ["payload", "signature", "salt", "garbage", "empty"])
def test_token_tampered_refused(tamper):
    now = timezone.now()
    token = tokens.make_token(7, now)
    value, signature = token.split(":")
    forged = {
        "payload": f"8.{tokens.slot_of(now)}:{signature}",
        "signature": f"{value}:{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        # signed with the same key but without the QR salt (e.g. another feature's signature)
        "salt": __import__("django.core.signing", fromlist=["Signer"]).Signer().sign(value),
        "garbage": "not-a-token",
        "empty": "",
    }[tamper]
    with pytest.raises(tokens.TokenError) as caught:
        tokens.read_token(forged, moment=now)
    assert caught.value.code == "invalid"


def test_token_from_the_future_refused():
    now = timezone.now()
    token = tokens.make_token(7, now + dt.timedelta(seconds=90))
    with pytest.raises(tokens.TokenError):
        tokens.read_token(token, moment=now)


# --- who may check in and when --------------------------------------------------------------------


def test_enrolled_trainee_in_window_may_check_in(site):
    context = checkin_check(user=site.trainee, token=tokens.make_token(site.lesson.pk))
    assert context.lesson == site.lesson
    assert context.enrollment.person == site.world.li_ming


def test_trainee_not_enrolled_refused(site, client):
    chen = chen_jing_user(site.world)
    token = tokens.make_token(site.lesson.pk)
    with pytest.raises(CheckinRefused) as caught:
        checkin_check(user=chen, token=token)
    assert caught.value.code == "not_enrolled"
    client.force_login(chen)
    page = client.get(reverse("checkin:scan", args=[token]))
    assert "不在培训班HX2026-0501的花名册中" in page.content.decode()
    assert "checkin-form" not in page.content.decode()
    response = client.post(
        reverse("checkin:submit"), {"token": token, "photo": _upload(), "lat": SITE[0], "lon": SITE[1]}
    )
    assert response.status_code == 403
    assert not AttendanceRecord.objects.exists()


def test_only_trainees_check_in(site):
    with pytest.raises(CheckinRefused) as caught:
        checkin_check(user=site.operator, token=tokens.make_token(site.lesson.pk))
    assert caught.value.code == "not_trainee"


def test_outside_the_lesson_window_refused(site):
    lesson = Lesson.objects.create(
        training_class=site.klass,
        date=dt.date(2026, 3, 3),
        start_time=dt.time(10, 0),
        end_time=dt.time(11, 30),
        hours=2,
        mode=Lesson.Mode.OFFLINE,
    )
    opens, closes = lesson_window(lesson)
    assert timezone.localtime(opens).time() == dt.time(9, 30)
    assert timezone.localtime(closes).time() == dt.time(12, 0)
    for moment, code in (
        (opens - dt.timedelta(seconds=1), "too_early"),
        (closes + dt.timedelta(seconds=1), "too_late"),
    ):
        token = tokens.make_token(lesson.pk, moment)
        with pytest.raises(CheckinRefused) as caught:
            checkin_check(user=site.trainee, token=token, moment=moment)
        assert caught.value.code == code
    # the edges themselves are inside
    for moment in (opens, closes):
        checkin_check(user=site.trainee, token=tokens.make_token(lesson.pk, moment), moment=moment)
    # another day: refused as such
    next_day = opens + dt.timedelta(days=1, hours=1)
    with pytest.raises(CheckinRefused) as caught:
        checkin_check(user=site.trainee, token=tokens.make_token(lesson.pk, next_day), moment=next_day)
    assert caught.value.code == "not_today"
    assert "2026年03月03日" in caught.value.message


def test_lesson_not_today_refused(site):
    yesterday = lesson_now(site.klass, date=site.lesson.date - dt.timedelta(days=1))
    token = tokens.make_token(yesterday.pk)
    with pytest.raises(CheckinRefused) as caught:
        checkin_check(user=site.trainee, token=token)
    assert caught.value.code == "not_today"


def test_online_lesson_refused(site):
    online = Lesson.objects.create(
        training_class=site.klass,
        date=dt.date(2026, 3, 3),
        start_time=dt.time(10, 0),
        end_time=dt.time(11, 0),
        hours=1,
        mode=Lesson.Mode.ONLINE,
    )
    moment = timezone.make_aware(dt.datetime(2026, 3, 3, 10, 15))
    with pytest.raises(CheckinRefused) as caught:
        checkin_check(user=site.trainee, token=tokens.make_token(online.pk, moment), moment=moment)
    assert caught.value.code == "online_lesson"


# --- the pages ------------------------------------------------------------------------------------


def _upload(data=None, name="selfie.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, jpeg() if data is None else data, content_type="image/jpeg")


def test_scan_page_shows_the_camera_form(site, client):
    client.force_login(site.trainee)
    token = tokens.make_token(site.lesson.pk)
    page = client.get(reverse("checkin:scan", args=[token])).content.decode()
    assert 'id="checkin-form"' in page
    assert f'value="{token}"' in page
    assert "checkin.js" in page
    assert "<script>" not in page  # CSP: no inline script


def test_scan_page_with_expired_token(site, client):
    client.force_login(site.trainee)
    old = tokens.make_token(site.lesson.pk, timezone.now() - dt.timedelta(seconds=61))
    page = client.get(reverse("checkin:scan", args=[old])).content.decode()
    assert "二维码已过期，请重新扫码" in page
    assert "checkin-form" not in page


def test_scan_requires_login(site, client):
    token = tokens.make_token(site.lesson.pk)
    response = client.get(reverse("checkin:scan", args=[token]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_submit_creates_self_record_with_photo_hash(site, client):
    client.force_login(site.trainee)
    photo = jpeg()
    before = timezone.now().replace(microsecond=0)
    response = client.post(
        reverse("checkin:submit"),
        {"token": tokens.make_token(site.lesson.pk), "photo": _upload(photo), "lat": SITE[0], "lon": SITE[1]},
        headers={"X-Checkin-Fetch": "1"},
    )
    assert response.status_code == 200, response.content.decode()
    record = AttendanceRecord.objects.get()
    assert record.source == "SELF"
    assert record.method == AttendanceRecord.Method.FACE
    assert record.person == site.world.li_ming
    assert record.training_class == site.klass
    assert record.photo_sha256 == hashlib.sha256(photo).hexdigest()
    assert (record.lat, record.lon) == SITE
    assert before <= record.check_in <= timezone.now()
    assert record.check_out is None
    html = response.content.decode()
    assert "签到成功" in html
    if apps.is_installed("peixun.faces"):  # the selfie is kept as face evidence of the class
        from peixun.faces.models import FacePhoto

        face = FacePhoto.objects.get()
        assert (face.sha256, face.kind, face.person, face.training_class) == (
            record.photo_sha256,
            "CHECKIN",
            site.world.li_ming,
            site.klass,
        )
    assert timezone.localtime(record.check_in).strftime("%Y-%m-%d %H:%M:%S") in html


def test_second_check_in_in_the_same_lesson_is_not_recorded_again(site, client):
    client.force_login(site.trainee)
    token = tokens.make_token(site.lesson.pk)
    client.post(reverse("checkin:submit"), {"token": token, "photo": _upload()})
    again = client.post(reverse("checkin:submit"), {"token": token, "photo": _upload(jpeg((1, 2, 3)))})
    assert again.status_code == 200
    assert "无需重复签到" in again.content.decode()
    assert AttendanceRecord.objects.count() == 1


def test_far_position_accepted_and_recorded(site):
    done = checkin_submit(
        user=site.trainee, token=tokens.make_token(site.lesson.pk), photo=jpeg(), lat=FAR[0], lon=FAR[1]
    )
    record = AttendanceRecord.objects.get()
    assert (record.lat, record.lon) == FAR
    assert record.check_in == done.check_in


def test_missing_position_accepted(site):
    checkin_submit(user=site.trainee, token=tokens.make_token(site.lesson.pk), photo=jpeg(), lat="", lon=None)
    record = AttendanceRecord.objects.get()
    assert record.lat is None and record.lon is None


def test_submit_with_expired_token_refused(site, client):
    client.force_login(site.trainee)
    old = tokens.make_token(site.lesson.pk, timezone.now() - dt.timedelta(seconds=61))
    response = client.post(
        reverse("checkin:submit"), {"token": old, "photo": _upload()}, headers={"X-Checkin-Fetch": "1"}
    )
    assert response.status_code == 403
    assert "二维码已过期，请重新扫码" in response.content.decode()
    assert not AttendanceRecord.objects.exists()


@pytest.mark.parametrize("data,message", [(None, "未收到自拍照片"), (b"GIF89a not a jpeg", "照片格式不正确")])
def test_submit_without_a_proper_photo_refused(site, client, data, message):
    client.force_login(site.trainee)
    fields = {"token": tokens.make_token(site.lesson.pk)}
    if data is not None:
        fields["photo"] = _upload(data)
    response = client.post(reverse("checkin:submit"), fields)
    assert response.status_code == 403
    assert message in response.content.decode()
    assert not AttendanceRecord.objects.exists()


def test_display_shows_svg_qr_for_the_operator(site, client):
    client.force_login(site.operator)
    page = client.get(reverse("checkin:display", args=[site.lesson.pk])).content.decode()
    assert "<svg" in page and "checkin-qr-svg" in page
    assert 'hx-trigger="load delay:' in page
    assert "已签到 0 / 1 人" in page
    box = client.get(reverse("checkin:qr", args=[site.lesson.pk]) + "?box=1").content.decode()
    assert 'hx-trigger="every 30s"' in box and "<svg" in box
    fragment = client.get(reverse("checkin:qr", args=[site.lesson.pk])).content.decode()
    assert "<svg" in fragment and "hx-trigger" not in fragment
    # the URL in the code is a fresh token for this lesson
    start = fragment.index('data-scan-url="') + len('data-scan-url="')
    url = fragment[start : fragment.index('"', start)]
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert tokens.read_token(token, lesson_id=site.lesson.pk).lesson_id == site.lesson.pk
    listing = client.get(reverse("checkin:lessons")).content.decode()
    assert reverse("checkin:display", args=[site.lesson.pk]) in listing


def test_display_is_the_institutions_own(site, client, world):
    other = Site(world, code="QC2026-0501", seq="000052")
    client.force_login(other.operator)
    assert client.get(reverse("checkin:display", args=[site.lesson.pk])).status_code == 404
    client.force_login(site.trainee)
    assert client.get(reverse("checkin:display", args=[site.lesson.pk])).status_code == 404
    client.force_login(world.region_admin)
    assert client.get(reverse("checkin:qr", args=[site.lesson.pk])).status_code == 404


def test_selfie_goes_through_the_faces_app_when_installed(site, monkeypatch):
    from types import SimpleNamespace

    from peixun.checkin import services
    from peixun.core.errors import PeixunError

    calls = []

    def face_photo_add(**kwargs):
        calls.append(kwargs)
        return SimpleNamespace(sha256=hashlib.sha256(kwargs["image_bytes"]).hexdigest())

    monkeypatch.setattr(services, "_face_photo_add", lambda: face_photo_add)
    photo = jpeg()
    done = checkin_submit(user=site.trainee, token=tokens.make_token(site.lesson.pk), photo=photo)
    (call,) = calls
    assert call["person"] == site.world.li_ming and call["kind"] == "CHECKIN"
    assert call["training_class"] == site.klass and call["taken_at"] == done.check_in
    assert call["image_bytes"] == photo and call["actor"] == site.trainee
    assert AttendanceRecord.objects.get().photo_sha256 == hashlib.sha256(photo).hexdigest()

    def refusing(**kwargs):
        raise PeixunError("照片文件已损坏或无法识别，请重新拍摄后上传")

    monkeypatch.setattr(services, "_face_photo_add", lambda: refusing)
    other = lesson_now(site.klass, date=site.lesson.date + dt.timedelta(days=1))
    moment = timezone.make_aware(dt.datetime.combine(other.date, other.start_time))
    with pytest.raises(CheckinRefused, match="照片文件已损坏"):
        checkin_submit(
            user=site.trainee, token=tokens.make_token(other.pk, moment), photo=photo, moment=moment
        )
    assert AttendanceRecord.objects.count() == 1
