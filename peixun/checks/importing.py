"""Registry snapshots and the previous system's history (contract.md), all or nothing.

A registry import replaces that registry's snapshot whole: the new file's rows take the place of
the old ones, and a RegistrySnapshot row records who imported which file (hash, row count, time).
ID numbers are kept only as their HMAC and masked form.
"""

import hashlib
from collections.abc import Callable
from pathlib import Path

from django.db import transaction

from peixun.catalog.models import Level, TrainingType
from peixun.core import bulk, contract
from peixun.core.audit import audit_record
from peixun.core.identity import id_lookup_hash, mask_id_number
from peixun.core.tabular import ImportFailed, RowError, iter_csv, read_table

from .models import HistoryTraining, RegistryKind, RegistryRow, RegistrySnapshot

HISTORY_COLUMNS = contract.HISTORY_COLUMNS
REGISTRY_COLUMNS = contract.REGISTRY_COLUMNS


def _period(v: dict, start: str, end: str) -> tuple:
    begin = bulk.date_required(v[start])
    finish = bulk.date_or_none(v[end])
    if finish and finish < begin:
        raise ValueError(f"{end}早于{start}")
    return begin, finish


def _registry_values(kind: str, v: dict) -> dict:
    if kind == RegistryKind.DEATH:
        return {"date_from": bulk.date_required(v["death_date"])}
    if kind == RegistryKind.PUBLIC_PAYROLL:
        begin, end = _period(v, "start_date", "end_date")
        return {"date_from": begin, "date_to": end, "org_name": v["unit_name"]}
    if kind == RegistryKind.BUSINESS_LICENSE:
        begin, end = _period(v, "established_date", "revoked_date")
        return {
            "date_from": begin,
            "date_to": end,
            "org_code": v["uscc"].upper(),
            "org_name": v["business_name"],
        }
    if kind == RegistryKind.HOSPITALIZATION:
        begin, end = _period(v, "admit_date", "discharge_date")
        return {"date_from": begin, "date_to": end, "org_name": v["hospital"]}
    if kind == RegistryKind.SOCIAL_INSURANCE:
        begin, end = bulk.month_period(v["start_month"], v["end_month"])
        if end and end < begin:
            raise ValueError("end_month早于start_month")
        return {
            "date_from": begin,
            "date_to": end,
            "org_code": v["employer_uscc"].upper(),
            "org_name": v["employer_name"],
        }
    if kind == RegistryKind.EMPLOYMENT_FILING:
        begin, end = _period(v, "start_date", "end_date")
        return {"date_from": begin, "date_to": end, "org_code": v["employer_uscc"].upper()}
    if kind == RegistryKind.UNEMPLOYMENT_REGISTRATION:
        begin, end = _period(v, "registered_date", "end_date")
        return {"date_from": begin, "date_to": end}
    if kind == RegistryKind.SKILL_CERTIFICATE:
        if not v["occupation_code"]:
            raise ValueError("occupation_code不能为空")
        if v["level"] not in Level.values:
            raise ValueError(f"等级“{v['level']}”无效")
        return {
            "date_from": bulk.date_required(v["issue_date"]),
            "occupation_code": v["occupation_code"],
            "level": v["level"],
            "certificate_no": v["certificate_no"],
        }
    raise ValueError(f"未知的外部数据类别：{kind}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _rows(path: Path, columns):
    if path.suffix.lower() == ".xlsx":
        return iter(read_table(path, filename=path.name, required=columns).rows)
    return iter_csv(path, required=columns)


def import_registry(
    *, kind: str, path: Path, actor, progress: Callable[[str], None] | None = None
) -> RegistrySnapshot:
    if kind not in REGISTRY_COLUMNS:
        raise ImportFailed(
            [
                RowError(
                    Path(path).name,
                    0,
                    "类别",
                    f"未知的外部数据类别“{kind}”，应为 {'/'.join(REGISTRY_COLUMNS)}",
                )
            ]
        )
    path = Path(path)
    columns = REGISTRY_COLUMNS[kind]
    errors: list[RowError] = []
    batch: list[RegistryRow] = []
    count = 0
    with transaction.atomic():
        snapshot = RegistrySnapshot.objects.create(
            kind=kind,
            file_name=path.name,
            sha256=_sha256(path),
            row_count=0,
            imported_by=actor if getattr(actor, "pk", None) else None,
        )
        for row in _rows(path, columns):
            if row.errors:
                errors.extend(row.errors)
                continue
            v = row.values
            try:
                number = bulk.id_number(v["id_number"])
            except ValueError as exc:
                errors.append(RowError(path.name, row.line, "id_number", str(exc)))
                continue
            try:
                values = _registry_values(kind, v)
            except ValueError as exc:
                errors.append(RowError(path.name, row.line, "日期/字段", str(exc)))
                continue
            count += 1
            if errors:
                continue  # keep validating, stop building rows that will never be written
            batch.append(
                RegistryRow(
                    snapshot=snapshot,
                    kind=kind,
                    line=row.line,
                    id_hmac=id_lookup_hash(number),
                    id_masked=mask_id_number(number),
                    name=v["name"],
                    **values,
                )
            )
            if len(batch) >= 5000:
                RegistryRow.objects.bulk_create(batch)
                batch.clear()
                if progress:
                    progress(f"{path.name}：已读 {count} 行")
        if errors:
            raise ImportFailed(errors)
        RegistryRow.objects.bulk_create(batch)
        # Replace the snapshot whole: the rows of earlier snapshots of this kind go.
        RegistryRow.objects.filter(kind=kind).exclude(snapshot=snapshot).delete()
        snapshot.row_count = count
        snapshot.save(update_fields=["row_count"])
        audit_record(
            actor=actor,
            action="registry.imported",
            obj=snapshot,
            object_repr=f"{snapshot.get_kind_display()} {path.name}",
            after={"kind": kind, "file": path.name, "sha256": snapshot.sha256, "rows": count},
        )
    return snapshot


def import_history(*, path: Path, actor) -> dict:
    """history.csv: matched on (id_number, occupation_code, level, completed_on, institution_code)."""
    path = Path(path)
    errors: list[RowError] = []
    parsed: dict[tuple, dict] = {}
    lines: dict[tuple, int] = {}
    for row in _rows(path, HISTORY_COLUMNS):
        if row.errors:
            errors.extend(row.errors)
            continue
        v = row.values
        problems = []
        number = None
        try:
            number = bulk.id_number(v["id_number"])
        except ValueError as exc:
            problems.append(("id_number", str(exc)))
        if not v["occupation_code"]:
            problems.append(("occupation_code", "职业编码不能为空"))
        if v["level"] not in Level.values:
            problems.append(("level", f"等级“{v['level']}”无效"))
        if v["training_type"] not in TrainingType.values:
            problems.append(("training_type", f"培训类型“{v['training_type']}”无效"))
        completed = amount = None
        try:
            completed = bulk.date_required(v["completed_on"])
        except ValueError as exc:
            problems.append(("completed_on", str(exc)))
        try:
            amount = bulk.decimal_value(v["subsidy_amount"] or "0", minimum=0)
        except ValueError as exc:
            problems.append(("subsidy_amount", str(exc)))
        if problems:
            errors.extend(RowError(path.name, row.line, c, m) for c, m in problems)
            continue
        key = (
            id_lookup_hash(number),
            v["occupation_code"],
            v["level"],
            completed,
            v["institution_code"].upper(),
        )
        if key in lines:
            errors.append(RowError(path.name, row.line, "id_number", f"与第{lines[key]}行重复"))
            continue
        lines[key] = row.line
        parsed[key] = dict(
            id_masked=mask_id_number(number),
            name=v["name"],
            training_type=v["training_type"],
            subsidy_amount=amount,
        )
    if errors:
        raise ImportFailed(errors)
    created = updated = 0
    with transaction.atomic():
        existing = {}
        hmacs = list({k[0] for k in parsed})
        for start in range(0, len(hmacs), 2000):
            for h in HistoryTraining.objects.filter(id_hmac__in=hmacs[start : start + 2000]):
                existing[(h.id_hmac, h.occupation_code, h.level, h.completed_on, h.institution_code)] = h
        new, changed = [], []
        for key, values in parsed.items():
            record = existing.get(key)
            if record is None:
                new.append(
                    HistoryTraining(
                        id_hmac=key[0],
                        occupation_code=key[1],
                        level=key[2],
                        completed_on=key[3],
                        institution_code=key[4],
                        **values,
                    )
                )
            elif any(getattr(record, f) != values[f] for f in values):
                for f, value in values.items():
                    setattr(record, f, value)
                changed.append(record)
        HistoryTraining.objects.bulk_create(new, batch_size=5000)
        HistoryTraining.objects.bulk_update(
            changed, ["id_masked", "name", "training_type", "subsidy_amount"], batch_size=5000
        )
        created, updated = len(new), len(changed)
        audit_record(
            actor=actor,
            action="history.imported",
            object_type="checks.HistoryTraining",
            object_repr=path.name,
            after={
                "file": path.name,
                "sha256": _sha256(path),
                "rows": len(parsed),
                "created": created,
                "updated": updated,
            },
        )
    return {"rows": len(parsed), "created": created, "updated": updated}
