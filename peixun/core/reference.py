"""Reference data shipped with peixun: areas (GB/T 2260) and the first rule-settings version.

Written against the model classes passed in, so that migrations (historical models) and the
`load_reference` command use the same code.
"""

import csv
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
AREAS_CSV = DATA_DIR / "areas-150000.csv"


def read_areas() -> list[dict]:
    with AREAS_CSV.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def load_areas(area_model) -> int:
    """Insert or update every area; parents first (the file lists them first). Returns rows written."""
    rows = read_areas()
    by_code = {a.code: a for a in area_model.objects.all()}
    written = 0
    for row in rows:
        parent = by_code.get(row["parent_code"]) if row["parent_code"] else None
        area = by_code.get(row["code"])
        if area is None:
            area = area_model.objects.create(
                code=row["code"], name=row["name"], kind=row["kind"], parent=parent
            )
            by_code[area.code] = area
            written += 1
        elif (area.name, area.kind, area.parent_id) != (
            row["name"],
            row["kind"],
            parent.id if parent else None,
        ):
            area.name, area.kind, area.parent = row["name"], row["kind"], parent
            area.save()
            written += 1
    return written


def ensure_rule_settings(settings_model) -> None:
    if not settings_model.objects.exists():
        settings_model.objects.create(version=1, reason="")


def seed_calendar_days(year_model, day_model, *, first_year: int = 2004, last_year: int = 2026) -> int:
    """Years known to the chinesecalendar package; a year already present is left untouched."""
    import chinese_calendar

    from .services import HOLIDAY_NAMES_ZH, package_version

    present = set(year_model.objects.values_list("year", flat=True))
    added = 0
    for year in range(first_year, last_year + 1):
        if year in present:
            continue
        day_model.objects.bulk_create(
            [
                day_model(date=day, kind=kind, name=HOLIDAY_NAMES_ZH.get(name or "", name or ""))
                for kind, source in (
                    ("HOLIDAY", chinese_calendar.holidays),
                    ("WORKDAY", chinese_calendar.workdays),
                )
                for day, name in source.items()
                if day.year == year
            ]
        )
        year_model.objects.create(
            year=year, source=f"国务院办公厅节假日安排（据 chinesecalendar {package_version()} 载入）"
        )
        added += 1
    return added
