"""补贴申请 and its lines as two tables: who may move them, from which state, to which (第十四条).

The services (`subsidies/services.py`) look a move up here before doing anything; the application
page draws its buttons from `moves_for()`; the tests walk the tables. Guards that need the database
(eligibility, open BLOCK findings, the notice period, the payment chain) live in the services and
are named by the `guard` field so a reader sees them next to the move.

An application carries the review clock; each trainee's line then goes through 公示, objections and
payment on its own (凡补必进、不进不补: a line is paid only after apply → approve → 公示 without an
open objection).
"""

from dataclasses import dataclass

from peixun.accounts.roles import Perm, Role, has_perm
from peixun.accounts.scope import restrict

from .models import SubsidyApplication, SubsidyLine

A = SubsidyApplication.Status
L = SubsidyLine.Status


class Actor:
    APPLICANT = "applicant"  # the operator of the class's institution, or the trainee applying for themself
    REVIEWER = "reviewer"  # a reviewer (or city admin) whose area covers the class
    FINANCE = "finance"  # a finance officer whose area covers the class
    PUBLIC = "public"  # anyone, without login (公示异议)
    SYSTEM = "system"  # the notice-period closing job


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    source: frozenset[str]  # empty: the move creates the row
    target: str
    actor: str
    guard: str = ""


APPLICATION_MOVES: tuple[Move, ...] = (
    Move(
        "apply",
        "申请补贴",
        frozenset(),
        A.SUBMITTED,
        Actor.APPLICANT,
        "培训班已结业；每名学员有未撤销的证书、在申请期限内、未超次数、未重复、非财政供养、无未处理的阻断性问题线索",
    ),
    Move(
        "return",
        "退回补正（一次性告知）",
        frozenset({A.SUBMITTED}),
        A.RETURNED,
        Actor.REVIEWER,
        "至少一项补正事项；审核时限暂停计算",
    ),
    Move(
        "resubmit",
        "补正后重新提交",
        frozenset({A.RETURNED}),
        A.SUBMITTED,
        Actor.APPLICANT,
        "审核时限按剩余工作日继续计算",
    ),
    Move("withdraw", "撤回申请", frozenset({A.SUBMITTED, A.RETURNED}), A.WITHDRAWN, Actor.APPLICANT),
    Move(
        "approve",
        "审核通过并公示",
        frozenset({A.SUBMITTED}),
        A.NOTICE,
        Actor.REVIEWER,
        "重新核对每名学员的补贴条件；有未处理阻断性问题线索的学员须先处理或明确不予补贴；至少一人通过",
    ),
    Move("reject", "不予补贴", frozenset({A.SUBMITTED}), A.REJECTED, Actor.REVIEWER, "填写理由"),
    Move(
        "close",
        "公示结束",
        frozenset({A.NOTICE}),
        A.CLOSED,
        Actor.SYSTEM,
        "公示期已满，且没有公示中或异议处理中的明细",
    ),
)

LINE_MOVES: tuple[Move, ...] = (
    Move("include", "列入申请", frozenset(), L.PENDING, Actor.APPLICANT, "符合补贴条件"),
    Move("pass", "审核通过", frozenset({L.PENDING}), L.NOTICE, Actor.REVIEWER, "重新核对补贴条件无问题"),
    Move("refuse", "不予补贴", frozenset({L.PENDING}), L.REFUSED, Actor.REVIEWER, "填写理由或条件不符"),
    Move("withdraw", "随申请撤回", frozenset({L.PENDING}), L.REFUSED, Actor.APPLICANT),
    Move(
        "object",
        "提出异议",
        frozenset({L.NOTICE, L.SUSPENDED}),
        L.SUSPENDED,
        Actor.PUBLIC,
        "在公示期内",
    ),
    Move("uphold", "异议成立，不予补贴", frozenset({L.SUSPENDED}), L.REFUSED, Actor.REVIEWER, "填写理由"),
    Move(
        "resume",
        "异议不成立，继续公示",
        frozenset({L.SUSPENDED}),
        L.NOTICE,
        Actor.REVIEWER,
        "该明细的异议均已处理，公示期未满",
    ),
    Move(
        "release",
        "公示无异议，待拨付",
        frozenset({L.NOTICE, L.SUSPENDED}),
        L.PAYABLE,
        Actor.SYSTEM,
        "公示期已满，且该明细没有未处理的异议",
    ),
    Move(
        "stop",
        "停止拨付",
        frozenset({L.NOTICE, L.SUSPENDED, L.PAYABLE}),
        L.REFUSED,
        Actor.REVIEWER,
        "拨付前发现证书撤销或违规，填写理由",
    ),
    Move(
        "pay",
        "拨付成功",
        frozenset({L.PAYABLE}),
        L.PAID,
        Actor.FINANCE,
        "培训班已结业、证书未撤销、经审核公示无异议；金额等于所选明细之和",
    ),
    Move(
        "pay_failed",
        "支付失败，待重新拨付",
        frozenset({L.PAYABLE}),
        L.PAYABLE,
        Actor.FINANCE,
        "登记银行退回原因；可用新凭证号重新拨付",
    ),
)

APPLICATION_MOVES_BY_NAME = {m.name: m for m in APPLICATION_MOVES}
LINE_MOVES_BY_NAME = {m.name: m for m in LINE_MOVES}

# The application moves offered on the application page (each has its own form).
PAGE_MOVES = ("return", "approve", "reject", "resubmit", "withdraw")

# Who may still be paid: lines past 公示 (or in it) whose money has not gone out.
IN_NOTICE = frozenset({L.NOTICE, L.SUSPENDED})


def application_move(name: str) -> Move:
    return APPLICATION_MOVES_BY_NAME[name]


def line_move(name: str) -> Move:
    return LINE_MOVES_BY_NAME[name]


def is_applicant(user, application: SubsidyApplication) -> bool:
    """The institution's operator for an institution application; the trainee for their own."""
    if not has_perm(user, Perm.APPLY_CLASSES):
        return False
    if application.applicant_kind == SubsidyApplication.Applicant.PERSON:
        return user.role == Role.TRAINEE and user.person_id == application.person_id
    return (
        user.role == Role.INSTITUTION_OPERATOR
        and user.organisation_id is not None
        and user.organisation_id == application.institution.organisation_id
    )


def _covers(user, application: SubsidyApplication) -> bool:
    return restrict(SubsidyApplication.objects.filter(pk=application.pk), user).exists()


def acts_as(user, application: SubsidyApplication, actor: str) -> bool:
    if actor == Actor.APPLICANT:
        return is_applicant(user, application)
    if actor == Actor.REVIEWER:
        return has_perm(user, Perm.REVIEW_SUBSIDIES) and _covers(user, application)
    if actor == Actor.FINANCE:
        return has_perm(user, Perm.PAY_SUBSIDIES) and _covers(user, application)
    return actor == Actor.PUBLIC


def moves_for(user, application: SubsidyApplication) -> list[Move]:
    """The moves this user may offer on the application page now (guards are checked when clicked)."""
    return [
        m
        for m in APPLICATION_MOVES
        if m.name in PAGE_MOVES and application.status in m.source and acts_as(user, application, m.actor)
    ]
