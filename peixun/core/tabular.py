"""Tables in and out: CSV (UTF-8, BOM accepted) and .xlsx with the same columns (contract.md).

Reading checks the header (missing and extra columns are errors on line 1) and yields rows with
their line numbers; an importer validates every row, collects every problem, and writes nothing
unless there is none (all or nothing). Blank rows are skipped and do not count towards the row
limit. Writing neutralises spreadsheet formulas: a cell starting with = + - @ is prefixed with ' so
Excel shows it as text instead of running it; CSV fields holding a line break are always quoted, and
Excel cells drop the control characters XML cannot carry.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill

from .errors import PeixunError

MAX_ROWS = 200_000
MAX_XLSX_BYTES = 50 * 1024 * 1024
# Blank rows do not count towards max_rows, but reading still stops (and refuses the file) after
# this many times max_rows lines in all, blank or not: a sheet formatted down to row 99,999,999 (or
# a CSV of millions of empty lines) cannot keep a worker busy. Ten times the limit is far beyond any
# real file (Excel itself stops at 1,048,576 rows).
SCAN_FACTOR = 10
# csv's own limit on one cell (131,072 characters) is kept: no column of the contract comes near
# it. A longer cell is refused as an ImportFailed naming its line (see _csv_failure).


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.message}"


class ImportFailed(PeixunError):
    code = "import_failed"

    def __init__(self, errors: Sequence[RowError]):
        self.errors = list(errors)
        super().__init__(f"导入失败：发现{len(self.errors)}处问题，未写入任何数据")


@dataclass
class Row:
    line: int
    values: dict[str, str]
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class Table:
    file: str
    columns: tuple[str, ...]
    rows: list[Row]


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(
    source,
    *,
    filename: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    max_rows: int = MAX_ROWS,
) -> Table:
    """Read a CSV or XLSX file (path or binary file object). Raises ImportFailed on a bad header."""
    name = Path(filename).name
    data = Path(source).read_bytes() if isinstance(source, str | Path) else source.read()
    if name.lower().endswith(".xlsx"):
        header, raw_rows = _read_xlsx(data, name, max_rows)
    else:
        header, raw_rows = _read_csv(data, name, max_rows)
    header = [h.strip().lstrip("\ufeff") for h in header]
    _check_header(name, header, required, optional)
    problems = []
    rows = []
    for line, cells in raw_rows:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            problems.append(
                RowError(name, line, "整行", f"该行有{len(cells)}个单元格，多于表头的{len(header)}列")
            )
            continue
        cells = list(cells) + [""] * (len(header) - len(cells))
        rows.append(Row(line, {h: c.strip() for h, c in zip(header, cells, strict=True)}))
    if problems:
        raise ImportFailed(problems)
    return Table(name, tuple(header), rows)


def _read_csv(data: bytes, name: str, max_rows: int):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            [RowError(name, 1, "文件", "文件不是UTF-8编码（如为GBK/GB2312，请在Excel中“另存为 CSV UTF-8”）")]
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ImportFailed([RowError(name, 1, "文件", "文件为空，缺少表头")]) from exc
    except csv.Error as exc:
        raise _csv_failure(name, reader.line_num, exc) from exc
    rows = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _csv_failure(name, reader.line_num, exc) from exc
        _check_scanned(name, reader.line_num, max_rows)
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= max_rows:
            raise _too_many_rows(name, reader.line_num, max_rows)
        rows.append((reader.line_num, cells))
    return header, rows


def _csv_failure(name: str, line: int, exc: csv.Error) -> ImportFailed:
    """A row csv itself cannot read (a cell over csv.field_size_limit) as a row error."""
    line = max(line, 1)
    if "field larger than field limit" in str(exc):
        message = f"第{line}行的单元格过长（超过{csv.field_size_limit()}个字符），请检查该行（引号是否成对）"
    else:
        message = f"第{line}行无法按CSV格式读取（{exc}）"
    return ImportFailed([RowError(name, line, "文件", message)])


def _too_many_rows(name: str, line: int, max_rows: int) -> ImportFailed:
    return ImportFailed([RowError(name, line, "文件", f"行数超过上限{max_rows}行，请拆分后导入")])


def _check_scanned(name: str, line: int, max_rows: int) -> None:
    """Refuse a file that goes on past SCAN_FACTOR × max_rows lines, however many are blank."""
    if line > SCAN_FACTOR * max_rows + 1:
        raise ImportFailed(
            [
                RowError(
                    name,
                    line,
                    "文件",
                    f"文件超过{SCAN_FACTOR * max_rows}行（含空行），请删除多余的空行或拆分后导入",
                )
            ]
        )


def _read_xlsx(data: bytes, name: str, max_rows: int):
    if len(data) > MAX_XLSX_BYTES:
        raise ImportFailed(
            [RowError(name, 1, "文件", f"Excel文件超过{MAX_XLSX_BYTES // 1024 // 1024}MB上限")]
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ImportFailed(
            [RowError(name, 1, "文件", "无法读取该Excel文件（文件损坏或不是.xlsx格式）")]
        ) from exc
    sheet_name = Path(name).stem
    if sheet_name in workbook.sheetnames:
        sheet = workbook[sheet_name]
    elif len(workbook.sheetnames) == 1:
        sheet = workbook[workbook.sheetnames[0]]
    else:
        raise ImportFailed([RowError(name, 1, "文件", f"找不到名为“{sheet_name}”的工作表")])
    # The <dimension> a producer writes may be stale (e.g. "A1:E1" over thousands of rows) or far
    # too large; read-only mode would trust it and drop or invent rows. Read what the sheet holds.
    sheet.reset_dimensions()
    iterator = sheet.iter_rows(values_only=True)
    try:
        try:
            header = [_cell_text(c) for c in next(iterator)]
        except StopIteration as exc:
            raise ImportFailed([RowError(name, 1, "文件", "工作表为空，缺少表头")]) from exc
        while header and header[-1] == "":
            header.pop()
        rows = []
        for index, cells in enumerate(iterator, start=2):
            _check_scanned(name, index, max_rows)
            values = [_cell_text(c) for c in cells]
            if not any(values):
                continue  # a blank (or merely formatted) row: skipped, not counted
            if len(rows) >= max_rows:
                raise _too_many_rows(name, index, max_rows)
            while len(values) > len(header) and values[-1] == "":
                values.pop()
            rows.append((index, values))
    finally:
        workbook.close()
    return header, rows


def iter_csv(path: Path, *, required: Sequence[str], optional: Sequence[str] = ()):
    """Stream a large CSV (attendance, online sessions, registries): check the header, then yield
    Row objects one by one, so tens of millions of rows never sit in memory at once."""
    name = Path(path).name
    fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed in finally below
    try:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration as exc:
            raise ImportFailed([RowError(name, 1, "文件", "文件为空，缺少表头")]) from exc
        except UnicodeDecodeError as exc:
            raise ImportFailed([RowError(name, 1, "文件", "文件不是UTF-8编码")]) from exc
        except csv.Error as exc:
            raise _csv_failure(name, reader.line_num, exc) from exc
        _check_header(name, header, required, optional)
        width = len(header)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except UnicodeDecodeError as exc:
                raise ImportFailed([RowError(name, reader.line_num, "文件", "文件不是UTF-8编码")]) from exc
            except csv.Error as exc:
                raise _csv_failure(name, reader.line_num, exc) from exc
            if not any(cells):
                continue
            if len(cells) > width:
                yield Row(
                    reader.line_num,
                    {},
                    [
                        RowError(
                            name, reader.line_num, "整行", f"该行有{len(cells)}个单元格，多于表头的{width}列"
                        )
                    ],
                )
                continue
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            yield Row(reader.line_num, {h: c.strip() for h, c in zip(header, cells, strict=True)})
    finally:
        fh.close()


def _check_header(name: str, header: list[str], required: Sequence[str], optional: Sequence[str]) -> None:
    allowed = set(required) | set(optional)
    problems = []
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(RowError(name, 1, "表头", f"缺少必需的列：{', '.join(missing)}"))
    extra = [c for c in header if c not in allowed]
    if extra:
        problems.append(
            RowError(
                name,
                1,
                "表头",
                f"有不认识的列：{', '.join(extra)}（允许的列：{', '.join([*required, *optional])}）",
            )
        )
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        problems.append(RowError(name, 1, "表头", f"列重复：{', '.join(duplicated)}"))
    if problems:
        raise ImportFailed(problems)


# --- writing ------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Neutralise formula injection; numbers and dates stay typed."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, Decimal):
        return float(value)
    return value


def xlsx_cell(value):
    """A value for an openpyxl cell: the ASCII control characters XML 1.0 cannot carry (openpyxl
    raises IllegalCharacterError on them) are removed first, then safe_cell, so an ESC before
    "=1+2" cannot hide the formula. Every workbook peixun writes goes through here."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return safe_cell(value)


def write_xlsx(
    sheet_name: str, columns: Sequence[str], rows: Iterable[Sequence], *, labels: Sequence[str] | None = None
) -> bytes:
    """An .xlsx workbook with one sheet; `labels` (Chinese captions) size the columns."""
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = sheet_name[:31]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F3")
    sheet.append([xlsx_cell(c) for c in columns])
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
    for row in rows:
        sheet.append([xlsx_cell(v) for v in row])
    for index, label in enumerate(labels or columns, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(
            12, len(label) * 2 + 4
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_write(fh, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write a CSV to an open text file (opened with newline=""), row by row; returns the number of
    rows. Lines end in CRLF (RFC 4180, as Excel writes): with that terminator csv quotes every field
    holding a carriage return or a line feed, so a line break inside a cell can neither split the
    row nor start a cell of its own that escapes safe_cell."""
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(
            ["" if v is None else safe_cell(v if not isinstance(v, Decimal) else str(v)) for v in row]
        )
        count += 1
    return count


def write_csv(columns: Sequence[str], rows: Iterable[Sequence]) -> str:
    buffer = io.StringIO()
    csv_write(buffer, columns, rows)
    return buffer.getvalue()


# --- value parsers shared by importers ---------------------------------------------------------


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"日期“{value}”格式应为YYYY-MM-DD") from exc


def parse_yes_no(value: str) -> bool:
    if value in ("Y", "y"):
        return True
    if value in ("N", "n"):
        return False
    raise ValueError(f"应为Y或N，实际为“{value}”")


def parse_decimal(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except Exception as exc:
        raise ValueError(f"“{value}”不是数字") from exc
    if not number.is_finite():
        raise ValueError(f"“{value}”不是数字")
    return number
