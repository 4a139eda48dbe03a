"""The JSON API (django-ninja), OpenAPI schema at /api/docs.

Officials and institutions use their login session (CSRF-protected); devices and platforms get
their own signed-key authentication with the attendance issue. Every endpoint fetches through the
scope helper, and answers 404 for objects outside the caller's scope.
"""

import datetime as dt
from uuid import UUID

from django.http import Http404
from ninja import NinjaAPI, Query, Router, Schema
from ninja.security import django_auth

from peixun.accounts.roles import Perm, Role, has_perm
from peixun.accounts.scope import get_scoped_or_404, restrict
from peixun.core.errors import PeixunError, PermissionDeniedError
from peixun.core.models import Area, Person

api = NinjaAPI(
    title="peixun 内蒙古自治区职业技能培训管理系统 API",
    version="1",
    docs_url="/docs",
    auth=django_auth,
    urls_namespace="api",
)


class ErrorOut(Schema):
    code: str
    message: str


@api.exception_handler(PeixunError)
def on_peixun_error(request, exc: PeixunError):
    return api.create_response(request, {"code": exc.code, "message": exc.message}, status=400)


@api.exception_handler(PermissionDeniedError)
def on_permission_denied(request, exc: PermissionDeniedError):
    # A move the caller may not make is refused as such (403), like a page answers it with 404:
    # never as a 400 that reads like a mistake in the request.
    return api.create_response(request, {"code": exc.code, "message": exc.message}, status=403)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, {"code": "not_found", "message": "对象不存在或无权查看"}, status=404)


class MeOut(Schema):
    username: str
    name: str
    role: str
    role_label: str
    organisation: str | None
    area_code: str | None


class AreaOut(Schema):
    code: str
    name: str
    kind: str
    parent_code: str | None


class PersonOut(Schema):
    id: UUID
    name: str
    id_number_masked: str
    sex: str
    birth_date: dt.date
    area_code: str | None


core_router = Router(tags=["基础"])


@core_router.get("/me", response=MeOut, summary="当前用户")
def me(request):
    user = request.user
    org = user.organisation
    return MeOut(
        username=user.username,
        name=user.get_full_name(),
        role=user.role,
        role_label=str(Role(user.role).label),
        organisation=org.name if org else None,
        area_code=org.area.code if org else None,
    )


@core_router.get("/areas", response=list[AreaOut], summary="行政区划（内蒙古自治区）")
def areas(request):
    return [
        AreaOut(code=a.code, name=a.name, kind=a.kind, parent_code=a.parent.code if a.parent else None)
        for a in Area.objects.select_related("parent")
    ]


def _person_out(p: Person) -> PersonOut:
    return PersonOut(
        id=p.public_id,
        name=p.name,
        id_number_masked=p.id_masked,
        sex=p.sex,
        birth_date=p.birth_date,
        area_code=p.area.code if p.area else None,
    )


@core_router.get("/persons", response=list[PersonOut], summary="人员（按权限范围，身份证号脱敏）")
def persons(
    request,
    name: str = "",
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000_000),
):
    if not has_perm(request.user, Perm.VIEW_PEOPLE):
        raise Http404
    qs = restrict(Person.objects.select_related("area"), request.user).order_by("id")
    if name:
        qs = qs.filter(name__contains=name)
    limit = max(1, min(limit, 500))
    return [_person_out(p) for p in qs[offset : offset + limit]]


@core_router.get("/persons/{person_id}", response={200: PersonOut, 404: ErrorOut}, summary="人员详情")
def person_detail(request, person_id: UUID):
    if not has_perm(request.user, Perm.VIEW_PEOPLE):
        raise Http404
    from peixun.accounts.services import person_file_viewed

    person = get_scoped_or_404(Person.objects.select_related("area"), request.user, public_id=person_id)
    person_file_viewed(person=person, viewer=request.user, ip=request.META.get("REMOTE_ADDR"))
    return _person_out(person)


api.add_router("/v1", core_router)

# 数据采集: signed batch APIs for attendance devices and online platforms (peixun.intake).
from peixun.intake.api import intake_router, on_intake_auth_error  # noqa: E402
from peixun.intake.services import IntakeAuthError  # noqa: E402

api.add_exception_handler(IntakeAuthError, on_intake_auth_error)
api.add_router("/v1", intake_router)

from peixun.training.api import class_router  # noqa: E402

api.add_router("/v1", class_router)
