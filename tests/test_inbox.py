"""Notifications and pending work around the lifecycle's deadlines (第九条: 5个工作日; overdue
reviews escalate to the city)."""

import datetime as dt

import pytest
from django.urls import reverse

from peixun.inbox.models import Notification
from peixun.training import services
from peixun.web.pending import pending_for
from tests.factories import Clock, Lifecycle

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 2)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(monkeypatch)
    c.travel(MONDAY)
    return c


@pytest.fixture
def submitted(world, clock, django_capture_on_commit_callbacks):
    life = Lifecycle(world)
    klass = life.draft(start=dt.date(2026, 11, 23))
    with django_capture_on_commit_callbacks(execute=True):
        services.opening_submit(training_class=klass, actor=life.operator)
    return life, klass


def test_the_county_reviewer_is_told_and_another_county_is_not(world, submitted):
    """第九条: the application arrives with its due date at the county that reviews it."""
    _life, klass = submitted
    mine = Notification.objects.get(user=world.xincheng_reviewer)
    assert klass.code in mine.title and "2026-11-09" in mine.title
    assert not Notification.objects.filter(user=world.huimin_reviewer).exists()


def test_pending_work_shows_days_left_and_the_city_sees_only_what_is_overdue(world, submitted, clock):
    _life, klass = submitted
    item = next(i for i in pending_for(world.xincheng_reviewer) if klass.code in i.title)
    assert "剩余5个工作日" in item.title and item.urgency == "info" and item.due == dt.date(2026, 11, 9)
    assert not any(klass.code in i.title for i in pending_for(world.hohhot_admin))
    clock.travel(dt.date(2026, 11, 10))
    overdue = next(i for i in pending_for(world.hohhot_admin) if klass.code in i.title)
    assert (
        overdue.urgency == "danger"
        and "已逾期1个工作日" in overdue.title
        and overdue.title.startswith("逾期督办")
    )
    assert not any(klass.code in i.title for i in pending_for(world.baotou_admin))


def test_overdue_reviews_escalate_to_the_city_once(
    world, submitted, clock, django_capture_on_commit_callbacks
):
    clock.travel(dt.date(2026, 11, 10))
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.deadline_reminders()
    escalated = Notification.objects.filter(user=world.hohhot_admin, level="danger")
    assert escalated.count() == 1 and "逾期" in escalated.get().title
    assert not Notification.objects.filter(user=world.baotou_admin).exists()


def test_a_return_tells_the_institution_and_its_pending_list_asks_for_correction(
    world, submitted, django_capture_on_commit_callbacks
):
    life, klass = submitted
    with django_capture_on_commit_callbacks(execute=True):
        services.review_return(
            training_class=klass, actor=world.xincheng_reviewer, deficiencies=["缺少场地租赁合同"]
        )
    told = Notification.objects.get(user=life.operator)
    assert "退回补正" in told.title and "共1项" in told.title
    assert any("请按告知事项补正" in i.title for i in pending_for(life.operator))


def test_the_inbox_shows_only_the_users_own_messages(client, world, submitted):
    client.force_login(world.xincheng_reviewer)
    page = client.get(reverse("inbox:inbox")).content.decode()
    assert submitted[1].code in page
    others = Notification.objects.get(user=world.xincheng_reviewer)
    client.force_login(world.huimin_reviewer)
    assert submitted[1].code not in client.get(reverse("inbox:inbox")).content.decode()
    client.post(reverse("inbox:read", args=[others.pk]))
    others.refresh_from_db()
    assert others.read_at is None  # not theirs: nothing happens
    client.force_login(world.xincheng_reviewer)
    response = client.post(reverse("inbox:read", args=[others.pk]))
    others.refresh_from_db()
    assert others.read_at is not None and response.url == reverse("training:detail", args=[submitted[1].pk])
