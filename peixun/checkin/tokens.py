"""The class-site QR code: a signed token bound to one lesson and one 30-second time slot.

The token is `<lesson pk>.<slot>:<signature>` (django.core.signing, own salt), so a code cannot be
made for another lesson or another time without SECRET_KEY. A code is fresh during its own slot and
the one after it: one shown on the screen stays usable for 30–60 seconds, then the trainee has to
scan the code on the screen again.
"""

import datetime as dt
from dataclasses import dataclass

from django.core import signing
from django.utils import timezone

SALT = "peixun.checkin.qr"
SLOT_SECONDS = 30
EXPIRED_MESSAGE = "二维码已过期，请重新扫码"
INVALID_MESSAGE = "二维码无效，请扫描培训现场屏幕上的签到二维码"


class TokenError(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class QrToken:
    lesson_id: int
    slot: int


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def slot_of(moment: dt.datetime | None = None) -> int:
    moment = moment or timezone.now()
    return int(moment.timestamp()) // SLOT_SECONDS


def slot_ends_at(slot: int) -> dt.datetime:
    return dt.datetime.fromtimestamp((slot + 1) * SLOT_SECONDS, tz=dt.UTC)


def make_token(lesson_id: int, moment: dt.datetime | None = None) -> str:
    return _signer().sign(f"{int(lesson_id)}.{slot_of(moment)}")


def read_token(token: str, *, lesson_id: int | None = None, moment: dt.datetime | None = None) -> QrToken:
    """The lesson and slot of a genuine, fresh token; TokenError otherwise.

    `lesson_id`, when given, must be the lesson the token was made for.
    """
    try:
        value = _signer().unsign(token or "")
        lesson_part, slot_part = value.split(".")
        parsed = QrToken(int(lesson_part), int(slot_part))
    except (signing.BadSignature, ValueError) as exc:
        raise TokenError(INVALID_MESSAGE, code="invalid") from exc
    if lesson_id is not None and parsed.lesson_id != int(lesson_id):
        raise TokenError(INVALID_MESSAGE, code="wrong_lesson")
    current = slot_of(moment)
    if parsed.slot > current:
        # Signed by us for a time still to come: only a server clock step could do that.
        raise TokenError(INVALID_MESSAGE, code="future")
    if parsed.slot < current - 1:
        raise TokenError(EXPIRED_MESSAGE, code="expired")
    return parsed
