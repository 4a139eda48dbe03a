"""Tables in and out: CSV (UTF-8, BOM accepted) and .xlsx with the same columns (contract.md).

Reading checks the header (missing and extra columns are errors on line 1) and yields rows with
their line numbers; an importer validates every row, collects every problem, and writes nothing
unless there is none (all or nothing). Writing neutralises spreadsheet formulas: a cell starting
with = + - @ is prefixed with ' so Excel shows it as text instead of running it.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from .errors import PeixunError

MAX_ROWS = 200_000
MAX_XLSX_BYTES = 50 * 1024 * 1024


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
    rows = []
    for cells in reader:
        if len(rows) >= max_rows:
            raise ImportFailed(
                [RowError(name, reader.line_num, "文件", f"行数超过上限{max_rows}行，请拆分后导入")]
            )
        rows.append((reader.line_num, cells))
    return header, rows


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
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = [_cell_text(c) for c in next(iterator)]
    except StopIteration as exc:
        raise ImportFailed([RowError(name, 1, "文件", "工作表为空，缺少表头")]) from exc
    while header and header[-1] == "":
        header.pop()
    rows = []
    for index, cells in enumerate(iterator, start=2):
        if len(rows) >= max_rows:
            raise ImportFailed([RowError(name, index, "文件", f"行数超过上限{max_rows}行，请拆分后导入")])
        values = [_cell_text(c) for c in cells]
        while len(values) > len(header) and values[-1] == "":
            values.pop()
        rows.append((index, values))
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
        _check_header(name, header, required, optional)
        width = len(header)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except UnicodeDecodeError as exc:
                raise ImportFailed([RowError(name, reader.line_num, "文件", "文件不是UTF-8编码")]) from exc
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


def write_xlsx(
    sheet_name: str, columns: Sequence[str], rows: Iterable[Sequence], *, labels: Sequence[str] | None = None
) -> bytes:
    """An .xlsx workbook with one sheet; `labels` (Chinese captions) size the columns."""
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = sheet_name[:31]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F3")
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    for index, label in enumerate(labels or columns, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(
            12, len(label) * 2 + 4
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_csv(columns: Sequence[str], rows: Iterable[Sequence]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            ["" if v is None else safe_cell(v if not isinstance(v, Decimal) else str(v)) for v in row]
        )
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
