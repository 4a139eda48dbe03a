"""统计报表 in a real browser, on the demo's data (`seed_demo` and `seed_reports`).

The region administrator 王建国 opens 统计分析 (every chart drawn, Chinese labels, a table view and an
Excel export behind each), the 14 city-level areas side by side, 就业跟踪 and 需求对接, and has the
payment ledger generated in the background; 呼和浩特市's administrator, 新城区's reviewer and 鸿翔's
operator see their own level; the operator records a follow-up call. Screenshots at 1280 wide:
var/screenshots/dashboard-*.png (docs/guide/统计报表.md reuses some). No console error anywhere.
"""

import io
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from peixun.reports.demo import seed_reports
from peixun.reports.models import AreaMonthFact, EmploymentOutcome
from peixun.web.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(reference_data, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    from peixun.catalog.models import Occupation
    from peixun.catalog.reference import load_occupations

    load_occupations(Occupation)  # browser tests flush the migration's occupations
    call_command("seed_demo", "--quiet-logins", stdout=StringIO())
    seed_reports()
    # this year, as a clerk would open it; the demo's busiest year if this one has no trainees yet
    this_year = timezone.localdate().year
    if AreaMonthFact.objects.filter(year=this_year, trainees__gt=0).exists():
        return this_year
    return AreaMonthFact.objects.values("year").annotate(n=Sum("trainees")).order_by("-n").first()["year"]


def charts_drawn(visit, *, expect_empty: int = 0) -> int:
    """Every chart box of the page drawn by ECharts (a canvas inside); no card left empty."""
    page = visit.page
    boxes = page.locator(".px-chart[data-source]")
    expect(boxes.first).to_have_attribute("data-drawn", "true")
    n = boxes.count()
    for i in range(n):
        expect(boxes.nth(i)).to_have_attribute("data-drawn", "true")
        assert boxes.nth(i).locator("canvas").count() >= 1
    assert page.locator(".px-chart-card .px-empty").count() == expect_empty
    return n


def test_dashboards_at_every_level_on_demo_data(live_server, visitor, world, demo):
    year = demo
    query = f"?year={year}"
    with visitor("dashboard") as visit:
        visit.login("region_admin", DEMO_PASSWORD)
        visit.goto(reverse("reports:dashboard") + query)
        expect(visit.page.locator("h1")).to_contain_text("统计分析")
        expect(visit.page.locator("h1 .badge")).to_contain_text("自治区级")
        n = charts_drawn(visit)
        assert n >= 8
        cards = visit.page.locator(".px-chart-card h2").all_text_contents()
        for title in (
            "培训人数按月",
            "各盟市培训人数",
            "补贴申请、审核通过与拨付",
            "审核时效",
            "问题线索按规则",
        ):
            assert any(title in c for c in cards), title
        visit.shot("region", full_page=True)

        # the table view of a chart, and its Excel export
        card = visit.page.locator("#card-area")
        card.get_by_role("tab", name=re.compile("表格")).click()
        table = card.locator("table")
        expect(table).to_be_visible()
        expect(table.locator("tbody tr")).to_have_count(14)
        expect(table.locator("tfoot")).to_contain_text("合计")
        visit.shot("region-table", element="#card-area")
        href = card.get_by_role("link", name=re.compile("导出Excel")).get_attribute("href")
        response = visit.page.request.get(live_server.url + href)
        assert response.ok and response.headers["content-type"].startswith("application/vnd.openxmlformats")
        rows = list(load_workbook(io.BytesIO(response.body())).active.iter_rows(values_only=True))
        assert rows[0][0] == "盟市" and len(rows) == 1 + 14 + 1 and rows[-1][0] == "合计"

        # the 14 city-level areas side by side
        visit.page.get_by_role("link", name=re.compile("各盟市对比")).click()
        visit.page.wait_for_load_state()
        charts_drawn(visit)
        visit.shot("region-cities", full_page=True)

        # drill down: a city from the area table
        visit.goto(reverse("reports:dashboard") + query + "&area=150200")
        expect(visit.page.locator("h1 .badge")).to_contain_text("包头市")

        visit.goto(reverse("reports:employment") + query)
        charts_drawn(visit)
        expect(visit.page.locator("#todo")).to_contain_text("待回访学员")
        visit.shot("employment", full_page=True)

        visit.goto(reverse("reports:needs") + query)
        if year == timezone.localdate().year:  # the demo's demand survey is this year's
            charts_drawn(visit)
        visit.shot("needs")

        # a standard report in the background: the job page shows progress, then the download
        visit.goto(reverse("reports:standard"))
        visit.page.select_option("#id_report", "ledger")
        visit.page.fill("#id_year", str(year))
        with visit.page.expect_navigation():
            visit.page.get_by_role("button", name=re.compile("生成报表")).click()
        expect(visit.page.locator("#job-progress .badge")).to_have_text("已完成")
        download = visit.page.get_by_role("link", name=re.compile("下载"))
        expect(download).to_be_visible()
        visit.shot("report-job")

    with visitor("dashboard") as visit:
        visit.login("hohhot_admin", DEMO_PASSWORD)
        visit.goto(reverse("reports:dashboard") + query)
        expect(visit.page.locator("h1 .badge")).to_contain_text("呼和浩特市")
        charts_drawn(visit)
        assert "包头市" not in visit.page.locator("#card-area").inner_text()
        assert visit.status_of(reverse("reports:cities")) == 404
        visit.shot("city", full_page=True)

    with visitor("dashboard") as visit:
        visit.login("xincheng_reviewer", DEMO_PASSWORD)
        visit.goto(reverse("reports:dashboard") + query)
        expect(visit.page.locator("h1 .badge")).to_contain_text("新城区")
        charts_drawn(visit)
        visit.shot("county", full_page=True)

    with visitor("dashboard") as visit:
        visit.login("inst_hongxiang", DEMO_PASSWORD)
        visit.goto(reverse("reports:dashboard") + query)
        expect(visit.page.locator("h1 .badge")).to_contain_text("培训机构")
        charts_drawn(visit)
        visit.shot("institution", full_page=True)

        # a follow-up call for one of 鸿翔's trainees the registries say nothing about
        todo = EmploymentOutcome.objects.filter(
            status="UNKNOWN", training_class__institution__name="呼和浩特市鸿翔职业技能培训学校"
        ).first()
        if todo is not None:
            visit.goto(reverse("reports:class_employment", args=[todo.training_class_id]))
            expect(visit.page.locator("h1")).to_contain_text("就业跟踪")
            visit.goto(reverse("reports:follow_up", args=[todo.enrollment_id, todo.checkpoint]))
            visit.page.select_option("#id_outcome", "EMPLOYED")
            visit.page.fill("#id_employer_name", "呼和浩特市康馨养老服务中心")
            visit.shot("follow-up")
            with visit.page.expect_navigation():
                visit.page.get_by_role("button", name=re.compile("保存")).click()
            expect(visit.page.locator(".alert-success")).to_contain_text("已登记")
            expect(visit.page.locator("table")).to_contain_text("呼和浩特市康馨养老服务中心")
            visit.shot("class-employment", full_page=True)
