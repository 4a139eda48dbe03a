"""The occupation list shipped with peixun (国家职业分类大典 2022 + 2024–2025 additions)."""

import csv
from pathlib import Path

OCCUPATIONS_CSV = Path(__file__).resolve().parent / "data" / "occupations.csv"


def load_occupations(occupation_model) -> int:
    existing = {o.code: o for o in occupation_model.objects.all()}
    new = []
    changed = 0
    with OCCUPATIONS_CSV.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            current = existing.get(row["code"])
            if current is None:
                new.append(
                    occupation_model(code=row["code"], name=row["name"], major_group=row["major_group"])
                )
            elif current.name != row["name"]:
                current.name = row["name"]
                current.save(update_fields=["name"])
                changed += 1
    occupation_model.objects.bulk_create(new, batch_size=500)
    return len(new) + changed
