"""Every registry has an Excel template, an all-or-nothing import with row-level Chinese errors and
an export: teachers (export), evaluation bodies (template, import, export) and occupations (export,
and the region's 自治区专项职业能力 project codes: add form, template, import).

Exports follow the list's scope (a 包头 admin's file has no 呼和浩特 teacher) and never carry a
full ID number.
"""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from peixun.catalog.models import Occupation
from peixun.catalog.services import (
    REGION_SPECIAL_COLUMNS,
    import_region_special_occupations,
    occupation_add_region_special,
)
from peixun.core.errors import PeixunError, PermissionDeniedError
from peixun.core.models import Area, AuditEntry
from peixun.core.tabular import ImportFailed, read_table
from peixun.core.uscc import uscc_complete as uscc
from peixun.institutions.models import EvaluationBody, EvaluationScope
from peixun.institutions.services import (
    EVALUATION_BODY_COLUMNS,
    evaluation_body_register,
    import_evaluation_bodies,
    institution_register,
    teacher_register,
)
from peixun.institutions.views import TEACHER_EXPORT_COLUMNS
from tests.conftest import new_id_number

pytestmark = pytest.mark.django_db

ELDERLY_CARE = "4-10-01-05"  # 养老护理员
HOUSEKEEPING = "4-10-01-06"  # 家政服务员
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def wrong_check(code: str) -> str:
    return code[:17] + ("0" if code[17] != "0" else "1")


HONGXIANG = uscc("52150102MJY000011")
GANGCHENG = uscc("52150203MJY000013")
EVAL_HOHHOT = uscc("52150102MJP000021")
EVAL_BAOTOU = uscc("52150203MJP000022")


def sheet_rows(response, sheet=None) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert ".xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    return list((workbook[sheet] if sheet else workbook.active).iter_rows(values_only=True))


def csv_table(text: str, name: str, columns) -> object:
    return read_table(io.BytesIO(text.encode("utf-8")), filename=name, required=columns)


def audit_count() -> int:
    return AuditEntry.objects.count()


# --- teachers -----------------------------------------------------------------------------------


@pytest.fixture
def teachers(world):
    """A teacher at a 呼和浩特 institution, one at a 包头 institution, and a pool teacher of each city."""
    hongxiang = institution_register(
        code=HONGXIANG,
        name="呼和浩特市鸿翔职业技能培训学校",
        type="PRIVATE_SCHOOL",
        area=Area.objects.get(code="150102"),
        actor=world.hohhot_admin,
    )
    gangcheng = institution_register(
        code=GANGCHENG,
        name="包头市钢城职业培训学校",
        type="PRIVATE_SCHOOL",
        area=Area.objects.get(code="150203"),
        actor=world.baotou_admin,
    )
    numbers = {
        "hohhot": new_id_number("150102", dt.date(1980, 1, 2), True, seed=11),
        "baotou": new_id_number("150203", dt.date(1982, 3, 4), False, seed=12),
        "hohhot_pool": new_id_number("150103", dt.date(1975, 5, 6), True, seed=13),
        "baotou_pool": new_id_number("150204", dt.date(1970, 7, 8), False, seed=14),
    }
    made = {
        "hohhot": teacher_register(
            id_number=numbers["hohhot"],
            name="呼市教师甲",
            institution=hongxiang,
            qualification="养老护理员二级/技师",
            actor=world.hohhot_admin,
            occupation_codes=[ELDERLY_CARE],
        ),
        "baotou": teacher_register(
            id_number=numbers["baotou"],
            name="包头教师乙",
            institution=gangcheng,
            qualification="家政服务员三级/高级工",
            actor=world.baotou_admin,
            high_skill_title="MASTER",
            occupation_codes=[HOUSEKEEPING, ELDERLY_CARE],
        ),
        "hohhot_pool": teacher_register(
            id_number=numbers["hohhot_pool"],
            name="呼市库内教师丙",
            institution=None,
            qualification="讲师",
            actor=world.hohhot_admin,
            shared_pool_area=Area.objects.get(code="150100"),
        ),
        "baotou_pool": teacher_register(
            id_number=numbers["baotou_pool"],
            name="包头库内教师丁",
            institution=None,
            qualification="高级讲师",
            actor=world.baotou_admin,
            high_skill_title="HERITAGE",
            shared_pool_area=Area.objects.get(code="150200"),
        ),
    }
    return {"numbers": numbers, "teachers": made}


def test_baotou_teacher_export_has_its_teachers_and_pool_masked_and_no_hohhot_teacher(
    client, world, teachers
):
    client.force_login(world.baotou_admin)
    rows = sheet_rows(client.get(reverse("institutions:teacher_export")), "teachers")
    assert rows[0] == TEACHER_EXPORT_COLUMNS
    by_name = {r[1]: r for r in rows[1:]}
    assert set(by_name) == {"包头教师乙", "包头库内教师丁"}
    own = by_name["包头教师乙"]
    assert own[0] == teachers["teachers"]["baotou"].person.id_masked
    assert own[2:] == (
        GANGCHENG,
        "包头市钢城职业培训学校",
        "家政服务员三级/高级工",
        "技能大师",
        None,  # an empty cell
        f"{ELDERLY_CARE};{HOUSEKEEPING}",
    )
    pool = by_name["包头库内教师丁"]
    assert pool[2:7] == (None, None, "高级讲师", "非遗传承人", "包头市")
    cells = {str(c) for row in rows for c in row if c is not None}
    for number in teachers["numbers"].values():
        assert number not in cells
        assert not any(number in c for c in cells)
    assert not any("呼市" in c or "鸿翔" in c for c in cells)


def test_region_teacher_export_has_every_teacher_and_follows_the_list_filters(client, world, teachers):
    client.force_login(world.region_admin)
    rows = sheet_rows(client.get(reverse("institutions:teacher_export")), "teachers")
    assert {r[1] for r in rows[1:]} == {"呼市教师甲", "包头教师乙", "呼市库内教师丙", "包头库内教师丁"}
    pool_only = sheet_rows(client.get(reverse("institutions:teacher_export") + "?pool=1"), "teachers")
    assert {r[1] for r in pool_only[1:]} == {"呼市库内教师丙", "包头库内教师丁"}
    by_name = sheet_rows(client.get(reverse("institutions:teacher_export") + "?q=鸿翔"), "teachers")
    assert [r[1] for r in by_name[1:]] == ["呼市教师甲"]
    full = teachers["numbers"].values()
    assert not any(n in str(c) for row in rows for c in row for n in full)


def test_the_teacher_list_links_to_the_export_with_its_filters(client, world, teachers):
    client.force_login(world.xincheng_reviewer)
    html = client.get(reverse("institutions:teachers") + "?q=甲&page=1").content.decode()
    assert reverse("institutions:teacher_export") + "?q=" in html
    assert "导出Excel" in html
    rows = sheet_rows(client.get(reverse("institutions:teacher_export")), "teachers")
    assert {r[1] for r in rows[1:]} == {"呼市教师甲", "呼市库内教师丙"}


def test_an_institution_operator_exports_their_teachers_and_their_citys_pool(client, world, teachers):
    hongxiang = teachers["teachers"]["hohhot"].institution
    hongxiang.organisation = world.inst_a
    hongxiang.save(update_fields=["organisation"])
    client.force_login(world.inst_a_operator)
    rows = sheet_rows(client.get(reverse("institutions:teacher_export")), "teachers")
    # As on the list: their own teachers and the pool of their city they may engage (第六条).
    assert {r[1] for r in rows[1:]} == {"呼市教师甲", "呼市库内教师丙"}


# --- evaluation bodies: export ------------------------------------------------------------------


def register_body(world, code, name, area, scopes):
    return evaluation_body_register(
        code=code,
        name=name,
        area=Area.objects.get(code=area),
        actor=world.region_admin,
        address=f"{name}地址",
        filing_no="NMPJ-001",
        scopes=scopes,
    )


@pytest.fixture
def bodies(world):
    return {
        "hohhot": register_body(
            world,
            EVAL_HOHHOT,
            "呼和浩特市第一职业技能等级认定中心",
            "150102",
            [(ELDERLY_CARE, "5"), (ELDERLY_CARE, "4")],
        ),
        "baotou": register_body(
            world, EVAL_BAOTOU, "包头市职业技能等级认定中心", "150203", [(HOUSEKEEPING, "5")]
        ),
    }


def test_evaluation_body_export_has_the_import_columns_and_respects_scope(client, world, bodies):
    client.force_login(world.baotou_admin)
    rows = sheet_rows(client.get(reverse("institutions:evaluation_body_export")), "evaluation_bodies")
    assert rows[0] == EVALUATION_BODY_COLUMNS
    assert rows[1:] == [
        (
            EVAL_BAOTOU,
            "包头市职业技能等级认定中心",
            "150203",
            "包头市职业技能等级认定中心地址",
            "NMPJ-001",
            f"{HOUSEKEEPING}:5",
        )
    ]
    client.force_login(world.region_admin)
    rows = sheet_rows(client.get(reverse("institutions:evaluation_body_export")), "evaluation_bodies")
    assert {r[0] for r in rows[1:]} == {EVAL_HOHHOT, EVAL_BAOTOU}
    hohhot = next(r for r in rows if r[0] == EVAL_HOHHOT)
    assert hohhot[5] == f"{ELDERLY_CARE}:4;{ELDERLY_CARE}:5"
    filtered = sheet_rows(
        client.get(reverse("institutions:evaluation_body_export") + f"?q={HOUSEKEEPING}"), "evaluation_bodies"
    )
    assert [r[0] for r in filtered[1:]] == [EVAL_BAOTOU]


def test_the_exported_file_imports_back_without_any_change(client, world, bodies):
    client.force_login(world.region_admin)
    content = client.get(reverse("institutions:evaluation_body_export")).content
    before = audit_count()
    upload = SimpleUploadedFile("评价机构_导出.xlsx", content)
    response = client.post(reverse("institutions:evaluation_body_import"), {"file": upload})
    html = response.content.decode()
    assert "导入成功" in html
    assert "新登记0个评价机构，更新0个，未变化2个" in html
    assert audit_count() == before


def test_the_evaluation_body_list_shows_export_to_all_and_import_to_managers(client, world, bodies):
    client.force_login(world.hohhot_admin)
    html = client.get(reverse("institutions:evaluation_bodies")).content.decode()
    assert reverse("institutions:evaluation_body_export") in html
    assert reverse("institutions:evaluation_body_import") not in html
    assert client.get(reverse("institutions:evaluation_body_import")).status_code == 404
    upload = SimpleUploadedFile("evaluation_bodies.csv", b"x", content_type="text/csv")
    assert client.post(reverse("institutions:evaluation_body_import"), {"file": upload}).status_code == 404
    client.force_login(world.region_admin)
    html = client.get(reverse("institutions:evaluation_bodies")).content.decode()
    assert reverse("institutions:evaluation_body_import") in html
    page = client.get(reverse("institutions:evaluation_body_import")).content.decode()
    assert reverse("institutions:evaluation_body_template") in page


# --- evaluation bodies: import ------------------------------------------------------------------

BODY_HEADER = ",".join(EVALUATION_BODY_COLUMNS)


def bodies_csv(*rows: str) -> str:
    return "\n".join([BODY_HEADER, *rows]) + "\n"


def body_table(text: str):
    return csv_table(text, "evaluation_bodies.csv", EVALUATION_BODY_COLUMNS)


GOOD_BODIES = bodies_csv(
    f"{EVAL_HOHHOT},呼和浩特市第一职业技能等级认定中心,150102,新城区示例路1号,NMPJ-001,{ELDERLY_CARE}:5;{ELDERLY_CARE}:4",
    f"{wrong_check(EVAL_BAOTOU)},包头市职业技能等级认定中心,150203,昆都仑区示例路2号,,{HOUSEKEEPING}:5",
)


def test_a_bad_evaluation_body_file_reports_one_error_per_row_and_column_and_writes_nothing(world):
    text = bodies_csv(
        f"{EVAL_HOHHOT},呼和浩特市第一职业技能等级认定中心,150102,,,{ELDERLY_CARE}:5",  # line 2: good
        f"{EVAL_BAOTOU},包头市职业技能等级认定中心,159999,,,{HOUSEKEEPING}:5",  # line 3: bad area
        f"{uscc('52150102MJP000031')},甲中心,150102,,,{ELDERLY_CARE}:6",  # line 4: bad level
        f"{uscc('52150102MJP000032')},乙中心,150102,,,9-99-99-99:5",  # line 5: unknown occupation
        f"{EVAL_HOHHOT},重复的中心,150102,,,{ELDERLY_CARE}:4",  # line 6: duplicates line 2
    )
    before = audit_count()
    with pytest.raises(ImportFailed) as failed:
        import_evaluation_bodies(table=body_table(text), actor=world.region_admin)
    errors = failed.value.errors
    assert {(e.line, e.column) for e in errors} == {
        (3, "area_code"),
        (4, "scopes"),
        (5, "scopes"),
        (6, "evaluation_body_code"),
    }
    assert len(errors) == 4
    messages = {e.line: e.message for e in errors}
    assert "159999" in messages[3]
    assert "等级“6”无效" in messages[4]
    assert "9-99-99-99" in messages[5] and "不在职业分类中" in messages[5]
    assert "与第2行重复" in messages[6]
    assert "未写入任何数据" in failed.value.message
    assert EvaluationBody.objects.count() == 0
    assert EvaluationScope.objects.count() == 0
    assert audit_count() == before


def test_scope_cell_problems_are_one_error_for_the_cell(world):
    text = bodies_csv(f"{EVAL_HOHHOT},甲中心,150102,,,{ELDERLY_CARE}:7;9-99-99-99:5;{ELDERLY_CARE}")
    with pytest.raises(ImportFailed) as failed:
        import_evaluation_bodies(table=body_table(text), actor=world.region_admin)
    [error] = failed.value.errors
    assert (error.line, error.column) == (2, "scopes")
    assert (
        "等级“7”无效" in error.message and "9-99-99-99" in error.message and "职业编码:等级" in error.message
    )
    empty = bodies_csv(f"{EVAL_HOHHOT},甲中心,150102,,,")
    with pytest.raises(ImportFailed, match="导入失败") as failed:
        import_evaluation_bodies(table=body_table(empty), actor=world.region_admin)
    assert [(e.line, e.column) for e in failed.value.errors] == [(2, "scopes")]


def test_a_good_file_imports_with_a_check_digit_warning_only(world):
    result = import_evaluation_bodies(table=body_table(GOOD_BODIES), actor=world.region_admin)
    warnings = result.pop("warnings")
    assert result == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0}
    assert [(w.line, w.column) for w in warnings] == [(3, "evaluation_body_code")]
    assert "校验位" in warnings[0].message
    hohhot = EvaluationBody.objects.get(code=EVAL_HOHHOT)
    assert hohhot.area.code == "150102" and hohhot.filing_no == "NMPJ-001"
    assert sorted(hohhot.scopes.values_list("occupation__code", "level")) == [
        (ELDERLY_CARE, "4"),
        (ELDERLY_CARE, "5"),
    ]
    assert EvaluationBody.objects.filter(code=wrong_check(EVAL_BAOTOU)).exists()
    assert AuditEntry.objects.filter(action="evaluation_body.registered").count() == 2


def test_reimport_is_idempotent_and_a_changed_row_is_an_audited_update(world):
    import_evaluation_bodies(table=body_table(GOOD_BODIES), actor=world.region_admin)
    before = audit_count()
    again = import_evaluation_bodies(table=body_table(GOOD_BODIES), actor=world.region_admin)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert audit_count() == before
    assert EvaluationBody.objects.count() == 2 and EvaluationScope.objects.count() == 3

    changed = GOOD_BODIES.replace("新城区示例路1号", "新城区示例路9号").replace(
        f"{ELDERLY_CARE}:5;{ELDERLY_CARE}:4", f"{ELDERLY_CARE}:4;{HOUSEKEEPING}:3"
    )
    result = import_evaluation_bodies(table=body_table(changed), actor=world.region_admin)
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 1)
    assert audit_count() == before + 1
    hohhot = EvaluationBody.objects.get(code=EVAL_HOHHOT)
    assert hohhot.address == "新城区示例路9号"
    assert sorted(hohhot.scopes.values_list("occupation__code", "level")) == [
        (ELDERLY_CARE, "4"),
        (HOUSEKEEPING, "3"),
    ]
    entry = AuditEntry.objects.get(action="evaluation_body.updated")
    assert entry.actor == world.region_admin
    assert entry.before["address"] == "新城区示例路1号" and entry.after["address"] == "新城区示例路9号"
    assert f"{ELDERLY_CARE}/5" in entry.before["scopes"] and f"{HOUSEKEEPING}/3" in entry.after["scopes"]


def test_an_import_does_not_move_a_body_to_another_area(world):
    import_evaluation_bodies(table=body_table(GOOD_BODIES), actor=world.region_admin)
    moved = GOOD_BODIES.replace(",150102,", ",150103,")
    with pytest.raises(ImportFailed) as failed:
        import_evaluation_bodies(table=body_table(moved), actor=world.region_admin)
    assert [(e.line, e.column) for e in failed.value.errors] == [(2, "area_code")]
    assert "不能变更所在地区" in failed.value.errors[0].message
    assert EvaluationBody.objects.get(code=EVAL_HOHHOT).area.code == "150102"


def test_the_import_page_shows_errors_or_the_result_with_warnings(client, world):
    client.force_login(world.region_admin)
    bad = SimpleUploadedFile(
        "evaluation_bodies.csv", GOOD_BODIES.replace(",150203,", ",159999,").encode(), content_type="text/csv"
    )
    html = client.post(reverse("institutions:evaluation_body_import"), {"file": bad}).content.decode()
    for label in ("未写入任何数据", "第3行", "area_code", "地区代码", "159999"):
        assert label in html
    assert EvaluationBody.objects.count() == 0
    good = SimpleUploadedFile("evaluation_bodies.csv", GOOD_BODIES.encode(), content_type="text/csv")
    html = client.post(reverse("institutions:evaluation_body_import"), {"file": good}).content.decode()
    assert "导入成功" in html and "新登记2个评价机构" in html
    assert "校验未通过" in html and "第3行" in html
    assert EvaluationBody.objects.count() == 2


def test_the_evaluation_body_template_has_the_columns_an_example_and_imports_cleanly(client, world):
    client.force_login(world.region_admin)
    response = client.get(reverse("institutions:evaluation_body_template"))
    rows = sheet_rows(response, "evaluation_bodies")
    assert rows[0] == EVALUATION_BODY_COLUMNS
    assert len(rows) == 2
    assert len(rows[1][0]) == 18 and ":" in rows[1][5]
    upload = SimpleUploadedFile("evaluation_bodies.xlsx", response.content)
    html = client.post(reverse("institutions:evaluation_body_import"), {"file": upload}).content.decode()
    assert "导入成功" in html
    assert "校验未通过" not in html
    assert EvaluationBody.objects.filter(code=rows[1][0]).exists()


# --- occupations --------------------------------------------------------------------------------


def test_occupation_export_follows_the_filters(client, world):
    client.force_login(world.inst_a_operator)
    rows = sheet_rows(client.get(reverse("catalog:occupation_export") + "?q=养老护理"), "occupations")
    assert rows[0] == ("code", "name", "major_group", "source", "active")
    assert ELDERLY_CARE in [r[0] for r in rows[1:]]
    assert all("养老护理" in r[1] for r in rows[1:])
    everything = sheet_rows(client.get(reverse("catalog:occupation_export")), "occupations")
    assert len(everything) - 1 == Occupation.objects.count()
    group4 = sheet_rows(client.get(reverse("catalog:occupation_export") + "?group=4"), "occupations")
    assert {r[2] for r in group4[1:]} == {"4"}
    html = client.get(reverse("catalog:occupations") + "?q=养老&page=1").content.decode()
    assert reverse("catalog:occupation_export") + "?q=" in html


def test_a_region_special_code_must_follow_the_pattern_and_be_unique(world):
    for bad in ("NM-ZX-001", "NM-ZX-00012", "ZX-0001", "4-10-01-05", "NM-ZX-０００１"):
        with pytest.raises(PeixunError, match="NM-ZX-0001") as refused:
            occupation_add_region_special(code=bad, name="蒙古族刺绣", actor=world.region_admin)
        assert "格式不符" in refused.value.message
    with pytest.raises(PeixunError, match="名称不能为空"):
        occupation_add_region_special(code="NM-ZX-0001", name=" ", actor=world.region_admin)
    assert not Occupation.objects.filter(source=Occupation.Source.REGION_SPECIAL).exists()

    added = occupation_add_region_special(code="nm-zx-0001", name="蒙古族刺绣", actor=world.region_admin)
    assert (added.code, added.source, added.active) == ("NM-ZX-0001", Occupation.Source.REGION_SPECIAL, True)
    entry = AuditEntry.objects.get(action="occupation.region_special_added")
    assert entry.actor == world.region_admin and entry.after["code"] == "NM-ZX-0001"
    with pytest.raises(PeixunError, match="已存在"):
        occupation_add_region_special(code="NM-ZX-0001", name="另一个项目", actor=world.region_admin)
    with pytest.raises(PermissionDeniedError):
        occupation_add_region_special(code="NM-ZX-0002", name="马头琴制作", actor=world.hohhot_admin)
    assert Occupation.objects.filter(source=Occupation.Source.REGION_SPECIAL).count() == 1


def test_the_add_form_is_the_region_admins_only(client, world):
    client.force_login(world.hohhot_admin)
    assert client.get(reverse("catalog:occupation_add")).status_code == 404
    post = client.post(reverse("catalog:occupation_add"), {"code": "NM-ZX-0001", "name": "蒙古族刺绣"})
    assert post.status_code == 404
    upload = SimpleUploadedFile("x.csv", b"code,name\nNM-ZX-0001,x\n", content_type="text/csv")
    assert client.post(reverse("catalog:occupation_import"), {"file": upload}).status_code == 404
    assert (
        reverse("catalog:occupation_add") not in client.get(reverse("catalog:occupations")).content.decode()
    )
    client.force_login(world.xincheng_reviewer)
    assert client.get(reverse("catalog:occupation_add")).status_code == 404
    assert not Occupation.objects.filter(code="NM-ZX-0001").exists()

    client.force_login(world.region_admin)
    page = client.get(reverse("catalog:occupations")).content.decode()
    assert reverse("catalog:occupation_add") in page
    assert "自治区专项职业能力考核项目编码，如 NM-ZX-0001" in page
    assert reverse("catalog:occupation_template") in page


def test_the_add_form_refuses_in_chinese_and_adds(client, world):
    client.force_login(world.region_admin)
    response = client.post(reverse("catalog:occupation_add"), {"code": "NM-ZX-12", "name": "蒙古族刺绣"})
    assert response.status_code == 422
    assert "格式不符" in response.content.decode()
    assert not Occupation.objects.filter(name="蒙古族刺绣").exists()
    response = client.post(reverse("catalog:occupation_add"), {"code": "NM-ZX-0001", "name": "蒙古族刺绣"})
    assert response.status_code == 302
    assert Occupation.objects.get(code="NM-ZX-0001").source == Occupation.Source.REGION_SPECIAL
    response = client.post(reverse("catalog:occupation_add"), {"code": "NM-ZX-0001", "name": "重复"})
    assert response.status_code == 422
    assert "已存在" in response.content.decode()


def special_table(text: str):
    return csv_table(text, "region_special_occupations.csv", REGION_SPECIAL_COLUMNS)


def test_the_region_special_import_is_all_or_nothing_and_idempotent(world):
    bad = "code,name\nNM-ZX-0001,蒙古族刺绣\nNM-ZX-02,马头琴制作\nNM-ZX-0001,重复\nNM-ZX-0003,\n"
    before = audit_count()
    with pytest.raises(ImportFailed) as failed:
        import_region_special_occupations(table=special_table(bad), actor=world.region_admin)
    assert {(e.line, e.column) for e in failed.value.errors} == {(3, "code"), (4, "code"), (5, "name")}
    assert "格式不符" in next(e.message for e in failed.value.errors if e.line == 3)
    assert "与第2行重复" in next(e.message for e in failed.value.errors if e.line == 4)
    assert not Occupation.objects.filter(source=Occupation.Source.REGION_SPECIAL).exists()
    assert audit_count() == before

    good = "code,name\nNM-ZX-0001,蒙古族刺绣\nnm-zx-0002,马头琴制作\n"
    assert import_region_special_occupations(table=special_table(good), actor=world.region_admin) == {
        "rows": 2,
        "created": 2,
        "updated": 0,
    }
    assert set(
        Occupation.objects.filter(source=Occupation.Source.REGION_SPECIAL).values_list("code", flat=True)
    ) == {"NM-ZX-0001", "NM-ZX-0002"}
    before = audit_count()
    again = import_region_special_occupations(table=special_table(good), actor=world.region_admin)
    assert again == {"rows": 2, "created": 0, "updated": 0}
    assert audit_count() == before
    with pytest.raises(PermissionDeniedError):
        import_region_special_occupations(table=special_table(good), actor=world.baotou_admin)


def test_the_region_special_import_through_the_page(client, world):
    client.force_login(world.region_admin)
    template = client.get(reverse("catalog:occupation_template"))
    rows = sheet_rows(template, "region_special_occupations")
    assert rows[0] == REGION_SPECIAL_COLUMNS and len(rows) == 2
    bad = SimpleUploadedFile(
        "专项.csv", "code,name\nNM-ZX-0009,好项目\nXX-1,坏项目\n".encode(), content_type="text/csv"
    )
    response = client.post(reverse("catalog:occupation_import"), {"file": bad})
    assert response.status_code == 422
    html = response.content.decode()
    assert "未写入任何数据" in html and "第3行" in html and "格式不符" in html
    assert not Occupation.objects.filter(code="NM-ZX-0009").exists()
    upload = SimpleUploadedFile("专项项目.xlsx", template.content)
    response = client.post(reverse("catalog:occupation_import"), {"file": upload})
    assert response.status_code == 302
    assert Occupation.objects.filter(code=rows[1][0], source=Occupation.Source.REGION_SPECIAL).exists()
