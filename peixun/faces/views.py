"""Pages: the classes in scope, a class roster with each trainee's enrolment photo (入学照片) —
uploaded there by the institution's operator, viewed by officials — and the photos themselves.

Only the institution's own operators upload (their scope is their organisation, so they reach only
their own classes and trainees); officials see the classes of their area; anyone else gets 404.
"""

import io
import mimetypes
import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from PIL import Image, ImageOps

from peixun.accounts.roles import OFFICIAL_ROLES, Role
from peixun.accounts.scope import get_scoped_or_404, restrict, scope_of
from peixun.core.errors import PeixunError
from peixun.training.models import Enrollment, TrainingClass

from . import services
from .models import FacePhoto

PAGE_SIZE = 50
PAGE_ROLES = OFFICIAL_ROLES | {Role.INSTITUTION_OPERATOR}
THUMB_SIZE = 120


def page_gate(view):
    """The pages concern officials and institutions; any other role answers 404."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.role not in PAGE_ROLES:
            raise Http404("页面不存在")
        return view(request, *args, **kwargs)

    return wrapped


def can_upload(user) -> bool:
    return user.role == Role.INSTITUTION_OPERATOR and scope_of(user).organisation_id is not None


@page_gate
def class_list(request):
    classes = (
        restrict(TrainingClass.objects.select_related("institution", "area"), request.user)
        .annotate(
            trainees=Count("enrollments", distinct=True),
            checkin_photos=Count("face_photos", distinct=True),
        )
        .order_by("-start_date", "code")
    )
    q = request.GET.get("q", "").strip()
    if q:
        classes = classes.filter(Q(code__icontains=q) | Q(occupation_name__contains=q))
    page = Paginator(classes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "faces/classes.html", {"page": page, "q": q, "can_upload": can_upload(request.user)}
    )


@page_gate
def enrolment(request, pk: int):
    user = request.user
    klass = get_scoped_or_404(TrainingClass.objects.select_related("institution", "area"), user, pk=pk)
    uploader = can_upload(user)
    if request.method == "POST":
        if not uploader:
            raise Http404("页面不存在")
        return _upload(request, klass)
    enrollments = list(klass.enrollments.select_related("person").order_by("person__name", "pk"))
    person_ids = [e.person_id for e in enrollments]
    latest = {}
    for photo in FacePhoto.objects.filter(kind=FacePhoto.Kind.ENROLMENT, person_id__in=person_ids).order_by(
        "person_id", "-taken_at", "-id"
    ):
        latest.setdefault(photo.person_id, photo)
    checkins = dict(
        FacePhoto.objects.filter(kind=FacePhoto.Kind.CHECKIN, training_class=klass)
        .values_list("person_id")
        .annotate(n=Count("id"))
        .values_list("person_id", "n")
    )
    rows = [
        {
            "enrollment": e,
            "person": e.person,
            "photo": latest.get(e.person_id),
            "checkins": checkins.get(e.person_id, 0),
        }
        for e in enrollments
    ]
    missing = sum(1 for r in rows if r["photo"] is None or not r["photo"].face_found)
    return render(
        request,
        "faces/enrolment.html",
        {
            "klass": klass,
            "rows": rows,
            "missing": missing,
            "can_upload": uploader,
            "max_mb": services.MAX_PHOTO_BYTES // 1024 // 1024,
        },
    )


def _upload(request, klass: TrainingClass):
    back = reverse("faces:enrolment", args=[klass.pk])
    enrollment = (
        Enrollment.objects.select_related("person")
        .filter(training_class=klass, person__public_id=_uuid_or_none(request.POST.get("person")))
        .first()
    )
    if enrollment is None:
        raise Http404("学员不在本班花名册中")
    person = enrollment.person
    upload = request.FILES.get("photo")
    if upload is None:
        messages.error(request, f"{person.name}：请选择要上传的照片")
        return redirect(back)
    if upload.size > services.MAX_PHOTO_BYTES:
        # refused before reading the whole file into memory
        messages.error(
            request, f"{person.name}：照片超过5MB（{upload.size / 1024 / 1024:.1f}MB），请压缩后上传"
        )
        return redirect(back)
    try:
        photo = services.face_photo_add(
            person=person, image_bytes=upload.read(), kind=FacePhoto.Kind.ENROLMENT, actor=request.user
        )
    except PeixunError as exc:
        messages.error(request, f"{person.name}：{exc.message}")
        return redirect(back)
    if photo.face_found:
        note = photo.face_message
        messages.success(request, f"已上传{person.name}的入学照片" + (f"。{note}" if note else ""))
    else:
        messages.warning(request, f"{person.name}：{photo.face_message}")
    return redirect(back)


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _visible_photo(request, pk: int) -> FacePhoto:
    if request.user.role not in PAGE_ROLES:
        raise Http404("页面不存在")
    photo = services.face_photos_visible(request.user).filter(pk=pk).first()
    if photo is None:
        raise Http404("对象不存在或无权查看")
    return photo


@login_required
def photo(request, pk: int):
    """The archived photo as uploaded (inline)."""
    face_photo = _visible_photo(request, pk)
    try:
        handle = face_photo.image.open("rb")
    except FileNotFoundError as exc:
        raise Http404("文件不存在") from exc
    content_type = mimetypes.guess_type(face_photo.image.name)[0] or "application/octet-stream"
    return FileResponse(handle, content_type=content_type)


@login_required
def photo_thumbnail(request, pk: int):
    """A small JPEG for the roster (a 5 MB photo per row would make the page heavy)."""
    face_photo = _visible_photo(request, pk)
    try:
        with face_photo.image.open("rb") as handle, Image.open(handle) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=85)
    except FileNotFoundError as exc:
        raise Http404("文件不存在") from exc
    return HttpResponse(out.getvalue(), content_type="image/jpeg")
