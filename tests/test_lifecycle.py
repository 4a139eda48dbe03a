"""The life of a class through the services: opening, review with its clock, changes during
training, exams and completion (第八-十一条, 第二十二条)."""

import datetime as dt
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection

from peixun.checks.models import Finding
from peixun.checks.services import finding_decide
from peixun.core.errors import PeixunError, PermissionDeniedError, TransitionError
from peixun.core.models import AuditEntry
from peixun.core.workdays import add_workdays
from peixun.training import services
from peixun.training.models import ChangeRequest, ClassStatus, Deficiency, Review
from peixun.training.workflow import MOVES, moves_for
from tests.conftest import new_id_number
from tests.factories import Clock, Lifecycle

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 2)
START = dt.date(2026, 11, 23)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(monkeypatch)
    c.travel(MONDAY)
    return c


@pytest.fixture
def life(world, clock):
    return Lifecycle(world)


def submitted(life, start=START):
    klass = life.draft(start=start)
    services.opening_submit(training_class=klass, actor=life.operator)
    return klass


def approved(life, start=START):
    klass = submitted(life, start)
    services.opening_approve(training_class=klass, actor=life.world.xincheng_reviewer)
    return klass


# --- opening (第八条) -------------------------------------------------------------------------------


def test_a_complete_draft_passes_every_check_and_goes_to_the_county_with_a_5_workday_clock(life):
    """第八条 开班申请 / 第九条 5个工作日内完成审核: submitted Monday 2026-11-02 → due Monday 11-09."""
    klass = life.draft(start=START)
    checks = services.opening_checks(klass)
    assert [c.label for c in checks if not c.ok] == []
    review = services.opening_submit(training_class=klass, actor=life.operator)
    klass.refresh_from_db()
    assert klass.status == ClassStatus.OPENING_REVIEW
    assert review.due_date == dt.date(2026, 11, 9) == add_workdays(MONDAY, 5)
    assert AuditEntry.objects.filter(action="class.submit", object_id=str(klass.pk)).exists()


def test_submission_is_refused_with_every_problem_at_once_and_nothing_changes(life):
    """第八条: the system checks schedule hours, online share, teachers, roster and undertakings itself."""
    klass = life.draft(start=START)
    services.class_update(
        training_class=klass, actor=life.operator, total_hours=Decimal("8"), online_hours=Decimal("4")
    )
    services.roster_remove(enrollment=klass.enrollments.first(), actor=life.operator)
    services.roster_remove(enrollment=klass.enrollments.first(), actor=life.operator)
    with pytest.raises(TransitionError) as refused:
        services.opening_submit(training_class=klass, actor=life.operator)
    message = refused.value.message
    assert "课程表课时合计20，与总课时8不一致" in message
    assert "线上课时4超过总课时的40%（上限3.2课时，第十九条）" in message
    assert "花名册为空" in message
    klass.refresh_from_db()
    assert klass.status == ClassStatus.DRAFT and not Review.objects.filter(training_class=klass).exists()


def test_a_class_must_be_applied_for_before_it_starts(life, clock):
    """第八条: 开展培训前 … 提出申请."""
    klass = life.draft(start=START)
    clock.travel(START)
    problems = services.all_problems(services.opening_checks(klass, run_rules=False))
    assert problems == [f"开班日期{START}须晚于提交申请之日（第八条：开展培训前提出申请）"]


def test_an_occupation_outside_the_licence_and_the_catalog_is_named(life):
    """第二十二条 超越办学许可范围; 第七条 补贴目录."""
    klass = life.draft(start=START)
    klass = services.class_update(
        training_class=klass, actor=life.operator, occupation_code="4-10-01-06", occupation_name="家政服务员"
    )
    problems = services.all_problems(services.opening_checks(klass, run_rules=False))
    assert any("不在2026-11-23有效的补贴目录中" in p for p in problems)
    assert "职业（工种）4-10-01-06不在机构的办学许可范围内" in problems


def test_a_block_finding_on_the_roster_stops_submission(life, world):
    """AGE_UNDER_16 (劳动法) is a BLOCK rule that applies at opening: the draft cannot be submitted."""
    klass = life.draft(start=START)
    services.roster_add(
        training_class=klass,
        actor=life.operator,
        id_number=new_id_number("150102", dt.date(2011, 6, 1), True, seed=55),
        name="王小虎",
        category="SCHOOL_LEAVER",
    )
    with pytest.raises(TransitionError) as refused:
        services.opening_submit(training_class=klass, actor=life.operator)
    assert "AGE_UNDER_16，王小虎 150102********" in refused.value.message
    # The refusal rolls back the submission, not the findings: the 问题线索 page shows them.
    assert Finding.objects.filter(training_class=klass, rule_code="AGE_UNDER_16", status="OPEN").count() == 1


# --- review (第九条) --------------------------------------------------------------------------------


def test_return_lists_every_deficiency_stops_the_clock_and_resubmission_restarts_it(life, clock, world):
    """第九条 一次性告知需要补正的全部内容: submitted Mon 11-02, returned Wed 11-04 (2 working days used),
    resubmitted Tue 11-10 → 3 days left → due Fri 11-13."""
    klass = submitted(life)
    clock.travel(dt.date(2026, 11, 4))
    round_ = services.review_return(
        training_class=klass,
        actor=world.xincheng_reviewer,
        deficiencies=["学员承诺书缺少陈静的签字", "实训场地照片不清晰"],
    )
    klass.refresh_from_db()
    review = Review.objects.get(training_class=klass)
    assert klass.status == ClassStatus.OPENING_RETURNED
    assert (review.state, review.workdays_used, review.due_date) == (Review.State.RETURNED, 2, None)
    texts = list(round_.deficiencies.values_list("source", "text"))
    assert (Deficiency.Source.REVIEWER, "学员承诺书缺少陈静的签字") in texts
    assert (Deficiency.Source.REVIEWER, "实训场地照片不清晰") in texts

    clock.travel(dt.date(2026, 11, 10))
    again = services.opening_submit(training_class=klass, actor=life.operator)
    assert again.pk == review.pk and again.due_date == dt.date(2026, 11, 13)
    assert review.rounds.count() == 2


def test_return_prefills_what_the_system_still_finds(life, world):
    """一次性告知: what the system detects goes on the list without the reviewer typing it."""
    klass = submitted(life)
    # The platform is suspended after submission: the system now sees a problem the reviewer did not type.
    life.platform.status = "SUSPENDED"
    life.platform.save(update_fields=["status"])
    round_ = services.review_return(training_class=klass, actor=world.xincheng_reviewer, deficiencies=[])
    assert [d.source for d in round_.deficiencies.all()] == [Deficiency.Source.SYSTEM]
    assert "已暂停" in round_.deficiencies.get().text


def test_return_without_any_deficiency_is_refused(life, world):
    klass = submitted(life)
    with pytest.raises(PeixunError, match="列明需要补正的全部事项"):
        services.review_return(training_class=klass, actor=world.xincheng_reviewer, deficiencies=["  "])
    klass.refresh_from_db()
    assert klass.status == ClassStatus.OPENING_REVIEW


def test_wrong_role_wrong_area_and_wrong_state_change_nothing(life, world):
    klass = life.draft(start=START)
    with pytest.raises(TransitionError):
        services.opening_approve(training_class=klass, actor=world.xincheng_reviewer)  # still a draft
    with pytest.raises(PermissionDeniedError):
        services.opening_submit(training_class=klass, actor=world.xincheng_reviewer)  # reviewers do not apply
    services.opening_submit(training_class=klass, actor=life.operator)
    with pytest.raises(PermissionDeniedError):
        services.opening_approve(training_class=klass, actor=world.huimin_reviewer)  # another county
    with pytest.raises(PermissionDeniedError):
        services.opening_approve(training_class=klass, actor=life.operator)  # the institution itself
    with pytest.raises(PermissionDeniedError):
        services.opening_approve(training_class=klass, actor=world.baotou_admin)  # another city
    klass.refresh_from_db()
    assert klass.status == ClassStatus.OPENING_REVIEW


def test_the_city_may_decide_an_escalated_review(life, world):
    """第九条 overdue reviews escalate to the city bureau, which may decide them itself."""
    klass = submitted(life)
    services.opening_approve(training_class=klass, actor=world.hohhot_admin)
    klass.refresh_from_db()
    assert klass.status == ClassStatus.APPROVED


def test_reject_needs_a_reason(life, world):
    klass = submitted(life)
    with pytest.raises(PeixunError, match="理由"):
        services.opening_reject(training_class=klass, actor=world.xincheng_reviewer, reason="")
    services.opening_reject(training_class=klass, actor=world.xincheng_reviewer, reason="培训场地与申报不符")
    klass.refresh_from_db()
    assert klass.status == ClassStatus.OPENING_REJECTED
    assert Review.objects.get(training_class=klass).decision_reason == "培训场地与申报不符"


def test_an_open_block_finding_stops_approval_until_decided(life, world):
    """第二十二条: BLOCK findings stop the step they concern until a reviewer decides them."""
    klass = submitted(life)
    finding = Finding.objects.create(
        rule_code="DECEASED",
        severity=Finding.Severity.BLOCK,
        training_class=klass,
        person=world.chen_jing,
        evidence="公安死亡信息：2026-10-01死亡",
        article="第十五条",
        rules_version=1,
        last_found_at=klass.created_at,
    )
    with pytest.raises(TransitionError, match="DECEASED"):
        services.opening_approve(training_class=klass, actor=world.xincheng_reviewer)
    finding_decide(
        finding=finding, action="dismiss", actor=world.xincheng_reviewer, reason="同名同姓，经核实本人健在"
    )
    services.opening_approve(training_class=klass, actor=world.xincheng_reviewer)
    klass.refresh_from_db()
    assert klass.status == ClassStatus.APPROVED


def test_the_transition_table_offers_each_user_only_their_moves(life, world):
    klass = life.draft(start=START)
    assert {m.name for m in moves_for(life.operator, klass)} == {"submit", "withdraw"}
    assert moves_for(world.xincheng_reviewer, klass) == []
    services.opening_submit(training_class=klass, actor=life.operator)
    klass.refresh_from_db()
    assert moves_for(life.operator, klass) == []
    assert {m.name for m in moves_for(world.xincheng_reviewer, klass)} == {
        "return_opening",
        "approve_opening",
        "reject_opening",
    }
    assert moves_for(world.huimin_reviewer, klass) == []
    # Every state reachable in the table is a real state.
    assert {m.target for m in MOVES} <= set(ClassStatus.values)


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_exactly_one_wins(world, clock):
    """Two officials acting at once cannot both win (the class row is locked)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    # Transactional tests empty the database between tests: the occupations come back first.
    call_command("load_reference", stdout=StringIO())
    life = Lifecycle(world)
    klass = submitted(life)
    outcomes = []
    barrier = threading.Barrier(2)

    def act(user):
        try:
            barrier.wait()
            services.opening_approve(training_class=klass, actor=user)
            outcomes.append("ok")
        except (TransitionError, PeixunError) as exc:
            outcomes.append(exc.message)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=act, args=(u,)) for u in (world.xincheng_reviewer, world.hohhot_admin)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and len(outcomes) == 2
    assert "不能“批准开班”" in next(o for o in outcomes if o != "ok")
    assert AuditEntry.objects.filter(action="class.approve_opening", object_id=str(klass.pk)).count() == 1


# --- during training (第二十二条) -------------------------------------------------------------------


def test_a_roster_change_after_approval_waits_for_the_reviewer(life, world):
    """第二十二条 擅自变更培训内容: nothing changes until the reviewer agrees."""
    klass = approved(life)
    with pytest.raises(TransitionError):
        services.roster_add(
            training_class=klass,
            actor=life.operator,
            id_number=world.li_ming.reveal_id_number(),
            name="李明",
            category="GRADUATE",
        )
    chen = klass.enrollments.get(person=world.chen_jing)
    request = services.change_request_create(
        training_class=klass,
        actor=life.operator,
        kind=ChangeRequest.Kind.REMOVE_TRAINEE,
        payload={"enrollment": chen.pk},
        reason="学员因病退学",
    )
    chen.refresh_from_db()
    assert chen.removed_at is None and request.summary.startswith("减少学员陈静")
    services.change_request_decide(request=request, actor=world.xincheng_reviewer, approve=True)
    chen.refresh_from_db()
    assert chen.removed_at is not None and "学员因病退学" in chen.removed_reason


def test_moving_a_lesson_into_a_shorter_slot_is_refused(life):
    """第二十二条 减少培训课时: a moved 4-hour lesson must still fit 4 × 45 minutes."""
    klass = approved(life)
    lesson = klass.lessons.filter(mode="OFFLINE").first()
    with pytest.raises(PeixunError, match="不得减少培训课时"):
        services.change_request_create(
            training_class=klass,
            actor=life.operator,
            kind=ChangeRequest.Kind.MOVE_LESSON,
            payload={"lesson": lesson.pk, "date": "2026-11-25", "start_time": "08:00", "end_time": "10:00"},
            reason="场地检修",
        )
    request = services.change_request_create(
        training_class=klass,
        actor=life.operator,
        kind=ChangeRequest.Kind.MOVE_LESSON,
        payload={"lesson": lesson.pk, "date": "2026-11-25", "start_time": "08:00", "end_time": "11:00"},
        reason="场地检修",
    )
    services.change_request_decide(
        request=request, actor=life.world.xincheng_reviewer, approve=False, reason="班期外"
    )
    lesson.refresh_from_db()
    assert lesson.date == START  # refused: unchanged


# --- exams and completion (第十、十一条) --------------------------------------------------------------


def test_only_trainees_at_95_percent_may_sit_the_exam(life, world, clock):
    """第十条 完成规定课时（不低于总课时的95%）: 16 offline + 3 online of 20 = 95% sits the exam;
    16 offline + 134 online minutes (2.98 hours, 94.9%) does not."""
    klass = approved(life)
    clock.travel(START + dt.timedelta(days=2))
    life.attend(klass, world.li_ming, online_minutes=135)
    life.attend(klass, world.chen_jing, online_minutes=134)
    li = klass.enrollments.get(person=world.li_ming)
    chen = klass.enrollments.get(person=world.chen_jing)
    day = START + dt.timedelta(days=2)
    exam = services.exam_record(
        enrollment=li, actor=life.operator, exam_date=day, score=Decimal("82"), passed=True
    )
    assert exam.passed
    with pytest.raises(PeixunError, match="未达到95%，不能参加结业考试（第十条）"):
        services.exam_record(
            enrollment=chen, actor=life.operator, exam_date=day, score=Decimal("90"), passed=True
        )


def test_completion_only_after_the_last_lesson_and_reviewed_within_3_workdays(life, world, clock):
    """第十一条: applied Wed 11-25 (after the last lesson on 11-24) → due Mon 11-30."""
    klass = approved(life)
    clock.travel(START + dt.timedelta(days=1))  # the day of the last lesson
    life.attend(klass, world.li_ming)
    life.attend(klass, world.chen_jing)
    li = klass.enrollments.get(person=world.li_ming)
    services.exam_record(
        enrollment=li, actor=life.operator, exam_date=START + dt.timedelta(days=1), score=None, passed=True
    )
    with pytest.raises(TransitionError, match="课程结束后才能申请结业"):
        services.completion_submit(training_class=klass, actor=life.operator)
    clock.travel(dt.date(2026, 11, 25))
    review = services.completion_submit(training_class=klass, actor=life.operator)
    assert review.stage == Review.Stage.COMPLETION and review.due_date == dt.date(2026, 11, 30)
    with pytest.raises(PeixunError, match="第十一条"):
        services.completion_approve(
            training_class=klass, actor=world.xincheng_reviewer, material_review="", crosscheck_review=""
        )
    services.completion_approve(
        training_class=klass,
        actor=world.xincheng_reviewer,
        material_review="花名册、考勤表、考试成绩齐全",
        crosscheck_review="与公安、社保、财政供养数据比对无异常",
        onsite_check="11月24日现场抽查，学员在岗",
    )
    klass.refresh_from_db()
    assert klass.status == ClassStatus.COMPLETED
    review.refresh_from_db()
    assert review.crosscheck_review == "与公安、社保、财政供养数据比对无异常"


def test_withdrawing_a_draft(life):
    klass = life.draft(start=START)
    services.class_withdraw(training_class=klass, actor=life.operator, reason="生源不足")
    klass.refresh_from_db()
    assert klass.status == ClassStatus.WITHDRAWN
    with pytest.raises(TransitionError):
        services.opening_submit(training_class=klass, actor=life.operator)


# --- the clock arithmetic (rules.md, one place: core/workdays.py) --------------------------------


def test_clock_due_dates_follow_the_calendar_examples_of_rules_md(reference_data):
    """第九条 5个工作日 over 国庆 and 第十一条 3个工作日 over 春节, as rules.md spells them out."""
    from peixun.core.workdays import clock_due

    assert clock_due(dt.date(2026, 9, 28), 5) == dt.date(2026, 10, 10)  # the 调休 Saturday
    assert clock_due(dt.date(2026, 2, 13), 3) == dt.date(2026, 2, 25)


def test_a_stopped_clock_keeps_the_days_used_and_a_resubmission_gets_at_least_one_day(reference_data):
    from peixun.core.workdays import clock_due, clock_used, workdays_left

    used = clock_used(dt.date(2026, 9, 28), dt.date(2026, 9, 30))  # Tue and Wed
    assert used == 2
    assert clock_due(dt.date(2026, 10, 12), 5, used) == dt.date(2026, 10, 15)
    assert clock_due(dt.date(2026, 10, 12), 5, 5) == dt.date(2026, 10, 13)  # never zero days
    assert workdays_left(dt.date(2026, 10, 15), dt.date(2026, 10, 12)) == 3
    assert workdays_left(dt.date(2026, 10, 15), dt.date(2026, 10, 15)) == 0
    assert workdays_left(dt.date(2026, 10, 15), dt.date(2026, 10, 19)) == -2


def test_the_decision_records_the_working_days_the_review_took(life, world, clock):
    """第九条: submitted Mon 11-02, approved Thu 11-05 → 3 working days used of 5."""
    klass = submitted(life)
    clock.travel(dt.date(2026, 11, 5))
    review = services.opening_approve(training_class=klass, actor=world.xincheng_reviewer)
    assert (review.workdays_used, review.limit_workdays) == (3, 5)


def test_the_reviewer_sees_the_start_date_check_as_it_was_on_submission(life, clock):
    """第八条 开展培训前申请: judged on the day of submission, not on the day the reviewer looks."""
    klass = submitted(life)
    clock.travel(START + dt.timedelta(days=1))
    problems = services.all_problems(services.opening_checks(klass, run_rules=False))
    assert not any("须晚于提交申请之日" in p for p in problems)


def test_a_malformed_lesson_move_is_a_clear_error(life):
    klass = approved(life)
    lesson = klass.lessons.first()
    with pytest.raises(PeixunError, match="请填写调整后的日期"):
        services.change_request_create(
            training_class=klass,
            actor=life.operator,
            kind=ChangeRequest.Kind.MOVE_LESSON,
            payload={"lesson": lesson.pk, "date": "明天", "start_time": "08:00"},
            reason="调课",
        )


def test_a_roster_file_is_all_or_nothing_and_takes_chinese_category_names(life, world):
    """第八条 学员信息: the enrollments.csv columns; one bad row writes nothing, every row is named."""
    import io

    from peixun.core.tabular import ImportFailed, read_table

    klass = life.draft(start=START, trainees=[])
    good = new_id_number("150103", dt.date(1990, 1, 1), False, seed=71)
    text = (
        "class_code,id_number,name,phone,category\n"
        f"{klass.code},{good},赵丽,13900000001,城镇登记失业人员\n"
        f"{klass.code},150102199001011235,钱伟,,RURAL_MIGRANT\n"
        f"OTHER,{good},赵丽,,学生\n"
    )

    def table():
        return read_table(
            io.BytesIO(text.encode()),
            filename="enrollments.csv",
            required=services.ROSTER_COLUMNS,
            optional=services.ROSTER_OPTIONAL,
        )

    with pytest.raises(ImportFailed) as failed:
        services.roster_import(training_class=klass, table=table(), actor=life.operator)
    lines = {(e.line, e.column) for e in failed.value.errors}
    assert (3, "id_number") in lines and {(4, "class_code"), (4, "category"), (4, "id_number")} <= lines
    assert klass.enrollments.count() == 0
    text = "\n".join(text.splitlines()[:2]) + "\n"
    assert services.roster_import(training_class=klass, table=table(), actor=life.operator) == {"rows": 1}
    assert klass.enrollments.get().category == "REGISTERED_UNEMPLOYED"
