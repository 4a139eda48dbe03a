"""The moves of each supervision record: one table per record, read by the services (is the move
allowed now?), the pages (which buttons to show) and the tests."""

from dataclasses import dataclass

from peixun.accounts.roles import Perm, has_perm

from .models import ClueTransfer, Draw, Inspection, Recovery, Sanction, SanctionKind, Violation


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    source: frozenset[str]
    targets: frozenset[str]
    perm: str
    guard: str = ""


DRAW_MOVES = (
    Move(
        "execute",
        "抽取",
        frozenset({Draw.Status.COMMITTED}),
        frozenset({Draw.Status.DRAWN}),
        Perm.MANAGE_DRAWS,
        "按已公布的抽取池和种子抽取，只能进行一次",
    ),
    Move(
        "cancel",
        "作废",
        frozenset({Draw.Status.COMMITTED}),
        frozenset({Draw.Status.CANCELLED}),
        Perm.MANAGE_DRAWS,
        "抽取前作废，须说明原因，作废记录公开",
    ),
)

INSPECTION_MOVES = (
    Move(
        "record",
        "录入检查结果",
        frozenset({Inspection.Status.PLANNED}),
        frozenset({Inspection.Status.FOLLOW_UP, Inspection.Status.CLOSED}),
        Perm.INSPECT,
        "本次检查的检查人员录入；结论为“未发现问题”时直接办结",
    ),
    Move(
        "close",
        "复查办结",
        frozenset({Inspection.Status.FOLLOW_UP}),
        frozenset({Inspection.Status.CLOSED}),
        Perm.INSPECT,
        "整改到位（或已立案）后办结",
    ),
    Move(
        "publish",
        "公开结果",
        frozenset({Inspection.Status.FOLLOW_UP, Inspection.Status.CLOSED}),
        frozenset({Inspection.Status.FOLLOW_UP, Inspection.Status.CLOSED}),
        Perm.MANAGE_DRAWS,
        "双随机抽查结果在公开期限内向社会公开",
    ),
)

VIOLATION_MOVES = (
    Move(
        "close",
        "结案",
        frozenset({Violation.Status.OPEN}),
        frozenset({Violation.Status.CLOSED}),
        Perm.DECIDE_SANCTIONS,
        "处理措施执行完毕、资金全额追回后结案",
    ),
)

# Which rungs of the ladder are acts done at once, and which stay in force until ended.
ONE_OFF = frozenset({SanctionKind.INTERVIEW, SanctionKind.REMOVE, SanctionKind.JUDICIAL})

SANCTION_MOVES = (
    Move(
        "complete",
        "执行完毕",
        frozenset({Sanction.Status.IN_FORCE}),
        frozenset({Sanction.Status.DONE}),
        Perm.DECIDE_SANCTIONS,
        "整改到位、罚款缴清或暂停期满",
    ),
    Move(
        "lift",
        "解除暂停",
        frozenset({Sanction.Status.IN_FORCE}),
        frozenset({Sanction.Status.LIFTED}),
        Perm.DECIDE_SANCTIONS,
        "暂停开班的机构恢复开班（目录状态恢复为已列入）",
    ),
)

RECOVERY_MOVES = (
    Move(
        "receive",
        "登记到账",
        frozenset({Recovery.Status.ORDERED, Recovery.Status.PARTIAL}),
        frozenset({Recovery.Status.PARTIAL, Recovery.Status.COMPLETED}),
        Perm.RECORD_RECOVERY,
        "按缴款凭证登记，累计到账达到应追回金额即为全额追回",
    ),
)

CLUE_MOVES = (
    Move(
        "reply",
        "登记回复",
        frozenset({ClueTransfer.Status.SENT}),
        frozenset({ClueTransfer.Status.REPLIED}),
        Perm.HAND_OVER,
    ),
    Move(
        "close",
        "办结",
        frozenset({ClueTransfer.Status.SENT, ClueTransfer.Status.REPLIED}),
        frozenset({ClueTransfer.Status.CLOSED}),
        Perm.HAND_OVER,
    ),
)


def move(table: tuple[Move, ...], name: str) -> Move:
    return next(m for m in table if m.name == name)


def moves_for(table: tuple[Move, ...], status: str, user) -> list[Move]:
    """The moves the user's role allows from `status` (the object is already in the user's scope)."""
    return [m for m in table if status in m.source and has_perm(user, m.perm)]


def sanction_moves_for(sanction: Sanction, user) -> list[Move]:
    moves = moves_for(SANCTION_MOVES, sanction.status, user)
    if sanction.kind != SanctionKind.SUSPEND:
        moves = [m for m in moves if m.name != "lift"]
    return moves
