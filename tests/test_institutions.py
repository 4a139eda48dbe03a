"""Training institutions and the subsidised-provider directory (培训机构目录).

第六条: a provider taking on subsidised training for the first time is assessed on site (培训场地、
设施设备、师资力量) before it is listed; teachers may come from a city's shared pool (共享师资库).
第二十一条: only institutions in the directory may apply to open subsidised classes; the directory is
managed by listing, suspension and removal, each with a reason and a decision.
第二十二条: training beyond the scope of the school-running licence (超越办学许可范围) is not subsidised.
contract.md: institutions.csv and teachers.csv are imported all-or-nothing with row-level errors,
and re-importing the same file is idempotent.
"""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from peixun.accounts.models import Organisation
from peixun.core.errors import PeixunError, PermissionDeniedError, TransitionError
from peixun.core.models import Area, AuditEntry
from peixun.core.tabular import ImportFailed, read_table
from peixun.core.uscc import uscc_complete as uscc
from peixun.institutions.models import (
    AssessmentPhoto,
    EvaluationBody,
    EvaluationScope,
    Institution,
    InstitutionListing,
    SiteAssessment,
    Teacher,
)
from peixun.institutions.services import (
    INSTITUTION_COLUMNS,
    TEACHER_COLUMNS,
    assessment_record,
    directory_change,
    directory_transitions_for,
    evaluation_body_register,
    import_institutions,
    import_teachers,
    institution_check_may_open_class,
    institution_register,
    institution_status_on,
    teacher_register,
)
from peixun.institutions.views import EXPORT_COLUMNS
from tests.conftest import new_id_number

pytestmark = pytest.mark.django_db

Status = Institution.Status
ELDERLY_CARE = "4-10-01-05"  # 养老护理员
HOUSEKEEPING = "4-10-01-06"  # 家政服务员
CHEF = "4-03-02-01"  # 中式烹调师

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 64


HONGXIANG = uscc("52150102MJY000011")
QINGCHENG = uscc("52150103MJY000012")
GANGCHENG = uscc("52150203MJY000013")


def register(
    world,
    code=HONGXIANG,
    name="呼和浩特市鸿翔职业技能培训学校",
    area="150102",
    occupations=(ELDERLY_CARE, HOUSEKEEPING),
):
    return institution_register(
        code=code,
        name=name,
        type="PRIVATE_SCHOOL",
        area=Area.objects.get(code=area),
        actor=world.hohhot_admin,
        address="呼和浩特市新城区新华大街1号",
        licensed_occupation_codes=list(occupations),
        contact_phone="0471-6612345",
        premises="理论教室2间、实训室1间",
    )


def assess(world, institution, *, passed=True, on=None, actor=None):
    return assessment_record(
        institution=institution,
        actor=actor or world.inspector,
        assessed_on=on or timezone.localdate(),
        assessors="赵晓东、苏日娜",
        premises_ok=True,
        equipment_ok=True,
        teachers_ok=passed,
    )


def change(world, institution, transition, *, on=None, actor=None):
    return directory_change(
        institution=institution,
        transition=transition,
        actor=actor or world.hohhot_admin,
        effective_date=on or timezone.localdate(),
        reason="依据督导检查结果",
        decision_no="呼人社发〔2026〕12号",
    )


def listed(world, **kwargs):
    institution = register(world, **kwargs)
    assess(world, institution)
    change(world, institution, "list")
    return institution


def attach(user, institution):
    """The operator works for the institution's organisation (registration creates it)."""
    user.organisation = institution.organisation
    user.save(update_fields=["organisation"])


def csv_table(text: str, name="institutions.csv", columns=INSTITUTION_COLUMNS):
    return read_table(io.BytesIO(text.encode("utf-8")), filename=name, required=columns)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- registration -------------------------------------------------------------------------------


def test_registration_with_a_wrong_check_character_is_kept_with_a_warning(world):
    """rules.md: a USCC failing its check is a warning, not a rejection (some real codes fail)."""
    wrong = HONGXIANG[:17] + ("0" if HONGXIANG[17] != "0" else "1")
    institution = register(world, code=wrong)
    assert institution.code == wrong
    assert "校验位" in institution.code_warning
    assert institution.status == Status.UNLISTED
    assert register(world, code=QINGCHENG, name="青城学校", area="150103").code_warning == ""


def test_a_code_already_registered_is_refused(world):
    register(world)
    with pytest.raises(PeixunError, match="已登记"):
        register(world, name="另一个名称")
    assert Institution.objects.count() == 1


def test_a_code_of_the_wrong_length_is_refused_with_a_message(world):
    with pytest.raises(PeixunError, match="18位"):
        register(world, code=HONGXIANG + "12")
    assert not Institution.objects.exists()


def test_unknown_licensed_occupation_is_refused(world):
    with pytest.raises(PeixunError, match="9-99-99-99"):
        register(world, occupations=(ELDERLY_CARE, "9-99-99-99"))


# --- the directory (第六条, 第二十一条) ----------------------------------------------------------------


def test_listing_without_a_passing_assessment_is_refused_citing_article_six(world):
    """第六条: first-time providers are assessed on site before they can be listed."""
    institution = register(world)
    with pytest.raises(TransitionError, match="第六条"):
        change(world, institution, "list")
    assess(world, institution, passed=False)  # 师资力量 not verified → 不通过
    with pytest.raises(TransitionError, match="实地考察"):
        change(world, institution, "list")
    institution.refresh_from_db()
    assert institution.status == Status.UNLISTED


def test_listing_after_a_passing_assessment_is_allowed(world):
    """第六条 and 第二十一条: assessed and passed → listed, with a history row and an audit entry."""
    institution = register(world)
    assessment = assess(world, institution)
    assert assessment.conclusion == SiteAssessment.Conclusion.PASS
    listing = change(world, institution, "list")
    institution.refresh_from_db()
    assert institution.status == Status.LISTED
    assert listing.status == Status.LISTED
    assert listing.decided_by == world.hohhot_admin
    assert AuditEntry.objects.filter(action="institution.directory.list").count() == 1


def test_suspend_resume_and_remove_follow_the_transition_table(world):
    """第二十一条: 暂停 from 已列入; 恢复 from 暂停; 移出 from 已列入 or 暂停."""
    institution = register(world)
    for name in ("suspend", "resume", "remove", "relist"):
        with pytest.raises(TransitionError):
            change(world, institution, name)
    assess(world, institution)
    change(world, institution, "list")
    with pytest.raises(TransitionError):
        change(world, institution, "resume")
    change(world, institution, "suspend")
    assert Institution.objects.get(pk=institution.pk).status == Status.SUSPENDED
    with pytest.raises(TransitionError):
        change(world, institution, "suspend")
    change(world, institution, "resume")
    assert Institution.objects.get(pk=institution.pk).status == Status.LISTED
    change(world, institution, "suspend")
    change(world, institution, "remove")
    assert Institution.objects.get(pk=institution.pk).status == Status.REMOVED
    with pytest.raises(TransitionError):
        change(world, institution, "list")
    assert [t.name for t in directory_transitions_for(world.hohhot_admin, institution)] == ["relist"]


def test_relisting_after_removal_needs_a_new_assessment(world):
    """第六条: the assessment that preceded the first listing does not carry over a removal."""
    institution = register(world)
    assess(world, institution, on=timezone.localdate() - dt.timedelta(days=30))
    change(world, institution, "list", on=timezone.localdate() - dt.timedelta(days=20))
    change(world, institution, "remove", on=timezone.localdate() - dt.timedelta(days=10))
    with pytest.raises(TransitionError, match="重新考察"):
        change(world, institution, "relist")
    assess(world, institution)
    change(world, institution, "relist")
    assert Institution.objects.get(pk=institution.pk).status == Status.LISTED


def test_a_refused_transition_changes_nothing(world):
    institution = listed(world)
    before = (institution.listings.count(), AuditEntry.objects.count())
    with pytest.raises(TransitionError):
        change(world, institution, "resume")
    with pytest.raises(PeixunError):
        directory_change(
            institution=institution,
            transition="suspend",
            actor=world.hohhot_admin,
            effective_date=timezone.localdate(),
            reason="  ",
        )
    institution.refresh_from_db()
    assert institution.status == Status.LISTED
    assert (institution.listings.count(), AuditEntry.objects.count()) == before


def test_the_same_transition_twice_lets_only_the_first_win(world):
    """Two officials act on the same page at once: the row is locked, the second finds it changed."""
    institution = listed(world)
    first = Institution.objects.get(pk=institution.pk)
    second = Institution.objects.get(pk=institution.pk)
    change(world, first, "suspend")
    with pytest.raises(TransitionError, match="暂停"):
        change(world, second, "suspend", actor=world.region_admin)
    assert InstitutionListing.objects.filter(institution=institution, status=Status.SUSPENDED).count() == 1


def test_an_official_outside_the_area_cannot_decide_the_status(world):
    institution = register(world)
    assess(world, institution)
    with pytest.raises(PermissionDeniedError):
        change(world, institution, "list", actor=world.baotou_admin)
    assert directory_transitions_for(world.baotou_admin, institution) == []
    assert directory_transitions_for(world.xincheng_reviewer, institution) == []


def test_opening_a_class_is_refused_for_an_unlisted_or_suspended_institution(world):
    """第二十一条: only institutions in the directory on the class start date may open classes."""
    institution = register(world)
    today = timezone.localdate()
    with pytest.raises(PeixunError, match="未入目录"):
        institution_check_may_open_class(
            institution=institution, start_date=today, occupation_code=ELDERLY_CARE
        )
    assess(world, institution)
    change(world, institution, "list")
    institution_check_may_open_class(institution=institution, start_date=today, occupation_code=ELDERLY_CARE)
    change(world, institution, "suspend")
    with pytest.raises(PeixunError, match="暂停"):
        institution_check_may_open_class(
            institution=institution, start_date=today, occupation_code=ELDERLY_CARE
        )


def test_opening_a_class_outside_the_licence_is_refused(world):
    """第二十二条: 超越办学许可范围 — the occupation must be among the licensed ones."""
    institution = listed(world)
    with pytest.raises(PeixunError, match=f"{CHEF}不在机构的办学许可范围内"):
        institution_check_may_open_class(
            institution=institution, start_date=timezone.localdate(), occupation_code=CHEF
        )


def test_every_reason_is_given_at_once(world):
    institution = register(world)
    with pytest.raises(PeixunError) as caught:
        institution_check_may_open_class(
            institution=institution, start_date=timezone.localdate(), occupation_code=CHEF
        )
    assert "未列入培训机构目录" in caught.value.message
    assert "办学许可范围" in caught.value.message


def test_the_status_on_a_date_follows_the_effective_dates(world):
    """A class is judged on its start date: the listing in force then counts, not today's status."""
    institution = register(world)
    assess(world, institution, on=dt.date(2026, 1, 5))
    change(world, institution, "list", on=dt.date(2026, 2, 1))
    change(world, institution, "suspend", on=dt.date(2026, 6, 1))
    change(world, institution, "resume", on=dt.date(2026, 7, 1))
    assert institution_status_on(institution, dt.date(2026, 1, 31)) == Status.UNLISTED
    assert institution_status_on(institution, dt.date(2026, 2, 1)) == Status.LISTED
    assert institution_status_on(institution, dt.date(2026, 6, 15)) == Status.SUSPENDED
    assert institution_status_on(institution, dt.date(2026, 7, 1)) == Status.LISTED
    with pytest.raises(PeixunError, match="暂停"):
        institution_check_may_open_class(
            institution=institution, start_date=dt.date(2026, 6, 20), occupation_code=ELDERLY_CARE
        )
    institution_check_may_open_class(
        institution=institution, start_date=dt.date(2026, 3, 1), occupation_code=ELDERLY_CARE
    )


# --- scope --------------------------------------------------------------------------------------


def test_a_city_admin_of_another_city_gets_404_on_the_detail(client, world):
    institution = register(world)
    client.force_login(world.baotou_admin)
    assert client.get(reverse("institutions:detail", args=[institution.pk])).status_code == 404
    assert client.get(reverse("institutions:assess", args=[institution.pk])).status_code == 404
    assert client.get(reverse("institutions:edit", args=[institution.pk])).status_code == 404
    assert institution.name not in client.get(reverse("institutions:list")).content.decode()


def test_an_institution_operator_sees_only_their_own_institution(client, world):
    mine = register(world)
    other = register(world, code=QINGCHENG, name="呼和浩特市青城家政职业培训学校", area="150103")
    attach(world.inst_a_operator, mine)
    client.force_login(world.inst_a_operator)
    html = client.get(reverse("institutions:list")).content.decode()
    assert mine.name in html
    assert other.name not in html
    assert client.get(reverse("institutions:detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("institutions:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("institutions:edit", args=[other.pk])).status_code == 404


def test_pool_teachers_are_seen_by_officials_of_the_pool_city(client, world):
    """第六条 共享师资库: a pool teacher without an institution is visible in the pool's city."""
    teacher_register(
        id_number=new_id_number("150104", dt.date(1962, 4, 12), False, seed=7),
        name="其其格",
        institution=None,
        qualification="蒙古族刺绣非遗代表性传承人",
        actor=world.hohhot_admin,
        high_skill_title="HERITAGE",
        shared_pool_area=Area.objects.get(code="150100"),
    )
    for user, seen in ((world.hohhot_admin, True), (world.region_admin, True), (world.baotou_admin, False)):
        client.force_login(user)
        html = client.get(reverse("institutions:teachers") + "?pool=1").content.decode()
        assert ("其其格" in html) is seen, user.username


# --- imports (contract.md) ----------------------------------------------------------------------

GOOD_CSV = (
    "institution_code,name,type,area_code,address,licensed_occupations,listed\n"
    f"{HONGXIANG},呼和浩特市鸿翔职业技能培训学校,PRIVATE_SCHOOL,150102,新华大街1号,{ELDERLY_CARE};{HOUSEKEEPING},Y\n"
    f"{QINGCHENG},呼和浩特市青城家政职业培训学校,ENTERPRISE,150103,,{HOUSEKEEPING},N\n"
)


def counts():
    return (
        Institution.objects.count(),
        Organisation.objects.count(),
        InstitutionListing.objects.count(),
        AuditEntry.objects.count(),
    )


def test_a_bad_institutions_file_writes_nothing_and_names_every_row(world):
    register(world, code=GANGCHENG, name="包头市钢城职业技能培训学校", area="150203")
    before = counts()
    text = (
        "institution_code,name,type,area_code,address,licensed_occupations,listed\n"
        f"{HONGXIANG},鸿翔学校,PRIVATE_SCHOOL,159999,,{ELDERLY_CARE},Y\n"
        f"{QINGCHENG},青城学校,PRIVATE_SCHOOL,150103,,9-99-99-99,N\n"
        f"{HONGXIANG},鸿翔学校（重复）,PRIVATE_SCHOOL,150102,,{ELDERLY_CARE},N\n"
    )
    with pytest.raises(ImportFailed) as caught:
        import_institutions(table=csv_table(text), actor=world.region_admin)
    found = {(e.file, e.line, e.column) for e in caught.value.errors}
    assert ("institutions.csv", 2, "area_code") in found
    assert ("institutions.csv", 3, "licensed_occupations") in found
    assert ("institutions.csv", 4, "institution_code") in found
    assert "未写入任何数据" in caught.value.message
    assert counts() == before


def test_a_good_file_imports_and_reimporting_it_is_idempotent(world):
    result = import_institutions(table=csv_table(GOOD_CSV), actor=world.region_admin)
    assert result == {"rows": 2, "created": 2, "updated": 0}
    hongxiang = Institution.objects.get(code=HONGXIANG)
    assert hongxiang.status == Status.LISTED
    assert sorted(hongxiang.licensed_occupations.values_list("code", flat=True)) == [
        ELDERLY_CARE,
        HOUSEKEEPING,
    ]
    assert Institution.objects.get(code=QINGCHENG).status == Status.UNLISTED
    before = counts()
    again = import_institutions(table=csv_table(GOOD_CSV), actor=world.region_admin)
    assert again == {"rows": 2, "created": 0, "updated": 2}
    assert counts() == before
    assert hongxiang.listings.count() == 1


def test_an_import_cannot_reach_institutions_of_another_city(world):
    """A 包头 bureau imports 包头 institutions only: a 呼和浩特 area code is a row error."""
    before = counts()
    with pytest.raises(ImportFailed) as caught:
        import_institutions(table=csv_table(GOOD_CSV), actor=world.baotou_admin)
    assert {(e.line, e.column) for e in caught.value.errors} == {(2, "area_code"), (3, "area_code")}
    assert "管辖范围" in caught.value.errors[0].message
    assert counts() == before


def test_an_import_does_not_move_an_institution_to_another_area(world):
    """The area decides which bureau supervises the institution; a changed area_code is a row error."""
    import_institutions(table=csv_table(GOOD_CSV), actor=world.region_admin)
    moved = GOOD_CSV.replace(",150102,", ",150105,")
    before = counts()
    with pytest.raises(ImportFailed) as caught:
        import_institutions(table=csv_table(moved), actor=world.region_admin)
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "area_code")]
    assert "不能变更所在地区" in caught.value.errors[0].message
    assert counts() == before


def test_a_pool_is_a_city_pool(world):
    with pytest.raises(PeixunError, match="按盟市建立"):
        teacher_register(
            id_number=new_id_number(seed=31),
            name="某某",
            institution=None,
            qualification="讲师",
            actor=world.hohhot_admin,
            shared_pool_area=Area.objects.get(code="150102"),
        )


def test_teachers_with_an_invalid_id_number_fail_by_row(world):
    import_institutions(table=csv_table(GOOD_CSV), actor=world.region_admin)
    good = new_id_number("150102", dt.date(1980, 1, 2), True, seed=11)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    text = (
        "id_number,name,institution_code,qualification\n"
        f"{good},王海,{HONGXIANG},养老护理员二级/技师\n"
        f"{bad},李兰,{HONGXIANG},家政服务员二级/技师\n"
    )
    before = Teacher.objects.count()
    with pytest.raises(ImportFailed) as caught:
        import_teachers(table=csv_table(text, "teachers.csv", TEACHER_COLUMNS), actor=world.region_admin)
    assert [(e.line, e.column) for e in caught.value.errors] == [(3, "id_number")]
    assert "校验位" in caught.value.errors[0].message
    assert Teacher.objects.count() == before


def test_reimporting_teachers_is_idempotent(world):
    import_institutions(table=csv_table(GOOD_CSV), actor=world.region_admin)
    number = new_id_number("150102", dt.date(1980, 1, 2), True, seed=11)
    text = f"id_number,name,institution_code,qualification\n{number},王海,{HONGXIANG},养老护理员二级/技师\n"
    import_teachers(table=csv_table(text, "teachers.csv", TEACHER_COLUMNS), actor=world.region_admin)
    before = (Teacher.objects.count(), AuditEntry.objects.count())
    import_teachers(table=csv_table(text, "teachers.csv", TEACHER_COLUMNS), actor=world.region_admin)
    assert (Teacher.objects.count(), AuditEntry.objects.count()) == before


def xlsx_upload(rows, *, sheet="institutions", filename="机构名单.xlsx"):
    workbook = Workbook()
    workbook.active.title = sheet
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(
        filename,
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def test_an_xlsx_workbook_imports_through_the_page(client, world):
    """contract.md: every import also accepts an .xlsx with the same columns, sheet named like the file."""
    rows = [list(INSTITUTION_COLUMNS)] + [line.split(",") for line in GOOD_CSV.strip().splitlines()[1:]]
    workbook = Workbook()
    workbook.active.title = "说明"
    data = workbook.create_sheet("institutions")
    for row in rows:
        data.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = SimpleUploadedFile("2026年机构名单.xlsx", buffer.getvalue())
    client.force_login(world.region_admin)
    response = client.post(reverse("institutions:import"), {"kind": "institutions", "file": upload})
    assert response.status_code == 200
    html = response.content.decode()
    assert "导入成功" in html
    assert Institution.objects.filter(code__in=[HONGXIANG, QINGCHENG]).count() == 2
    assert Institution.objects.get(code=HONGXIANG).status == Status.LISTED


def test_a_failed_import_page_shows_the_row_table_and_writes_nothing(client, world):
    text = GOOD_CSV.replace(",150103,", ",159999,")
    before = counts()
    client.force_login(world.hohhot_admin)
    upload = SimpleUploadedFile("institutions.csv", text.encode("utf-8"), content_type="text/csv")
    response = client.post(reverse("institutions:import"), {"kind": "institutions", "file": upload})
    html = response.content.decode()
    assert response.status_code == 200
    assert "未写入任何数据" in html
    for label in ("文件", "行", "列", "问题", "第3行", "area_code", "159999"):
        assert label in html
    assert counts() == before


def test_the_import_templates_have_the_contract_columns_and_an_example(client, world):
    client.force_login(world.hohhot_admin)
    for kind, columns in (("institutions", INSTITUTION_COLUMNS), ("teachers", TEACHER_COLUMNS)):
        response = client.get(reverse("institutions:template", args=[kind]))
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content))[kind]
        values = list(sheet.iter_rows(values_only=True))
        assert values[0] == columns
        assert len(values) == 2
    assert client.get("/institutions/template/other.xlsx").status_code == 404


# --- pages --------------------------------------------------------------------------------------

PAGE_LABELS = {
    "institutions:list": ("培训机构", "目录状态", "机构类型", "职业编码", "导出Excel"),
    "institutions:teachers": ("师资库", "共享师资库", "任教资格"),
    "institutions:evaluation_bodies": ("评价机构", "评价范围"),
}


@pytest.mark.parametrize(
    "user_attr", ["region_admin", "hohhot_admin", "xincheng_reviewer", "inst_a_operator"]
)
def test_the_pages_render_for_each_role(client, world, user_attr):
    institution = listed(world)
    attach(world.inst_a_operator, institution)
    user = getattr(world, user_attr)
    user.refresh_from_db()
    client.force_login(user)
    for name, labels in PAGE_LABELS.items():
        html = client.get(reverse(name)).content.decode()
        for label in labels:
            assert label in html, (user_attr, name, label)
    response = client.get(reverse("institutions:detail", args=[institution.pk]))
    assert response.status_code == 200, user_attr
    html = response.content.decode()
    for label in (
        "基本信息",
        "许可职业",
        "实地考察",
        "目录记录",
        "教师",
        "已列入目录",
        "养老护理员",
        "0471-6612345",
    ):
        assert label in html, (user_attr, label)


def test_the_detail_shows_only_the_transitions_allowed_now(client, world):
    institution = listed(world)
    client.force_login(world.hohhot_admin)
    html = client.get(reverse("institutions:detail", args=[institution.pk])).content.decode()
    assert reverse("institutions:directory_change", args=[institution.pk, "suspend"]) in html
    assert reverse("institutions:directory_change", args=[institution.pk, "remove"]) in html
    assert reverse("institutions:directory_change", args=[institution.pk, "list"]) not in html
    assert reverse("institutions:directory_change", args=[institution.pk, "resume"]) not in html
    client.force_login(world.xincheng_reviewer)
    html = client.get(reverse("institutions:detail", args=[institution.pk])).content.decode()
    assert "/directory/" not in html
    assert (
        client.get(reverse("institutions:directory_change", args=[institution.pk, "suspend"])).status_code
        == 404
    )


def test_operators_and_reviewers_cannot_reach_the_office_forms(client, world):
    institution = register(world)
    attach(world.inst_a_operator, institution)
    client.force_login(world.inst_a_operator)
    for url in (
        reverse("institutions:create"),
        reverse("institutions:import"),
        reverse("institutions:assess", args=[institution.pk]),
        reverse("institutions:directory_change", args=[institution.pk, "list"]),
        reverse("institutions:evaluation_body_create"),
    ):
        assert client.get(url).status_code == 404, url
    client.force_login(world.xincheng_reviewer)
    assert client.get(reverse("institutions:create")).status_code == 404
    assert client.get(reverse("institutions:assess", args=[institution.pk])).status_code == 200


# --- forms through the views --------------------------------------------------------------------


def test_registering_an_institution_through_the_page(client, world):
    client.force_login(world.hohhot_admin)
    response = client.post(
        reverse("institutions:create"),
        {
            "code": HONGXIANG.lower(),
            "name": "呼和浩特市鸿翔职业技能培训学校",
            "type": "PRIVATE_SCHOOL",
            "area": Area.objects.get(code="150102").pk,
            "licensed_occupations": f"{ELDERLY_CARE}；{HOUSEKEEPING}\n{CHEF}",
            "contact_phone": "0471-6612345",
        },
    )
    institution = Institution.objects.get(code=HONGXIANG)
    assert response.status_code == 302
    assert response["Location"] == reverse("institutions:detail", args=[institution.pk])
    assert sorted(institution.licensed_occupations.values_list("code", flat=True)) == sorted(
        [ELDERLY_CARE, HOUSEKEEPING, CHEF]
    )


def test_the_registration_form_reports_every_problem_in_chinese(client, world):
    register(world)
    client.force_login(world.hohhot_admin)
    response = client.post(
        reverse("institutions:create"),
        {"code": HONGXIANG, "name": "", "type": "", "licensed_occupations": "4-10-01-05;9-99-99-99"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "请修改以下问题" in html
    assert "这个字段是必填项" in html
    assert "9-99-99-99" in html
    # a valid form whose code is taken: the service's message is shown at the top
    response = client.post(
        reverse("institutions:create"),
        {
            "code": HONGXIANG,
            "name": "重复登记",
            "type": "ENTERPRISE",
            "area": Area.objects.get(code="150102").pk,
        },
    )
    assert "已登记" in response.content.decode()
    assert Institution.objects.count() == 1


def test_a_city_admin_cannot_register_in_another_city(client, world):
    client.force_login(world.baotou_admin)
    response = client.post(
        reverse("institutions:create"),
        {
            "code": HONGXIANG,
            "name": "某学校",
            "type": "ENTERPRISE",
            "area": Area.objects.get(code="150102").pk,
        },
    )
    assert response.status_code == 200
    assert not Institution.objects.exists()


def test_an_operator_edits_only_the_descriptive_fields(client, world):
    institution = register(world)
    attach(world.inst_a_operator, institution)
    client.force_login(world.inst_a_operator)
    response = client.post(
        reverse("institutions:edit", args=[institution.pk]),
        {"address": "新城区团结路9号", "contact_phone": "0471-6600000", "name": "改名", "type": "ENTERPRISE"},
    )
    assert response.status_code == 302
    institution.refresh_from_db()
    assert institution.address == "新城区团结路9号"
    assert institution.contact_phone == "0471-6600000"
    assert institution.name == "呼和浩特市鸿翔职业技能培训学校"
    assert institution.type == "PRIVATE_SCHOOL"


def test_assessing_and_listing_through_the_pages(client, world, media):
    """第六条 then 第二十一条, as a clerk does it: record the assessment with photos, then list."""
    institution = register(world)
    client.force_login(world.hohhot_admin)
    response = client.post(
        reverse("institutions:directory_change", args=[institution.pk, "list"]),
        {"effective_date": timezone.localdate().isoformat(), "reason": "符合条件"},
    )
    assert response.status_code == 200
    assert "第六条" in response.content.decode()
    response = client.post(
        reverse("institutions:assess", args=[institution.pk]),
        {
            "assessed_on": timezone.localdate().isoformat(),
            "assessors": "张海燕、苏日娜",
            "premises_ok": "on",
            "equipment_ok": "on",
            "teachers_ok": "on",
            "notes": "与申报一致",
            "photos": [
                SimpleUploadedFile("教室.jpg", JPEG, content_type="image/jpeg"),
                SimpleUploadedFile("实训室.png", PNG, content_type="image/png"),
            ],
        },
    )
    assert response.status_code == 302
    assessment = institution.assessments.get()
    assert assessment.conclusion == SiteAssessment.Conclusion.PASS
    assert assessment.photos.count() == 2
    photo = assessment.photos.first()
    assert client.get(reverse("institutions:assessment_photo", args=[photo.pk])).status_code == 200
    response = client.post(
        reverse("institutions:directory_change", args=[institution.pk, "list"]),
        {
            "effective_date": timezone.localdate().isoformat(),
            "reason": "经实地考察评估，符合条件",
            "decision_no": "呼人社发〔2026〕12号",
            "decision_file": SimpleUploadedFile("决定.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    institution.refresh_from_db()
    assert institution.status == Status.LISTED
    listing = institution.listings.get()
    assert listing.decision_no == "呼人社发〔2026〕12号"
    assert client.get(reverse("institutions:decision_file", args=[listing.pk])).status_code == 200
    html = client.get(
        reverse("institutions:detail", args=[institution.pk]) + "?tab=directory"
    ).content.decode()
    assert "经实地考察评估，符合条件" in html
    assert "张海燕" in html
    client.force_login(world.baotou_admin)
    assert client.get(reverse("institutions:assessment_photo", args=[photo.pk])).status_code == 404
    assert client.get(reverse("institutions:decision_file", args=[listing.pk])).status_code == 404


def test_photos_other_than_jpeg_or_png_or_over_5mb_are_refused_in_chinese(client, world, media):
    institution = register(world)
    client.force_login(world.inspector)
    big = JPEG + b"\x00" * (5 * 1024 * 1024)
    response = client.post(
        reverse("institutions:assess", args=[institution.pk]),
        {
            "assessed_on": timezone.localdate().isoformat(),
            "assessors": "苏日娜",
            "premises_ok": "on",
            "photos": [
                SimpleUploadedFile("现场.gif", GIF, content_type="image/gif"),
                SimpleUploadedFile("伪装.jpg", GIF, content_type="image/jpeg"),
                SimpleUploadedFile("大图.jpg", big, content_type="image/jpeg"),
            ],
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "“现场.gif”不是JPEG或PNG照片" in html
    assert "“伪装.jpg”不是JPEG或PNG照片" in html
    assert "“大图.jpg”超过5MB" in html
    assert not SiteAssessment.objects.exists()
    assert not AssessmentPhoto.objects.exists()


def test_an_assessment_dated_in_the_future_is_refused(client, world):
    institution = register(world)
    client.force_login(world.inspector)
    response = client.post(
        reverse("institutions:assess", args=[institution.pk]),
        {"assessed_on": (timezone.localdate() + dt.timedelta(days=1)).isoformat(), "assessors": "苏日娜"},
    )
    assert "考察日期不能晚于今天" in response.content.decode()
    assert not SiteAssessment.objects.exists()


def test_an_operator_registers_a_teacher_for_their_own_institution(client, world):
    institution = register(world)
    attach(world.inst_a_operator, institution)
    client.force_login(world.inst_a_operator)
    number = new_id_number("150102", dt.date(1979, 8, 1), False, seed=21)
    response = client.post(
        reverse("institutions:teacher_create"),
        {
            "id_number": number,
            "name": "乌兰",
            "qualification": "养老护理员二级/技师",
            "occupations": ELDERLY_CARE,
        },
    )
    assert response.status_code == 302
    teacher = Teacher.objects.get()
    assert teacher.institution == institution
    html = client.get(reverse("institutions:teachers")).content.decode()
    assert teacher.person.id_masked in html
    assert number not in html


def test_a_city_admin_registers_a_pool_teacher_and_toggles_the_pool(client, world):
    client.force_login(world.hohhot_admin)
    number = new_id_number("150104", dt.date(1962, 4, 12), False, seed=22)
    response = client.post(
        reverse("institutions:teacher_create"),
        {
            "id_number": number,
            "name": "其其格",
            "qualification": "非遗代表性传承人",
            "high_skill_title": "HERITAGE",
            "shared_pool_area": Area.objects.get(code="150100").pk,
        },
    )
    assert response.status_code == 302
    pool_teacher = Teacher.objects.get(institution__isnull=True)
    assert pool_teacher.shared_pool_area.code == "150100"
    # neither an institution nor a pool: refused with a message
    response = client.post(
        reverse("institutions:teacher_create"),
        {"id_number": new_id_number(seed=23), "name": "某某", "qualification": "讲师"},
    )
    assert "共享师资库" in response.content.decode()
    # an institution's teacher into the pool and out again
    institution = register(world)
    teacher = teacher_register(
        id_number=new_id_number("150102", dt.date(1975, 1, 1), True, seed=24),
        name="巴特尔",
        institution=institution,
        qualification="中式烹调师二级/技师",
        actor=world.hohhot_admin,
    )
    url = reverse("institutions:teacher_pool", args=[teacher.pk])
    assert client.post(url, {"area": "150100"}).status_code == 302
    teacher.refresh_from_db()
    assert teacher.shared_pool_area.code == "150100"
    assert client.post(url, {"area": ""}).status_code == 302
    teacher.refresh_from_db()
    assert teacher.shared_pool_area is None
    # another city's admin neither sees nor moves the teacher
    client.force_login(world.baotou_admin)
    assert client.post(url, {"area": "150200"}).status_code == 404


def test_the_region_admin_registers_an_evaluation_body_with_its_scopes(client, world):
    client.force_login(world.region_admin)
    code = uscc("12150000460012345")
    response = client.post(
        reverse("institutions:evaluation_body_create"),
        {
            "code": code,
            "name": "内蒙古职业技能鉴定指导中心",
            "area": Area.objects.get(code="150105").pk,
            "scopes": f"{ELDERLY_CARE} 4\n{ELDERLY_CARE} 5\n{ELDERLY_CARE} 4\n\n{CHEF} 5",
        },
    )
    assert response.status_code == 302
    body = EvaluationBody.objects.get(code=code)
    assert body.scopes.count() == 3  # the repeated line is kept once
    html = client.get(reverse("institutions:evaluation_bodies")).content.decode()
    assert "四级/中级工" in html
    response = client.post(
        reverse("institutions:evaluation_body_create"),
        {
            "code": uscc("12150000460012346"),
            "name": "某中心",
            "area": body.area.pk,
            "scopes": "4-10-01-05 6\n9-99 5",
        },
    )
    html = response.content.decode()
    assert "第1行：等级“6”无效" in html
    assert "第2行：职业编码“9-99”不在职业分类中" in html
    client.force_login(world.hohhot_admin)
    assert client.get(reverse("institutions:evaluation_body_create")).status_code == 404


def test_evaluation_body_register_ignores_a_repeated_scope(world):
    body = evaluation_body_register(
        code=uscc("12150000460012347"),
        name="测试评价中心",
        area=Area.objects.get(code="150105"),
        actor=world.region_admin,
        scopes=[(ELDERLY_CARE, "4"), (ELDERLY_CARE, "4")],
    )
    assert EvaluationScope.objects.filter(body=body).count() == 1


# --- export -------------------------------------------------------------------------------------


def test_the_excel_export_has_the_contract_header_and_neutralises_formulas(client, world):
    register(world, name='=HYPERLINK("http://example.com","点击")')
    listed(world, code=QINGCHENG, name="呼和浩特市青城家政职业培训学校", area="150103")
    client.force_login(world.hohhot_admin)
    response = client.get(reverse("institutions:export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content))["institutions"].iter_rows(values_only=True))
    assert rows[0] == EXPORT_COLUMNS
    assert rows[0][:7] == INSTITUTION_COLUMNS
    names = {r[1]: r for r in rows[1:]}
    assert '\'=HYPERLINK("http://example.com","点击")' in names
    qingcheng = names["呼和浩特市青城家政职业培训学校"]
    assert qingcheng[6] == "Y"
    assert qingcheng[7] == "已列入目录"
    # the export follows the filters
    response = client.get(reverse("institutions:export") + "?status=LISTED")
    rows = list(load_workbook(io.BytesIO(response.content))["institutions"].iter_rows(values_only=True))
    assert len(rows) == 2
