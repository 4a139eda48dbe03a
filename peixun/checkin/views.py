"""扫码签到 pages.

- The institution's operator opens `display` on the screen of the class site: a QR code, drawn as
  SVG on the server (segno), refreshed by htmx every 30 seconds in step with the token's time slots.
- The trainee scans it on the phone (`scan`, logged in as a trainee); the page (checkin.js) takes a
  selfie with the camera and the position and posts them to `submit`.

A refused check-in is answered with a page giving the reason in Chinese (status 200 for the page
the trainee lands on from the QR code, 403 for the posted check-in).
"""

import datetime as dt

import segno
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from peixun.accounts.roles import Role
from peixun.accounts.scope import get_scoped_or_404, restrict
from peixun.attendance.models import AttendanceRecord
from peixun.training.models import Lesson

from .services import MAX_PHOTO_BYTES, CheckinRefused, checkin_check, checkin_submit, lesson_window
from .tokens import SLOT_SECONDS, make_token, slot_ends_at, slot_of

FETCH_HEADER = "X-Checkin-Fetch"


def _operator_lessons(request):
    if request.user.role != Role.INSTITUTION_OPERATOR:
        raise Http404("页面不存在")
    return restrict(Lesson.objects.select_related("training_class"), request.user)


@login_required
@require_GET
def lessons(request):
    """Today's offline lessons of the operator's classes, each with its check-in screen."""
    today = timezone.localdate()
    rows = (
        _operator_lessons(request)
        .filter(date=today, mode=Lesson.Mode.OFFLINE)
        .order_by("start_time", "training_class__code")
    )
    return render(request, "checkin/lessons.html", {"lessons": rows, "today": today})


def _qr_context(request, lesson: Lesson) -> dict:
    now = timezone.now()
    token = make_token(lesson.pk, now)
    url = request.build_absolute_uri(reverse("checkin:scan", args=[token]))
    svg = segno.make(url, error="m", micro=False).svg_inline(
        scale=1, border=4, omitsize=True, title="签到二维码", svgclass="checkin-qr-svg", lineclass=None
    )
    opens, closes = lesson_window(lesson)
    checked_in = AttendanceRecord.objects.filter(
        training_class=lesson.training_class, check_in__gte=opens, check_in__lte=closes
    ).aggregate(n=Count("person", distinct=True))["n"]
    return {
        "lesson": lesson,
        "klass": lesson.training_class,
        "qr_svg": svg,
        "scan_url": url,
        "generated_at": timezone.localtime(now),
        "changes_at": timezone.localtime(slot_ends_at(slot_of(now))),
        "checked_in": checked_in,
        "enrolled": lesson.training_class.enrollments.count(),
        "qr_url": reverse("checkin:qr", args=[lesson.pk]),
    }


@login_required
@require_GET
def display(request, pk: int):
    lesson = get_scoped_or_404(_operator_lessons(request), request.user, pk=pk)
    context = _qr_context(request, lesson)
    # The 30-second poll starts just after the next slot begins, so the code on the screen is
    # always one of the two a scan accepts, with at least 29 seconds left when it is replaced.
    now = timezone.now()
    next_slot = slot_ends_at(slot_of(now))
    context["align_ms"] = int((next_slot - now) / dt.timedelta(milliseconds=1)) + 1000
    context["slot_seconds"] = SLOT_SECONDS
    return render(request, "checkin/display.html", context)


@login_required
@require_GET
def qr(request, pk: int):
    """The htmx fragment: a fresh code. `?box=1` answers the polling element itself (first call)."""
    lesson = get_scoped_or_404(_operator_lessons(request), request.user, pk=pk)
    template = "checkin/_qr_box.html" if request.GET.get("box") else "checkin/_qr.html"
    return render(request, template, _qr_context(request, lesson))


@login_required
@require_GET
def scan(request, token: str):
    try:
        context = checkin_check(user=request.user, token=token)
    except CheckinRefused as exc:
        return render(request, "checkin/refused.html", {"message": exc.message, "code": exc.code})
    opens, closes = lesson_window(context.lesson)
    return render(
        request,
        "checkin/scan.html",
        {
            "token": token,
            "lesson": context.lesson,
            "klass": context.lesson.training_class,
            "person": context.enrollment.person,
            "opens": timezone.localtime(opens),
            "closes": timezone.localtime(closes),
            "max_photo_mb": MAX_PHOTO_BYTES // 1024 // 1024,
        },
    )


@login_required
@require_POST
def submit(request):
    fetched = request.headers.get(FETCH_HEADER) == "1"
    upload = request.FILES.get("photo")
    try:
        if upload is not None and upload.size > MAX_PHOTO_BYTES:
            raise CheckinRefused(
                f"照片超过{MAX_PHOTO_BYTES // 1024 // 1024}MB，请重新拍照", code="photo_too_large"
            )
        photo = upload.read() if upload is not None else None
        done = checkin_submit(
            user=request.user,
            token=request.POST.get("token", ""),
            photo=photo,
            lat=request.POST.get("lat") or None,
            lon=request.POST.get("lon") or None,
        )
    except CheckinRefused as exc:
        context = {"message": exc.message, "code": exc.code}
        template = "checkin/_refused.html" if fetched else "checkin/refused.html"
        return render(request, template, context, status=403)
    context = {
        "done": done,
        "klass": done.lesson.training_class,
        "check_in": timezone.localtime(done.check_in),
    }
    template = "checkin/_done.html" if fetched else "checkin/done.html"
    return render(request, template, context)
