"""培训班 over the JSON API: the same lifecycle services the pages call, for institutions' own
systems and for the bureaus' dashboards. Session-authenticated (CSRF), scoped like the pages."""

import datetime as dt
from decimal import Decimal

from django.http import Http404
from ninja import Query, Router, Schema

from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import get_scoped_or_404, restrict

from . import services
from .models import TrainingClass
from .workflow import moves_for

class_router = Router(tags=["培训班"])


class CheckOut(Schema):
    label: str
    ok: bool
    problems: list[str]


class ClassOut(Schema):
    code: str
    status: str
    status_label: str
    institution: str
    area_code: str
    occupation_code: str
    occupation_name: str
    level: str
    training_type: str
    start_date: dt.date
    end_date: dt.date
    total_hours: Decimal
    online_hours: Decimal
    trainees: int
    review_stage: str | None
    review_due_date: dt.date | None
    moves: list[str]


class ReturnIn(Schema):
    deficiencies: list[str]


class ReasonIn(Schema):
    reason: str = ""


class CompletionApproveIn(Schema):
    material_review: str
    crosscheck_review: str
    onsite_check: str = ""
    reason: str = ""


def _class(request, code: str) -> TrainingClass:
    if not has_perm(request.user, Perm.VIEW_PEOPLE):
        raise Http404
    return get_scoped_or_404(
        TrainingClass.objects.select_related("institution", "area"), request.user, code=code
    )


def _out(request, c: TrainingClass) -> ClassOut:
    review = services.current_review(c)
    pending = review if review is not None and review.state == review.State.PENDING else None
    return ClassOut(
        code=c.code,
        status=c.status,
        status_label=str(c.get_status_display()),
        institution=c.institution.name,
        area_code=c.area.code,
        occupation_code=c.occupation_code,
        occupation_name=c.occupation_name,
        level=c.level,
        training_type=c.training_type,
        start_date=c.start_date,
        end_date=c.end_date,
        total_hours=c.total_hours,
        online_hours=c.online_hours,
        trainees=c.enrollments.filter(removed_at__isnull=True).count(),
        review_stage=pending.stage if pending else None,
        review_due_date=pending.due_date if pending else None,
        moves=[m.name for m in moves_for(request.user, c)],
    )


@class_router.get("/classes", response=list[ClassOut], summary="培训班列表（按权限范围）")
def class_list(
    request,
    status: str = "",
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000_000),
):
    if not has_perm(request.user, Perm.VIEW_PEOPLE):
        raise Http404
    qs = restrict(TrainingClass.objects.select_related("institution", "area"), request.user).order_by(
        "-start_date", "code"
    )
    if status:
        qs = qs.filter(status=status)
    return [_out(request, c) for c in qs[offset : offset + limit]]


@class_router.get("/classes/{code}", response=ClassOut, summary="培训班详情、当前审核期限和可办理的操作")
def class_detail(request, code: str):
    return _out(request, _class(request, code))


@class_router.get("/classes/{code}/checks", response=list[CheckOut], summary="开班自查结果（第八条）")
def class_checks(request, code: str):
    c = _class(request, code)
    return [CheckOut(label=k.label, ok=k.ok, problems=list(k.problems)) for k in services.opening_checks(c)]


@class_router.post("/classes/{code}/submit", response=ClassOut, summary="提交或补正后重新提交开班申请")
def class_submit(request, code: str):
    c = _class(request, code)
    services.opening_submit(training_class=c, actor=request.user)
    return _out(request, c)


@class_router.post("/classes/{code}/return", response=ClassOut, summary="退回补正，一次性告知全部事项")
def class_return(request, code: str, data: ReturnIn):
    c = _class(request, code)
    services.review_return(training_class=c, actor=request.user, deficiencies=data.deficiencies)
    return _out(request, c)


@class_router.post("/classes/{code}/approve", response=ClassOut, summary="批准开班")
def class_approve(request, code: str, data: ReasonIn):
    c = _class(request, code)
    services.opening_approve(training_class=c, actor=request.user, reason=data.reason)
    return _out(request, c)


@class_router.post("/classes/{code}/reject", response=ClassOut, summary="开班不予批准")
def class_reject(request, code: str, data: ReasonIn):
    c = _class(request, code)
    services.opening_reject(training_class=c, actor=request.user, reason=data.reason)
    return _out(request, c)


@class_router.post("/classes/{code}/completion", response=ClassOut, summary="申请结业")
def class_completion(request, code: str):
    c = _class(request, code)
    services.completion_submit(training_class=c, actor=request.user)
    return _out(request, c)
