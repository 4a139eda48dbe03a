"""考勤与学时 pages: the class sheet per role, manual entry and correction by the institution, the
counting boundary as the page shows it, one trainee's hours, a trainee's own page, Excel and PDF."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from peixun.attendance.models import AttendanceRecord, Source
from peixun.attendance.services import OnlineItem, online_sessions_append_batch
from peixun.core.models import PersonAccessLog
from tests.test_attendance_chain import CLASS_CODE, ClassSetup, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world):
    s = ClassSetup(world)
    s.append(
        [
            s.item(start=(8, 30), end=(11, 12)),  # exactly 90 % of the 180-minute lesson: counts
            s.item(day=3, start=(8, 30), end=(11, 11, 59)),  # one second short: missed
            s.item(s.chen_jing),
            s.item(s.chen_jing, day=3),
        ]
    )
    return s


def sheet_url(s):
    return reverse("attendance:class_sheet", args=[s.klass.pk])


def trainee_url(s, person):
    return reverse("attendance:trainee", args=[s.klass.pk, person.public_id])


def test_the_sheet_counts_exactly_90_percent_coverage_and_marks_the_share(client, setup):
    client.force_login(setup.world.xincheng_reviewer)
    response = client.get(sheet_url(setup))
    assert response.status_code == 200
    rows = {r.person.name: r for r in response.context["rows"]}
    li, chen = rows["李明"], rows["陈静"]
    assert li.count.offline == Decimal("4") and len(li.count.missed) == 1
    assert chen.count.offline == Decimal("8") and chen.count.missed == ()
    assert li.below_line and chen.below_line  # 4 and 8 of 10 hours: both below 95 %
    html = response.content.decode()
    assert "考勤与学时" in html and CLASS_CODE in html
    assert '<span class="badge text-bg-danger" title="低于参加结业考试的学时要求">40.0%</span>' in html
    # reviewers read only
    assert "手工补录考勤" not in html and "/correct/" not in html


def test_reviewer_of_another_county_and_another_institution_get_404(client, setup):
    for user in (setup.world.huimin_reviewer, setup.world.inst_b_operator, setup.world.trainee):
        client.force_login(user)
        assert client.get(sheet_url(setup)).status_code == 404
        assert client.get(reverse("attendance:sheet_xlsx", args=[setup.klass.pk])).status_code == 404
    client.force_login(setup.world.huimin_reviewer)
    assert client.get(trainee_url(setup, setup.li_ming)).status_code == 404
    client.force_login(setup.world.hohhot_admin)  # the city sees its counties
    assert client.get(sheet_url(setup)).status_code == 200


def test_the_operator_adds_a_manual_record_with_a_reason_and_reviewers_see_it_marked(client, setup):
    client.force_login(setup.operator)
    page = client.get(sheet_url(setup)).content.decode()
    assert "手工补录考勤" in page
    enrollment = setup.klass.enrollments.get(person=setup.li_ming)
    data = {"enrollment": enrollment.pk, "check_in": "2026-03-03T08:29", "check_out": "2026-03-03T11:30"}
    refused = client.post(sheet_url(setup), {**data, "reason": ""})
    assert refused.status_code == 200 and "reason" in refused.context["form"].errors
    assert "未能保存" in refused.content.decode()
    assert not AttendanceRecord.objects.filter(source=Source.MANUAL).exists()
    done = client.post(sheet_url(setup), {**data, "reason": "考勤机断电，班主任签字证明"})
    assert done.status_code == 302
    record = AttendanceRecord.objects.get(source=Source.MANUAL)
    assert record.check_in == at(3, 8, 29) and record.recorded_by == setup.operator
    client.force_login(setup.world.xincheng_reviewer)
    html = client.get(sheet_url(setup)).content.decode()
    assert "手工补录 1条" in html and "考勤机断电，班主任签字证明" in html
    rows = {r.person.name: r for r in client.get(sheet_url(setup)).context["rows"]}
    assert rows["李明"].count.offline == 8  # the manual record covers the missed lesson
    # a reviewer cannot post
    assert client.post(sheet_url(setup), {**data, "reason": "x"}).status_code == 404


def test_the_operator_corrects_a_record_and_the_original_stays_visible(client, setup):
    original = AttendanceRecord.objects.get(person=setup.li_ming, check_in=at(3, 8, 30))
    url = reverse("attendance:correct", args=[original.pk])
    client.force_login(setup.world.xincheng_reviewer)
    assert client.get(url).status_code == 404
    client.force_login(setup.operator)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "check_in": "2026-03-03T08:30",
            "check_out": "2026-03-03T11:30",
            "method": "MANUAL",
            "reason": "签退设备故障，录像核实",
        },
    )
    assert response.status_code == 302
    correction = AttendanceRecord.objects.get(corrects=original)
    assert correction.reason == "签退设备故障，录像核实"
    html = client.get(sheet_url(setup)).content.decode()
    assert "已更正" in html and f"更正第{original.seq}条" in html
    rows = {r.person.name: r for r in client.get(sheet_url(setup)).context["rows"]}
    assert rows["李明"].count.offline == 8 and rows["李明"].count.missed == ()


def test_a_trainee_page_shows_hours_missed_lessons_and_online_excess_and_is_logged(client, setup):
    # 9 valid online hours on one day (cap 8), and a session with a failed face check.
    online_sessions_append_batch(
        training_class=setup.klass,
        items=[
            OnlineItem(person=setup.li_ming, start_at=at(4, 8), end_at=at(4, 14, 45), face_checks_passed=9),
            OnlineItem(person=setup.li_ming, start_at=at(5, 8), end_at=at(5, 9), face_checks_failed=1),
        ],
        source=Source.PLATFORM,
        platform_code="NMG-ZX01",
    )
    client.force_login(setup.world.xincheng_reviewer)
    response = client.get(trainee_url(setup, setup.li_ming))
    assert response.status_code == 200
    ctx = response.context
    assert ctx["online_days"] == [
        {"day": dt.date(2026, 3, 4), "valid": Decimal(9), "counted": Decimal(8), "excess": Decimal(1)}
    ]
    assert ctx["count"].online == Decimal(4)  # 40 % of 10 hours
    assert ctx["share_cut"] == Decimal(4)
    html = response.content.decode()
    assert "缺课1节" in html and "超过总课时40.0%（4.0课时）的 4.0 课时未计入" in html
    assert "失败1次，不计" in html
    assert PersonAccessLog.objects.filter(
        person=setup.li_ming, viewer=setup.world.xincheng_reviewer, kind="VIEW_FILE"
    ).exists()


def test_a_trainee_sees_their_own_classes_and_nobody_elses(client, setup):
    client.force_login(setup.world.trainee)  # 李明
    response = client.get(reverse("attendance:my"))
    assert response.status_code == 200
    html = response.content.decode()
    assert CLASS_CODE in html and "养老护理员" in html and "缺课" in html
    assert re.search(r"缺课 <strong class=\"text-danger\">1</strong>", html)
    assert client.get(trainee_url(setup, setup.li_ming)).status_code == 200
    assert client.get(trainee_url(setup, setup.chen_jing)).status_code == 404
    pdf = client.get(reverse("attendance:online_record_pdf", args=[setup.klass.pk, setup.li_ming.public_id]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    client.force_login(setup.world.xincheng_reviewer)
    assert client.get(reverse("attendance:my")).status_code == 404


def test_excel_and_pdf_downloads(client, setup):
    client.force_login(setup.world.xincheng_reviewer)
    response = client.get(reverse("attendance:sheet_xlsx", args=[setup.klass.pk]))
    assert response.status_code == 200
    assert "filename*=UTF-8''%E8%80%83%E5%8B%A4%E8%A1%A8" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("序号", "姓名", "身份证号", "人员类别", "线下学时")
    li = next(r for r in rows[1:] if r[1] == "李明")
    assert li[4] == 4 and li[8] == "否" and li[9] == 1 and li[10] == "03-03 08:30"
    assert setup.li_ming.id_masked == li[2]
    pdf = client.get(reverse("attendance:sheet_pdf", args=[setup.klass.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_trainee_sees_the_exam_and_certificate_of_each_class(client, setup):
    """第十三条: after the exam the trainee sees the certificate they earned."""
    from peixun.training.models import ExamResult

    client.force_login(setup.world.trainee)  # 李明
    assert "尚未考试" in client.get(reverse("attendance:my")).content.decode()
    ExamResult.objects.create(
        training_class=setup.klass,
        person=setup.li_ming,
        exam_date=setup.klass.end_date,
        score=Decimal("86"),
        passed=True,
        certificate_type="TRAINING",
        certificate_no="NM-2026-000123",
    )
    html = client.get(reverse("attendance:my")).content.decode()
    assert "合格" in html and "培训合格证" in html and "NM-2026-000123" in html


def test_a_trainee_sees_the_subsidy_status_of_each_class(client, setup):
    """第十四条 and issue #5 (trainee view): 我的培训 tells each trainee where their subsidy stands —
    not applied, under review or returned, 公示 with its end, paid with the date, or refused with
    the reason — and never anyone else's."""
    import datetime as dt

    from django.utils import timezone

    from peixun.subsidies.models import Payment, SubsidyApplication, SubsidyLine
    from peixun.training.models import Enrollment

    client.force_login(setup.world.trainee)  # 李明
    html = client.get(reverse("attendance:my")).content.decode()
    assert "培训补贴：" in html and "尚未申请" in html

    application = SubsidyApplication.objects.create(
        code="BT-2026-TEST1",
        applicant_kind=SubsidyApplication.Applicant.INSTITUTION,
        training_class=setup.klass,
        institution=setup.klass.institution,
        status=SubsidyApplication.Status.RETURNED,
        submitted_at=timezone.now(),
        submitted_by=setup.world.inst_a_operator,
        submitted_on=dt.date(2026, 4, 1),
        limit_workdays=8,
    )
    mine = SubsidyLine.objects.create(
        application=application,
        enrollment=Enrollment.objects.get(training_class=setup.klass, person=setup.li_ming),
        person=setup.li_ming,
        amount=Decimal("1200"),
    )
    SubsidyLine.objects.create(
        application=application,
        enrollment=Enrollment.objects.get(training_class=setup.klass, person=setup.chen_jing),
        person=setup.chen_jing,
        amount=Decimal("3456.78"),
    )
    html = client.get(reverse("attendance:my")).content.decode()
    assert "培训补贴（培训机构申请）" in html and "退回补正" in html and "补贴金额1,200.00元" in html
    assert "尚未申请" not in html and "3,456.78" not in html  # 陈静's line is not his to see

    application.status = SubsidyApplication.Status.NOTICE
    application.notice_end = dt.date(2026, 4, 20)
    application.save()
    SubsidyLine.objects.filter(pk=mine.pk).update(status=SubsidyLine.Status.NOTICE)
    html = client.get(reverse("attendance:my")).content.decode()
    assert "公示中" in html and "公示至2026-04-20" in html

    SubsidyLine.objects.filter(pk=mine.pk).update(status=SubsidyLine.Status.PAID)
    payment = Payment.objects.create(
        application=application,
        payee_kind=Payment.PayeeKind.INSTITUTION_ACCOUNT,
        payee_name="测试培训学校",
        payee_account="6222000011112222",
        voucher_no="PZ-1",
        paid_on=dt.date(2026, 5, 12),
        amount=Decimal("1200"),
        outcome=Payment.Outcome.PAID,
        recorded_by=setup.world.hohhot_admin,
    )
    payment.lines.add(mine)
    html = client.get(reverse("attendance:my")).content.decode()
    assert "已拨付" in html and "2026-05-12已拨付" in html

    SubsidyLine.objects.filter(pk=mine.pk).update(
        status=SubsidyLine.Status.REFUSED, problems="同一职业已享受过补贴"
    )
    html = client.get(reverse("attendance:my")).content.decode()
    assert "不予补贴" in html and "原因：同一职业已享受过补贴" in html
