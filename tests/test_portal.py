"""The public portal (第五条): 培训政策、培训机构目录、评价机构、开班信息 published for the public,
and the 培训需求调查 form that feeds the training-needs pool.

Public pages need no login and never show a person: no names, no ID numbers (raw or masked), no
phone numbers except the registration phone an institution publishes with a class. Only institutions
in the directory (LISTED) appear; suspended, removed and never-listed ones do not, not even by URL.
"""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from peixun.core.models import AuditEntry
from peixun.demand.models import ClassAnnouncement, DemandReport
from peixun.demand.services import announcement_create, announcement_transition
from peixun.institutions.models import Institution
from peixun.institutions.services import (
    assessment_record,
    directory_change,
    evaluation_body_register,
    institution_register,
    teacher_register,
)
from peixun.portal.models import Notice
from peixun.portal.services import notice_publish
from tests.conftest import area, new_id_number

pytestmark = pytest.mark.django_db

COOK = "4-03-02-01"  # 中式烹调师
ELECTRICIAN = "6-31-01-03"  # 电工
HOUSEKEEPER = "4-10-01-06"  # 家政服务员
CONTACT_NAME = "周丽华"
CONTACT_PHONE = "13804711234"
TEACHER_NAME = "高志远"
TEACHER_ID = new_id_number("150103", dt.date(1979, 8, 21), True, seed=7)
SURVEY_NAME = "赵春花"
SURVEY_PHONE = "13912340000"


def today() -> dt.date:
    return timezone.localdate()


def register(world, code, name, area_code, occupations, **extra) -> Institution:
    return institution_register(
        code=code,
        name=name,
        type=Institution.Type.PRIVATE_SCHOOL,
        area=area(area_code),
        actor=world.region_admin,
        address=f"{name}地址1号",
        licensed_occupation_codes=occupations,
        **extra,
    )


def list_in_directory(world, institution, effective_date=None) -> Institution:
    assessment_record(
        institution=institution,
        actor=world.region_admin,
        assessed_on=today() - dt.timedelta(days=30),
        assessors="考察组",
        premises_ok=True,
        equipment_ok=True,
        teachers_ok=True,
    )
    directory_change(
        institution=institution,
        transition="list",
        actor=world.region_admin,
        effective_date=effective_date or today() - dt.timedelta(days=20),
        reason="实地考察评估通过",
    )
    institution.refresh_from_db()
    return institution


def announce(world, institution, occupation, start, *, publish=True, title=None, phone="0471-6912345"):
    announcement = announcement_create(
        institution=institution,
        actor=world.region_admin,
        title=title or f"{institution.name}{occupation}培训班",
        occupation_code=occupation,
        level="5",
        start_date=start,
        end_date=start + dt.timedelta(days=20),
        place="实训楼三层",
        capacity=40,
        contact_phone=phone,
        employment_destination="本地餐饮企业",
    )
    if publish:
        announcement = announcement_transition(
            announcement=announcement, action="publish", actor=world.region_admin
        )
    return announcement


@pytest.fixture
def directory(world):
    """A listed school in 新城区 (cook, electrician) with a teacher and a contact person; a listed
    school in 昆都仑区 (housekeeping); one never listed, one suspended, one removed."""
    listed = list_in_directory(
        world,
        register(
            world,
            "91150102MA0000001A",
            "鸿翔职业技能培训学校",
            "150102",
            [COOK, ELECTRICIAN],
            contact_name=CONTACT_NAME,
            contact_phone=CONTACT_PHONE,
            premises="教学楼A座三层，实训厨房120平方米",
            equipment="燃气灶台20套",
        ),
        effective_date=dt.date(2026, 3, 15),
    )
    teacher_register(
        id_number=TEACHER_ID,
        name=TEACHER_NAME,
        institution=listed,
        qualification="中式烹调高级技师",
        actor=world.region_admin,
        occupation_codes=[COOK],
        phone="13600001111",
    )
    baotou = list_in_directory(
        world, register(world, "91150203MA0000002B", "钢城家政服务培训学校", "150203", [HOUSEKEEPER])
    )
    unlisted = register(world, "91150103MA0000003C", "未入目录培训中心", "150103", [COOK])
    suspended = list_in_directory(
        world, register(world, "91150104MA0000004D", "暂停整改培训学校", "150104", [COOK])
    )
    removed = list_in_directory(
        world, register(world, "91150105MA0000005E", "已被移出培训学校", "150105", [COOK])
    )
    # Announcements published while listed, before the suspension / removal.
    announce(world, suspended, COOK, today() + dt.timedelta(days=15), title="暂停机构的厨师班")
    directory_change(
        institution=suspended,
        transition="suspend",
        actor=world.region_admin,
        effective_date=today(),
        reason="专项检查发现问题",
    )
    directory_change(
        institution=removed,
        transition="remove",
        actor=world.region_admin,
        effective_date=today(),
        reason="年度检查不合格",
    )
    return {
        "listed": listed,
        "baotou": baotou,
        "unlisted": unlisted,
        "suspended": suspended,
        "removed": removed,
    }


def public_urls(directory) -> list[str]:
    return [
        reverse("portal:home"),
        reverse("portal:institutions"),
        reverse("portal:institution", args=[directory["listed"].pk]),
        reverse("portal:institution", args=[directory["baotou"].pk]),
        reverse("portal:announcements"),
        reverse("portal:evaluation_bodies"),
        reverse("portal:survey"),
        reverse("portal:survey") + "?kind=ENTERPRISE",
        reverse("portal:survey") + "?kind=WORKER",
        reverse("portal:survey_thanks") + "?kind=WORKER",
        reverse("portal:notices"),
        reverse("portal:notices") + "?category=POLICY",
        reverse("portal:occupation_suggest") + "?occupation=烹调",
    ]


def survey_data(**changes) -> dict:
    data = {
        "kind": "WORKER",
        "area": "150102",
        "occupation": "中式烹调师",
        "level": "5",
        "contact_name": SURVEY_NAME,
        "contact_phone": SURVEY_PHONE,
        "preferred_period": "2026年冬季农闲时",
        "note": "",
        "homepage": "",
    }
    data.update(changes)
    return data


# --- every public page, anonymously, with no personal data --------------------------------------


def test_every_public_page_answers_anonymously_without_inline_script(client, world, directory):
    notice = notice_publish(
        category=Notice.Category.POLICY,
        title="关于做好2026年职业技能培训工作的通知",
        body="各盟市人社局：……",
        area=area("150000"),
        actor=world.region_admin,
        published_on=today(),
    )
    urls = [*public_urls(directory), reverse("portal:notice", args=[notice.pk])]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        # CSP forbids inline scripts: every <script> has a src.
        assert not re.findall(r"<script(?![^>]*\bsrc=)", html), url
    home = client.get(reverse("portal:home")).content.decode()
    assert "内蒙古自治区职业技能培训公共服务" in home
    assert "内蒙古自治区人力资源和社会保障厅" in home
    assert reverse("login") in home


def test_no_public_page_shows_personal_data(client, world, directory):
    """Names, ID numbers (raw and masked) and personal phones of teachers, trainees, contact persons
    and survey respondents never reach a public page — the registration phone of a class does."""
    announce(world, directory["listed"], COOK, today() + dt.timedelta(days=7))
    evaluation_body_register(
        code="12150000MB0000009X",
        name="内蒙古烹饪技能鉴定站",
        area=area("150100"),
        actor=world.region_admin,
        contact_phone="13700009999",
        scopes=[(COOK, "5"), (COOK, "4")],
    )
    client.post(reverse("portal:survey") + "?kind=WORKER", survey_data())
    assert DemandReport.objects.count() == 1
    teacher = directory["listed"].teachers.get()
    forbidden = {
        "teacher name": TEACHER_NAME,
        "teacher ID": TEACHER_ID,
        "teacher masked ID": teacher.person.id_masked,
        "teacher phone": "13600001111",
        "trainee name": world.li_ming.name,
        "trainee masked ID": world.li_ming.id_masked,
        "trainee phone": world.li_ming.phone,
        "contact name": CONTACT_NAME,
        "contact phone": CONTACT_PHONE,
        "evaluation body phone": "13700009999",
        "survey name": SURVEY_NAME,
        "survey phone": SURVEY_PHONE,
        "premises": "实训厨房120平方米",
        "equipment": "燃气灶台20套",
    }
    seen_registration_phone = False
    for url in public_urls(directory):
        html = client.get(url).content.decode()
        for what, value in forbidden.items():
            assert value not in html, f"{what} on {url}"
        seen_registration_phone |= "0471-6912345" in html
    assert seen_registration_phone


# --- the directory (培训机构目录) -----------------------------------------------------------------


def test_directory_lists_only_listed_institutions(client, directory):
    html = client.get(reverse("portal:institutions")).content.decode()
    assert "鸿翔职业技能培训学校" in html
    assert "钢城家政服务培训学校" in html
    assert "未入目录培训中心" not in html
    assert "暂停整改培训学校" not in html
    assert "已被移出培训学校" not in html
    assert "2026-03-15" in html  # 列入目录日期
    assert "中式烹调师" in html and "新城区" in html and "民办职业培训学校" in html
    for key in ("unlisted", "suspended", "removed"):
        url = reverse("portal:institution", args=[directory[key].pk])
        assert client.get(url).status_code == 404, key
    detail = client.get(reverse("portal:institution", args=[directory["listed"].pk]))
    assert detail.status_code == 200
    assert "91150102MA0000001A" in detail.content.decode()


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"area": "150100"}, "鸿翔职业技能培训学校", "钢城家政服务培训学校"),  # a whole 盟市
        ({"area": "150102"}, "鸿翔职业技能培训学校", "钢城家政服务培训学校"),  # one 旗县区
        ({"area": "150203"}, "钢城家政服务培训学校", "鸿翔职业技能培训学校"),
        ({"area": "150200"}, "钢城家政服务培训学校", "鸿翔职业技能培训学校"),
        ({"occupation": "电工"}, "鸿翔职业技能培训学校", "钢城家政服务培训学校"),
        ({"occupation": HOUSEKEEPER}, "钢城家政服务培训学校", "鸿翔职业技能培训学校"),
        ({"occupation": "4-10"}, "钢城家政服务培训学校", "鸿翔职业技能培训学校"),
        ({"occupation": f"{COOK} 中式烹调师"}, "鸿翔职业技能培训学校", "钢城家政服务培训学校"),
        ({"q": "钢城"}, "钢城家政服务培训学校", "鸿翔职业技能培训学校"),
        ({"area": "150100", "occupation": "家政"}, None, "钢城家政服务培训学校"),
    ],
)
def test_directory_search_by_area_and_occupation(client, directory, query, shown, hidden):
    html = client.get(reverse("portal:institutions"), query).content.decode()
    if shown:
        assert shown in html
    else:
        assert "没有符合条件的培训机构" in html
    assert hidden not in html


def test_directory_search_never_reveals_unlisted_ones(client, directory):
    html = client.get(reverse("portal:institutions"), {"occupation": COOK}).content.decode()
    assert "鸿翔职业技能培训学校" in html
    assert "未入目录培训中心" not in html and "暂停整改培训学校" not in html
    # One institution licensed for two matching occupations is listed once.
    html = client.get(reverse("portal:institutions"), {"area": "150102"}).content.decode()
    assert html.count(">鸿翔职业技能培训学校<") == 1
    # An unknown area code is ignored rather than an error.
    assert client.get(reverse("portal:institutions"), {"area": "999999"}).status_code == 200


# --- class announcements (开班信息) ---------------------------------------------------------------


def test_only_published_future_classes_of_listed_institutions_are_announced(client, world, directory):
    listed, baotou = directory["listed"], directory["baotou"]
    announce(world, listed, COOK, today() + dt.timedelta(days=10), title="十一月中式烹调师培训班")
    announce(world, listed, ELECTRICIAN, today(), title="今日开班电工班")
    announce(world, listed, COOK, today() - dt.timedelta(days=3), title="已开班的烹调班")
    announce(world, listed, COOK, today() + dt.timedelta(days=30), publish=False, title="草稿烹调班")
    withdrawn = announce(world, baotou, HOUSEKEEPER, today() + dt.timedelta(days=12), title="撤回的家政班")
    announcement_transition(announcement=withdrawn, action="withdraw", actor=world.region_admin)
    announce(world, baotou, HOUSEKEEPER, today() + dt.timedelta(days=5), title="包头家政服务员培训班")

    html = client.get(reverse("portal:announcements")).content.decode()
    assert "十一月中式烹调师培训班" in html
    assert "今日开班电工班" in html
    assert "包头家政服务员培训班" in html
    for title in ("已开班的烹调班", "草稿烹调班", "撤回的家政班", "暂停机构的厨师班"):
        assert title not in html, title
    assert "五级/初级工" in html and "本地餐饮企业" in html and "0471-6912345" in html
    assert ClassAnnouncement.objects.filter(title="暂停机构的厨师班", status="PUBLISHED").exists()

    by_area = client.get(reverse("portal:announcements"), {"area": "150200"}).content.decode()
    assert "包头家政服务员培训班" in by_area and "十一月中式烹调师培训班" not in by_area
    by_occupation = client.get(reverse("portal:announcements"), {"occupation": "电工"}).content.decode()
    assert "今日开班电工班" in by_occupation and "十一月中式烹调师培训班" not in by_occupation

    home = client.get(reverse("portal:home")).content.decode()
    assert "十一月中式烹调师培训班" in home and "已开班的烹调班" not in home


def test_evaluation_bodies_show_occupations_and_levels(client, world):
    evaluation_body_register(
        code="12150000MB0000009X",
        name="内蒙古烹饪技能鉴定站",
        area=area("150100"),
        actor=world.region_admin,
        scopes=[(COOK, "4"), (COOK, "5"), (HOUSEKEEPER, "SPECIAL")],
    )
    html = client.get(reverse("portal:evaluation_bodies")).content.decode()
    assert "内蒙古烹饪技能鉴定站" in html
    assert "五级/初级工、四级/中级工" in html  # levels in the Level order, lowest first
    assert "家政服务员" in html and "专项职业能力" in html
    none = client.get(reverse("portal:evaluation_bodies"), {"area": "150200"}).content.decode()
    assert "内蒙古烹饪技能鉴定站" not in none


# --- the demand survey (培训需求调查) -------------------------------------------------------------


def test_worker_survey_creates_a_public_form_report_with_audit(client, world):
    response = client.post(reverse("portal:survey") + "?kind=WORKER", survey_data())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:survey_thanks"))
    report = DemandReport.objects.get()
    assert report.kind == DemandReport.Kind.WORKER
    assert report.channel == DemandReport.Channel.PUBLIC_FORM
    assert report.entered_by is None
    assert report.area.code == "150102"
    assert report.occupation.code == COOK
    assert report.contact_phone == SURVEY_PHONE
    entry = AuditEntry.objects.get(action="demand.submitted", object_id=str(report.pk))
    assert entry.actor is None
    thanks = client.get(response["Location"]).content.decode()
    assert "提交成功" in thanks and SURVEY_PHONE not in thanks and SURVEY_NAME not in thanks


def test_enterprise_survey_needs_the_enterprise_and_headcount(client, world):
    url = reverse("portal:survey") + "?kind=ENTERPRISE"
    response = client.post(url, survey_data(kind="ENTERPRISE", occupation=f"{HOUSEKEEPER} 家政服务员"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "请填写企业名称" in html and "请填写需求人数" in html
    assert not DemandReport.objects.exists()
    response = client.post(
        url,
        survey_data(
            kind="ENTERPRISE",
            occupation=HOUSEKEEPER,
            area="150100",
            enterprise_name="呼和浩特市安心家政服务有限公司",
            enterprise_uscc="91150100ma0000008k",
            headcount="30",
            contact_phone="0471-6543210",
        ),
    )
    assert response.status_code == 302
    report = DemandReport.objects.get()
    assert (report.kind, report.headcount, report.enterprise_uscc) == ("ENTERPRISE", 30, "91150100MA0000008K")
    assert report.area.code == "150100" and report.occupation.code == HOUSEKEEPER


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"occupation": "火星种植员"}, "未找到职业（工种）“火星种植员”"),
        ({"occupation": "9-99-99-99"}, "未找到职业（工种）"),
        ({"occupation": "员"}, "对应多个职业"),
        ({"area": "150000"}, "请从列表中选择所在地区"),
        ({"contact_phone": "12345"}, "请填写11位手机号或带区号的固定电话"),
        ({"contact_name": "  "}, "请填写姓名"),
    ],
)
def test_survey_refuses_wrong_input_in_chinese_and_creates_nothing(client, world, changes, message):
    response = client.post(reverse("portal:survey") + "?kind=WORKER", survey_data(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not DemandReport.objects.exists()
    assert not AuditEntry.objects.filter(action="demand.submitted").exists()


def test_survey_honeypot_turns_robots_away(client, world):
    response = client.post(
        reverse("portal:survey") + "?kind=WORKER", survey_data(homepage="http://spam.example")
    )
    assert response.status_code == 400
    assert "提交未成功" in response.content.decode()
    assert not DemandReport.objects.exists()


def test_survey_is_csrf_protected(world):
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(reverse("portal:survey") + "?kind=WORKER", survey_data())
    assert response.status_code == 403
    assert not DemandReport.objects.exists()
    page = csrf_client.get(reverse("portal:survey") + "?kind=WORKER")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = csrf_client.post(
        reverse("portal:survey") + "?kind=WORKER", survey_data(csrfmiddlewaretoken=token)
    )
    assert response.status_code == 302
    assert DemandReport.objects.count() == 1


def test_occupation_suggestions(client, world):
    html = client.get(reverse("portal:occupation_suggest"), {"occupation": "烹调"}).content.decode()
    assert f'value="{COOK} 中式烹调师"' in html
    assert client.get(reverse("portal:occupation_suggest"), {"occupation": ""}).content.strip() == b""


# --- notices (培训政策、通知公告) ------------------------------------------------------------------


def test_region_admin_publishes_and_withdraws_a_notice(client, world):
    client.force_login(world.region_admin)
    assert client.get(reverse("portal:notice_manage")).status_code == 200
    assert client.get(reverse("portal:notice_create")).status_code == 200
    response = client.post(
        reverse("portal:notice_create"),
        {
            "category": "POLICY",
            "title": "关于调整职业技能培训补贴标准的通知",
            "document_no": "内人社发〔2026〕8号",
            "published_on": today().isoformat(),
            "body": "各盟市人力资源和社会保障局：\n现将有关事项通知如下。",
        },
    )
    assert response.status_code == 302
    notice = Notice.objects.get()
    assert notice.area.code == "150000" and notice.published and notice.created_by == world.region_admin
    assert AuditEntry.objects.filter(action="notice.published", object_id=str(notice.pk)).exists()
    managed = client.get(reverse("portal:notice_manage")).content.decode()
    assert "关于调整职业技能培训补贴标准的通知" in managed

    public = Client()
    assert "关于调整职业技能培训补贴标准的通知" in public.get(reverse("portal:notices")).content.decode()
    assert "关于调整职业技能培训补贴标准的通知" in public.get(reverse("portal:home")).content.decode()
    detail = public.get(reverse("portal:notice", args=[notice.pk]))
    assert detail.status_code == 200
    assert "内人社发〔2026〕8号" in detail.content.decode()
    assert "发布单位：内蒙古自治区人力资源和社会保障厅" in detail.content.decode()
    assert world.region_admin.get_full_name() not in detail.content.decode()

    response = client.post(reverse("portal:notice_withdraw", args=[notice.pk]))
    assert response.status_code == 302
    notice.refresh_from_db()
    assert not notice.published
    assert AuditEntry.objects.filter(action="notice.withdrawn", object_id=str(notice.pk)).exists()
    assert "关于调整职业技能培训补贴标准的通知" not in public.get(reverse("portal:notices")).content.decode()
    assert "关于调整职业技能培训补贴标准的通知" not in public.get(reverse("portal:home")).content.decode()
    assert public.get(reverse("portal:notice", args=[notice.pk])).status_code == 404
    # Withdrawing twice is refused with a message, not an error page.
    again = client.post(reverse("portal:notice_withdraw", args=[notice.pk]), follow=True)
    assert "该通知已撤下" in again.content.decode()


def test_notice_form_errors_in_chinese(client, world):
    client.force_login(world.hohhot_admin)
    tomorrow = today() + dt.timedelta(days=1)
    response = client.post(
        reverse("portal:notice_create"),
        {"category": "NOTICE", "title": " ", "published_on": tomorrow.isoformat(), "body": ""},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "发布日期不能晚于今天" in html and "请修改以下内容后再提交" in html
    assert not Notice.objects.exists()


def test_notices_stay_in_the_publishers_scope(client, world):
    hohhot = notice_publish(
        category="NOTICE",
        title="呼和浩特市2026年第二批开班计划",
        body="……",
        area=area("150100"),
        actor=world.hohhot_admin,
        published_on=today(),
    )
    client.force_login(world.baotou_admin)
    assert (
        "呼和浩特市2026年第二批开班计划" not in client.get(reverse("portal:notice_manage")).content.decode()
    )
    assert client.post(reverse("portal:notice_withdraw", args=[hohhot.pk])).status_code == 404
    hohhot.refresh_from_db()
    assert hohhot.published
    client.force_login(world.hohhot_admin)
    assert "呼和浩特市2026年第二批开班计划" in client.get(reverse("portal:notice_manage")).content.decode()


def test_reviewer_and_anonymous_cannot_manage_notices(client, world):
    client.force_login(world.xincheng_reviewer)
    assert client.get(reverse("portal:notice_manage")).status_code == 404
    assert client.get(reverse("portal:notice_create")).status_code == 404
    anonymous = Client()
    response = anonymous.get(reverse("portal:notice_manage"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
