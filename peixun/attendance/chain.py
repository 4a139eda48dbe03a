"""The per-class hash chains of attendance records and online sessions (第二十条).

Like the audit chain (core.audit): each record's hash covers its own fields and the previous
record's hash; the chain head keeps the last sequence number and hash. A record edited, deleted or
reordered in the database directly breaks its class's chain at that point, and `verify` names it.

Canonical form: a JSON list of the fields in a fixed order; datetimes as UTC ISO with
microseconds, floats as repr strings (their text differs between databases otherwise).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from operator import attrgetter

GENESIS = "0" * 64

ATTENDANCE = "ATTENDANCE"
ONLINE = "ONLINE"

# The fields each kind's hash covers, in order (besides the chain position and prev_hash).
ATTENDANCE_FIELDS = (
    "training_class_id",
    "person_id",
    "check_in",
    "check_out",
    "method",
    "photo_sha256",
    "lat",
    "lon",
    "source",
    "device_code",
    "corrects_id",
    "reason",
    "recorded_by_id",
    "recorded_at",
)
ONLINE_FIELDS = (
    "training_class_id",
    "person_id",
    "platform_code",
    "start_at",
    "end_at",
    "ip",
    "face_checks_passed",
    "face_checks_failed",
    "source",
    "device_code",
    "corrects_id",
    "reason",
    "recorded_by_id",
    "recorded_at",
)
FIELDS = {ATTENDANCE: ATTENDANCE_FIELDS, ONLINE: ONLINE_FIELDS}
_GETTERS = {kind: attrgetter(*fields) for kind, fields in FIELDS.items()}


def canonical(value):
    # Exact type checks first: this runs for every field of every record appended or verified.
    kind = type(value)
    if kind is str or kind is int or value is None:
        return value
    if kind is dt.datetime:
        if value.tzinfo is not dt.UTC:
            if value.tzinfo is None:
                raise ValueError("naive datetime in a chained record")
            value = value.astimezone(dt.UTC)
        return value.isoformat(timespec="microseconds")
    if kind is float:
        return repr(value)
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a chained record")
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, float):
        return repr(float(value))
    return str(value)


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def digest(kind: str, record) -> str:
    """The hash of one record (any object with the kind's fields, `seq` and `prev_hash`)."""
    payload = [kind, record.seq, record.prev_hash]
    payload.extend(map(canonical, _GETTERS[kind](record)))
    return hashlib.sha256(_encode(payload).encode()).hexdigest()


def seal(kind: str, records, *, last_seq: int, last_hash: str) -> tuple[int, str]:
    """Give `records` (unsaved, in append order) their seq, prev_hash and hash after the chain end
    (last_seq, last_hash); returns the new end."""
    last_seq, last_hash, _values = seal_canonical(kind, records, last_seq=last_seq, last_hash=last_hash)
    return last_seq, last_hash


def seal_canonical(kind: str, records, *, last_seq: int, last_hash: str) -> tuple[int, str, list[list]]:
    """`seal`, also returning each record's canonical field values (in FIELDS order), which the
    bulk writer reuses as its column text instead of formatting every value a second time.

    This is the hot loop of every device batch (issue: ≥ 20,000 records/s): values are
    canonicalised inline, and a datetime object met again in the batch (the batch's recorded_at,
    a lesson time shared by a class) is converted once — keyed by identity, because hashing an
    aware datetime asks its zone for the offset, which costs more than the conversion."""
    get = _GETTERS[kind]
    seen: dict[int, str] = {}
    sha256, encode = hashlib.sha256, _encode
    datetime, utc = dt.datetime, dt.UTC
    out = []
    for record in records:
        values = [kind, 0, ""]
        for value in get(record):
            kind_of = type(value)
            if kind_of is str or kind_of is int or value is None:
                values.append(value)
            elif kind_of is datetime:
                text = seen.get(id(value))
                if text is None:
                    if value.tzinfo is None:
                        raise ValueError("naive datetime in a chained record")
                    text = seen[id(value)] = value.astimezone(utc).isoformat(timespec="microseconds")
                values.append(text)
            else:
                values.append(canonical(value))
        last_seq += 1
        values[1] = record.seq = last_seq
        values[2] = record.prev_hash = last_hash
        record.hash = last_hash = sha256(encode(values).encode()).hexdigest()
        out.append(values[3:])
    return last_seq, last_hash, out


@dataclass(frozen=True)
class ChainProblem:
    class_id: int
    class_code: str
    kind: str
    record_id: int | None
    seq: int | None
    message: str

    def __str__(self) -> str:
        label = "考勤记录" if self.kind == ATTENDANCE else "线上学习记录"
        where = f"第{self.seq}条（id {self.record_id}）" if self.record_id else "链尾"
        return f"{self.class_code} {label}{where}：{self.message}"


def walk(kind: str, records, head) -> tuple[int | None, int | None, str] | None:
    """Check one class's records (in seq order) against their chain head; the first problem as
    (record id, seq, message), or None when intact."""
    prev, expected_seq = GENESIS, 1
    for r in records:
        if r.seq != expected_seq:
            return r.id, r.seq, f"序号应为{expected_seq}，实为{r.seq}（之前的记录被删除或顺序被改动）"
        if r.prev_hash != prev:
            return r.id, r.seq, "前序哈希与上一条不符（上一条被删除、改动或顺序被调换）"
        if digest(kind, r) != r.hash:
            return r.id, r.seq, "内容与其哈希不符（记录被直接改动）"
        prev, expected_seq = r.hash, expected_seq + 1
    count = expected_seq - 1
    head_seq = head.last_seq if head else 0
    head_hash = head.last_hash if head else GENESIS
    if head_seq != count or head_hash != prev:
        return None, None, f"链头记载{head_seq}条，实有{count}条（末尾记录被删除或链头被改动）"
    return None
