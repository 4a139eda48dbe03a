"""The training-needs pool and class announcements (第五条).

第五条: enterprises' labour needs and workers' training wishes are surveyed and pooled
(培训需求资源库) by area, occupation and level, matched with listed institutions licensed to train
for them, and institutions announce their classes to the public. An institution may announce only
while it is in the directory (第二十一条) and only within its licence (第二十二条 超越办学许可范围).
"""

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from peixun.accounts.roles import Role
from peixun.accounts.scope import restrict
from peixun.core.errors import PeixunError, TransitionError
from peixun.demand.models import ClassAnnouncement, DemandReport
from peixun.demand.services import (
    ANNOUNCEMENT_TRANSITIONS,
    announcement_create,
    announcement_transition,
    demand_submit,
    matching_institutions,
    needs_pool,
)
from peixun.institutions.models import Institution
from peixun.institutions.services import (
    assessment_record,
    directory_change,
    institution_register,
    institution_update,
)

from .conftest import World, area

pytestmark = pytest.mark.django_db

HOUSEKEEPER = "4-10-01-06"  # 家政服务员
ELDERLY_CARE = "4-10-01-05"  # 养老护理员
WELDER = "6-18-02-04"  # 焊工


def report(kind, where, headcount, *, occupation=HOUSEKEEPER, level="5", actor=None, **extra):
    if kind == DemandReport.Kind.ENTERPRISE:
        extra.setdefault("enterprise_name", "内蒙古伊利实业集团股份有限公司")
    return demand_submit(
        kind=kind,
        channel=DemandReport.Channel.BUREAU if actor else DemandReport.Channel.PUBLIC_FORM,
        area=area(where),
        occupation_code=occupation,
        contact_name="王经理",
        contact_phone="13947112345",
        actor=actor,
        level=level,
        headcount=headcount,
        **extra,
    )


def register(world, code, name, where, occupations, *, listed):
    """An institution registered, assessed on site and (optionally) listed (第六条、第二十一条)."""
    institution = institution_register(
        code=code,
        name=name,
        type=Institution.Type.PRIVATE_SCHOOL,
        area=area(where),
        actor=world.region_admin,
        licensed_occupation_codes=occupations,
    )
    if listed:
        assessment_record(
            institution=institution,
            actor=world.region_admin,
            assessed_on=dt.date(2026, 1, 5),
            assessors="张海燕、赵晓东",
            premises_ok=True,
            equipment_ok=True,
            teachers_ok=True,
        )
        directory_change(
            institution=institution,
            transition="list",
            actor=world.region_admin,
            effective_date=dt.date(2026, 1, 10),
            reason="实地考察通过",
        )
        institution.refresh_from_db()
    return institution


@pytest.fixture
def demand(world):
    """Two enterprise reports and one worker report in 新城区 and 回民区 (both 呼和浩特)."""
    report(DemandReport.Kind.ENTERPRISE, "150102", 10, actor=world.xincheng_reviewer)
    report(DemandReport.Kind.ENTERPRISE, "150103", 6, actor=world.huimin_reviewer)
    report(DemandReport.Kind.WORKER, "150102", 3)
    report(DemandReport.Kind.ENTERPRISE, "150203", 20, actor=world.baotou_admin)  # 包头 昆都仑区


def pool_rows(user, year=None):
    return needs_pool(reports=restrict(DemandReport.objects.all(), user), year=year)


# --- the pool -----------------------------------------------------------------------------------


def test_county_reports_aggregate_into_the_city_row(world, demand):
    rows = [r for r in pool_rows(world.hohhot_admin)]
    assert len(rows) == 1
    row = rows[0]
    assert (row.city.code, row.occupation.code, row.level) == ("150100", HOUSEKEEPER, "5")
    assert (row.enterprise_headcount, row.worker_headcount, row.total, row.reports) == (16, 3, 19, 3)
    # The region sees both cities, largest demand first.
    region_rows = pool_rows(world.region_admin)
    assert [(r.city.code, r.total) for r in region_rows] == [("150200", 20), ("150100", 19)]


def test_other_levels_and_occupations_are_separate_rows(world, demand):
    report(DemandReport.Kind.WORKER, "150102", 2, level="4")
    report(DemandReport.Kind.WORKER, "150103", 4, occupation=ELDERLY_CARE, level="")
    rows = {(r.occupation.code, r.level): r.total for r in pool_rows(world.hohhot_admin)}
    assert rows == {(HOUSEKEEPER, "5"): 19, (HOUSEKEEPER, "4"): 2, (ELDERLY_CARE, ""): 4}


def test_year_filter(world, demand):
    this_year = dt.date.today().year
    DemandReport.objects.filter(area__code="150103").update(survey_year=this_year - 1)
    assert pool_rows(world.hohhot_admin, year=this_year)[0].total == 13
    assert pool_rows(world.hohhot_admin, year=this_year - 1)[0].total == 6
    assert pool_rows(world.hohhot_admin)[0].total == 19


def test_matching_institution_counts_only_when_listed_and_licensed(world, demand):
    def matches():
        return pool_rows(world.hohhot_admin)[0].matching_institutions

    unlisted = register(
        world, "52150102MJY0713E4X", "鸿翔职业技能培训学校", "150102", [HOUSEKEEPER], listed=False
    )
    assert matches() == 0
    register(world, "52150103MJY0001A1B", "青城焊接培训学校", "150103", [WELDER], listed=True)
    register(world, "52150203MJY1234K3T", "钢城家政培训学校", "150203", [HOUSEKEEPER], listed=True)  # 包头
    assert matches() == 0
    listed = register(
        world,
        "52150105MJY7788C2D",
        "巾帼家政职业培训学校",
        "150105",
        [HOUSEKEEPER, ELDERLY_CARE],
        listed=True,
    )
    assert matches() == 1
    assert list(
        matching_institutions(
            city=area("150100"), occupation=listed.licensed_occupations.get(code=HOUSEKEEPER)
        )
    ) == [listed]
    # Suspended: out of the count again.
    directory_change(
        institution=listed,
        transition="suspend",
        actor=world.region_admin,
        effective_date=dt.date(2026, 3, 1),
        reason="整改",
    )
    assert matches() == 0
    assert unlisted.status == Institution.Status.UNLISTED


def test_baotou_admin_sees_none_of_hohhots_demand(client, world, demand):
    rows = pool_rows(world.baotou_admin)
    assert [r.city.code for r in rows] == ["150200"]
    client.force_login(world.baotou_admin)
    pool = client.get(reverse("demand:pool")).content.decode()
    assert "呼和浩特市" not in pool and "包头市" in pool
    reports = client.get(reverse("demand:reports")).content.decode()
    assert "新城区" not in reports and "回民区" not in reports
    assert client.get(reverse("demand:match", args=["150100", HOUSEKEEPER])).status_code == 404
    assert client.get(reverse("demand:match", args=["150200", HOUSEKEEPER])).status_code == 200


def test_county_reviewer_sees_only_their_county(world, demand):
    rows = pool_rows(world.xincheng_reviewer)
    assert [(r.city.code, r.enterprise_headcount, r.worker_headcount) for r in rows] == [("150100", 10, 3)]


def test_pool_page_totals_links_and_export(client, world, demand):
    listed = register(
        world, "52150105MJY7788C2D", "巾帼家政职业培训学校", "150105", [HOUSEKEEPER], listed=True
    )
    client.force_login(world.hohhot_admin)
    html = client.get(reverse("demand:pool")).content.decode()
    assert "呼和浩特市" in html and "家政服务员" in html and ">19<" in html
    assert reverse("demand:match", args=["150100", HOUSEKEEPER]) in html
    match = client.get(reverse("demand:match", args=["150100", HOUSEKEEPER])).content.decode()
    assert listed.name in match

    response = client.get(reverse("demand:pool_export"))
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1] == ("150100", "呼和浩特市", HOUSEKEEPER, "家政服务员", "五级/初级工", 16, 3, 19, 3, 1)


# --- reports and entry --------------------------------------------------------------------------


def test_reports_page_masks_the_contact_phone(client, world, demand):
    client.force_login(world.hohhot_admin)
    html = client.get(reverse("demand:reports")).content.decode()
    assert "139****2345" in html
    assert "13947112345" not in html


def test_bureau_enters_a_report_for_its_own_area_only(client, world):
    client.force_login(world.xincheng_reviewer)
    page = client.get(reverse("demand:entry")).content.decode()
    assert "150102 新城区" in page and "150103" not in page
    data = {
        "kind": "ENTERPRISE",
        "area": area("150102").pk,
        "occupation": f"{HOUSEKEEPER} 家政服务员",
        "level": "5",
        "headcount": "12",
        "enterprise_name": "呼和浩特市万家惠家政服务有限公司",
        "contact_name": "刘丽",
        "contact_phone": "15904718888",
    }
    response = client.post(reverse("demand:entry"), data)
    assert response.status_code == 302
    saved = DemandReport.objects.get()
    assert (saved.channel, saved.area.code, saved.occupation.code, saved.headcount) == (
        DemandReport.Channel.BUREAU,
        "150102",
        HOUSEKEEPER,
        12,
    )
    assert saved.entered_by == world.xincheng_reviewer
    # Another county's area is not a choice.
    response = client.post(reverse("demand:entry"), {**data, "area": area("150103").pk})
    assert response.status_code == 200
    assert DemandReport.objects.count() == 1
    # An enterprise report needs the enterprise's name; the form says so next to the field.
    response = client.post(reverse("demand:entry"), {**data, "enterprise_name": ""})
    assert "企业用工需求请填写企业名称" in response.content.decode()
    assert DemandReport.objects.count() == 1


def test_submit_refuses_bad_input_at_once(world):
    with pytest.raises(PeixunError) as refused:
        demand_submit(
            kind="ENTERPRISE",
            channel="FAX",
            area=area("150000"),
            occupation_code="9-99",
            contact_name="",
            contact_phone="",
            headcount=0,
        )
    for reason in ("请选择职业", "请填写企业名称", "填报来源无效", "人数应在", "请选择所在盟市", "联系人"):
        assert reason in refused.value.message
    assert DemandReport.objects.count() == 0


@pytest.mark.parametrize("who", ["region_admin", "hohhot_admin", "xincheng_reviewer", "inspector"])
def test_demand_pages_open_for_officials(client, world, demand, who):
    client.force_login(getattr(world, who))
    for name in ("demand:pool", "demand:reports", "demand:announcements"):
        assert client.get(reverse(name)).status_code == 200, (who, name)
    assert client.get(reverse("demand:pool") + "?year=").status_code == 200
    entry = client.get(reverse("demand:entry")).status_code
    assert entry == (404 if who == "inspector" else 200)


def test_institution_operator_sees_no_demand_pages(client, world):
    client.force_login(world.inst_a_operator)
    assert client.get(reverse("demand:pool")).status_code == 404
    assert client.get(reverse("demand:reports")).status_code == 404
    assert client.get(reverse("demand:entry")).status_code == 404
    # inst_a has no institution record yet: the list explains, creating is not offered.
    html = client.get(reverse("demand:announcements")).content.decode()
    assert "尚未登记为培训机构" in html
    assert client.get(reverse("demand:announcement_create")).status_code == 302


# --- announcements ------------------------------------------------------------------------------


def new_announcement(institution, actor, occupation=HOUSEKEEPER, **changes):
    values = {
        "title": "2026年第3期家政服务员培训班招生",
        "occupation_code": occupation,
        "level": "5",
        "start_date": dt.date(2026, 9, 1),
        "end_date": dt.date(2026, 9, 20),
        "place": "呼和浩特市新城区兴安北路12号",
        "capacity": 40,
        "contact_phone": "0471-6661234",
    }
    values.update(changes)
    return announcement_create(institution=institution, actor=actor, **values)


def test_announcement_for_an_unlicensed_occupation_is_refused(world):
    institution = register(
        world, "52150102MJY0713E4X", "鸿翔职业技能培训学校", "150102", [HOUSEKEEPER], listed=True
    )
    with pytest.raises(PeixunError, match="第二十二条"):
        new_announcement(institution, world.region_admin, occupation=WELDER)
    assert ClassAnnouncement.objects.count() == 0


def test_publish_refused_for_an_unlisted_institution(world):
    institution = register(
        world, "52150102MJY0713E4X", "鸿翔职业技能培训学校", "150102", [HOUSEKEEPER], listed=False
    )
    draft = new_announcement(institution, world.region_admin)
    with pytest.raises(TransitionError, match="未列入培训机构目录"):
        announcement_transition(announcement=draft, action="publish", actor=world.region_admin)
    draft.refresh_from_db()
    assert draft.status == ClassAnnouncement.Status.DRAFT


def test_publish_refused_when_the_licence_no_longer_covers_the_occupation(world):
    """第二十二条: the licence is checked again at publishing, not only when the draft was saved."""
    institution = register(
        world,
        "52150102MJY0713E4X",
        "鸿翔职业技能培训学校",
        "150102",
        [HOUSEKEEPER, ELDERLY_CARE],
        listed=True,
    )
    draft = new_announcement(institution, world.region_admin)
    institution_update(
        institution=institution, actor=world.region_admin, licensed_occupation_codes=[ELDERLY_CARE]
    )
    with pytest.raises(TransitionError, match="超越办学许可范围"):
        announcement_transition(announcement=draft, action="publish", actor=world.region_admin)
    draft.refresh_from_db()
    assert draft.status == ClassAnnouncement.Status.DRAFT


def test_publish_withdraw_and_a_second_publish_refused(world):
    institution = register(
        world, "52150102MJY0713E4X", "鸿翔职业技能培训学校", "150102", [HOUSEKEEPER], listed=True
    )
    draft = new_announcement(institution, world.region_admin)
    with pytest.raises(TransitionError, match="不能撤回"):
        announcement_transition(announcement=draft, action="withdraw", actor=world.region_admin)
    published = announcement_transition(announcement=draft, action="publish", actor=world.region_admin)
    assert published.status == ClassAnnouncement.Status.PUBLISHED and published.published_at
    with pytest.raises(TransitionError, match="不能发布"):
        announcement_transition(announcement=draft, action="publish", actor=world.region_admin)
    withdrawn = announcement_transition(announcement=draft, action="withdraw", actor=world.region_admin)
    assert withdrawn.status == ClassAnnouncement.Status.WITHDRAWN
    with pytest.raises(TransitionError):
        announcement_transition(announcement=draft, action="publish", actor=world.region_admin)
    assert set(ANNOUNCEMENT_TRANSITIONS) == {"publish", "withdraw"}


@pytest.fixture
def school(world):
    """A listed institution with its own operator account."""
    institution = register(
        world,
        "52150102MJY0713E4X",
        "鸿翔家政职业培训学校",
        "150102",
        [HOUSEKEEPER, ELDERLY_CARE],
        listed=True,
    )
    operator = World.user("ma_school", Role.INSTITUTION_OPERATOR, "马文", institution.organisation)
    return institution, operator


def test_institution_operator_creates_publishes_and_withdraws_on_the_page(client, world, school):
    institution, operator = school
    client.force_login(operator)
    form = client.get(reverse("demand:announcement_create")).content.decode()
    assert "4-10-01-06 家政服务员" in form and WELDER not in form  # licensed occupations only
    data = {
        "title": "家政服务员（五级）培训班招生",
        "occupation": institution.licensed_occupations.get(code=HOUSEKEEPER).pk,
        "level": "5",
        "start_date": "2026-09-01",
        "end_date": "2026-09-20",
        "place": "新城区兴安北路12号",
        "capacity": "40",
        "contact_phone": "0471-6661234",
    }
    assert client.post(reverse("demand:announcement_create"), data).status_code == 302
    announcement = ClassAnnouncement.objects.get()
    assert announcement.institution == institution and announcement.status == ClassAnnouncement.Status.DRAFT
    listing = client.get(reverse("demand:announcements")).content.decode()
    publish_url = reverse("demand:announcement_transition", args=[announcement.pk, "publish"])
    withdraw_url = reverse("demand:announcement_transition", args=[announcement.pk, "withdraw"])
    assert publish_url in listing and withdraw_url not in listing

    assert client.post(publish_url).status_code == 302
    announcement.refresh_from_db()
    assert announcement.status == ClassAnnouncement.Status.PUBLISHED
    listing = client.get(reverse("demand:announcements")).content.decode()
    assert withdraw_url in listing and publish_url not in listing
    # Publishing twice: refused with a message, nothing changes.
    html = client.post(publish_url, follow=True).content.decode()
    assert "未能发布" in html
    assert client.post(withdraw_url).status_code == 302
    announcement.refresh_from_db()
    assert announcement.status == ClassAnnouncement.Status.WITHDRAWN


def test_end_date_before_start_date_is_refused_in_the_form(client, world, school):
    institution, operator = school
    client.force_login(operator)
    response = client.post(
        reverse("demand:announcement_create"),
        {
            "title": "班",
            "occupation": institution.licensed_occupations.get(code=HOUSEKEEPER).pk,
            "level": "5",
            "start_date": "2026-09-20",
            "end_date": "2026-09-01",
            "place": "新城区",
            "capacity": "40",
            "contact_phone": "0471-6661234",
        },
    )
    assert response.status_code == 200
    assert "结业日期不能早于开班日期" in response.content.decode()
    assert ClassAnnouncement.objects.count() == 0


def test_other_institutions_and_officials_cannot_touch_an_announcement(client, world, school):
    institution, _operator = school
    announcement = new_announcement(institution, world.region_admin)
    other = register(world, "52150103MJY0001A1B", "青城家政培训学校", "150103", [HOUSEKEEPER], listed=True)
    stranger = World.user("he_other", Role.INSTITUTION_OPERATOR, "何春", other.organisation)
    url = reverse("demand:announcement_transition", args=[announcement.pk, "publish"])
    client.force_login(stranger)
    assert client.post(url).status_code == 404
    assert "2026年第3期" not in client.get(reverse("demand:announcements")).content.decode()
    client.force_login(world.hohhot_admin)
    assert client.post(url).status_code == 404  # officials read, institutions announce
    html = client.get(reverse("demand:announcements")).content.decode()
    assert "2026年第3期家政服务员培训班招生" in html and url not in html
    client.force_login(world.baotou_admin)
    assert "2026年第3期" not in client.get(reverse("demand:announcements")).content.decode()
    announcement.refresh_from_db()
    assert announcement.status == ClassAnnouncement.Status.DRAFT
