"""一个培训班的全过程 in a real browser, each role at their own screen on their own day.

鸿翔 (新城区) applies to open a 养老护理员 五级 class (2026-11-23/24); its operator 马文华 adds a third
trainee on the 花名册 tab and submits. The 新城区 reviewer 赵晓东 opens it from 待办事项 and returns
it with two deficiencies (一次性告知); the operator sees both, uploads the missing material and
resubmits; the reviewer approves. The trainees attend in full (recorded through the device service),
the operator enters the exam results and applies for completion; the reviewer approves it with the
record 第十一条 asks for, and the certificates are issued. Anyone verifies a certificate on the public
page (masked name, 有效, no full ID number). The operator applies for the subsidy, the reviewer
approves it into 公示, a citizen objects to 李明's row on the public 公示 page, the reviewer dismisses
the objection with a reason, and after the notice period the 新城区 finance officer 钱晓梅 records the
payment: every line 已拨付.

The drafting of the application itself (every tab by hand) is left to the factory. The clock
(`tests.factories.Clock`) moves the whole process, the live server included; sessions expire across
days, so every day starts with a fresh login.

Screenshots at 1280x800: var/screenshots/journey-NN-*.png (docs/guide/一个培训班的全过程.md reuses some).
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from peixun.accounts.roles import Role
from peixun.accounts.services import user_create
from peixun.catalog.models import Occupation
from peixun.catalog.reference import load_occupations
from peixun.certificates.models import Certificate
from peixun.core.workdays import add_workdays
from peixun.subsidies.models import Objection, Payment, SubsidyApplication, SubsidyLine
from peixun.training.models import ClassDocument, ClassStatus, Deficiency, ExamResult, Review
from tests.conftest import PASSWORD, new_id_number
from tests.factories import AMOUNT, Clock, Lifecycle

pytestmark = pytest.mark.browser

MONDAY = dt.date(2026, 11, 2)  # the application is submitted
RETURNED_ON = dt.date(2026, 11, 4)
RESUBMITTED_ON = dt.date(2026, 11, 9)
APPROVED_ON = dt.date(2026, 11, 10)
START = dt.date(2026, 11, 23)  # two offline days, the online lesson on the first evening
LAST_DAY = dt.date(2026, 11, 24)
COMPLETION_APPLIED = dt.date(2026, 11, 25)
COMPLETION_APPROVED = dt.date(2026, 11, 26)
SUBSIDY_APPLIED = dt.date(2026, 11, 27)
SUBSIDY_APPROVED = dt.date(2026, 11, 30)

DEFICIENCIES = ["学员承诺书缺少陈静的签字", "实训场地照片不清晰，请重新拍摄上传"]
WANG = {"name": "王芳", "birth": dt.date(1992, 7, 1), "phone": "13604719876"}
ACCOUNT = {"payee_account": "1502 0211 0900 0123 456", "payee_bank": "中国工商银行呼和浩特新华支行"}
VOUCHER = "NMCZ202612080017"


@pytest.fixture
def media(settings, tmp_path):
    """Uploads go to a temporary MEDIA_ROOT (the live server runs in this process: same settings)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def occupations(reference_data):
    """Browser tests flush the database, the occupation list of the data migration with it."""
    load_occupations(Occupation)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(monkeypatch)
    c.travel(MONDAY, 9)
    return c


@pytest.fixture
def life(world, occupations, clock, media):
    return Lifecycle(world)


@pytest.fixture
def finance(world):
    return user_create(
        username="qian_finance",
        password=PASSWORD,
        role=Role.FINANCE,
        display_name="钱晓梅",
        organisation=world.xincheng,
        actor=None,
    )


def detail(klass, tab: str = "") -> str:
    url = reverse("training:detail", args=[klass.pk])
    return f"{url}?tab={tab}" if tab else url


def status_of(klass) -> str:
    klass.refresh_from_db()
    return klass.status


def submit_and_wait(visit, locator):
    """Click a button that posts a form and wait for the page the server redirects to."""
    with visit.page.expect_navigation():
        locator.click()
    visit.page.wait_for_load_state()


def open_dialog(visit, move: str, dialog: str):
    visit.page.locator(f'#moves [data-move="{move}"]').click()
    modal = visit.page.locator(dialog)
    expect(modal).to_be_visible()
    visit.page.wait_for_timeout(400)  # the Bootstrap fade, for the screenshot
    return modal


def test_the_whole_life_of_a_subsidised_class(live_server, visitor, world, life, clock, finance, tmp_path):
    klass = life.draft(start=START)
    reviewer = world.xincheng_reviewer

    # --- 1. 申请开班: the operator adds a trainee, sees the self-check pass and submits ----------------
    with visitor("journey") as visit:
        visit.login(life.operator.username)
        visit.goto(detail(klass, "roster"))
        wang_id = new_id_number("150102", WANG["birth"], False, seed=77)
        visit.page.fill("#id_id_number", wang_id)
        visit.page.fill("#id_name", WANG["name"])
        visit.page.select_option("#id_category", "RURAL_MIGRANT")
        visit.page.fill("#id_phone", WANG["phone"])
        submit_and_wait(visit, visit.page.get_by_role("button", name="加入花名册"))
        expect(visit.page.locator(".alert-success")).to_contain_text("已将王芳")
        expect(visit.page.locator("#roster tbody tr")).to_have_count(3)
        assert wang_id not in visit.page.content()  # masked on the roster
        visit.shot("01-operator-roster")
        wang = klass.enrollments.get(person__name=WANG["name"]).person

        visit.page.locator("#class-tabs").get_by_role("link", name="开班自查").click()
        visit.page.wait_for_load_state()
        expect(visit.page.locator("#next-step")).to_contain_text("开班自查已全部通过")
        expect(visit.page.locator("#class-tabs .badge.text-bg-danger")).to_have_count(0)
        visit.shot("02-operator-checks-passed")

        submit_and_wait(visit, visit.page.locator('#moves [data-move="submit"]'))
        expect(visit.page.locator(".alert-success")).to_contain_text(
            "开班申请已提交审核，审核截止日期为2026-11-09"
        )
        expect(visit.page.locator("#deadline")).to_be_visible()
        expect(visit.page.locator("#moves")).to_have_count(0)  # nothing to do while it is reviewed
        visit.shot("03-operator-submitted")
    assert status_of(klass) == ClassStatus.OPENING_REVIEW
    review = Review.objects.get(training_class=klass)
    assert review.due_date == dt.date(2026, 11, 9)

    # --- 2. 退回补正: the reviewer opens it from 待办事项 and returns it with two deficiencies ---------
    clock.travel(RETURNED_ON)
    with visitor("journey") as visit:
        visit.login(reviewer.username)
        visit.goto("/")
        task = visit.page.locator("tr", has_text=klass.code)
        expect(task).to_contain_text("开班")
        expect(task).to_contain_text("剩余3个工作日")
        visit.shot("04-reviewer-todo")
        submit_and_wait(visit, task.get_by_role("link", name="办理"))
        expect(visit.page.locator("h1")).to_contain_text(klass.code)
        expect(visit.page.locator("#next-step")).to_contain_text("系统检查未发现问题")

        modal = open_dialog(visit, "return_opening", "#move-return")
        expect(modal.locator("#return-system-items")).to_contain_text("系统检查未发现问题")
        modal.locator("textarea[name=more]").fill("\n".join(DEFICIENCIES))
        visit.shot("05-reviewer-return-dialog")
        submit_and_wait(visit, modal.get_by_role("button", name="退回补正"))
        expect(visit.page.locator(".alert-success")).to_contain_text(
            "已退回补正，2项需补正事项已一次性告知机构"
        )
        expect(visit.page.locator("#return-list")).to_contain_text(DEFICIENCIES[1])
        visit.shot("06-reviewer-returned")
    assert status_of(klass) == ClassStatus.OPENING_RETURNED
    review.refresh_from_db()
    assert (review.state, review.workdays_used) == (Review.State.RETURNED, 2)
    assert sorted(review.rounds.get(number=1).deficiencies.values_list("text", flat=True)) == sorted(
        DEFICIENCIES
    )
    assert not Deficiency.objects.filter(source=Deficiency.Source.SYSTEM).exists()

    # --- 3. 补正后重新提交, 批准开班 ------------------------------------------------------------------
    clock.travel(RESUBMITTED_ON)
    pdf = tmp_path / "学员承诺书-陈静.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% signed undertaking of chen jing\n%%EOF\n")
    photo = tmp_path / "实训场地.png"
    photo.write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
        )
    )
    with visitor("journey") as visit:
        visit.login(life.operator.username)
        visit.goto("/")
        task = visit.page.locator("tr", has_text=klass.code)
        expect(task).to_contain_text("退回补正")
        submit_and_wait(visit, task.get_by_role("link", name="办理"))
        returned = visit.page.locator("#return-list")
        expect(returned).to_contain_text("共2项")
        for item in DEFICIENCIES:
            expect(returned).to_contain_text(item)
        visit.shot("07-operator-deficiencies")

        visit.page.locator("#class-tabs").get_by_role("link", name="材料").click()
        visit.page.wait_for_load_state()
        for kind, title, path in (
            ("TRAINEE_UNDERTAKING", "学员承诺书（陈静已签字）", pdf),
            ("OTHER", "实训场地照片（重新拍摄）", photo),
        ):
            visit.page.select_option("#id_kind", kind)
            visit.page.fill("#id_title", title)
            visit.page.set_input_files("#id_file", str(path))
            submit_and_wait(visit, visit.page.locator("#tab-documents").get_by_role("button", name="上传"))
            expect(visit.page.locator(".alert-success")).to_contain_text(f"已上传“{title}”")
        expect(visit.page.locator("#tab-documents")).to_contain_text("学员承诺书（陈静已签字）")
        visit.shot("08-operator-documents", scroll_to="#tab-documents")

        resubmit = visit.page.locator('#moves [data-move="resubmit"]')
        expect(resubmit).to_contain_text("重新提交")
        submit_and_wait(visit, resubmit)
        expect(visit.page.locator(".alert-success")).to_contain_text("审核截止日期为2026-11-12")
        visit.shot("09-operator-resubmitted")
    assert status_of(klass) == ClassStatus.OPENING_REVIEW
    assert klass.documents.filter(kind=ClassDocument.Kind.TRAINEE_UNDERTAKING).count() == 2

    clock.travel(APPROVED_ON)
    with visitor("journey") as visit:
        visit.login(reviewer.username)
        visit.goto(detail(klass, "history"))
        expect(visit.page.locator("#tab-history")).to_contain_text(DEFICIENCIES[0])
        modal = open_dialog(visit, "approve_opening", "#move-approve")
        modal.locator("textarea[name=reason]").fill("补正材料齐全，同意开班")
        visit.shot("10-reviewer-approve-dialog")
        submit_and_wait(visit, modal.get_by_role("button", name="确认批准"))
        expect(visit.page.locator(".alert-success")).to_contain_text("已批准开班")
        visit.shot("11-reviewer-approved")
    assert status_of(klass) == ClassStatus.APPROVED
    review.refresh_from_db()
    assert (review.state, review.decision_reason) == (Review.State.APPROVED, "补正材料齐全，同意开班")

    # --- 4. 考勤, 考试成绩, 申请结业, 结业审核 ---------------------------------------------------------
    clock.travel(LAST_DAY, 20)
    for person in (world.li_ming, world.chen_jing, wang):
        life.attend(klass, person, online_minutes=180)
    with visitor("journey") as visit:
        visit.login(life.operator.username)
        visit.goto(detail(klass, "hours"))
        expect(visit.page.locator("#tab-hours")).to_contain_text("李明")
        visit.shot("12-operator-hours")
        visit.goto(detail(klass, "exams"))
        for name, score in (("李明", "86"), ("陈静", "92"), (WANG["name"], "78")):
            row = visit.page.locator("#exams tbody tr", has_text=name)
            row.locator("input[type=number]").fill(score)
            row.locator("select").select_option(label="合格")
            submit_and_wait(visit, row.get_by_role("button", name="保存"))
            expect(visit.page.locator(".alert-success")).to_contain_text(f"已保存{name}的考试成绩")
        visit.shot("13-operator-exams")
    assert ExamResult.objects.filter(training_class=klass, passed=True).count() == 3

    clock.travel(COMPLETION_APPLIED)
    with visitor("journey") as visit:
        visit.login(life.operator.username)
        visit.goto(detail(klass))
        submit_and_wait(visit, visit.page.locator('#moves [data-move="apply_completion"]'))
        expect(visit.page.locator(".alert-success")).to_contain_text("结业申请已提交审核")
        visit.shot("14-operator-completion-applied")
    assert status_of(klass) == ClassStatus.COMPLETION_REVIEW

    clock.travel(COMPLETION_APPROVED)
    with visitor("journey") as visit:
        visit.login(reviewer.username)
        visit.goto("/")
        task = visit.page.locator("tr", has_text=klass.code)
        expect(task).to_contain_text("结业")
        submit_and_wait(visit, task.get_by_role("link", name="办理"))
        modal = open_dialog(visit, "approve_completion", "#move-completion-approve")
        modal.locator("#id_material_review").fill("开班批复、花名册、考勤表、考试成绩齐全，与课程表一致")
        modal.locator("#id_crosscheck_review").fill("与公安、社保、财政供养人员数据比对，未发现异常")
        modal.locator("#id_onsite_check").fill("11月24日现场抽查，在训3人，与考勤一致")
        visit.shot("15-reviewer-completion-dialog")
        submit_and_wait(visit, modal.get_by_role("button", name="审核通过并发证"))
        expect(visit.page.locator(".alert-success")).to_contain_text("结业审核已通过，证书已签发")
        visit.shot("16-reviewer-completed")
    assert status_of(klass) == ClassStatus.COMPLETED
    certificates = Certificate.objects.filter(training_class=klass)
    assert certificates.count() == 3
    li_cert = certificates.get(person=world.li_ming)
    assert li_cert.issued_on == COMPLETION_APPROVED

    # --- 5. 证书 and the public verification -------------------------------------------------------
    with visitor("journey") as visit:
        visit.login(life.operator.username)
        visit.goto(reverse("certificates:list"))
        expect(visit.page.locator("tbody tr")).to_have_count(3)
        visit.shot("17-operator-certificates")
        visit.goto(reverse("certificates:detail", args=[li_cert.pk]))
        expect(visit.page.locator("h1")).to_contain_text(li_cert.number)
        visit.shot("18-operator-certificate")

    with visitor("journey") as visit:  # anyone, no login: the address in the QR code
        visit.goto(reverse("certificates:verify", args=[li_cert.verify_token]))
        expect(visit.page.locator("h1")).to_contain_text("培训合格证")
        expect(visit.page.locator("body")).to_contain_text("证书有效")
        expect(visit.page.locator("dl")).to_contain_text("李*")
        expect(visit.page.locator("dl")).to_contain_text(world.li_ming.id_masked)
        html = visit.page.content()
        assert world.li_ming.reveal_id_number() not in html and "李明" not in html
        visit.shot("19-public-verify")

    # --- 6. 补贴: apply, approve into 公示, objection, dismissal, payment ---------------------------
    clock.travel(SUBSIDY_APPLIED)
    with visitor("journey") as visit:
        visit.login(life.operator.username)
        visit.menu("补贴申请", heading=False)
        row = visit.page.locator("tr", has_text=klass.code)
        submit_and_wait(visit, row.get_by_role("link", name="申请补贴"))
        for name in ("李明", "陈静", WANG["name"]):
            expect(visit.page.get_by_label(name)).to_be_checked()
        visit.page.fill("#id_payee_account", ACCOUNT["payee_account"])
        visit.page.fill("#id_payee_bank", ACCOUNT["payee_bank"])
        visit.shot("20-operator-subsidy-apply", full_page=True)
        submit_and_wait(visit, visit.page.get_by_role("button", name="提交补贴申请"))
        expect(visit.page.locator("body")).to_contain_text("共3人")
        visit.shot("21-operator-subsidy-submitted")
    application = SubsidyApplication.objects.get(training_class=klass)
    assert application.status == SubsidyApplication.Status.SUBMITTED
    assert list(application.lines.values_list("status", flat=True)) == [SubsidyLine.Status.PENDING] * 3
    assert all(line.amount == AMOUNT for line in application.lines.all())

    clock.travel(SUBSIDY_APPROVED)
    with visitor("journey") as visit:
        visit.login(reviewer.username)
        visit.goto(reverse("subsidies:application_detail", args=[application.pk]))
        expect(visit.page.locator("#tab-lines")).to_contain_text("符合补贴条件")
        submit_and_wait(visit, visit.page.get_by_role("link", name="审核通过并公示"))
        visit.page.fill("textarea[name=reason]", "经审核，3名学员均符合补贴条件")
        visit.shot("22-reviewer-subsidy-approve")
        submit_and_wait(visit, visit.page.get_by_role("button", name="确认审核通过并公示"))
        expect(visit.page.locator(".alert-success")).to_contain_text("已审核通过并公示")
        visit.shot("23-reviewer-subsidy-notice")
    application.refresh_from_db()
    assert application.status == SubsidyApplication.Status.NOTICE
    assert application.notice_start == add_workdays(SUBSIDY_APPROVED, 1)
    li_line = application.lines.get(person=world.li_ming)
    assert li_line.status == SubsidyLine.Status.NOTICE

    clock.travel(application.notice_start, 20)
    with visitor("journey") as visit:  # anyone, no login
        visit.goto(reverse("subsidies:notices"))
        expect(visit.page.locator("tbody tr")).to_have_count(3)
        row = visit.page.locator("tbody tr", has_text="李*")
        expect(row).to_contain_text(world.li_ming.id_masked)
        assert world.li_ming.reveal_id_number() not in visit.page.content()
        visit.shot("24-public-notices")
        submit_and_wait(visit, row.get_by_role("link", name="提出异议"))
        visit.page.fill("#id_name", "刘女士")
        visit.page.fill("#id_phone", "13904710000")
        visit.page.fill("#id_content", "该学员11月23日在外地务工，未实际参加培训，请核实。")
        visit.shot("25-public-objection")
        submit_and_wait(visit, visit.page.get_by_role("button", name="提交异议"))
        visit.shot("26-public-objection-received")
    objection = Objection.objects.get(line=li_line)
    li_line.refresh_from_db()
    assert (objection.status, li_line.status) == (Objection.Status.OPEN, SubsidyLine.Status.SUSPENDED)

    clock.travel(add_workdays(application.notice_start, 1))
    with visitor("journey") as visit:
        visit.login(reviewer.username)
        visit.menu("公示异议", heading=False)
        row = visit.page.locator("tr", has_text="刘女士")
        expect(row).to_contain_text("李明")
        submit_and_wait(visit, row.get_by_role("link", name="处理"))
        visit.page.get_by_label("异议不成立，恢复公示/拨付").check()
        visit.page.fill(
            "textarea[name=reason]", "经调取人脸考勤和线上学习记录核实，李明11月23、24日均在训，异议不成立。"
        )
        visit.shot("27-reviewer-objection-decide")
        submit_and_wait(visit, visit.page.get_by_role("button", name="提交处理意见"))
        expect(visit.page.locator(".alert-success")).to_contain_text("异议已处理")
    objection.refresh_from_db()
    li_line.refresh_from_db()
    assert (objection.status, li_line.status) == (Objection.Status.DISMISSED, SubsidyLine.Status.NOTICE)

    paid_on = add_workdays(application.notice_end, 1)
    clock.travel(paid_on)
    with visitor("journey") as visit:
        visit.login(finance.username)
        visit.menu("补贴拨付", heading=False)
        card = visit.page.locator(".card", has_text=application.code)
        expect(card).to_contain_text("3人")
        expect(card).to_contain_text("¥4,500.00")
        visit.shot("28-finance-payable")
        submit_and_wait(visit, card.get_by_role("link", name="登记拨付"))
        expect(visit.page.locator("#id_payee_name")).to_have_value(life.institution.name)
        visit.page.fill("#id_payee_account", ACCOUNT["payee_account"])
        visit.page.fill("#id_voucher_no", VOUCHER)
        visit.page.fill("#id_paid_on", paid_on.isoformat())
        visit.page.fill("#id_amount", "4500.00")
        visit.shot("29-finance-payment-form", full_page=True)
        submit_and_wait(visit, visit.page.get_by_role("button", name="提交拨付登记"))
        expect(visit.page.locator(".alert-success")).to_contain_text("已登记拨付")
        visit.shot("30-finance-paid")
        visit.goto(reverse("subsidies:application_detail", args=[application.pk]))
        expect(visit.page.locator("#tab-lines")).to_contain_text("已拨付")
        visit.shot("31-finance-application-paid")

    # The institution sees the money arrive: the lines 已拨付, the voucher under 拨付记录.
    with visitor("journey") as visit:
        visit.login(life.operator.username)
        visit.menu("补贴申请", heading=False)
        row = visit.page.locator("tbody tr", has_text=application.code)
        expect(row).to_contain_text("¥4,500.00")
        visit.shot("32-operator-subsidy-list")
        submit_and_wait(visit, row.get_by_role("link", name=application.code))
        expect(visit.page.locator("#tab-lines .badge", has_text="已拨付")).to_have_count(3)
        visit.page.get_by_role("tab", name="拨付记录").click()
        payments_tab = visit.page.locator("#tab-payments")
        expect(payments_tab).to_be_visible()
        expect(payments_tab).to_contain_text(VOUCHER)
        visit.page.wait_for_timeout(300)  # the tab's fade
        visit.shot("33-operator-payment-record")

    application.refresh_from_db()
    assert set(application.lines.values_list("status", flat=True)) == {SubsidyLine.Status.PAID}
    payment = Payment.objects.get(application=application)
    assert (payment.voucher_no, payment.amount, payment.outcome, payment.paid_on) == (
        VOUCHER,
        Decimal("4500.00"),
        Payment.Outcome.PAID,
        paid_on,
    )
    assert payment.lines.count() == 3
