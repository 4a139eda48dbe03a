"""Demand surveys, the training-needs pool (培训需求资源库) and class announcements (第五条)."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from peixun.catalog.models import Level, Occupation
from peixun.core.audit import audit_record
from peixun.core.errors import PeixunError, TransitionError
from peixun.core.identity import mask_phone
from peixun.core.models import Area
from peixun.institutions.models import Institution

from .models import ClassAnnouncement, DemandReport


def demand_submit(
    *,
    kind: str,
    channel: str,
    area: Area,
    occupation_code: str,
    contact_name: str,
    contact_phone: str,
    actor=None,
    level: str = "",
    headcount: int = 1,
    enterprise_name: str = "",
    enterprise_uscc: str = "",
    preferred_period: str = "",
    note: str = "",
) -> DemandReport:
    """One survey answer, from the public form (actor None) or entered by a bureau."""
    problems = []
    occupation = Occupation.objects.filter(code=occupation_code, active=True).first()
    if occupation is None:
        problems.append("请选择职业（工种）")
    if kind not in DemandReport.Kind.values:
        problems.append("需求类别无效")
    if channel not in DemandReport.Channel.values:
        problems.append("填报来源无效")
    if kind == DemandReport.Kind.ENTERPRISE and not enterprise_name.strip():
        problems.append("请填写企业名称")
    if level and level not in Level.values:
        problems.append("等级无效")
    if not 1 <= headcount <= 100000:
        problems.append("人数应在1至100000之间")
    if area.kind == Area.Kind.REGION:
        problems.append("请选择所在盟市或旗县区")
    if not contact_name.strip() or not contact_phone.strip():
        problems.append("请填写联系人和联系电话")
    if problems:
        raise PeixunError("；".join(problems))
    with transaction.atomic():
        report = DemandReport.objects.create(
            kind=kind,
            channel=channel,
            area=area,
            occupation=occupation,
            level=level,
            headcount=headcount,
            enterprise_name=enterprise_name.strip(),
            enterprise_uscc=enterprise_uscc.strip().upper(),
            contact_name=contact_name.strip(),
            contact_phone=contact_phone.strip(),
            preferred_period=preferred_period,
            note=note,
            survey_year=timezone.localdate().year,
            entered_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor,
            action="demand.submitted",
            obj=report,
            area=area,
            after={
                "kind": kind,
                "channel": channel,
                "occupation": occupation.code,
                "level": level,
                "headcount": headcount,
                "contact_phone": mask_phone(contact_phone),
            },
        )
    return report


@dataclass(frozen=True)
class NeedsPoolRow:
    city: Area
    occupation: Occupation
    level: str
    enterprise_headcount: int
    worker_headcount: int
    reports: int
    matching_institutions: int

    @property
    def total(self) -> int:
        return self.enterprise_headcount + self.worker_headcount


def _city_of(area: Area, by_id: dict[int, Area]) -> Area:
    while area.kind not in (Area.Kind.CITY, Area.Kind.COUNTY_DIRECT, Area.Kind.REGION) and area.parent_id:
        area = by_id[area.parent_id]
    return area


def needs_pool(*, reports, year: int | None = None) -> list[NeedsPoolRow]:
    """Aggregate (already scoped) reports by city × occupation × level, with the number of listed
    institutions in that city licensed for the occupation — where demand can be met."""
    if year:
        reports = reports.filter(survey_year=year)
    rows = (
        reports.values("area_id", "occupation_id", "level")
        .annotate(
            enterprise=Sum("headcount", filter=Q(kind=DemandReport.Kind.ENTERPRISE)),
            worker=Sum("headcount", filter=Q(kind=DemandReport.Kind.WORKER)),
            n=Count("id"),
        )
        .order_by()
    )
    by_id = {a.id: a for a in Area.objects.all()}
    grouped: dict[tuple, list] = {}
    for r in rows:
        city = _city_of(by_id[r["area_id"]], by_id)
        key = (city.id, r["occupation_id"], r["level"])
        acc = grouped.setdefault(key, [0, 0, 0])
        acc[0] += r["enterprise"] or 0
        acc[1] += r["worker"] or 0
        acc[2] += r["n"]
    occupations = Occupation.objects.in_bulk({k[1] for k in grouped})
    listed = Institution.objects.filter(status=Institution.Status.LISTED)
    supply: dict[tuple[int, int], int] = {}
    for inst_area_id, occupation_id in listed.values_list("area_id", "licensed_occupations"):
        if occupation_id is None:
            continue
        city = _city_of(by_id[inst_area_id], by_id)
        supply[(city.id, occupation_id)] = supply.get((city.id, occupation_id), 0) + 1
    result = [
        NeedsPoolRow(
            city=by_id[city_id],
            occupation=occupations[occ_id],
            level=level,
            enterprise_headcount=acc[0],
            worker_headcount=acc[1],
            reports=acc[2],
            matching_institutions=supply.get((city_id, occ_id), 0),
        )
        for (city_id, occ_id, level), acc in grouped.items()
    ]
    return sorted(result, key=lambda r: (-r.total, r.city.code, r.occupation.code))


def matching_institutions(*, city: Area, occupation: Occupation):
    """Listed institutions of the city licensed for the occupation (the demand-to-supply match)."""
    areas = [
        city.id,
        *Area.objects.filter(parent=city).exclude(kind=Area.Kind.COUNTY_DIRECT).values_list("id", flat=True),
    ]
    return Institution.objects.filter(
        status=Institution.Status.LISTED, area_id__in=areas, licensed_occupations=occupation
    ).order_by("name")


# --- announcements ------------------------------------------------------------------------------


def announcement_create(
    *,
    institution: Institution,
    actor,
    title: str,
    occupation_code: str,
    level: str,
    start_date: dt.date,
    end_date: dt.date,
    place: str,
    capacity: int,
    contact_phone: str,
    employment_destination: str = "",
    area: Area | None = None,
) -> ClassAnnouncement:
    problems = []
    occupation = Occupation.objects.filter(code=occupation_code).first()
    if occupation is None:
        problems.append("请选择职业（工种）")
    elif not institution.licensed_occupations.filter(pk=occupation.pk).exists():
        problems.append(f"{occupation}不在本机构办学许可范围内（第二十二条）")
    if level not in Level.values:
        problems.append("等级无效")
    if end_date < start_date:
        problems.append("结业日期不能早于开班日期")
    if capacity < 1:
        problems.append("招生人数至少为1")
    if not title.strip() or not place.strip() or not contact_phone.strip():
        problems.append("标题、培训地点和报名电话均为必填")
    if problems:
        raise PeixunError("；".join(problems))
    with transaction.atomic():
        announcement = ClassAnnouncement.objects.create(
            institution=institution,
            title=title.strip(),
            occupation=occupation,
            level=level,
            start_date=start_date,
            end_date=end_date,
            place=place.strip(),
            area=area or institution.area,
            capacity=capacity,
            employment_destination=employment_destination,
            contact_phone=contact_phone.strip(),
        )
        audit_record(
            actor=actor,
            action="announcement.created",
            obj=announcement,
            area=announcement.area,
            organisation=institution.organisation,
            after={"title": announcement.title, "occupation": occupation.code, "start_date": start_date},
        )
    return announcement


ANNOUNCEMENT_TRANSITIONS = {
    "publish": (frozenset({ClassAnnouncement.Status.DRAFT}), ClassAnnouncement.Status.PUBLISHED, "发布"),
    "withdraw": (frozenset({ClassAnnouncement.Status.PUBLISHED}), ClassAnnouncement.Status.WITHDRAWN, "撤回"),
}


def announcement_transition(*, announcement: ClassAnnouncement, action: str, actor) -> ClassAnnouncement:
    """Publishing needs the institution to be listed: the public must not be invited to a class
    that cannot be subsidised."""
    if action not in ANNOUNCEMENT_TRANSITIONS:
        raise TransitionError("未知操作")
    sources, target, label = ANNOUNCEMENT_TRANSITIONS[action]
    with transaction.atomic():
        locked = (
            ClassAnnouncement.objects.select_for_update()
            .select_related("institution")
            .get(pk=announcement.pk)
        )
        if locked.status not in sources:
            raise TransitionError(f"公告当前为“{locked.get_status_display()}”，不能{label}")
        if action == "publish":
            # Checked again at publishing: the directory status and the licence may have changed
            # since the draft was written.
            problems = []
            if locked.institution.status != Institution.Status.LISTED:
                problems.append("机构未列入培训机构目录，不能发布开班公告（第二十一条）")
            if not locked.institution.licensed_occupations.filter(pk=locked.occupation_id).exists():
                problems.append(
                    f"{locked.occupation}不在本机构办学许可范围内，不能发布开班公告（第二十二条 超越办学许可范围）"
                )
            if problems:
                raise TransitionError("；".join(problems))
        before = locked.status
        locked.status = target
        fields = ["status"]
        if action == "publish":
            locked.published_at = timezone.now()
            fields.append("published_at")
        locked.save(update_fields=fields)
        audit_record(
            actor=actor,
            action=f"announcement.{action}",
            obj=locked,
            area=locked.area,
            organisation=locked.institution.organisation,
            before={"status": before},
            after={"status": target},
        )
    return locked
