"""The reviewer's pages of the cross-check findings (问题线索): list, detail with evidence, decisions,
re-runs keeping decisions, the Excel export and the institution risk view."""

import datetime as dt
import io
import json
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from peixun.accounts.roles import Role
from peixun.accounts.services import user_create
from peixun.checks import run as check_run
from peixun.checks.catalog import Hit
from peixun.checks.models import Finding, FindingEvent, RegistryKind, RegistryRow, RegistrySnapshot
from peixun.checks.services import StoreResult, findings_store
from peixun.checks.views import can_decide
from peixun.core.models import Area, AuditEntry, PersonAccessLog
from peixun.core.uscc import uscc_complete as uscc
from peixun.institutions.services import institution_register
from peixun.training.models import Enrollment, TrainingClass
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

CLASS_CODE = "HX2026-0301"
PAYROLL_EVIDENCE = (
    "财政供养信息：新城区东街街道办事处，供养期间2025-01-01至今，与培训期间2026-03-02至2026-03-20重叠"
)


class Setup:
    def __init__(self, world):
        self.world = world
        self.institution = institution_register(
            code=uscc("52150102MJY000011"),
            name="呼和浩特市鸿翔职业技能培训学校",
            type="PRIVATE_SCHOOL",
            area=Area.objects.get(code="150102"),
            actor=world.hohhot_admin,
        )
        self.operator = user_create(
            username="hx_operator",
            password=PASSWORD,
            role=Role.INSTITUTION_OPERATOR,
            display_name="马文华",
            organisation=self.institution.organisation,
            actor=None,
        )
        self.klass = TrainingClass.objects.create(
            code=CLASS_CODE,
            institution=self.institution,
            area=Area.objects.get(code="150102"),
            occupation_code="4-10-01-05",
            occupation_name="养老护理员",
            level="5",
            training_type="EMPLOYMENT",
            start_date=dt.date(2026, 3, 2),
            end_date=dt.date(2026, 3, 20),
            total_hours=120,
            site_address="呼和浩特市新城区新华大街1号",
        )
        self.li_ming = world.li_ming
        Enrollment.objects.create(
            training_class=self.klass,
            person=self.li_ming,
            category="REGISTERED_UNEMPLOYED",
            phone="13947112345",
        )
        snapshot = RegistrySnapshot.objects.create(
            kind=RegistryKind.PUBLIC_PAYROLL, file_name="public_payroll.csv", sha256="0" * 64, row_count=1
        )
        RegistryRow.objects.create(
            snapshot=snapshot,
            kind=RegistryKind.PUBLIC_PAYROLL,
            line=2,
            id_hmac=self.li_ming.id_hmac,
            id_masked=self.li_ming.id_masked,
            name="李明",
            date_from=dt.date(2025, 1, 1),
            org_name="新城区东街街道办事处",
        )
        # a death row of someone else with the same kind of data must not appear
        RegistryRow.objects.create(
            snapshot=snapshot,
            kind=RegistryKind.PUBLIC_PAYROLL,
            line=3,
            id_hmac=world.chen_jing.id_hmac,
            id_masked=world.chen_jing.id_masked,
            name="陈静",
            date_from=dt.date(2024, 1, 1),
            org_name="回民区某中学",
        )

    def hit(self, evidence=PAYROLL_EVIDENCE):
        return Hit("PUBLIC_PAYROLL", CLASS_CODE, self.li_ming.id_hmac, evidence)

    def batch_hit(self):
        return Hit("BATCH_CHECKIN", CLASS_CODE, "", "2026-03-03 08:00:00同一秒有12条签到记录")

    def store(self, hits):
        return findings_store(hits=hits, rules_version=1, class_ids=None)

    @property
    def finding(self) -> Finding:
        return Finding.objects.get(rule_code="PUBLIC_PAYROLL", training_class=self.klass)


@pytest.fixture
def s(world):
    setup = Setup(world)
    setup.store([setup.hit(), setup.batch_hit()])
    return setup


def tbody(html: str) -> str:
    """The rows of the page's table(s), without the filter bar's select options."""
    return "".join(re.findall(r"<tbody>(.*?)</tbody>", html, re.S))


def detail_url(finding):
    return reverse("checks:finding", args=[finding.pk])


# --- who sees what ------------------------------------------------------------------------------


def test_list_shows_the_finding_to_the_reviewer_of_the_county(client, s):
    client.force_login(s.world.xincheng_reviewer)
    response = client.get(reverse("checks:findings"))
    assert response.status_code == 200
    html = response.content.decode()
    assert CLASS_CODE in html
    assert "财政供养人员" in html and "PUBLIC_PAYROLL" in html
    assert s.li_ming.id_masked in html
    assert s.li_ming.reveal_id_number() not in html
    assert "班级" in html  # the class-level BATCH_CHECKIN finding names no person
    assert "阻断" in html and "需复核" in html


def test_other_county_and_other_institution_see_nothing(client, s):
    for user in (s.world.huimin_reviewer, s.world.inst_b_operator, s.world.baotou_admin):
        client.force_login(user)
        html = client.get(reverse("checks:findings")).content.decode()
        assert CLASS_CODE not in html, user.username
        assert client.get(detail_url(s.finding)).status_code == 404, user.username
        assert client.get(reverse("checks:class_findings", args=[s.klass.pk])).status_code == 404
        assert client.get(reverse("checks:risk")).status_code == 200
        assert "鸿翔" not in client.get(reverse("checks:risk")).content.decode()


def test_city_admin_and_own_institution_see_it_but_only_reviewers_decide(client, s):
    client.force_login(s.world.hohhot_admin)
    assert CLASS_CODE in client.get(reverse("checks:findings")).content.decode()
    client.force_login(s.operator)
    html = client.get(detail_url(s.finding)).content.decode()
    assert PAYROLL_EVIDENCE in html
    assert 'id="finding-decision"' not in html
    response = client.post(detail_url(s.finding), {"action": "dismiss", "reason": "本机构认为无问题"})
    assert response.status_code == 404
    assert s.finding.status == Finding.Status.OPEN
    assert not can_decide(s.operator) and not can_decide(s.world.inspector)
    assert can_decide(s.world.xincheng_reviewer) and can_decide(s.world.hohhot_admin)
    assert can_decide(s.world.region_admin)


def test_filters(client, s):
    client.force_login(s.world.region_admin)
    url = reverse("checks:findings")
    assert CLASS_CODE in client.get(url, {"rule": "PUBLIC_PAYROLL"}).content.decode()
    html = client.get(url, {"rule": "DECEASED"}).content.decode()
    assert CLASS_CODE not in html and "没有符合条件的问题线索" in html
    assert CLASS_CODE in client.get(url, {"area": "150100", "institution": "鸿翔"}).content.decode()
    assert CLASS_CODE not in client.get(url, {"area": "150200"}).content.decode()
    assert CLASS_CODE not in client.get(url, {"institution": "青城"}).content.decode()
    assert CLASS_CODE in client.get(url, {"class_code": "hx2026"}).content.decode()
    rows = tbody(client.get(url, {"severity": "REVIEW"}).content.decode())
    assert "BATCH_CHECKIN" in rows and "PUBLIC_PAYROLL" not in rows
    assert client.get(url, {"rule": "<script>", "status": "nonsense"}).status_code == 200
    Finding.objects.filter(rule_code="BATCH_CHECKIN").update(status=Finding.Status.DISMISSED)
    rows = tbody(client.get(url, {"status": "ACTIVE"}).content.decode())
    assert "PUBLIC_PAYROLL" in rows and "BATCH_CHECKIN" not in rows
    rows = tbody(client.get(url, {"status": "DISMISSED"}).content.decode())
    assert "PUBLIC_PAYROLL" not in rows and "BATCH_CHECKIN" in rows


# --- the finding page ---------------------------------------------------------------------------


def test_detail_shows_the_evidence_beside_the_registry_row(client, s):
    client.force_login(s.world.xincheng_reviewer)
    before = PersonAccessLog.objects.filter(person=s.li_ming, kind=PersonAccessLog.Kind.VIEW_FILE).count()
    response = client.get(detail_url(s.finding))
    assert response.status_code == 200
    html = response.content.decode()
    assert PAYROLL_EVIDENCE in html
    assert "181号 第十六条" in html
    # the class, the enrolment and the registry row, side by side
    assert "2026-03-02 至 2026-03-20" in html and "养老护理员" in html
    assert "城镇登记失业人员" in html
    assert "财政供养信息" in html and "新城区东街街道办事处" in html and "与培训期间重叠" in html
    assert "public_payroll.csv 第2行" in html
    assert "回民区某中学" not in html  # someone else's row
    assert s.li_ming.reveal_id_number() not in html
    assert 'id="finding-decision"' in html
    # the event timeline
    assert "发现" in html and "系统核查" in html
    after = PersonAccessLog.objects.filter(person=s.li_ming, kind=PersonAccessLog.Kind.VIEW_FILE).count()
    assert after == before + 1


def test_class_level_finding_page(client, s):
    client.force_login(s.world.xincheng_reviewer)
    finding = Finding.objects.get(rule_code="BATCH_CHECKIN")
    html = client.get(detail_url(finding)).content.decode()
    assert "该规则针对整个培训班" in html
    assert "2026-03-03 08:00:00同一秒有12条签到记录" in html


def test_dismiss_with_reason_records_event_and_audit(client, s):
    client.force_login(s.world.xincheng_reviewer)
    url = detail_url(s.finding)
    response = client.post(url, {"action": "dismiss", "reason": "   "})
    assert response.status_code == 200  # the form again, with the problem
    assert "请填写处理意见" in response.content.decode()
    assert s.finding.status == Finding.Status.OPEN

    response = client.post(
        url, {"action": "dismiss", "reason": "经核实已于2025年12月辞职，供养信息未及时更新"}
    )
    assert response.status_code == 302
    finding = s.finding
    assert finding.status == Finding.Status.DISMISSED
    assert finding.decided_by == s.world.xincheng_reviewer
    assert finding.consequence == ""
    event = FindingEvent.objects.get(finding=finding, kind=FindingEvent.Kind.DISMISSED)
    assert event.actor == s.world.xincheng_reviewer and "辞职" in event.note
    entry = AuditEntry.objects.filter(action="finding.dismissed").latest("id")
    assert entry.after["reason"].startswith("经核实")
    html = client.get(url).content.decode()
    assert "已排除该问题线索" in html
    assert 'id="finding-decision"' not in html and "经核实已于2025年12月辞职" in html


def test_second_decision_is_refused_in_chinese(client, s):
    client.force_login(s.world.xincheng_reviewer)
    url = detail_url(s.finding)
    client.post(url, {"action": "dismiss", "reason": "供养信息有误"})
    client.force_login(s.world.hohhot_admin)
    response = client.post(
        url, {"action": "confirm", "consequence": "REFUSE_SUBSIDY", "reason": "应不予补贴"}, follow=True
    )
    assert response.status_code == 200
    assert "该问题线索已被处理（已排除）" in response.content.decode()
    finding = s.finding
    assert finding.status == Finding.Status.DISMISSED and finding.decided_by == s.world.xincheng_reviewer
    assert FindingEvent.objects.filter(finding=finding, kind=FindingEvent.Kind.CONFIRMED).count() == 0


def test_confirm_requires_a_consequence(client, s):
    client.force_login(s.world.xincheng_reviewer)
    url = detail_url(s.finding)
    response = client.post(url, {"action": "confirm", "reason": "确属在编人员"})
    assert response.status_code == 200  # the form again, with the problem
    assert "确认时请选择处理结果" in response.content.decode()
    assert s.finding.status == Finding.Status.OPEN
    response = client.post(
        url, {"action": "confirm", "consequence": "REMOVE_TRAINEE", "reason": "确属在编人员"}
    )
    assert response.status_code == 302
    finding = s.finding
    assert finding.status == Finding.Status.CONFIRMED
    assert finding.consequence == Finding.Consequence.REMOVE_TRAINEE
    assert AuditEntry.objects.filter(action="finding.confirmed").exists()
    assert "学员移出本班" in client.get(url).content.decode()


# --- re-runs ------------------------------------------------------------------------------------


def test_rerun_with_the_same_hit_keeps_the_decision(client, s):
    client.force_login(s.world.xincheng_reviewer)
    client.post(detail_url(s.finding), {"action": "dismiss", "reason": "供养信息有误"})
    result = s.store([s.hit("财政供养信息：更新后的证据"), s.batch_hit()])
    assert result.kept == 2 and result.opened == 0
    finding = s.finding
    assert finding.status == Finding.Status.DISMISSED and finding.is_current
    html = client.get(reverse("checks:findings")).content.decode()
    assert "已排除" in html and CLASS_CODE in html
    assert "更新后的证据" in client.get(detail_url(finding)).content.decode()


def test_a_rerun_finding_the_same_evidence_only_moves_the_time_it_was_last_found(s):
    """第二十二条: a finding found again unchanged keeps its evidence, version and decision; only
    last_found_at moves. Changed evidence is written."""
    import datetime as dt

    from django.utils import timezone

    s.store([s.hit("财政供养信息：第一次"), s.batch_hit()])
    Finding.objects.update(last_found_at=timezone.now() - dt.timedelta(days=3))
    before = {f.pk: (f.evidence, f.rules_version, f.last_found_at) for f in Finding.objects.all()}
    result = s.store([s.hit("财政供养信息：第一次"), s.batch_hit()])
    assert (result.kept, result.opened, result.closed) == (2, 0, 0)
    for f in Finding.objects.all():
        evidence, version, found = before[f.pk]
        assert (f.evidence, f.rules_version) == (evidence, version)
        assert f.last_found_at > found + dt.timedelta(days=2)
    s.store([s.hit("财政供养信息：第二次"), s.batch_hit()])
    assert s.finding.evidence.endswith("第二次")


def test_a_finding_whose_cause_is_gone_is_closed_but_kept(client, s):
    s.store([s.batch_hit()])
    finding = s.finding
    assert not finding.is_current
    client.force_login(s.world.xincheng_reviewer)
    rows = tbody(client.get(reverse("checks:findings")).content.decode())
    assert "PUBLIC_PAYROLL" not in rows and "BATCH_CHECKIN" in rows
    html = client.get(detail_url(finding)).content.decode()
    assert "原因已消除" in html and "重新核查时该问题的原因已不存在" in html
    html = client.get(reverse("checks:class_findings", args=[s.klass.pk])).content.decode()
    assert "原因已消除的问题线索（1条" in html and "财政供养人员" in html
    # and it comes back, decision intact, when the cause returns
    s.store([s.hit(), s.batch_hit()])
    assert s.finding.is_current
    assert FindingEvent.objects.filter(finding=finding, kind=FindingEvent.Kind.REOPENED).exists()


def test_class_page_rerun_without_engine(client, s, monkeypatch):
    def missing(**kwargs):
        raise ImportError("No module named 'peixun.checks.sql'")

    monkeypatch.setattr(check_run, "crosscheck_run", missing)
    client.force_login(s.world.xincheng_reviewer)
    url = reverse("checks:class_findings", args=[s.klass.pk])
    html = client.get(url).content.decode()
    assert "重新核查本班" in html and "财政供养人员" in html and "同一秒批量签到" in html
    response = client.post(url, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "核查引擎尚未就绪" in html
    assert "财政供养人员" in html


def test_class_page_rerun_reports_the_result(client, s, monkeypatch):
    calls = []

    def fake_run(*, class_ids, actor):
        calls.append((class_ids, actor))
        stored = findings_store(hits=[s.batch_hit()], rules_version=1, class_ids=class_ids, actor=actor)
        return check_run.RunResult(hits=1, stored=stored, path="python")

    monkeypatch.setattr(check_run, "crosscheck_run", fake_run)
    client.force_login(s.world.xincheng_reviewer)
    url = reverse("checks:class_findings", args=[s.klass.pk])
    html = client.post(url, follow=True).content.decode()
    assert calls == [([s.klass.pk], s.world.xincheng_reviewer)]
    assert "本班核查完成" in html and "原因已消除1条" in html
    # only reviewers re-run; the institution may look
    client.force_login(s.operator)
    assert "重新核查本班" not in client.get(url).content.decode()
    assert client.post(url).status_code == 404
    assert isinstance(StoreResult(0, 0, 0, 0), StoreResult)


# --- export and risk ----------------------------------------------------------------------------

FULL_ID = re.compile(r"\d{17}[\dX]")


def test_excel_export_has_masked_never_full_id_numbers(client, s):
    client.force_login(s.world.xincheng_reviewer)
    response = client.get(reverse("checks:findings_export"), {"rule": "PUBLIC_PAYROLL"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "规则代码" and "身份证号（脱敏）" in rows[0]
    assert len(rows) == 2
    cells = [str(c) for row in rows for c in row if c is not None]
    assert s.li_ming.id_masked in cells
    assert "李明" in cells and CLASS_CODE in cells and "财政供养人员" in cells
    full = s.li_ming.reveal_id_number()
    assert not any(full in c for c in cells)
    assert not any(FULL_ID.search(c) for c in cells)


def test_export_masks_id_numbers_inside_evidence_and_neutralises_formulas(client, s):
    full = s.li_ming.reveal_id_number()
    s.store([s.hit(f'=HYPERLINK("x") 证据中出现号码{full}'), s.batch_hit()])
    client.force_login(s.world.region_admin)
    sheet = load_workbook(io.BytesIO(client.get(reverse("checks:findings_export")).content)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert not any(full in c for c in cells)
    assert any(s.li_ming.id_masked in c and c.startswith("'=") for c in cells)


def test_risk_page_renders_with_chart_json(client, s):
    client.force_login(s.world.xincheng_reviewer)
    response = client.get(reverse("checks:risk"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "呼和浩特市鸿翔职业技能培训学校" in html
    match = re.search(r'<script id="risk-trend-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "chart data block missing"
    data = json.loads(match.group(1))
    month = Finding.objects.first().first_found_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert f"{month:%Y-%m}" in data["months"]
    total = next(x for x in data["series"] if x["key"] == "total")
    assert sum(total["data"]) == 2
    assert 'id="risk-trend-chart"' in html
    assert "vendor/echarts/echarts.min.js" in html and "peixun/findings.js" in html
    # 2 findings for 1 trainee → 200.0 per 100 trainees
    assert "200.0" in html
    assert "?institution=" in html and "status=ACTIVE" in html  # the count opens the same findings
    # every <script> is either a file or a JSON data block (CSP: no inline scripts)
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    # one institution's trend; dismissed findings leave the default count
    response = client.get(reverse("checks:risk"), {"institution": s.institution.pk})
    assert "呼和浩特市鸿翔职业技能培训学校：问题线索按首次发现月份" in response.content.decode()
    Finding.objects.filter(rule_code="BATCH_CHECKIN").update(status=Finding.Status.DISMISSED)
    html = client.get(reverse("checks:risk")).content.decode()
    assert "100.0" in html
    html = client.get(reverse("checks:risk"), {"status": "ALL"}).content.decode()
    assert "200.0" in html


def test_pages_need_login_and_the_role(client, s):
    assert client.get(reverse("checks:findings")).status_code == 302
    client.force_login(s.world.trainee)
    html = client.get(reverse("checks:findings")).content.decode()
    assert CLASS_CODE not in html
    assert client.get(detail_url(s.finding)).status_code == 404


def test_the_list_counts_the_open_findings_and_the_open_block_ones(client, s):
    """第二十二条: the reviewer sees how many findings wait for a decision and how many of them block
    approvals; a dismissed one is no longer counted."""
    client.force_login(s.world.xincheng_reviewer)

    def counted():
        html = client.get(reverse("checks:findings")).content.decode()
        found = re.search(
            r"其中待处理 <strong>(\d+)</strong> 条，含阻断 <strong[^>]*>(\d+)</strong> 条", html
        )
        return tuple(map(int, found.groups())) if found else None

    blocking = Finding.objects.filter(is_current=True, status="OPEN", severity="BLOCK").count()
    assert counted() == (2, blocking)
    Finding.objects.filter(pk=s.finding.pk).update(status="DISMISSED")
    assert counted() == (1, blocking - (s.finding.severity == "BLOCK"))
