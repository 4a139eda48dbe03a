"""培训档案 (第二十三条) and 审核时效 (第九、十一、十四条).

马文华 runs 鸿翔 (新城区); 赵晓东 reviews 新城区 and 吴红梅 回民区; 张海燕 is the 呼和浩特市 admin and
王建国 the region's. The archive of a class is judged against the stage the class has reached; its
ZIP proves itself with a manifest of hashes and carries no full ID number. The workload page counts
what waits, what is due within a working day and what is overdue, in the user's own area only.
"""

import csv
import datetime as dt
import hashlib
import io
import shutil
import subprocess
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from peixun.accounts.services import person_register
from peixun.core.models import Area, AuditEntry, PersonAccessLog
from peixun.subsidies.models import Payment, SubsidyApplication, SubsidyLine
from peixun.training import services
from peixun.training.models import ClassDocument, ClassStatus, TrainingClass
from peixun.web.archive import ArchiveFacts, State, archive_items, items_from_facts
from peixun.web.workload import workload_for
from tests.conftest import new_id_number
from tests.factories import Clock, Lifecycle

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 2)
QUERY_BUDGET = 20  # 18 today: session, user, class, then one query per kind of fact
START = dt.date(2026, 11, 23)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(monkeypatch)
    c.travel(MONDAY)
    return c


@pytest.fixture
def life(world, clock):
    return Lifecycle(world)


def by_label(items):
    return {i.label: i for i in items}


def upload(life, klass, kind, name="file.pdf", content=b"%PDF-1.4 scanned"):
    return services.document_upload(
        training_class=klass,
        actor=life.operator,
        kind=kind,
        title=ClassDocument.Kind(kind).label,
        upload=SimpleUploadedFile(name, content),
    )


# --- the archive (第二十三条) ----------------------------------------------------------------------------


def test_a_draft_without_undertakings_shows_them_missing_until_they_are_uploaded(life, client):
    """第二十三条 / 第八条: 承诺书 belong to the archive from the application on."""
    klass = life.draft(start=START)
    ClassDocument.objects.filter(training_class=klass).delete()
    client.force_login(life.operator)

    page = client.get(reverse("class_archive", args=[klass.pk]))

    assert page.status_code == 200
    undertakings = by_label(page.context["items"])["承诺书"]
    assert undertakings.state == State.MISSING and not undertakings.present
    assert "未上传机构承诺书" in undertakings.detail and "未上传学员承诺书" in undertakings.detail
    assert "未上传机构承诺书" in page.content.decode()

    upload(life, klass, ClassDocument.Kind.INSTITUTION_UNDERTAKING)
    upload(life, klass, ClassDocument.Kind.TRAINEE_UNDERTAKING)

    undertakings = by_label(archive_items(klass))["承诺书"]
    assert undertakings.present and len(undertakings.files) == 2
    assert all(len(f.sha256) == 64 for f in undertakings.files)


def test_the_archive_page_costs_the_same_queries_however_many_documents(
    life, client, django_assert_max_num_queries
):
    klass = life.draft(start=START)
    client.force_login(life.operator)
    url = reverse("class_archive", args=[klass.pk])
    with django_assert_max_num_queries(QUERY_BUDGET):
        client.get(url)
    for n in range(5):
        upload(life, klass, ClassDocument.Kind.OTHER, name=f"other{n}.pdf")
    with django_assert_max_num_queries(QUERY_BUDGET):
        assert client.get(url).status_code == 200


def test_a_draft_has_its_roster_and_plan_and_nothing_of_later_stages_is_missing(life):
    """Payment, completion and attendance are not due before their stage: 尚未到此环节, not 缺失."""
    klass = life.draft(start=START)
    items = by_label(archive_items(klass))
    assert items["花名册"].present and "在册2人" in items["花名册"].detail
    assert items["教学计划"].present and "合计20.0课时" in items["教学计划"].detail
    for label in ("开班申请及审批", "考勤表", "结业申请及审批", "补贴申请及审批", "拨付凭证"):
        assert items[label].state == State.NOT_DUE, label
        assert items[label].state_label == "尚未到此环节"
    assert [i.label for i in items.values() if i.state == State.MISSING] == []


def test_stage_rules_on_plain_facts():
    """The judgement needs no database: a completed class awaiting payment is 办理中, an approved
    class before its first lesson owes no attendance, a completed class with paid lines and no
    payment record has a missing voucher."""
    today = dt.date(2026, 11, 27)
    approved = ArchiveFacts(
        code="x",
        status=ClassStatus.APPROVED,
        status_label="",
        today=today,
        first_lesson=dt.date(2026, 12, 1),
    )
    items = by_label(items_from_facts(approved))
    assert items["考勤表"].state == State.NOT_DUE
    assert items["开班申请及审批"].state == State.MISSING  # approved, yet no review on file
    awaiting = ArchiveFacts(
        code="x",
        status=ClassStatus.COMPLETED,
        status_label="",
        today=today,
        first_lesson=dt.date(2026, 11, 2),
        lines=2,
        lines_payable=2,
        applications=(),
    )
    assert by_label(items_from_facts(awaiting))["拨付凭证"].state == State.PENDING
    paid_without_voucher = ArchiveFacts(
        code="x", status=ClassStatus.COMPLETED, status_label="", today=today, first_lesson=None, lines_paid=1
    )
    assert by_label(items_from_facts(paid_without_voucher))["拨付凭证"].state == State.MISSING


def approved_class_with_attendance(life, world, clock):
    klass = life.draft(start=START)
    services.opening_submit(training_class=klass, actor=life.operator)
    services.opening_approve(training_class=klass, actor=world.xincheng_reviewer, reason="材料齐全")
    clock.travel(START + dt.timedelta(days=1), hour=20)
    life.attend(klass, world.li_ming)
    upload(life, klass, ClassDocument.Kind.ONSITE_PHOTO, name="现场.jpg", content=b"\xff\xd8\xff photo")
    return klass


ACCOUNT = "6228480012345678"


def paid_subsidy(life, klass, person, *, account):
    """Test data only: a paid subsidy line (the subsidy workflow is tested in its own module)."""
    app = subsidy_application(life, klass, submitted_on=MONDAY, due_date=None)
    line = SubsidyLine.objects.create(
        application=app,
        enrollment=klass.enrollments.get(person=person),
        person=person,
        amount=Decimal("1500"),
        status=SubsidyLine.Status.PAID,
    )
    payment = Payment.objects.create(
        application=app,
        payee_kind=Payment.PayeeKind.INSTITUTION_ACCOUNT,
        payee_name=life.institution.name,
        payee_account=account,
        voucher_no="PZ-2026-0001",
        paid_on=MONDAY,
        amount=Decimal("1500"),
        outcome=Payment.Outcome.PAID,
        recorded_by=life.operator,
    )
    payment.lines.add(line)


def members(response) -> dict[str, bytes]:
    body = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def text_of(name: str, data: bytes, tmp_path) -> str:
    """What a reader of a generated member sees: the cells of a workbook, the text of a PDF. Uploaded
    documents are compared as bytes only (they are kept exactly as filed)."""
    if name.startswith("documents/"):
        return data.decode("utf-8", errors="replace")
    if name.endswith(".xlsx"):
        sheet = load_workbook(io.BytesIO(data), read_only=True).active
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row) for row in sheet.iter_rows(values_only=True)
        )
    if name.endswith(".pdf"):
        if not shutil.which("pdftotext"):
            pytest.skip("pdftotext (poppler-utils) is needed to read the PDF")
        path = tmp_path / "sheet.pdf"
        path.write_bytes(data)
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout.decode()
    return data.decode("utf-8-sig")


def test_the_zip_proves_itself_with_a_manifest_and_carries_no_full_id_number(
    life, world, clock, client, tmp_path
):
    """第二十三条: the archive leaves the system whole and verifiable; ID numbers stay masked."""
    klass = approved_class_with_attendance(life, world, clock)
    paid_subsidy(life, klass, world.li_ming, account=ACCOUNT)
    client.force_login(world.xincheng_reviewer)

    response = client.get(reverse("class_archive_zip", args=[klass.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    files = members(response)
    for expected in (
        "roster.xlsx",
        "teaching_plan.xlsx",
        "schedule.xlsx",
        "reviews.csv",
        "attendance/attendance_sheet.xlsx",
        "attendance/attendance_sheet.pdf",
        "subsidy_lines.csv",
        "payments.csv",
        "manifest.csv",
        "manifest.sha256",
    ):
        assert expected in files, expected
    documents = [n for n in files if n.startswith("documents/")]
    assert len(documents) == ClassDocument.objects.filter(training_class=klass).count() == 3

    manifest = list(csv.DictReader(io.StringIO(files["manifest.csv"].decode("utf-8-sig"))))
    assert {row["path"] for row in manifest} == set(files) - {"manifest.csv", "manifest.sha256"}
    for row in manifest:
        data = files[row["path"]]
        assert row["sha256"] == hashlib.sha256(data).hexdigest(), row["path"]
        assert int(row["size"]) == len(data)
        if row["path"].startswith("documents/"):
            assert row["check"] == "一致"
    manifest_sha = hashlib.sha256(files["manifest.csv"]).hexdigest()
    assert files["manifest.sha256"].decode().split()[0] == manifest_sha
    assert manifest_sha[:12] in response["Content-Disposition"]

    people = [world.li_ming, world.chen_jing, life.teacher.person]
    texts = {name: text_of(name, data, tmp_path) for name, data in files.items()}
    for person in people:
        number = person.reveal_id_number()
        for name, data in files.items():
            assert number.encode() not in data, name
            assert number not in texts[name], name
    assert world.li_ming.id_masked in texts["roster.xlsx"]
    assert world.li_ming.id_masked in texts["subsidy_lines.csv"] and "PZ-2026-0001" in texts["payments.csv"]
    assert ACCOUNT not in texts["payments.csv"] and ACCOUNT[-4:] in texts["payments.csv"]
    assert "第1轮" in texts["reviews.csv"] and "材料齐全" in texts["reviews.csv"]
    assert "李明" in texts["attendance/attendance_sheet.pdf"]


def test_an_archive_export_is_logged_as_a_personal_data_export_and_audited(life, world, clock, client):
    """个人信息保护法: one access-log entry per export naming the class, and an audit entry."""
    klass = approved_class_with_attendance(life, world, clock)
    client.force_login(world.xincheng_reviewer)

    files = members(client.get(reverse("class_archive_zip", args=[klass.pk])))

    log = PersonAccessLog.objects.get(viewer=world.xincheng_reviewer, kind=PersonAccessLog.Kind.EXPORT)
    assert klass.code in log.detail
    entry = AuditEntry.objects.get(action="class.archive.exported", object_id=str(klass.pk))
    assert entry.after["manifest_sha256"] == hashlib.sha256(files["manifest.csv"]).hexdigest()
    # Looking at the archive page exports nothing and logs nothing.
    client.get(reverse("class_archive", args=[klass.pk]))
    assert PersonAccessLog.objects.filter(kind=PersonAccessLog.Kind.EXPORT).count() == 1


def test_another_countys_reviewer_gets_404_for_the_archive_and_its_zip(life, world, client):
    """Scope first: 吴红梅 (回民区) does not learn that 新城区's class exists."""
    klass = life.draft(start=START)
    client.force_login(world.huimin_reviewer)
    assert client.get(reverse("class_archive", args=[klass.pk])).status_code == 404
    assert client.get(reverse("class_archive_zip", args=[klass.pk])).status_code == 404
    client.force_login(world.inst_b_operator)
    assert client.get(reverse("class_archive", args=[klass.pk])).status_code == 404
    assert not PersonAccessLog.objects.filter(kind=PersonAccessLog.Kind.EXPORT).exists()


# --- 审核时效 ------------------------------------------------------------------------------------------


def submitted(life, start=START, trainees=None):
    klass = life.draft(start=start, trainees=trainees)
    services.opening_submit(training_class=klass, actor=life.operator)
    return klass


def move_to_huimin(klass):
    # Test setup: the second class is counted in 回民区 (one factory institution serves both counties).
    TrainingClass.objects.filter(pk=klass.pk).update(area=Area.objects.get(code="150103"))


def subsidy_application(life, klass, *, submitted_on, due_date):
    """The subsidy workflow is built elsewhere; the dashboard reads only its clock fields."""
    return SubsidyApplication.objects.create(
        code=f"BT{klass.code}",
        applicant_kind=SubsidyApplication.Applicant.INSTITUTION,
        training_class=klass,
        institution=life.institution,
        submitted_at=timezone.now(),
        submitted_by=life.operator,
        submitted_on=submitted_on,
        limit_workdays=8,
        due_date=due_date,
    )


def stats(workload, key):
    return next(s.stats for s in workload.summaries if s.kind.key == key)


def test_pending_reviews_become_due_soon_then_overdue_on_the_working_day_clock(life, world, clock):
    """第九条: submitted Mon 11-02, due Mon 11-09. On Fri 11-06 it is due within one working day
    (the weekend does not count); on Tue 11-10 it is overdue."""
    submitted(life)
    clock.travel(dt.date(2026, 11, 4))
    w = workload_for(world.xincheng_reviewer)
    assert (stats(w, "opening").pending, stats(w, "opening").due_soon, stats(w, "opening").overdue) == (
        1,
        0,
        0,
    )

    clock.travel(dt.date(2026, 11, 6))
    w = workload_for(world.xincheng_reviewer)
    assert (stats(w, "opening").pending, stats(w, "opening").due_soon, stats(w, "opening").overdue) == (
        1,
        1,
        0,
    )

    clock.travel(dt.date(2026, 11, 10))
    w = workload_for(world.xincheng_reviewer)
    assert (stats(w, "opening").pending, stats(w, "opening").due_soon, stats(w, "opening").overdue) == (
        1,
        0,
        1,
    )
    assert [i.days_over for i in w.overdue] == [1]


def test_the_average_counts_working_days_from_first_submission_to_decision(life, world, clock):
    """Submitted Mon 11-02, approved Tue 11-10: six working days (11-03 … 11-10)."""
    klass = submitted(life)
    clock.travel(dt.date(2026, 11, 10))
    services.opening_approve(training_class=klass, actor=world.xincheng_reviewer)
    w = workload_for(world.xincheng_reviewer)
    opening = stats(w, "opening")
    assert (opening.pending, opening.overdue, opening.decided, opening.average) == (0, 0, 1, 6.0)
    assert next(s for s in w.summaries if s.kind.key == "opening").slow  # the limit is 5


def test_a_county_reviewer_sees_only_their_countys_items_and_the_city_sees_each_county(life, world, clock):
    """Scope first: 赵晓东 (新城区) and 吴红梅 (回民区) each see their own; 张海燕 sees a row per county;
    王建国 one row for 呼和浩特市."""
    ours = submitted(life)
    wang, _ = person_register(
        id_number=new_id_number("150103", dt.date(1992, 4, 8), True, seed=77), name="王磊", actor=None
    )
    theirs = submitted(life, start=START + dt.timedelta(days=7), trainees=[wang])
    move_to_huimin(theirs)
    subsidy_application(life, ours, submitted_on=MONDAY, due_date=dt.date(2026, 11, 12))
    clock.travel(dt.date(2026, 11, 13))

    zhao = workload_for(world.xincheng_reviewer)
    assert (stats(zhao, "opening").pending, stats(zhao, "opening").overdue) == (1, 1)
    assert (stats(zhao, "subsidy").pending, stats(zhao, "subsidy").overdue) == (1, 1)
    assert {i.code for i in zhao.overdue} == {ours.code, f"BT{ours.code}"}
    assert zhao.rows == []  # one county: totals only

    wu = workload_for(world.huimin_reviewer)
    assert (stats(wu, "opening").pending, stats(wu, "subsidy").pending) == (1, 0)
    assert {i.code for i in wu.overdue} == {theirs.code}

    city = workload_for(world.hohhot_admin)
    assert city.row_level == "county"
    rows = {r.area.name: r.stats for r in city.rows}
    assert set(rows) == {"新城区", "回民区"}
    assert (rows["新城区"]["opening"].overdue, rows["新城区"]["subsidy"].overdue) == (1, 1)
    assert (rows["回民区"]["opening"].overdue, rows["回民区"]["subsidy"].pending) == (1, 0)

    region = workload_for(world.region_admin)
    assert region.row_level == "city"
    assert [(r.area.name, r.stats["opening"].pending) for r in region.rows] == [("呼和浩特市", 2)]
    assert stats(workload_for(world.baotou_admin), "opening").pending == 0


def test_the_workload_page_lists_overdue_items_with_links_and_is_closed_to_institutions(
    life, world, clock, client
):
    klass = submitted(life)
    clock.travel(dt.date(2026, 11, 10))
    client.force_login(world.xincheng_reviewer)
    page = client.get(reverse("workload"))
    assert page.status_code == 200
    html = page.content.decode()
    assert klass.code in html and "已逾期1个工作日" in html
    assert reverse("training:detail", args=[klass.pk]) in html
    client.force_login(life.operator)
    assert client.get(reverse("workload")).status_code == 404
