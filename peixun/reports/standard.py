"""The standard reports a provincial department sends upward, as Excel workbooks.

- 统计月报 / 统计年报: trainees, completions, certificates and subsidies by training type × person
  category, by area (and by month for the year), from the fact tables — the same numbers as the
  dashboards.
- 补贴拨付台账: every subsidy line paid in the year, per city, from the payment records.
- 技能提升补贴专账: every subsidy line of 岗位技能提升培训 (training type UPGRADE) applied for in the
  year, with what was approved and paid.

Every sheet ends with a 合计 row that is the sum of the rows above it (tests hold it to that). The
builders take the user whose scope bounds the report: a report never holds a number the user could
not see on a page.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import Http404
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from peixun.accounts.scope import restrict
from peixun.catalog.models import Level as SkillLevel
from peixun.catalog.models import TrainingType
from peixun.core.identity import mask_id_number
from peixun.core.tabular import xlsx_cell
from peixun.subsidies.models import Payment, SubsidyApplication, SubsidyLine
from peixun.training.models import Category

from .dashboards import MONTH_LABELS, Filters, Level, Sums, children_of, facts, grouped, resolve_level
from .refresh import IN_CHUNK, AreaIndex, chunks

TEXT, INT, MONEY, PCT = "text", "int", "money", "pct"


def labels(choices) -> list[tuple[str, str]]:
    """(value, label) with the label as plain text: a workbook cell cannot hold a lazy translation."""
    return [(value, str(label)) for value, label in choices.choices]


Progress = Callable[[int, int, str], None]


@dataclass
class Sheet:
    title: str
    columns: list[tuple[str, str]]  # (label, kind)
    rows: list[list] = field(default_factory=list)
    total: list | None = None
    note: str = ""

    def add_total(self, label: str = "合计", label_column: int = 0) -> None:
        """The 合计 row: the sum of every numeric column (rates are recomputed by the caller)."""
        total: list = []
        for index, (_label, kind) in enumerate(self.columns):
            if kind in (INT, MONEY):
                total.append(sum((row[index] or 0 for row in self.rows), Decimal(0) if kind == MONEY else 0))
            else:
                total.append(label if index == label_column else "")
        self.total = total


@dataclass
class Report:
    title: str
    filename: str
    sheets: list[Sheet]
    personal_data: bool = False  # names and masked ID numbers: the download is logged

    @property
    def rows(self) -> int:
        return sum(len(s.rows) for s in self.sheets)


def _scope_label(level: Level) -> str:
    return "全区" if level.key == "region" else level.name


def _level(user, year: int, area_code: str) -> Level:
    level = resolve_level(user, Filters(year=year, area=area_code))
    if level.key == "institution":
        raise Http404("页面不存在")
    return level


# --- statistics -------------------------------------------------------------------------------------

STAT_COLUMNS = [
    ("培训人数", INT),
    ("结业人数", INT),
    ("取证人数", INT),
    ("申请补贴人数", INT),
    ("申请补贴金额（元）", MONEY),
    ("审核通过人数", INT),
    ("审核通过金额（元）", MONEY),
    ("已拨付人数", INT),
    ("已拨付金额（元）", MONEY),
]
STAT_MEASURES = (
    "trainees",
    "completed",
    "certified",
    "subsidy_applied",
    "subsidy_applied_amount",
    "subsidy_approved",
    "subsidy_approved_amount",
    "subsidy_paid",
    "subsidy_paid_amount",
)


def _stat_values(s: Sums) -> list:
    return [s[m] for m in STAT_MEASURES]


def _statistics(
    user, *, year: int, months: Iterable[int], area_code: str, title: str, filename: str
) -> Report:
    level = _level(user, year, area_code)
    months = list(months)
    qs = facts(user, level, Filters(year=year, area=area_code)).filter(month__in=months)
    by_type_category = grouped(qs, ("training_type", "category"), STAT_MEASURES)
    sheet1 = Sheet("按培训类型和人员类别", [("培训类型", TEXT), ("人员类别", TEXT), *STAT_COLUMNS])
    for type_value, type_label in labels(TrainingType):
        for cat_value, cat_label in labels(Category):
            s = by_type_category.get((type_value, cat_value), Sums())
            sheet1.rows.append([type_label, cat_label, *_stat_values(s)])
    # Subsidy lines always name a category; class-level rows ("") carry no trainee or subsidy numbers.
    sheet1.add_total()
    sheet1.note = "人员类别按培训时的身份（财社〔2023〕181号 第五条）。"

    sheet2 = Sheet(f"按{level.children_label}", [(level.children_label, TEXT), *STAT_COLUMNS])
    for name, s in children_of(level, qs, STAT_MEASURES):
        sheet2.rows.append([name, *_stat_values(s)])
    sheet2.add_total()
    sheets = [sheet1, sheet2]
    if len(months) > 1:
        by_month = grouped(qs, "month", STAT_MEASURES)
        sheet3 = Sheet("按月份", [("月份", TEXT), *STAT_COLUMNS])
        for m in months:
            sheet3.rows.append([MONTH_LABELS[m - 1], *_stat_values(by_month.get(m, Sums()))])
        sheet3.add_total()
        sheets.append(sheet3)
    scope = _scope_label(level)
    return Report(f"{title}（{scope}）", f"{filename}_{scope}.xlsx", sheets)


def monthly_statistics(user, *, year: int, month: int, area_code: str = "") -> Report:
    if not 1 <= month <= 12:
        raise ValueError("month")
    return _statistics(
        user,
        year=year,
        months=[month],
        area_code=area_code,
        title=f"{year}年{month}月职业技能培训统计月报",
        filename=f"统计月报_{year}{month:02d}",
    )


def annual_statistics(user, *, year: int, area_code: str = "") -> Report:
    return _statistics(
        user,
        year=year,
        months=range(1, 13),
        area_code=area_code,
        title=f"{year}年职业技能培训统计年报",
        filename=f"统计年报_{year}",
    )


# --- the payment ledger -----------------------------------------------------------------------------

LEDGER_COLUMNS = [
    ("序号", INT),
    ("拨付日期", TEXT),
    ("凭证号", TEXT),
    ("收款方式", TEXT),
    ("盟市", TEXT),
    ("旗县区", TEXT),
    ("培训机构", TEXT),
    ("班级编号", TEXT),
    ("职业（工种）", TEXT),
    ("培训类型", TEXT),
    ("学员姓名", TEXT),
    ("身份证号", TEXT),
    ("人员类别", TEXT),
    ("补贴金额（元）", MONEY),
]
CHUNK = 2000


def _lines_in_level(user, level: Level):
    lines = restrict(SubsidyLine.objects.all(), user)
    if level.area_ids is not None:
        lines = lines.filter(application__training_class__area_id__in=level.area_ids)
    return lines


def payment_ledger(user, *, year: int, area_code: str = "", progress: Progress | None = None) -> Report:
    """补贴拨付台账: one row per subsidy line paid in the year (by the payment's date)."""
    level = _level(user, year, area_code)
    index = AreaIndex()
    lines = (
        _lines_in_level(user, level)
        .filter(
            status=SubsidyLine.Status.PAID,
            payments__outcome=Payment.Outcome.PAID,
            payments__paid_on__year=year,
        )
        .order_by("payments__paid_on", "payments__voucher_no", "id")
        .values_list(
            "payments__paid_on",
            "payments__voucher_no",
            "payments__payee_kind",
            "application__training_class__area_id",
            "application__institution__name",
            "application__training_class__code",
            "application__training_class__occupation_name",
            "application__training_class__training_type",
            "person__name",
            "person__id_masked",
            "enrollment__category",
            "amount",
        )
    )
    total = lines.count()
    payee, types, cats = dict(labels(Payment.PayeeKind)), dict(labels(TrainingType)), dict(labels(Category))
    sheet = Sheet(f"{year}年补贴拨付台账", LEDGER_COLUMNS)
    for n, row in enumerate(lines.iterator(chunk_size=CHUNK), start=1):
        paid_on, voucher, kind, area_id, inst, code, occ, ttype, name, masked, cat, amount = row
        area = index.areas[area_id]
        city = index.areas[index.city_of(area_id)]
        sheet.rows.append(
            [
                n,
                paid_on.isoformat(),
                voucher,
                payee.get(kind, kind),
                city.name,
                area.name if area.id != city.id else "",
                inst,
                code,
                occ,
                types.get(ttype, ttype),
                name,
                masked or mask_id_number(""),
                cats.get(cat, cat),
                amount,
            ]
        )
        if progress and n % CHUNK == 0:
            progress(n, total, f"已写入{n}行")
    sheet.add_total(label_column=1)
    sheet.total[0] = ""
    sheet.note = "按支付日期所在年度；仅列支付成功的拨付记录（凡补必进、不进不补）。"
    scope = _scope_label(level)
    return Report(
        f"{year}年职业技能培训补贴拨付台账（{scope}）",
        f"补贴拨付台账_{year}_{scope}.xlsx",
        [sheet],
        personal_data=True,
    )


# --- the skill-upgrade account ----------------------------------------------------------------------

UPGRADE_COLUMNS = [
    ("序号", INT),
    ("申请编号", TEXT),
    ("申请日期", TEXT),
    ("盟市", TEXT),
    ("培训机构", TEXT),
    ("班级编号", TEXT),
    ("职业（工种）", TEXT),
    ("等级", TEXT),
    ("学员姓名", TEXT),
    ("身份证号", TEXT),
    ("状态", TEXT),
    ("申请金额（元）", MONEY),
    ("审核通过金额（元）", MONEY),
    ("已拨付金额（元）", MONEY),
    ("拨付日期", TEXT),
    ("凭证号", TEXT),
]
APPROVED = {"NOTICE", "SUSPENDED", "PAYABLE", "PAID"}


def upgrade_account(user, *, year: int, area_code: str = "", progress: Progress | None = None) -> Report:
    """技能提升补贴专账: every line of 岗位技能提升培训 applied for in the year (by the application's
    submission), with the amount approved and paid; a summary sheet by city."""
    level = _level(user, year, area_code)
    index = AreaIndex()
    start = dt.datetime(year, 1, 1, tzinfo=timezone.get_current_timezone())
    lines = list(
        _lines_in_level(user, level)
        .filter(
            application__training_class__training_type=TrainingType.UPGRADE,
            application__submitted_at__gte=start,
            application__submitted_at__lt=start.replace(year=year + 1),
        )
        .exclude(application__status=SubsidyApplication.Status.WITHDRAWN)
        .select_related("application__training_class", "application__institution", "person")
        .order_by("application__submitted_at", "application__code", "id")
        .iterator(chunk_size=CHUNK)
    )
    payments = {}
    paid_ids = [line.id for line in lines if line.status == SubsidyLine.Status.PAID]
    for part in chunks(paid_ids, IN_CHUNK):
        wanted = set(part)
        paid = Payment.objects.filter(outcome=Payment.Outcome.PAID, lines__in=part)
        for line_id, paid_on, voucher in paid.values_list("lines__id", "paid_on", "voucher_no"):
            if line_id in wanted:
                payments[line_id] = (paid_on, voucher)
    levels, statuses = dict(labels(SkillLevel)), dict(labels(SubsidyLine.Status))
    sheet = Sheet(f"{year}年技能提升补贴专账", UPGRADE_COLUMNS)
    by_city: dict[int, list] = {}
    for n, line in enumerate(lines, start=1):
        app, c = line.application, line.application.training_class
        approved = line.amount if line.status in APPROVED else Decimal(0)
        paid_amount = line.amount if line.status == SubsidyLine.Status.PAID else Decimal(0)
        paid_on, voucher = payments.get(line.id, (None, ""))
        city_id = index.city_of(c.area_id)
        sheet.rows.append(
            [
                n,
                app.code,
                timezone.localtime(app.submitted_at).date().isoformat(),
                index.areas[city_id].name,
                app.institution.name,
                c.code,
                c.occupation_name,
                levels.get(c.level, c.level),
                line.person.name,
                line.person.id_masked,
                statuses.get(line.status, line.status),
                line.amount,
                approved,
                paid_amount,
                paid_on.isoformat() if paid_on else "",
                voucher,
            ]
        )
        acc = by_city.setdefault(city_id, [0, Decimal(0), Decimal(0), Decimal(0)])
        acc[0] += 1
        acc[1] += line.amount
        acc[2] += approved
        acc[3] += paid_amount
        if progress and n % CHUNK == 0:
            progress(n, len(lines), f"已写入{n}行")
    sheet.add_total(label_column=1)
    sheet.total[0] = ""
    summary = Sheet(
        "按盟市汇总",
        [
            ("盟市", TEXT),
            ("人数", INT),
            ("申请金额（元）", MONEY),
            ("审核通过金额（元）", MONEY),
            ("已拨付金额（元）", MONEY),
        ],
    )
    for city_id, acc in sorted(by_city.items(), key=lambda kv: index.areas[kv[0]].code):
        summary.rows.append([index.areas[city_id].name, *acc])
    summary.add_total()
    scope = _scope_label(level)
    return Report(
        f"{year}年技能提升补贴专账（{scope}）",
        f"技能提升补贴专账_{year}_{scope}.xlsx",
        [sheet, summary],
        personal_data=True,
    )


# --- writing ----------------------------------------------------------------------------------------


def write_report(report: Report) -> bytes:
    """One workbook, one sheet per table: a title line, the header, the rows, the 合计 row in bold.
    Written streaming (openpyxl write-only): a year's ledger has hundreds of thousands of rows."""
    workbook = Workbook(write_only=True)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE7F3")
    for sheet in report.sheets:
        ws = workbook.create_sheet(sheet.title[:31])
        money = [kind == MONEY for _label, kind in sheet.columns]
        for index, (label, _kind) in enumerate(sheet.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = max(10, len(label) * 2 + 2)

        def cell(value, *, style=None, is_money=False, ws=ws):
            c = WriteOnlyCell(ws, value=xlsx_cell(value))
            if style is not None:
                c.font = style
            if is_money:
                c.number_format = "#,##0.00"
            return c

        title = cell(report.title, style=Font(bold=True, size=13))
        ws.append([title])
        header = []
        for label, _kind in sheet.columns:
            c = cell(label, style=bold)
            c.fill = fill
            c.alignment = Alignment(horizontal="center")
            header.append(c)
        ws.append(header)
        for row in sheet.rows:
            ws.append(
                [cell(v, is_money=True) if m else xlsx_cell(v) for v, m in zip(row, money, strict=False)]
            )
        if sheet.total:
            ws.append([cell(v, style=bold, is_money=m) for v, m in zip(sheet.total, money, strict=False)])
        if sheet.note:
            ws.append([])
            ws.append([f"说明：{sheet.note}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
