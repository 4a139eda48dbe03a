"""The audit chain (审计日志): append inside the caller's transaction; verify from first to last.

Each entry's hash covers its own content and the previous entry's hash, and the chain head keeps
the last hash and the count, so an entry edited, deleted or moved in the database directly breaks
the chain at that point (第二十条: records must be tamper-evident).
"""

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEntry

GENESIS = "0" * 64


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    # floats are stored as text: their JSON form differs between SQLite and PostgreSQL jsonb
    return str(value)


def entry_digest(entry: AuditEntry) -> str:
    payload = [
        entry.id,
        entry.prev_hash,
        entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        entry.actor_id,
        entry.actor_name,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.object_repr,
        entry.area_id,
        entry.organisation_id,
        entry.before,
        entry.after,
    ]
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def audit_record(
    *,
    actor,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    area=None,
    organisation=None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Append one entry. Must run inside the transaction that makes the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the transaction of the change")
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or str(getattr(obj, "public_id", None) or obj.pk)
        object_repr = object_repr or str(obj)[:200]
    # Locking the head row makes concurrent appenders take turns, so the chain never forks.
    head, _created = AuditChainHead.objects.select_for_update().get_or_create(singleton=1)
    entry = AuditEntry(
        at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=(actor.get_full_name() or actor.get_username())[:64]
        if getattr(actor, "pk", None)
        else "系统",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        area=area,
        organisation=organisation,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        prev_hash=head.last_hash,
        hash="pending-" + uuid.uuid4().hex,  # replaced below, once the id is known
    )
    entry.save()
    entry.hash = entry_digest(entry)
    AuditEntry.objects.filter(pk=entry.pk).update(hash=entry.hash)
    head.last_entry_id = entry.id
    head.last_hash = entry.hash
    head.entry_count += 1
    head.save(update_fields=["last_entry_id", "last_hash", "entry_count"])
    return entry


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int | None
    message: str


def verify_chain() -> ChainProblem | None:
    """Walk the chain in id order; return the first problem found, or None when intact."""
    prev = GENESIS
    count = 0
    last_id = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if entry.prev_hash != prev:
            return ChainProblem(
                entry.id, f"第{entry.id}条的前序哈希与上一条不符（上一条被删除、改动或顺序被调换）"
            )
        if entry_digest(entry) != entry.hash:
            return ChainProblem(entry.id, f"第{entry.id}条的内容与其哈希不符（记录被直接改动）")
        prev = entry.hash
        last_id = entry.id
    head = AuditChainHead.objects.filter(singleton=1).first()
    if head is None:
        return None if count == 0 else ChainProblem(None, "审计链头记录缺失")
    if head.entry_count != count or head.last_hash != prev:
        return ChainProblem(
            head.last_entry_id or last_id or None,
            f"审计链末尾不符：应有{head.entry_count}条、末条第{head.last_entry_id}条，实有{count}条（末尾记录被删除）",
        )
    return None
