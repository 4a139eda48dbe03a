"""The life of a class as one table: who may move it, from which state, to which (第八-十一条).

The services (`training/services.py`) look a move up here before doing anything; the class page
draws its buttons from `moves_for()`; the tests walk the table. Guards that need the database
(checks before submission, open BLOCK findings, the 95% rule) live in the services and are named by
the `guard` field so a reader sees them next to the move.
"""

from dataclasses import dataclass

from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import restrict

from .models import ClassStatus as S
from .models import TrainingClass


class Actor:
    INSTITUTION = "institution"  # the operator of the class's institution
    REVIEWER = "reviewer"  # a county reviewer or, when escalated, the city bureau covering the class


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    source: frozenset[str]
    target: str
    actor: str
    guard: str = ""


MOVES: tuple[Move, ...] = (
    Move(
        "submit",
        "提交开班申请",
        frozenset({S.DRAFT}),
        S.OPENING_REVIEW,
        Actor.INSTITUTION,
        "开班自查全部通过",
    ),
    Move(
        "resubmit",
        "补正后重新提交",
        frozenset({S.OPENING_RETURNED}),
        S.OPENING_REVIEW,
        Actor.INSTITUTION,
        "开班自查全部通过",
    ),
    Move("withdraw", "撤回申请", frozenset({S.DRAFT, S.OPENING_RETURNED}), S.WITHDRAWN, Actor.INSTITUTION),
    Move(
        "return_opening",
        "退回补正（一次性告知）",
        frozenset({S.OPENING_REVIEW}),
        S.OPENING_RETURNED,
        Actor.REVIEWER,
        "至少一项补正事项",
    ),
    Move(
        "approve_opening",
        "批准开班",
        frozenset({S.OPENING_REVIEW}),
        S.APPROVED,
        Actor.REVIEWER,
        "无未处理的阻断性问题线索",
    ),
    Move(
        "reject_opening",
        "不予批准",
        frozenset({S.OPENING_REVIEW}),
        S.OPENING_REJECTED,
        Actor.REVIEWER,
        "填写理由",
    ),
    Move(
        "apply_completion",
        "申请结业",
        frozenset({S.APPROVED}),
        S.COMPLETION_REVIEW,
        Actor.INSTITUTION,
        "最后一次课已结束，已录入考试成绩",
    ),
    Move(
        "resubmit_completion",
        "补正后重新申请结业",
        frozenset({S.COMPLETION_RETURNED}),
        S.COMPLETION_REVIEW,
        Actor.INSTITUTION,
        "最后一次课已结束，已录入考试成绩",
    ),
    Move(
        "return_completion",
        "退回补正（一次性告知）",
        frozenset({S.COMPLETION_REVIEW}),
        S.COMPLETION_RETURNED,
        Actor.REVIEWER,
        "至少一项补正事项",
    ),
    Move(
        "approve_completion",
        "结业审核通过并发证",
        frozenset({S.COMPLETION_REVIEW}),
        S.COMPLETED,
        Actor.REVIEWER,
        "无未处理的阻断性问题线索；已记录审核情况",
    ),
    Move(
        "reject_completion",
        "结业不予通过",
        frozenset({S.COMPLETION_REVIEW}),
        S.COMPLETION_REJECTED,
        Actor.REVIEWER,
        "填写理由",
    ),
)

MOVES_BY_NAME = {m.name: m for m in MOVES}

# States in which the institution may still edit the application (class data, roster, plan, files).
EDITABLE = frozenset({S.DRAFT, S.OPENING_RETURNED})
# States in which training runs and changes need a change request (第二十二条).
IN_TRAINING = frozenset({S.APPROVED, S.COMPLETION_RETURNED})
# States in which exam results may be entered.
EXAM_ENTRY = frozenset({S.APPROVED, S.COMPLETION_RETURNED})


def acts_as(user, training_class: TrainingClass, actor: str) -> bool:
    """Whether the user is the institution of the class, or a reviewer whose area covers it."""
    if actor == Actor.INSTITUTION:
        if not has_perm(user, Perm.APPLY_CLASSES) or user.organisation_id is None:
            return False
        return training_class.institution.organisation_id == user.organisation_id
    if actor == Actor.REVIEWER:
        if not has_perm(user, Perm.REVIEW_CLASSES):
            return False
        # Asked several times per page (the page, then each move); remembered on the user object,
        # which lives for one request, as accounts.scope keeps the scope.
        covered = user.__dict__.setdefault("_peixun_reviews_class", {})
        if training_class.pk not in covered:
            covered[training_class.pk] = restrict(
                TrainingClass.objects.filter(pk=training_class.pk), user
            ).exists()
        return covered[training_class.pk]
    return False


def moves_for(user, training_class: TrainingClass) -> list[Move]:
    """The moves this user may offer on the class page now (guards are checked when clicked)."""
    return [m for m in MOVES if training_class.status in m.source and acts_as(user, training_class, m.actor)]
