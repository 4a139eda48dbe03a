"""Demo data for the statistics pages: follow-up calls for the demo's completed trainees, then the
statistics refreshed. Called by `web/demo.py` after the classes exist; idempotent."""

import datetime as dt
import random

from django.utils import timezone

from peixun.accounts.models import User
from peixun.accounts.roles import Role

from .models import EmploymentOutcome, FollowUp
from .refresh import stats_refresh
from .services import follow_up_record

EMPLOYERS = (
    "呼和浩特市康馨养老服务中心",
    "包头市鹿城家政服务有限公司",
    "赤峰市红山区福安护理院",
    "内蒙古蒙牛乳业（集团）股份有限公司",
    "内蒙古伊利实业集团股份有限公司",
    "包头钢铁（集团）有限责任公司",
    "呼和浩特市新城区社区卫生服务中心",
    "赤峰市松山区现代农业合作社",
)
SELF_EMPLOYED = ("个体经营：社区养老上门服务", "网店经营：农畜产品直播销售", "灵活就业：家政钟点工")


def _actor_for(klass) -> User | None:
    """The institution's operator makes the calls; failing that, the region administrator."""
    return (
        User.objects.filter(
            organisation=klass.institution.organisation, role=Role.INSTITUTION_OPERATOR
        ).first()
        or User.objects.filter(role=Role.REGION_ADMIN).order_by("id").first()
    )


def seed_reports(*, seed: int = 2026) -> dict[str, int]:
    """Follow-up records for about four in five of the completed trainees whom no registry shows
    employed at a reached checkpoint (the rest stay on the follow-up list), then the statistics
    refreshed in full. Running it again adds nothing."""
    stats_refresh(full=True)
    today = timezone.localdate()
    created = 0
    unknown = (
        EmploymentOutcome.objects.filter(status=EmploymentOutcome.Status.UNKNOWN)
        .select_related("enrollment__person", "training_class__institution__organisation")
        .order_by("id")
    )
    actors: dict[int, User | None] = {}
    for outcome in unknown:
        if FollowUp.objects.filter(
            enrollment_id=outcome.enrollment_id, checkpoint=outcome.checkpoint
        ).exists():
            continue
        rng = random.Random(f"{seed}:{outcome.enrollment_id}:{outcome.checkpoint}")
        draw = rng.random()
        if draw >= 0.8:
            continue  # left for the 待回访 list
        klass = outcome.training_class
        if klass.id not in actors:
            actors[klass.id] = _actor_for(klass)
        actor = actors[klass.id]
        if actor is None:
            continue
        contacted = min(today, outcome.check_date + dt.timedelta(days=rng.randint(0, 12)))
        if draw < 0.5:
            outcome_value, employer = FollowUp.Outcome.EMPLOYED, rng.choice(EMPLOYERS)
        elif draw < 0.62:
            outcome_value, employer = FollowUp.Outcome.SELF_EMPLOYED, rng.choice(SELF_EMPLOYED)
        elif draw < 0.67:
            outcome_value, employer = FollowUp.Outcome.FURTHER_STUDY, ""
        elif draw < 0.76:
            outcome_value, employer = FollowUp.Outcome.UNEMPLOYED, ""
        else:
            outcome_value, employer = FollowUp.Outcome.UNREACHABLE, ""
        follow_up_record(
            enrollment=outcome.enrollment,
            actor=actor,
            checkpoint=outcome.checkpoint,
            outcome=outcome_value,
            method=FollowUp.Method.PHONE if rng.random() < 0.85 else FollowUp.Method.VISIT,
            contacted_on=contacted,
            employer_name=employer,
            employed_since=(klass.end_date + dt.timedelta(days=rng.randint(7, 60)))
            if employer and klass.end_date + dt.timedelta(days=60) <= contacted
            else None,
        )
        created += 1
    result = stats_refresh()
    return {"follow_ups": created, "outcomes": result.outcomes, "classes": result.classes}
