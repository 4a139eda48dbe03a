"""Subsidy catalogs (第七条): versions by date, the city's catalog before the region's, and the
all-or-nothing Excel import of entries (contract.md).

第七条: the region department publishes the 职业技能培训补贴目录; cities may publish local ones. A
class is judged against the version in force on its start date, so a new version closes the
previous one the day before it starts, and old versions are kept.
"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from peixun.catalog.models import CatalogEntry, SubsidyCatalog
from peixun.catalog.services import (
    CATALOG_COLUMNS,
    CATALOG_OPTIONAL,
    catalog_create,
    catalog_export_rows,
    catalog_import_entries,
    catalog_lookup,
)
from peixun.core.errors import PeixunError
from peixun.core.models import AuditEntry
from peixun.core.tabular import ImportFailed, read_table, write_xlsx

from .conftest import area

pytestmark = pytest.mark.django_db

HEADER = "occupation_code,level,training_type,subsidy_amount,min_hours"
HOUSEKEEPER = "4-10-01-06"  # 家政服务员
ELDERLY_CARE = "4-10-01-05"  # 养老护理员
WELDER = "6-18-02-04"  # 焊工


def table(text: str, name: str = "catalog_entries.csv"):
    return read_table(
        io.BytesIO(text.encode()), filename=name, required=CATALOG_COLUMNS, optional=CATALOG_OPTIONAL
    )


def csv_of(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def new_catalog(actor, code="150000", start=dt.date(2025, 1, 1), title=None, **kw) -> SubsidyCatalog:
    return catalog_create(
        area=area(code), title=title or f"{code} {start.year}年补贴目录", valid_from=start, actor=actor, **kw
    )


def lookup(code, *, on, where="150102", level="5", training_type="EMPLOYMENT"):
    return catalog_lookup(
        occupation_code=code, level=level, training_type=training_type, area=area(where), on_date=on
    )


# --- versions by date ---------------------------------------------------------------------------


def test_second_version_closes_the_first_the_day_before(world):
    v1 = new_catalog(world.region_admin, start=dt.date(2025, 1, 1))
    v2 = new_catalog(world.region_admin, start=dt.date(2026, 3, 1), document_no="内人社发〔2026〕12号")
    v1.refresh_from_db()
    assert v1.valid_to == dt.date(2026, 2, 28)
    assert v2.valid_to is None
    assert AuditEntry.objects.filter(action="catalog.superseded", object_id=str(v1.pk)).count() == 1


def test_lookup_before_and_after_the_switch_uses_the_version_in_force(world):
    v1 = new_catalog(world.region_admin, start=dt.date(2025, 1, 1))
    catalog_import_entries(catalog=v1, table=table(csv_of(f"{HOUSEKEEPER},5,EMPLOYMENT,1200,80")), actor=None)
    v2 = new_catalog(world.region_admin, start=dt.date(2026, 3, 1))
    catalog_import_entries(catalog=v2, table=table(csv_of(f"{HOUSEKEEPER},5,EMPLOYMENT,1500,96")), actor=None)

    before = lookup(HOUSEKEEPER, on=dt.date(2026, 2, 28))
    after = lookup(HOUSEKEEPER, on=dt.date(2026, 3, 1))
    assert (before.subsidy_amount, before.entry.min_hours, before.catalog) == (Decimal("1200"), 80, v1)
    assert (after.subsidy_amount, after.entry.min_hours, after.catalog) == (Decimal("1500"), 96, v2)
    # Before the first version there was no catalog at all.
    assert lookup(HOUSEKEEPER, on=dt.date(2024, 12, 31)) is None


def test_overlapping_version_starting_earlier_is_refused_and_nothing_changes(world):
    v1 = new_catalog(world.region_admin, start=dt.date(2025, 1, 1))
    v2 = new_catalog(world.region_admin, start=dt.date(2026, 1, 1))
    with pytest.raises(PeixunError, match="有效期重叠"):
        new_catalog(world.region_admin, start=dt.date(2025, 6, 1))
    with pytest.raises(PeixunError, match="有效期重叠"):
        new_catalog(world.region_admin, start=dt.date(2026, 1, 1))
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.valid_to, v2.valid_to) == (dt.date(2025, 12, 31), None)
    assert SubsidyCatalog.objects.count() == 2


def test_a_county_cannot_publish_a_catalog_and_dates_must_be_in_order(world):
    with pytest.raises(PeixunError, match="自治区或盟市"):
        new_catalog(world.region_admin, code="150102")
    with pytest.raises(PeixunError, match="失效日期"):
        new_catalog(world.region_admin, start=dt.date(2026, 5, 1), valid_to=dt.date(2026, 4, 30))


def test_city_entry_overrides_the_region_entry(world):
    """第七条: a city may set a local standard; elsewhere the region's applies."""
    region = new_catalog(world.region_admin, start=dt.date(2026, 1, 1))
    catalog_import_entries(
        catalog=region,
        table=table(csv_of(f"{HOUSEKEEPER},5,EMPLOYMENT,1200,80", f"{ELDERLY_CARE},5,EMPLOYMENT,1300,80")),
        actor=None,
    )
    hohhot = new_catalog(world.hohhot_admin, code="150100", start=dt.date(2026, 1, 1))
    catalog_import_entries(
        catalog=hohhot, table=table(csv_of(f"{HOUSEKEEPER},5,EMPLOYMENT,1500,90")), actor=None
    )
    day = dt.date(2026, 6, 1)

    in_xincheng = lookup(HOUSEKEEPER, on=day, where="150102")
    assert (in_xincheng.subsidy_amount, in_xincheng.catalog) == (Decimal("1500"), hohhot)
    assert lookup(HOUSEKEEPER, on=day, where="150100").catalog == hohhot
    # 包头 has no local catalog; an occupation only the region lists falls back to the region.
    assert lookup(HOUSEKEEPER, on=day, where="150203").catalog == region
    assert lookup(ELDERLY_CARE, on=day, where="150102").catalog == region


def test_occupation_absent_from_every_catalog_is_none(world):
    region = new_catalog(world.region_admin, start=dt.date(2026, 1, 1))
    catalog_import_entries(
        catalog=region, table=table(csv_of(f"{HOUSEKEEPER},5,EMPLOYMENT,1200,80")), actor=None
    )
    assert lookup(WELDER, on=dt.date(2026, 6, 1)) is None
    # Same occupation, another level or training type: not in the catalog either.
    assert lookup(HOUSEKEEPER, on=dt.date(2026, 6, 1), level="4") is None
    assert lookup(HOUSEKEEPER, on=dt.date(2026, 6, 1), training_type="UPGRADE") is None


# --- import -------------------------------------------------------------------------------------


def test_import_reports_every_bad_row_and_writes_nothing(world):
    catalog = new_catalog(world.region_admin, start=dt.date(2026, 1, 1))
    text = csv_of(
        f"{HOUSEKEEPER},5,EMPLOYMENT,1200,80",  # line 2: good
        "9-99-99-99,5,EMPLOYMENT,1200,80",  # line 3: unknown occupation
        f"{ELDERLY_CARE},六级,EMPLOYMENT,1300,80",  # line 4: bad level
        f"{HOUSEKEEPER},5,EMPLOYMENT,1250,80",  # line 5: duplicates line 2
        f"{WELDER},4,UPGRADE,一千元,80",  # line 6: amount not a number
        f"{WELDER},3,UPGRADE,1800.125,80",  # line 7: fractions of a fen
    )
    with pytest.raises(ImportFailed) as failed:
        catalog_import_entries(catalog=catalog, table=table(text), actor=world.region_admin)
    found = {(e.line, e.column) for e in failed.value.errors}
    assert found == {
        (3, "occupation_code"),
        (4, "level"),
        (5, "occupation_code"),
        (6, "subsidy_amount"),
        (7, "subsidy_amount"),
    }
    assert len(failed.value.errors) == 5
    messages = {e.line: e.message for e in failed.value.errors}
    assert "第2行重复" in messages[5]
    assert "两位小数" in messages[7]
    assert CatalogEntry.objects.count() == 0
    assert not AuditEntry.objects.filter(action="catalog.entries_imported").exists()


def test_import_checks_the_optional_name_against_the_code(world):
    catalog = new_catalog(world.region_admin, start=dt.date(2026, 1, 1))
    text = csv_of(
        f"{HOUSEKEEPER},5,EMPLOYMENT,1200,80,家政服务员",
        f"{ELDERLY_CARE},5,EMPLOYMENT,1300,80,焊工",
        header=HEADER + ",occupation_name",
    )
    with pytest.raises(ImportFailed) as failed:
        catalog_import_entries(catalog=catalog, table=table(text), actor=None)
    assert [(e.line, e.column) for e in failed.value.errors] == [(3, "occupation_name")]


def test_good_file_imports_and_reimport_is_idempotent(world):
    catalog = new_catalog(world.region_admin, start=dt.date(2026, 1, 1))
    text = csv_of(
        f"{HOUSEKEEPER},5,EMPLOYMENT,1200,80",
        f"{HOUSEKEEPER},4,UPGRADE,1600.50,120",
        f"{WELDER},5,EMPLOYMENT,1800,160",
    )
    first = catalog_import_entries(catalog=catalog, table=table(text), actor=world.region_admin)
    assert first == {"rows": 3, "created": 3, "updated": 0}
    again = catalog_import_entries(catalog=catalog, table=table(text), actor=world.region_admin)
    assert again == {"rows": 3, "created": 0, "updated": 0}
    assert CatalogEntry.objects.filter(catalog=catalog).count() == 3

    changed = text.replace("1600.50,120", "1700,120")
    result = catalog_import_entries(catalog=catalog, table=table(changed), actor=world.region_admin)
    assert result == {"rows": 3, "created": 0, "updated": 1}
    assert CatalogEntry.objects.filter(catalog=catalog).count() == 3
    entry = CatalogEntry.objects.get(catalog=catalog, occupation__code=HOUSEKEEPER, level="4")
    assert entry.subsidy_amount == Decimal("1700")

    audit = AuditEntry.objects.filter(action="catalog.entries_imported").order_by("-id").first()
    assert audit.actor == world.region_admin
    assert audit.after["updated"] == 1
    key = f"{HOUSEKEEPER}/4/UPGRADE"
    assert audit.before["changed"][key]["subsidy_amount"] == "1600.50"
    assert audit.after["changed"][key]["subsidy_amount"] == "1700"


def xlsx_bytes(sheet_name: str, rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_import_reads_the_sheet_named_like_the_file(world):
    catalog = new_catalog(world.region_admin, start=dt.date(2026, 1, 1))
    content = xlsx_bytes(
        "catalog_entries",
        [
            list(CATALOG_COLUMNS),
            [HOUSEKEEPER, 5, "EMPLOYMENT", 1200, 80],
            [WELDER, "4", "UPGRADE", 1850.5, 160],
        ],
    )
    parsed = read_table(
        io.BytesIO(content),
        filename="catalog_entries.xlsx",
        required=CATALOG_COLUMNS,
        optional=CATALOG_OPTIONAL,
    )
    assert catalog_import_entries(catalog=catalog, table=parsed, actor=None)["created"] == 2
    welder = CatalogEntry.objects.get(catalog=catalog, occupation__code=WELDER)
    assert (welder.level, welder.subsidy_amount, welder.min_hours) == ("4", Decimal("1850.50"), 160)


def test_xlsx_upload_through_the_page_whatever_the_file_is_called(client, world):
    catalog = new_catalog(world.region_admin, start=dt.date(2026, 1, 1))
    content = xlsx_bytes(
        "catalog_entries", [list(CATALOG_COLUMNS), [HOUSEKEEPER, "5", "EMPLOYMENT", "1200", "80"]]
    )
    client.force_login(world.region_admin)
    upload = SimpleUploadedFile("2026年补贴目录.xlsx", content)
    response = client.post(reverse("catalog:import", args=[catalog.pk]), {"file": upload})
    assert response.status_code == 302
    assert CatalogEntry.objects.filter(catalog=catalog).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "导入完成：共1行，新增1条" in page
    assert "¥1,200.00" in page


def test_failed_import_on_the_page_lists_rows_and_writes_nothing(client, world):
    catalog = new_catalog(world.region_admin, start=dt.date(2026, 1, 1))
    client.force_login(world.region_admin)
    upload = SimpleUploadedFile(
        "catalog_entries.csv",
        csv_of(f"{HOUSEKEEPER},5,EMPLOYMENT,1200,80", f"{WELDER},9,EMPLOYMENT,abc,80").encode(),
    )
    response = client.post(reverse("catalog:import", args=[catalog.pk]), {"file": upload})
    assert response.status_code == 422
    html = response.content.decode()
    assert "未写入任何数据" in html
    assert "第3行" in html and "等级“9”无效" in html and "“abc”不是数字" in html
    assert CatalogEntry.objects.count() == 0


def test_wrong_columns_and_wrong_file_type_are_refused_on_the_page(client, world):
    catalog = new_catalog(world.region_admin, start=dt.date(2026, 1, 1))
    client.force_login(world.region_admin)
    bad_header = SimpleUploadedFile("catalog_entries.csv", b"code,amount\n4-10-01-06,1200\n")
    html = client.post(reverse("catalog:import", args=[catalog.pk]), {"file": bad_header}).content.decode()
    assert "缺少必需的列" in html
    doc = SimpleUploadedFile("目录.docx", b"not a table")
    html = client.post(reverse("catalog:import", args=[catalog.pk]), {"file": doc}).content.decode()
    assert "只接受 .csv 或 .xlsx 文件" in html
    assert CatalogEntry.objects.count() == 0


# --- export and template ------------------------------------------------------------------------


def test_export_has_the_import_columns_and_can_be_imported_back(client, world):
    catalog = new_catalog(world.region_admin, start=dt.date(2026, 1, 1))
    catalog_import_entries(
        catalog=catalog,
        table=table(csv_of(f"{HOUSEKEEPER},5,EMPLOYMENT,1200,80", f"{WELDER},4,UPGRADE,1850.50,160")),
        actor=None,
    )
    client.force_login(world.xincheng_reviewer)
    response = client.get(reverse("catalog:export", args=[catalog.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (*CATALOG_COLUMNS, *CATALOG_OPTIONAL)
    assert rows[1] == (HOUSEKEEPER, "5", "EMPLOYMENT", 1200, 80, "家政服务员")
    assert rows[2][3] == 1850.5
    # Round trip: the exported file imports into another version unchanged.
    other = new_catalog(world.region_admin, start=dt.date(2027, 1, 1))
    parsed = read_table(
        io.BytesIO(response.content),
        filename="catalog_entries.xlsx",
        required=CATALOG_COLUMNS,
        optional=CATALOG_OPTIONAL,
    )
    assert catalog_import_entries(catalog=other, table=parsed, actor=None)["created"] == 2
    assert list(catalog_export_rows(other)) == list(catalog_export_rows(catalog))


def test_excel_writer_neutralises_formulas():
    """Export values are occupation codes and names from the reference list, choice values and
    numbers: none can start with '='. The writer itself is tested instead."""
    content = write_xlsx(
        "catalog_entries",
        ["occupation_name", "subsidy_amount"],
        [['=HYPERLINK("http://x","点击")', Decimal("1200.00")], ["@SUM(A1)", Decimal("-5")]],
    )
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet["A2"].value == '\'=HYPERLINK("http://x","点击")'
    assert sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "'@SUM(A1)"
    assert sheet["B2"].value == 1200  # numbers stay numbers


def test_template_has_the_columns_an_example_row_and_imports_cleanly(client, world):
    client.force_login(world.hohhot_admin)
    response = client.get(reverse("catalog:template"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[0] == "catalog_entries"
    assert "填写说明" in workbook.sheetnames
    rows = list(workbook["catalog_entries"].iter_rows(values_only=True))
    assert rows[0] == (*CATALOG_COLUMNS, *CATALOG_OPTIONAL)
    assert len(rows) == 2
    catalog = new_catalog(world.hohhot_admin, code="150100", start=dt.date(2026, 1, 1))
    upload = SimpleUploadedFile("catalog_entries.xlsx", response.content)
    assert client.post(reverse("catalog:import", args=[catalog.pk]), {"file": upload}).status_code == 302
    assert CatalogEntry.objects.filter(catalog=catalog).count() == 1
    csv_template = client.get(reverse("catalog:template") + "?format=csv").content.decode("utf-8-sig")
    assert csv_template.splitlines()[0] == ",".join((*CATALOG_COLUMNS, *CATALOG_OPTIONAL))


# --- pages and permissions ----------------------------------------------------------------------


@pytest.fixture
def catalogs(world):
    region = new_catalog(world.region_admin, start=dt.date(2025, 1, 1), title="自治区2025年补贴目录")
    catalog_import_entries(
        catalog=region, table=table(csv_of(f"{HOUSEKEEPER},5,EMPLOYMENT,1200,80")), actor=None
    )
    hohhot = new_catalog(
        world.hohhot_admin, code="150100", start=dt.date(2025, 1, 1), title="呼和浩特市补贴目录"
    )
    baotou = new_catalog(world.baotou_admin, code="150200", start=dt.date(2025, 1, 1), title="包头市补贴目录")
    return {"region": region, "hohhot": hohhot, "baotou": baotou}


@pytest.mark.parametrize(
    "who", ["region_admin", "hohhot_admin", "xincheng_reviewer", "inspector", "inst_a_operator"]
)
def test_catalog_pages_open_for_every_reader(client, world, catalogs, who):
    client.force_login(getattr(world, who))
    for url in [
        reverse("catalog:list"),
        reverse("catalog:list") + "?area=150100",
        reverse("catalog:detail", args=[catalogs["region"].pk]),
        reverse("catalog:detail", args=[catalogs["baotou"].pk]),
        reverse("catalog:occupations"),
        reverse("catalog:occupations") + "?q=家政&group=4",
        reverse("catalog:occupation_suggest") + "?q=家政",
        reverse("catalog:export", args=[catalogs["region"].pk]),
        reverse("catalog:template"),
    ]:
        assert client.get(url).status_code == 200, (who, url)


def test_list_groups_region_first_and_marks_the_version_in_force(client, world, catalogs):
    client.force_login(world.xincheng_reviewer)
    html = client.get(reverse("catalog:list")).content.decode()
    assert (
        html.index("自治区2025年补贴目录") < html.index("呼和浩特市补贴目录") < html.index("包头市补贴目录")
    )
    assert "现行" in html
    # A reader sees no buttons that change catalogs.
    assert reverse("catalog:create") not in html
    detail = client.get(reverse("catalog:detail", args=[catalogs["region"].pk])).content.decode()
    assert reverse("catalog:import", args=[catalogs["region"].pk]) not in detail
    assert "¥1,200.00" in detail


def test_lookup_box_shows_the_standard_or_not_in_catalog(client, world, catalogs):
    client.force_login(world.xincheng_reviewer)
    base = reverse("catalog:list")
    found = client.get(
        base,
        {
            "lk-area": area("150102").pk,
            "lk-on_date": "2026-05-01",
            "lk-occupation": f"{HOUSEKEEPER} 家政服务员",
        },
    ).content.decode()
    assert "¥1,200.00" in found and "自治区2025年补贴目录" in found and "五级/初级工" in found
    absent = client.get(
        base, {"lk-area": area("150102").pk, "lk-on_date": "2026-05-01", "lk-occupation": WELDER}
    ).content.decode()
    assert "不在补贴目录内" in absent
    unknown = client.get(
        base, {"lk-area": area("150102").pk, "lk-on_date": "2026-05-01", "lk-occupation": "9-99"}
    ).content.decode()
    assert "不在职业分类中" in unknown


def test_reviewer_and_institution_get_404_for_create_and_import(client, world, catalogs):
    upload = SimpleUploadedFile("catalog_entries.csv", csv_of(f"{WELDER},5,EMPLOYMENT,1800,160").encode())
    for user in (world.xincheng_reviewer, world.inst_a_operator):
        client.force_login(user)
        assert client.get(reverse("catalog:create")).status_code == 404
        response = client.post(reverse("catalog:import", args=[catalogs["region"].pk]), {"file": upload})
        assert response.status_code == 404
    assert not CatalogEntry.objects.filter(occupation__code=WELDER).exists()


def test_city_admin_manages_only_their_own_city(client, world, catalogs):
    client.force_login(world.hohhot_admin)

    def upload():
        return {
            "file": SimpleUploadedFile(
                "catalog_entries.csv", csv_of(f"{WELDER},5,EMPLOYMENT,1800,160").encode()
            )
        }

    assert client.post(reverse("catalog:import", args=[catalogs["baotou"].pk]), upload()).status_code == 404
    assert client.post(reverse("catalog:import", args=[catalogs["region"].pk]), upload()).status_code == 404
    assert not CatalogEntry.objects.filter(occupation__code=WELDER).exists()
    assert client.post(reverse("catalog:import", args=[catalogs["hohhot"].pk]), upload()).status_code == 302
    assert CatalogEntry.objects.filter(catalog=catalogs["hohhot"], occupation__code=WELDER).exists()
    # Buttons follow the same rule.
    own = client.get(reverse("catalog:detail", args=[catalogs["hohhot"].pk])).content.decode()
    other = client.get(reverse("catalog:detail", args=[catalogs["baotou"].pk])).content.decode()
    assert reverse("catalog:import", args=[catalogs["hohhot"].pk]) in own
    assert reverse("catalog:import", args=[catalogs["baotou"].pk]) not in other


def test_city_admin_creates_only_for_their_city(client, world, catalogs):
    client.force_login(world.hohhot_admin)
    page = client.get(reverse("catalog:create")).content.decode()
    assert "150100 呼和浩特市" in page and "150000" not in page and "150200 包头市" not in page
    response = client.post(
        reverse("catalog:create"),
        {"area": area("150200").pk, "title": "越权目录", "valid_from": "2026-07-01"},
    )
    assert response.status_code == 200
    assert not SubsidyCatalog.objects.filter(title="越权目录").exists()

    response = client.post(
        reverse("catalog:create"),
        {
            "area": area("150100").pk,
            "title": "呼和浩特市2026年补贴目录",
            "document_no": "呼人社发〔2026〕3号",
            "valid_from": "2026-07-01",
        },
    )
    created = SubsidyCatalog.objects.get(title="呼和浩特市2026年补贴目录")
    assert response["Location"] == reverse("catalog:detail", args=[created.pk])
    catalogs["hohhot"].refresh_from_db()
    assert catalogs["hohhot"].valid_to == dt.date(2026, 6, 30)
    html = client.get(response["Location"]).content.decode()
    assert "失效日期已设为2026-06-30" in html


def test_region_admin_may_create_for_the_region_or_any_city(client, world):
    client.force_login(world.region_admin)
    page = client.get(reverse("catalog:create")).content.decode()
    assert "150000 内蒙古自治区" in page and "150200 包头市" in page and "150781 满洲里市" in page
    assert "150102" not in page  # counties do not publish catalogs
    response = client.post(
        reverse("catalog:create"),
        {"area": area("150000").pk, "title": "自治区目录", "valid_from": "2026-01-01"},
    )
    assert response.status_code == 302
    # The same start date again: the service refuses, the form says why.
    response = client.post(
        reverse("catalog:create"), {"area": area("150000").pk, "title": "重复", "valid_from": "2026-01-01"}
    )
    assert response.status_code == 200
    assert "有效期重叠" in response.content.decode()


def test_create_preview_names_the_version_that_will_close(client, world, catalogs):
    client.force_login(world.region_admin)
    response = client.get(
        reverse("catalog:create"),
        {"area": area("150000").pk, "valid_from": "2026-07-01"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "自治区2025年补贴目录" in html and "2026-06-30" in html
    assert "<html" not in html
