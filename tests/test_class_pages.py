"""The class pages through the lifecycle: 申请开班 (第八条), 开班审核 with its 一次性告知 return
(第九条), exams only for trainees at the hours line (第十条), and every action offered only to whom
the transition table allows it.

马文华 runs 鸿翔 (新城区); 赵晓东 reviews 新城区; 吴红梅 reviews 回民区 and 何春雨 runs another
institution: for them 鸿翔's classes do not exist.
"""

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from peixun.core.workdays import workdays_left
from peixun.institutions.models import Teacher
from peixun.training import services
from peixun.training.models import (
    ChangeRequest,
    ClassStatus,
    Deficiency,
    Enrollment,
    ExamResult,
    TrainingClass,
)
from peixun.training.workflow import moves_for
from tests.conftest import new_id_number
from tests.factories import OCCUPATION, Clock, Lifecycle

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)  # a Friday
NEXT_MONTH = dt.date(2026, 12, 1)
LAST_MONTH = dt.date(2026, 11, 2)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(monkeypatch)
    c.travel(TODAY)
    return c


@pytest.fixture
def life(world, clock):
    return Lifecycle(world)


def detail(klass, tab=""):
    url = reverse("training:detail", args=[klass.pk])
    return f"{url}?tab={tab}" if tab else url


def action(name, klass, *args):
    return reverse(f"training:{name}", args=[klass.pk, *args])


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def buttons(html: str) -> set[str]:
    return set(re.findall(r'data-move="([a-z_]+)"', html))


def submitted(life, **kw) -> TrainingClass:
    klass = life.draft(start=NEXT_MONTH, **kw)
    services.opening_submit(training_class=klass, actor=life.operator)
    return klass


# --- 申请开班 ---------------------------------------------------------------------------------------


def test_an_institution_creates_a_draft_from_its_licensed_occupations(client, life):
    html = page(client, life.operator, reverse("training:classes"))
    assert reverse("training:create") in html  # the 申请开班 button

    form = page(client, life.operator, reverse("training:create"))
    assert f'<option value="{OCCUPATION}">{OCCUPATION} 养老护理员</option>' in form

    response = client.post(
        reverse("training:create"),
        {
            "occupation": OCCUPATION,
            "level": "5",
            "training_type": "EMPLOYMENT",
            "start_date": "2026-12-01",
            "end_date": "2026-12-02",
            "total_hours": "20",
            "online_hours": "4",
            "site_address": "呼和浩特市新城区新华大街1号",
            "planned_size": "30",
            "teaching_resources": "国家职业技能标准配套教材",
            "assessment_plan": "理论加实操",
        },
    )
    klass = TrainingClass.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(klass)
    assert klass.status == ClassStatus.DRAFT and klass.institution == life.institution
    assert (klass.occupation_code, klass.occupation_name) == (OCCUPATION, "养老护理员")
    assert klass.code.startswith("1501022026")


def test_the_create_form_names_every_problem_at_once(client, life):
    client.force_login(life.operator)
    response = client.post(
        reverse("training:create"),
        {
            "occupation": "6-18-02-04",  # 焊工: not in the licence
            "level": "5",
            "training_type": "EMPLOYMENT",
            "start_date": "2026-12-02",
            "end_date": "2026-12-01",
            "total_hours": "10",
            "online_hours": "12",
            "site_address": "",
            "planned_size": "30",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and not TrainingClass.objects.exists()
    for message in ("结业日期不能早于开班日期", "线上课时不能超过总课时", "这个字段是必填项"):
        assert message in html
    assert "选择一个有效的选项" in html  # the occupation outside the licence


def test_only_institution_operators_may_open_the_create_page(client, world, life):
    client.force_login(world.xincheng_reviewer)
    assert client.get(reverse("training:create")).status_code == 404
    html = page(client, world.xincheng_reviewer, reverse("training:classes"))
    assert reverse("training:create") not in html


# --- who sees the class ---------------------------------------------------------------------------


def test_the_page_shows_for_the_institution_and_the_county_reviewer_and_is_404_for_others(
    client, world, life
):
    klass = life.draft(start=NEXT_MONTH)
    for user in (life.operator, world.xincheng_reviewer, world.hohhot_admin):
        html = page(client, user, detail(klass))
        assert klass.code in html and "呼和浩特市鸿翔职业技能培训学校" in html and "草稿" in html
    for user in (world.huimin_reviewer, world.inst_b_operator, world.baotou_admin):
        client.force_login(user)
        assert client.get(detail(klass)).status_code == 404
        assert client.get(detail(klass, "roster")).status_code == 404


def test_the_list_filters_by_status_and_links_to_each_class(client, world, life):
    draft = life.draft(start=NEXT_MONTH)
    other = life.draft(start=dt.date(2026, 12, 10), trainees=[])
    services.class_withdraw(training_class=other, actor=life.operator)
    client.force_login(world.xincheng_reviewer)
    html = client.get(reverse("training:classes"), {"status": "DRAFT"}).content.decode()
    assert draft.code in html and other.code not in html
    assert detail(draft) in html and 'badge text-bg-secondary">草稿' in html
    # the roster is counted for the classes on the page (trainees taken off it are not)
    on_roster = draft.enrollments.filter(removed_at__isnull=True).count()
    assert on_roster > 0
    row = re.search(rf"{draft.code}.*?</tr>", html, re.S).group(0)
    assert f'<td class="text-end">{on_roster}</td>' in row


def test_trainees_on_the_roster_show_with_masked_id_numbers(client, world, life):
    klass = life.draft(start=NEXT_MONTH)
    html = page(client, world.xincheng_reviewer, detail(klass, "roster"))
    li = world.li_ming
    assert li.id_masked in html and li.reveal_id_number() not in html


# --- the buttons are the transition table -------------------------------------------------------


def test_buttons_are_exactly_the_moves_the_user_may_make_now(client, world, life):
    klass = life.draft(start=NEXT_MONTH)
    for user in (life.operator, world.xincheng_reviewer, world.inspector):
        expected = {m.name for m in moves_for(user, klass)}
        assert buttons(page(client, user, detail(klass))) == expected
    assert {m.name for m in moves_for(life.operator, klass)} == {"submit", "withdraw"}

    services.opening_submit(training_class=klass, actor=life.operator)
    assert buttons(page(client, life.operator, detail(klass))) == set()
    reviewer_html = page(client, world.xincheng_reviewer, detail(klass))
    assert buttons(reviewer_html) == {"return_opening", "approve_opening", "reject_opening"}
    assert buttons(reviewer_html) == {m.name for m in moves_for(world.xincheng_reviewer, klass)}


def test_the_header_shows_the_due_date_and_the_working_days_left(client, world, life, clock):
    klass = submitted(life)
    review = services.current_review(klass)
    html = page(client, world.xincheng_reviewer, detail(klass))
    assert f"开班审核截止日期：{review.due_date:%Y-%m-%d}" in html
    assert re.search(r'badge text-bg-light border">剩余\d+个工作日', html)

    day_before = next(
        review.due_date - dt.timedelta(days=n)
        for n in range(1, 10)
        if workdays_left(review.due_date, review.due_date - dt.timedelta(days=n)) == 1
    )
    clock.travel(day_before)
    html = page(client, world.xincheng_reviewer, detail(klass))
    assert 'badge text-bg-warning">剩余1个工作日' in html

    clock.travel(review.due_date + dt.timedelta(days=7))
    html = page(client, world.xincheng_reviewer, detail(klass))
    assert re.search(r'badge text-bg-danger">已超期\d+个工作日', html)


# --- submission ---------------------------------------------------------------------------------


def test_a_refused_submission_lists_every_problem_in_chinese(client, life):
    klass = life.draft(start=NEXT_MONTH, trainees=[])
    client.force_login(life.operator)
    response = client.post(action("submit", klass), follow=True)
    html = response.content.decode()
    klass.refresh_from_db()
    assert klass.status == ClassStatus.DRAFT
    assert "未能提交" in html
    refusal = html[html.index('id="refusal"') :]
    refusal = refusal[: refusal.index("</div>")]
    assert "<li>花名册为空</li>" in refusal
    # the checks tab opens with the same list, check by check
    assert response.redirect_chain[-1][0] == detail(klass, "checks")
    assert "花名册和承诺书" in html and "bi-x-circle-fill" in html


def test_a_complete_draft_is_submitted_and_the_clock_starts(client, life):
    klass = life.draft(start=NEXT_MONTH)
    client.force_login(life.operator)
    html = client.post(action("submit", klass), follow=True).content.decode()
    klass.refresh_from_db()
    assert klass.status == ClassStatus.OPENING_REVIEW
    review = services.current_review(klass)
    assert f"审核截止日期为{review.due_date:%Y-%m-%d}" in html


# --- review --------------------------------------------------------------------------------------


def test_a_return_sends_the_system_problems_and_the_reviewers_items_at_once(client, world, life):
    """第九条 一次性告知: everything that needs correcting goes back in one list."""
    klass = submitted(life)
    Teacher.objects.filter(pk=life.teacher.pk).update(active=False)  # found at review time

    dialog = page(client, world.xincheng_reviewer, detail(klass))
    system_items = dialog[dialog.index('id="return-system-items"') :]
    system_items = system_items[: system_items.index("</ul>")]
    assert "教师高志远已不在岗" in system_items and "checked disabled" in system_items

    response = client.post(
        action("return", klass),
        {"more": "培训场地照片不清晰，请重新上传\n\n请补充实训设备清单\n教师高志远已不在岗"},
        follow=True,
    )
    assert "已退回补正" in response.content.decode()
    klass.refresh_from_db()
    assert klass.status == ClassStatus.OPENING_RETURNED
    items = list(Deficiency.objects.values_list("source", "text"))
    assert ("SYSTEM", "教师高志远已不在岗") in items
    assert ("REVIEWER", "培训场地照片不清晰，请重新上传") in items
    assert ("REVIEWER", "请补充实训设备清单") in items
    assert len(items) == 3  # the repeated system item is not listed twice

    html = page(client, life.operator, detail(klass))
    box = html[html.index('id="return-list"') :]
    box = box[: box.index('id="next-step"')]
    assert "共3项" in box
    for text in ("教师高志远已不在岗", "培训场地照片不清晰，请重新上传", "请补充实训设备清单"):
        assert text in box
    assert buttons(html) == {"resubmit", "withdraw"}
    history = page(client, life.operator, detail(klass, "history"))
    assert "系统检查" in history and "审核员" in history and "退回补正" in history


def test_the_reviewer_approves_and_the_history_records_it(client, world, life):
    klass = submitted(life)
    client.force_login(world.xincheng_reviewer)
    response = client.post(action("approve", klass), {"reason": "材料齐全"}, follow=True)
    assert "已批准开班" in response.content.decode()
    klass.refresh_from_db()
    assert klass.status == ClassStatus.APPROVED
    html = page(client, life.operator, detail(klass, "history"))
    assert "批准开班" in html and "赵晓东" in html and "材料齐全" in html
    assert buttons(page(client, life.operator, detail(klass))) == {"apply_completion"}


def test_rejection_needs_a_reason(client, world, life):
    klass = submitted(life)
    client.force_login(world.xincheng_reviewer)
    html = client.post(action("reject", klass), {"reason": " "}, follow=True).content.decode()
    assert "不予批准须填写理由" in html
    klass.refresh_from_db()
    assert klass.status == ClassStatus.OPENING_REVIEW
    client.post(action("reject", klass), {"reason": "培训场地与申报不符"})
    klass.refresh_from_db()
    assert klass.status == ClassStatus.OPENING_REJECTED
    assert "培训场地与申报不符" in page(client, life.operator, detail(klass))


# --- the wrong person, the wrong moment ---------------------------------------------------------------


def test_an_action_by_the_wrong_role_is_404_and_changes_nothing(client, world, life):
    klass = life.draft(start=NEXT_MONTH, trainees=[])
    person = {"id_number": new_id_number("150102", dt.date(1991, 1, 1), seed=31), "name": "王芳"}
    roster = {**person, "category": "RURAL_MIGRANT"}
    client.force_login(world.xincheng_reviewer)
    assert client.post(action("roster_add", klass), roster).status_code == 404
    assert client.post(action("submit", klass)).status_code == 404
    client.force_login(world.inst_b_operator)
    assert client.post(action("roster_add", klass), roster).status_code == 404
    assert client.post(action("withdraw", klass)).status_code == 404

    services.roster_add(training_class=klass, actor=life.operator, **roster)
    services.opening_submit(training_class=klass, actor=life.operator)
    client.force_login(life.operator)
    assert client.post(action("approve", klass)).status_code == 404
    client.force_login(world.huimin_reviewer)
    assert client.post(action("approve", klass)).status_code == 404
    klass.refresh_from_db()
    assert klass.status == ClassStatus.OPENING_REVIEW
    assert Enrollment.objects.filter(training_class=klass).count() == 1


def test_a_submitted_application_cannot_be_edited_and_says_so(client, world, life):
    klass = submitted(life)
    client.force_login(life.operator)
    response = client.post(
        action("roster_add", klass),
        {
            "id_number": new_id_number("150102", dt.date(1991, 1, 1), seed=32),
            "name": "王芳",
            "category": "RURAL_MIGRANT",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "申请材料已提交，不能直接修改" in html
    assert klass.enrollments.count() == 2
    assert client.get(action("submit", klass)).status_code == 405  # actions are POST only


# --- preparing: roster upload, lessons, documents ------------------------------------------------------


def test_the_roster_upload_lists_bad_rows_and_writes_nothing(client, world, life):
    klass = life.draft(start=NEXT_MONTH, trainees=[])
    client.force_login(life.operator)
    template = client.get(action("roster_template", klass))
    assert template.status_code == 200
    header = [c.value for c in next(load_workbook(io.BytesIO(template.content)).active.iter_rows())]
    assert header == ["class_code", "id_number", "name", "phone", "category"]

    good = new_id_number("150102", dt.date(1993, 4, 4), seed=41)
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    text = (
        "class_code,id_number,name,phone,category\n"
        f"{klass.code},{good},王芳,13800000000,RURAL_MIGRANT\n"
        f"{klass.code},{wrong_check},赵六,,RURAL_MIGRANT\n"
        f"OTHER,{new_id_number('150102', dt.date(1994, 4, 4), seed=42)},钱七,,农民工\n"
    )
    upload = SimpleUploadedFile("花名册.csv", text.encode("utf-8-sig"), content_type="text/csv")
    response = client.post(action("roster_upload", klass), {"file": upload})
    html = response.content.decode()
    assert response.status_code == 400 and 'id="upload-errors"' in html
    assert "第3行" in html and "第4行" in html and "不是本班" in html and "人员类别“农民工”无效" in html
    assert not klass.enrollments.exists()

    ok = SimpleUploadedFile(
        "花名册.csv",
        f"class_code,id_number,name,phone,category\n{klass.code},{good},王芳,,GRADUATE\n".encode(),
    )
    html = client.post(action("roster_upload", klass), {"file": ok}, follow=True).content.decode()
    assert "已导入1人" in html and klass.enrollments.get().category == "GRADUATE"


def test_a_lesson_form_error_stays_next_to_the_field(client, life):
    klass = life.draft(start=NEXT_MONTH)
    client.force_login(life.operator)
    response = client.post(
        action("lesson_add", klass),
        {"date": "2026-12-01", "start_time": "10:00", "end_time": "09:00", "hours": "2", "mode": "OFFLINE"},
    )
    html = response.content.decode()
    assert response.status_code == 400 and "结束时间须晚于开始时间" in html and 'id="tab-schedule"' in html


def test_documents_are_downloaded_within_scope_only(client, world, life):
    klass = life.draft(start=NEXT_MONTH)
    document = klass.documents.first()
    url = reverse("training:document_download", args=[klass.pk, document.pk])
    html = page(client, world.xincheng_reviewer, detail(klass, "documents"))
    assert url in html and document.sha256[:12] in html
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(world.inst_b_operator)
    assert client.get(url).status_code == 404


# --- training: exams and change requests ------------------------------------------------------------


@pytest.fixture
def running(world, life, clock):
    """Applied for in October, approved, both days held: 李明 attended everything, 陈静 nothing."""
    clock.travel(dt.date(2026, 10, 20))
    klass = life.draft(start=LAST_MONTH)
    services.opening_submit(training_class=klass, actor=life.operator)
    services.opening_approve(training_class=klass, actor=world.xincheng_reviewer)
    clock.travel(TODAY)
    life.attend(klass, world.li_ming)
    return klass


def test_the_exam_form_refuses_a_trainee_below_the_hours_line(client, world, life, running):
    """第十条: only trainees with at least 95% of the hours may sit the exam."""
    klass = running
    html = page(client, life.operator, detail(klass, "exams"))
    chen_row = html[html.index("陈静") :]
    chen_row = chen_row[: chen_row.index("</tr>")]
    assert "学时不足，不能参加考试" in chen_row and "<form" not in chen_row

    chen = klass.enrollments.get(person=world.chen_jing)
    response = client.post(
        action("exams", klass),
        {
            "enrollment": chen.pk,
            f"e{chen.pk}-enrollment": chen.pk,
            f"e{chen.pk}-exam_date": "2026-11-10",
            f"e{chen.pk}-score": "80",
            f"e{chen.pk}-passed": "1",
        },
        follow=True,
    )
    assert "不能参加结业考试（第十条）" in response.content.decode()
    assert not ExamResult.objects.exists()

    li = klass.enrollments.get(person=world.li_ming)
    response = client.post(
        action("exams", klass),
        {
            "enrollment": li.pk,
            f"e{li.pk}-enrollment": li.pk,
            f"e{li.pk}-exam_date": "2026-11-10",
            f"e{li.pk}-score": "86.5",
            f"e{li.pk}-passed": "1",
        },
        follow=True,
    )
    assert "已保存李明的考试成绩" in response.content.decode()
    result = ExamResult.objects.get()
    assert result.person == world.li_ming and result.passed and str(result.score) == "86.5"


def test_the_hours_tab_shows_each_trainee_against_the_line(client, world, life, running):
    html = page(client, world.xincheng_reviewer, detail(running, "hours"))
    assert reverse("attendance:class_sheet", args=[running.pk]) in html
    assert "1人未达到" in html


def test_a_change_request_waits_for_the_reviewer(client, world, life, running):
    klass = running
    client.force_login(life.operator)
    html = client.get(detail(klass, "changes") + "&kind=REMOVE_TRAINEE").content.decode()
    assert 'name="enrollment"' in html and 'name="id_number"' not in html
    chen = klass.enrollments.get(person=world.chen_jing)
    response = client.post(
        action("change_create", klass),
        {"kind": "REMOVE_TRAINEE", "enrollment": chen.pk, "reason": "学员因病退出"},
        follow=True,
    )
    assert "已提交变更申请" in response.content.decode()
    change = ChangeRequest.objects.get()
    chen.refresh_from_db()
    assert change.state == ChangeRequest.State.PENDING and chen.removed_at is None

    client.force_login(world.xincheng_reviewer)
    html = client.post(
        action("change_decide", klass, change.pk), {"decision": "reject", "reason": ""}, follow=True
    ).content.decode()
    assert "请填写不同意的理由" in html
    client.post(action("change_decide", klass, change.pk), {"decision": "approve", "reason": "同意"})
    change.refresh_from_db()
    chen.refresh_from_db()
    assert change.state == ChangeRequest.State.APPROVED and chen.removed_at is not None


def test_completion_is_approved_with_the_review_record(client, world, life, running):
    klass = running
    li = klass.enrollments.get(person=world.li_ming)
    services.change_request_decide(
        request=services.change_request_create(
            training_class=klass,
            actor=life.operator,
            kind="REMOVE_TRAINEE",
            payload={"enrollment": klass.enrollments.get(person=world.chen_jing).pk},
            reason="学员因病退出",
        ),
        actor=world.xincheng_reviewer,
        approve=True,
    )
    services.exam_record(
        enrollment=li, actor=life.operator, exam_date=dt.date(2026, 11, 10), score=None, passed=True
    )
    client.force_login(life.operator)
    client.post(action("completion", klass))
    klass.refresh_from_db()
    assert klass.status == ClassStatus.COMPLETION_REVIEW

    reviewer_html = page(client, world.xincheng_reviewer, detail(klass))
    assert buttons(reviewer_html) == {"return_completion", "approve_completion", "reject_completion"}
    response = client.post(
        action("completion_approve", klass), {"material_review": "", "crosscheck_review": ""}
    )
    klass.refresh_from_db()
    assert response.status_code == 302 and klass.status == ClassStatus.COMPLETION_REVIEW
    client.post(
        action("completion_approve", klass),
        {
            "material_review": "花名册、考勤、成绩齐全",
            "crosscheck_review": "与社保数据比对无异常",
            "onsite_check": "",
        },
    )
    klass.refresh_from_db()
    assert klass.status == ClassStatus.COMPLETED
    html = page(client, life.operator, detail(klass, "history"))
    assert "结业审核通过" in html and "与社保数据比对无异常" in html


def test_the_tabs_count_what_each_tab_lists(client, world, life):
    """The tab numbers come from one query; each is the number its own relation gives."""
    from peixun.training.views import _tab_counts

    klass = submitted(life)
    first = klass.enrollments.order_by("pk").first()
    Enrollment.objects.filter(pk=first.pk).update(removed_at=dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC))
    counts = _tab_counts(klass)
    assert counts == {
        "roster": klass.enrollments.filter(removed_at__isnull=True).count(),
        "modules": klass.modules.count(),
        "lessons": klass.lessons.count(),
        "teachers": klass.class_teachers.count(),
        "documents": klass.documents.count(),
        "exams": klass.exams.count(),
        "changes": klass.change_requests.filter(state=ChangeRequest.State.PENDING).count(),
        "reviews": klass.reviews.count(),
    }
    # A removed trainee is not counted; the class has lessons, modules and a pending review.
    assert counts["roster"] == klass.enrollments.count() - 1
    assert counts["lessons"] > 0 and counts["modules"] > 0 and counts["reviews"] == 1
    html = page(client, world.xincheng_reviewer, detail(klass))
    assert re.search(rf"花名册\s*<span[^>]*>{counts['roster']}</span>", html)
