"""居民身份证号 (GB 11643-1999): validation, encryption at rest, lookup hash, masking.

Every feature that handles a person's ID number goes through this module. The raw number is never
stored: the database holds an AES-GCM ciphertext (random nonce, so equal numbers do not look equal),
an HMAC for lookups, uniqueness and joins, and the masked form for display.
"""

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from .errors import InvalidIdNumber

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# [0-9], not \d: \d also matches full-width and other Unicode digits, which int() accepts but
# which hash differently, so one number could be registered twice.
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
# Birth dates before this are impossible for anyone still dealing with a training bureau.
_EARLIEST_BIRTH = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class IdNumber:
    value: str
    area_code: str
    birth_date: dt.date
    sex: str  # "M" or "F": the sequence number's parity (odd = male)

    @property
    def masked(self) -> str:
        return mask_id_number(self.value)


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and normalise an ID number, or raise InvalidIdNumber with a Chinese reason.

    Historic area codes (152100 呼伦贝尔盟 …) are accepted: people keep the number they were issued.
    """
    value = (raw or "").strip().upper()
    if len(value) != 18:
        raise InvalidIdNumber(f"身份证号应为18位，实际为{len(value)}位")
    if not _ID_SHAPE.match(value):
        raise InvalidIdNumber("身份证号前17位应为数字，末位为数字或X")
    if value[:2] == "00" or value[:6] == "000000":
        raise InvalidIdNumber("身份证号的地区码无效")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber(f"身份证号中的出生日期{value[6:14]}不存在") from exc
    today = today or dt.date.today()
    if birth < _EARLIEST_BIRTH or birth > today:
        raise InvalidIdNumber(f"身份证号中的出生日期{birth.isoformat()}不合理")
    expected = id_check_char(value[:17])
    if value[17] != expected:
        raise InvalidIdNumber("身份证号校验位错误，请核对号码")
    sex = "M" if int(value[16]) % 2 == 1 else "F"
    return IdNumber(value=value, area_code=value[:6], birth_date=birth, sex=sex)


def mask_id_number(value: str) -> str:
    """150102********1234: area code and last four, as on a 公示 list."""
    if len(value) != 18:
        return "*" * len(value)
    return value[:6] + "*" * 8 + value[14:]


def mask_name(name: str) -> str:
    """张*明 / 张* : 公示 lists show the surname and the last character only."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    phone = phone or ""
    if len(phone) <= 7:  # at 7 characters, first three + last four would be the whole number
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


# --- keys ---------------------------------------------------------------------------------------


@cache
def _derived_keys(master_b64: str) -> tuple[bytes, bytes]:
    master = base64.urlsafe_b64decode(master_b64)

    def derive(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)

    return derive(b"peixun id-number encryption"), derive(b"peixun id-number lookup hmac")


def _keys() -> tuple[bytes, bytes]:
    return _derived_keys(settings.PEIXUN_IDENTITY_KEY)


def id_lookup_hash(value: str) -> str:
    """Keyed hash for lookups and joins; without the key it cannot be reversed by enumeration."""
    return hmac.new(_keys()[1], value.encode(), hashlib.sha256).hexdigest()


def encrypt_id_number(value: str) -> str:
    nonce = os.urandom(12)
    cipher = AESGCM(_keys()[0]).encrypt(nonce, value.encode(), b"id_number")
    return base64.b64encode(nonce + cipher).decode()


def decrypt_id_number(token: str) -> str:
    blob = base64.b64decode(token)
    return AESGCM(_keys()[0]).decrypt(blob[:12], blob[12:], b"id_number").decode()
