"""Shared pieces of the bulk importers (data package, registries, history): value parsers that
raise ValueError with a Chinese reason, and person lookup/creation by ID number in bulk."""

import datetime as dt
import ipaddress
import zoneinfo
from decimal import Decimal, InvalidOperation

from .errors import InvalidIdNumber
from .identity import encrypt_id_number, id_lookup_hash, parse_id_number
from .models import Area, Person

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def req(value: str, label: str = "该列") -> str:
    if not value:
        raise ValueError(f"{label}不能为空")
    return value


def date_or_none(value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"日期“{value}”应为YYYY-MM-DD") from exc


def date_required(value: str) -> dt.date:
    if not value:
        raise ValueError("日期不能为空")
    return date_or_none(value)


def local_datetime(value: str, *, required: bool = True) -> dt.datetime | None:
    if not value:
        if required:
            raise ValueError("时间不能为空")
        return None
    try:
        parsed = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")
    except ValueError as exc:
        raise ValueError(f"时间“{value}”应为YYYY-MM-DDTHH:MM:SS（北京时间）") from exc
    return parsed.replace(tzinfo=SHANGHAI)


def time_hhmm(value: str) -> dt.time:
    try:
        return dt.datetime.strptime(value, "%H:%M").time()
    except ValueError as exc:
        raise ValueError(f"时间“{value}”应为HH:MM") from exc


def month_period(start: str, end: str) -> tuple[dt.date, dt.date | None]:
    """YYYY-MM to YYYY-MM as first day of the first month and last day of the last month."""

    def first_day(value: str) -> dt.date:
        try:
            return dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError as exc:
            raise ValueError(f"月份“{value}”应为YYYY-MM") from exc

    begin = first_day(req(start, "起始月份"))
    if not end:
        return begin, None
    last = first_day(end)
    following = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return begin, following - dt.timedelta(days=1)


def decimal_value(value: str, *, minimum: Decimal | None = None) -> Decimal:
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"“{value}”不是数字") from exc
    if not number.is_finite():
        raise ValueError(f"“{value}”不是数字")
    if minimum is not None and number < minimum:
        raise ValueError(f"“{value}”不能小于{minimum}")
    return number


def float_or_none(value: str, low: float, high: float, label: str) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise ValueError(f"{label}“{value}”不是数字") from exc
    if not low <= number <= high:
        raise ValueError(f"{label}“{value}”超出范围")
    return number


def int_value(value: str, *, minimum: int = 0) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise ValueError(f"“{value}”不是整数") from exc
    if number < minimum:
        raise ValueError(f"“{value}”不能小于{minimum}")
    return number


def yes_no(value: str) -> bool:
    if value in ("Y", "N"):
        return value == "Y"
    raise ValueError(f"应为Y或N，实际为“{value}”")


def ip_or_none(value: str) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise ValueError(f"IP地址“{value}”无效") from exc


def id_number(value: str) -> str:
    """Normalised ID number (lowercase x → X), or ValueError with the validator's Chinese reason."""
    try:
        return parse_id_number(value).value
    except InvalidIdNumber as exc:
        raise ValueError(exc.message) from exc


class PersonIndex:
    """ID number → Person for a whole file: one query per batch of numbers, new people created in
    bulk (encrypted like everyone), names checked against existing records."""

    def __init__(self):
        self._by_hmac: dict[str, Person] = {}
        self._areas = dict(Area.objects.values_list("code", "id"))

    def load(self, numbers: set[str]) -> None:
        hmacs = {id_lookup_hash(n): n for n in numbers}
        missing = [h for h in hmacs if h not in self._by_hmac]
        for start in range(0, len(missing), 2000):
            chunk = missing[start : start + 2000]
            for person in Person.objects.filter(id_hmac__in=chunk):
                self._by_hmac[person.id_hmac] = person

    def load_column(self, rows, column: str) -> None:
        """Load the people named in one column of a file's rows; invalid numbers are skipped here
        (the row's own check reports them)."""
        numbers = set()
        for row in rows:
            try:
                numbers.add(id_number(row.values[column]))
            except ValueError:
                pass
        self.load(numbers)

    def get(self, number: str) -> Person | None:
        return self._by_hmac.get(id_lookup_hash(number))

    def create_missing(self, people: dict[str, str]) -> int:
        """people: ID number → name, for numbers not yet known. Returns how many were created."""
        new = []
        for number, name in people.items():
            key = id_lookup_hash(number)
            if key in self._by_hmac:
                continue
            parsed = parse_id_number(number)
            new.append(
                Person(
                    id_hmac=key,
                    id_cipher=encrypt_id_number(number),
                    id_masked=parsed.masked,
                    name=name,
                    birth_date=parsed.birth_date,
                    sex=parsed.sex,
                    area_id=self._areas.get(parsed.area_code),
                )
            )
        for start in range(0, len(new), 2000):
            Person.objects.bulk_create(new[start : start + 2000])
        # bulk_create does not return ids on every backend: read them back
        self.load(set(people))
        return len(new)
