"""The standard reports and the statistics refresh as background jobs with progress (core/jobs.py).

A report job writes its workbook under MEDIA_ROOT/reports/ with a name fixed when the job was
submitted; the job's result names the file, and only the user who asked for it may download it.
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from peixun.accounts.roles import Perm, has_perm
from peixun.core.jobs import job_function, job_submit
from peixun.core.models import Job

from . import standard
from .refresh import stats_refresh

REPORT_KINDS = {
    "monthly": "统计月报",
    "annual": "统计年报",
    "ledger": "补贴拨付台账",
    "upgrade": "技能提升补贴专账",
}
JOB_KIND = "reports.standard"
REFRESH_KIND = "reports.refresh"


def report_directory() -> Path:
    path = Path(settings.MEDIA_ROOT) / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def report_submit(*, actor, report: str, year: int, month: int | None = None, area_code: str = "") -> Job:
    """Queue one standard report for `actor` (whose scope bounds it)."""
    if report not in REPORT_KINDS:
        raise KeyError(report)
    title = (
        f"{year}年{month}月{REPORT_KINDS[report]}"
        if report == "monthly"
        else f"{year}年{REPORT_KINDS[report]}"
    )
    params = {
        "report": report,
        "year": year,
        "month": month,
        "area": area_code,
        "file": f"{uuid.uuid4().hex}.xlsx",
    }
    return job_submit(kind=JOB_KIND, title=title, params=params, actor=actor)


def build_report(*, params: dict, actor, progress=None) -> standard.Report:
    if actor is None or not has_perm(actor, Perm.GENERATE_REPORTS):
        raise PermissionError("无权生成统计报表")
    year, area = int(params["year"]), params.get("area") or ""
    kind = params["report"]
    if kind == "monthly":
        return standard.monthly_statistics(actor, year=year, month=int(params["month"]), area_code=area)
    if kind == "annual":
        return standard.annual_statistics(actor, year=year, area_code=area)
    if kind == "ledger":
        return standard.payment_ledger(actor, year=year, area_code=area, progress=progress)
    return standard.upgrade_account(actor, year=year, area_code=area, progress=progress)


@job_function(JOB_KIND)
def run_report(*, params, actor, report):
    report(0, 1, "正在汇总数据…")
    built = build_report(params=params, actor=actor, progress=report)
    report(built.rows, built.rows or 1, "正在写入Excel…")
    path = report_directory() / Path(params["file"]).name
    path.write_bytes(standard.write_report(built))
    return {
        "file": path.name,
        "filename": built.filename,
        "title": built.title,
        "rows": built.rows,
        "sheets": [{"title": s.title, "rows": len(s.rows)} for s in built.sheets],
        "personal_data": built.personal_data,
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
    }


@job_function(REFRESH_KIND)
def run_refresh(*, params, actor, report):
    report(0, 1, "正在汇总统计数据…")
    result = stats_refresh(
        full=bool(params.get("full")), progress=lambda done, total: report(done, total, "按培训班汇总")
    )
    return {
        "full": result.full,
        "classes": result.classes,
        "outcomes": result.outcomes,
        "class_facts": result.class_facts,
        "area_facts": result.area_facts,
        "seconds": round(result.seconds, 1),
    }
