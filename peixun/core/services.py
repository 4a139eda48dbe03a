"""Writes on core data: people, rule settings, the working-day calendar. Each is one transaction
with its audit entry."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from .audit import audit_record
from .errors import PeixunError
from .identity import encrypt_id_number, id_lookup_hash, mask_phone, parse_id_number
from .models import Area, CalendarDay, CalendarYear, Person, RuleSettings

# --- people -------------------------------------------------------------------------------------


def person_find(id_number: str) -> Person | None:
    """Look a person up by ID number (validated first; invalid numbers raise InvalidIdNumber)."""
    parsed = parse_id_number(id_number)
    return Person.objects.filter(id_hmac=id_lookup_hash(parsed.value)).first()


def person_get_or_create(
    *, id_number: str, name: str, actor, phone: str = "", area: Area | None = None
) -> tuple[Person, bool]:
    """The one way a person enters peixun. The name is checked against an existing record: a
    different name under the same number is refused, never silently overwritten (第二十条)."""
    parsed = parse_id_number(id_number)
    name = (name or "").strip()
    if not name:
        raise PeixunError("姓名不能为空")
    key = id_lookup_hash(parsed.value)
    with transaction.atomic():
        existing = Person.objects.select_for_update().filter(id_hmac=key).first()
        if existing is not None:
            if existing.name != name:
                raise PeixunError(
                    f"身份证号{parsed.masked}已登记为“{existing.name}”，与填写的“{name}”不一致，请核实"
                )
            return existing, False
        if area is None:
            area = Area.objects.filter(code=parsed.area_code).first()
        person = Person.objects.create(
            id_hmac=key,
            id_cipher=encrypt_id_number(parsed.value),
            id_masked=parsed.masked,
            name=name,
            birth_date=parsed.birth_date,
            sex=parsed.sex,
            phone=phone,
            area=area,
        )
        audit_record(
            actor=actor,
            action="person.created",
            obj=person,
            area=area,
            after={"name": name, "id_number": parsed.masked, "phone": mask_phone(phone)},
        )
    return person, True


def person_update(*, person: Person, actor, phone: str | None = None, area: Area | None = None) -> Person:
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        before = {"phone": mask_phone(locked.phone), "area": locked.area.code if locked.area else None}
        if phone is not None:
            locked.phone = phone
        if area is not None:
            locked.area = area
        locked.save(update_fields=["phone", "area", "updated_at"])
        audit_record(
            actor=actor,
            action="person.updated",
            obj=locked,
            area=locked.area,
            before=before,
            after={"phone": mask_phone(locked.phone), "area": locked.area.code if locked.area else None},
        )
    return locked


# --- rule settings ------------------------------------------------------------------------------


def current_rule_settings() -> RuleSettings:
    current = RuleSettings.objects.order_by("-version").first()
    if current is None:
        raise PeixunError("规则参数尚未初始化，请先执行数据库迁移")
    return current


def rule_settings_change(*, actor, reason: str, **values) -> RuleSettings:
    """A new version of the settings; findings computed later name it. Unknown fields are refused."""
    unknown = set(values) - set(RuleSettings.RULE_FIELDS)
    if unknown:
        raise PeixunError(f"未知的规则参数：{'、'.join(sorted(unknown))}")
    if not reason.strip():
        raise PeixunError("请填写修改原因")
    with transaction.atomic():
        # Locking the newest version makes two simultaneous edits queue, not both become "v+1".
        current = RuleSettings.objects.select_for_update().order_by("-version").first()
        before = current.as_dict()
        new = RuleSettings(version=current.version + 1, created_by=actor, reason=reason.strip())
        for field in RuleSettings.RULE_FIELDS:
            setattr(new, field, values.get(field, getattr(current, field)))
        try:
            new.full_clean(exclude=["created_by"])
        except ValidationError as exc:
            problems = [
                f"{RuleSettings._meta.get_field(f).verbose_name}：{'；'.join(m)}"
                for f, m in exc.message_dict.items()
            ]
            raise PeixunError("参数有误：" + "；".join(problems)) from exc
        if new.as_dict() == before:
            raise PeixunError("参数没有变化")
        new.save()
        audit_record(
            actor=actor,
            action="rule_settings.changed",
            obj=new,
            object_repr=f"规则参数 v{new.version}",
            before=before,
            after={**new.as_dict(), "reason": new.reason},
        )
    return new


# --- calendar -----------------------------------------------------------------------------------

# chinese_calendar names holidays in English; the calendar page shows the official Chinese names.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def calendar_seed_from_package(*, actor, first_year: int = 2004, last_year: int = 2026) -> int:
    """Load the official arrangements known to the chinesecalendar package. Years already present
    are left as they are (the region admin may have corrected them)."""
    from .reference import seed_calendar_days

    with transaction.atomic():
        added = seed_calendar_days(CalendarYear, CalendarDay, first_year=first_year, last_year=last_year)
        if added:
            audit_record(
                actor=actor,
                action="calendar.seeded",
                object_type="core.CalendarYear",
                object_repr=f"{first_year}–{last_year}年节假日",
                after={"years_added": added, "source": f"chinesecalendar {package_version()}"},
            )
    return added


def package_version() -> str:
    from importlib.metadata import version

    return version("chinesecalendar")


def calendar_set_day(*, actor, date: dt.date, kind: str | None, name: str = "") -> None:
    """Mark a day as holiday or 调休 working day, or (kind None) back to the ordinary weekday rule."""
    if kind is not None and kind not in CalendarDay.Kind.values:
        raise PeixunError("类别应为“放假”或“调休上班”")
    if kind == CalendarDay.Kind.WORKDAY and date.weekday() < 5:
        raise PeixunError(f"{date.isoformat()}本是工作日，无需设为调休上班")
    with transaction.atomic():
        existing = CalendarDay.objects.select_for_update().filter(date=date).first()
        before = {"kind": existing.kind, "name": existing.name} if existing else None
        if kind is None:
            if existing:
                existing.delete()
        elif existing:
            existing.kind, existing.name = kind, name
            existing.save(update_fields=["kind", "name"])
        else:
            CalendarDay.objects.create(date=date, kind=kind, name=name)
        audit_record(
            actor=actor,
            action="calendar.day_set",
            object_type="core.CalendarDay",
            object_id=date.isoformat(),
            object_repr=date.isoformat(),
            before=before,
            after={"kind": kind, "name": name} if kind else None,
        )


def calendar_open_year(*, actor, year: int, source: str) -> CalendarYear:
    """Declare a year's arrangement entered (after its days are set), so deadlines may use it."""
    if not source.strip():
        raise PeixunError("请填写依据（如国务院办公厅关于放假安排的通知文号）")
    with transaction.atomic():
        if CalendarYear.objects.filter(year=year).exists():
            raise PeixunError(f"{year}年已启用")
        entry = CalendarYear.objects.create(year=year, source=source.strip())
        audit_record(
            actor=actor,
            action="calendar.year_opened",
            obj=entry,
            object_repr=f"{year}年工作日历",
            after={"year": year, "source": source.strip()},
        )
    return entry
