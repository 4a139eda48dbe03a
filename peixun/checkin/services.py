"""Trainee self check-in from a phone browser (issue 5: sites without an attendance device).

The class site shows a QR code that changes every 30 seconds (tokens.py); the trainee scans it,
takes a selfie and sends the position. A check-in is accepted only with a fresh code, from a trainee
on the class's roster, for an offline lesson held today, from 30 minutes before it starts until 30
minutes after it ends. The position is recorded as sent and not judged here: LOCATION_MISMATCH
(rules.md, 1,000 m from the site) judges it later; a check-in without a position is accepted too.
"""

import datetime as dt
import hashlib
import importlib
from dataclasses import dataclass

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from peixun.accounts.roles import Role
from peixun.attendance.models import AttendanceRecord, Source
from peixun.core.errors import PeixunError
from peixun.training.models import Enrollment, Lesson

from .tokens import TokenError, read_token

WINDOW_MARGIN = dt.timedelta(minutes=30)
MAX_PHOTO_BYTES = 5 * 1024 * 1024
SOURCE = Source.SELF


class CheckinRefused(PeixunError):
    code = "checkin_refused"


@dataclass(frozen=True)
class CheckinContext:
    lesson: Lesson
    enrollment: Enrollment


@dataclass(frozen=True)
class CheckinDone:
    lesson: Lesson
    check_in: dt.datetime
    photo_sha256: str
    duplicate: bool = False


def lesson_window(lesson: Lesson) -> tuple[dt.datetime, dt.datetime]:
    """When a trainee may check in for the lesson: ±30 minutes around its time (Asia/Shanghai)."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(lesson.date, lesson.start_time), tz)
    end = timezone.make_aware(dt.datetime.combine(lesson.date, lesson.end_time), tz)
    return start - WINDOW_MARGIN, end + WINDOW_MARGIN


def _refuse(message: str, code: str):
    raise CheckinRefused(message, code=code)


def checkin_check(*, user, token: str, moment: dt.datetime | None = None) -> CheckinContext:
    """Everything that must hold before a trainee may check in with `token`; CheckinRefused with
    the reason in Chinese otherwise."""
    moment = moment or timezone.now()
    if getattr(user, "role", None) != Role.TRAINEE or user.person_id is None:
        _refuse("扫码签到仅供学员使用，请用学员账号登录", "not_trainee")
    try:
        parsed = read_token(token, moment=moment)
    except TokenError as exc:
        raise CheckinRefused(exc.message, code=f"token_{exc.code}") from exc
    lesson = (
        Lesson.objects.select_related("training_class", "training_class__institution")
        .filter(pk=parsed.lesson_id)
        .first()
    )
    if lesson is None:
        _refuse("该课程不存在，请联系培训机构", "no_lesson")
    enrollment = (
        Enrollment.objects.filter(training_class=lesson.training_class, person_id=user.person_id)
        .select_related("person")
        .first()
    )
    if enrollment is None:
        _refuse(f"你不在培训班{lesson.training_class.code}的花名册中，不能签到", "not_enrolled")
    if lesson.mode != Lesson.Mode.OFFLINE:
        _refuse("该课程为线上课程，无需现场签到", "online_lesson")
    opens, closes = lesson_window(lesson)
    # The window decides; "not today" only names the reason better (a lesson ending just before
    # midnight may still be checked into a few minutes after it).
    if not opens <= moment <= closes and lesson.date != timezone.localdate(moment):
        _refuse(f"该课程安排在{lesson.date:%Y年%m月%d日}，不是今天，不能签到", "not_today")
    if moment < opens:
        _refuse(
            f"签到尚未开始：本节课{lesson.start_time:%H:%M}开始，{timezone.localtime(opens):%H:%M}起可签到",
            "too_early",
        )
    if moment > closes:
        _refuse(
            f"签到已结束：本节课{lesson.end_time:%H:%M}结束，签到截止于{timezone.localtime(closes):%H:%M}",
            "too_late",
        )
    return CheckinContext(lesson=lesson, enrollment=enrollment)


def _position(lat, lon) -> tuple[float | None, float | None]:
    """Coordinates as sent by the browser; anything missing or out of range counts as no position."""
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        return None, None
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180) or lat_f != lat_f or lon_f != lon_f:
        return None, None
    return round(lat_f, 7), round(lon_f, 7)


def _check_photo(photo: bytes | None):
    if not photo:
        _refuse("未收到自拍照片，请拍照后再签到", "no_photo")
    if len(photo) > MAX_PHOTO_BYTES:
        _refuse(f"照片超过{MAX_PHOTO_BYTES // 1024 // 1024}MB，请重新拍照", "photo_too_large")
    if not (photo.startswith(b"\xff\xd8\xff") or photo.startswith(b"\x89PNG\r\n\x1a\n")):
        _refuse("照片格式不正确（应为JPEG或PNG），请重新拍照", "photo_format")


def _face_photo_add():
    """faces.face_photo_add when the faces app is installed, else None."""
    if not apps.is_installed("peixun.faces"):
        return None
    module = importlib.import_module("peixun.faces.services")
    return getattr(module, "face_photo_add", None)


def selfie_store(*, person, photo: bytes, actor, training_class, taken_at) -> str:
    """Keep the selfie as evidence and return its sha256: through the faces app (which also compares
    it with the enrolment photo) when installed, else as a file under MEDIA_ROOT/checkin/."""
    sha = hashlib.sha256(photo).hexdigest()
    face_photo_add = _face_photo_add()
    if face_photo_add is not None:
        try:
            stored = face_photo_add(
                person=person,
                image_bytes=photo,
                kind="CHECKIN",
                actor=actor,
                training_class=training_class,
                taken_at=taken_at,
            )
        except PeixunError as exc:
            raise CheckinRefused(exc.message, code="photo_rejected") from exc
        return getattr(stored, "sha256", "") or sha
    ext = "png" if photo.startswith(b"\x89PNG") else "jpg"
    name = f"checkin/{sha[:2]}/{sha}.{ext}"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(photo))
    return sha


def _already_checked_in(context: CheckinContext) -> AttendanceRecord | None:
    opens, closes = lesson_window(context.lesson)
    return (
        AttendanceRecord.objects.filter(
            training_class=context.lesson.training_class,
            person=context.enrollment.person,
            check_in__gte=opens,
            check_in__lte=closes,
        )
        .order_by("check_in")
        .first()
    )


def checkin_submit(
    *, user, token: str, photo: bytes | None, lat=None, lon=None, moment: dt.datetime | None = None
) -> CheckinDone:
    """Record a self check-in: the token is checked again (it may have expired while the trainee
    took the photo), the selfie stored and hashed, the record appended with source SELF, method
    FACE, check-in now and the position sent (or none)."""
    from peixun.attendance.services import AttendanceItem, attendance_append_batch

    moment = (moment or timezone.now()).replace(microsecond=0)
    context = checkin_check(user=user, token=token, moment=moment)
    earlier = _already_checked_in(context)
    if earlier is not None:
        return CheckinDone(context.lesson, earlier.check_in, earlier.photo_sha256, duplicate=True)
    _check_photo(photo)
    lat_v, lon_v = _position(lat, lon)
    klass = context.lesson.training_class
    person = context.enrollment.person
    with transaction.atomic():
        sha = selfie_store(person=person, photo=photo, actor=user, training_class=klass, taken_at=moment)
        result = attendance_append_batch(
            training_class=klass,
            items=[
                AttendanceItem(
                    person=person,
                    check_in=moment,
                    check_out=None,
                    method=AttendanceRecord.Method.FACE,
                    photo_sha256=sha,
                    lat=lat_v,
                    lon=lon_v,
                )
            ],
            source=SOURCE,
            actor=user,
        )
        if result.errors:
            # Nothing was appended: the stored photo goes too (same transaction).
            raise CheckinRefused(result.errors[0].message, code="append_refused")
    return CheckinDone(context.lesson, moment, sha, duplicate=bool(result.duplicates) and not result.created)
