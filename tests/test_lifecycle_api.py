"""The lifecycle over the JSON API: the same services as the pages, the same scope and errors."""

import datetime as dt

import pytest

from tests.factories import Clock, Lifecycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def life(world, monkeypatch):
    Clock(monkeypatch).travel(dt.date(2026, 11, 2))
    return Lifecycle(world)


def test_an_institution_submits_and_the_county_returns_over_the_api(client, life, world):
    """第八条 submission and 第九条 一次性告知 through /api/v1/classes."""
    klass = life.draft(start=dt.date(2026, 11, 23))
    client.force_login(life.operator)
    checks = client.get(f"/api/v1/classes/{klass.code}/checks").json()
    assert all(c["ok"] for c in checks) and len(checks) == 6
    submitted = client.post(f"/api/v1/classes/{klass.code}/submit").json()
    assert submitted["status"] == "OPENING_REVIEW" and submitted["review_due_date"] == "2026-11-09"

    client.force_login(world.huimin_reviewer)
    assert client.get(f"/api/v1/classes/{klass.code}").status_code == 404

    client.force_login(world.xincheng_reviewer)
    detail = client.get(f"/api/v1/classes/{klass.code}").json()
    assert set(detail["moves"]) == {"return_opening", "approve_opening", "reject_opening"}
    returned = client.post(
        f"/api/v1/classes/{klass.code}/return",
        {"deficiencies": ["请补充消防验收证明"]},
        content_type="application/json",
    ).json()
    assert returned["status"] == "OPENING_RETURNED"


def test_a_refused_move_answers_400_with_the_chinese_reason_and_changes_nothing(client, life, world):
    klass = life.draft(start=dt.date(2026, 11, 23))
    client.force_login(world.xincheng_reviewer)
    response = client.post(
        f"/api/v1/classes/{klass.code}/approve", {"reason": ""}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["message"] == "培训班当前状态为“草稿”，不能“批准开班”"
    klass.refresh_from_db()
    assert klass.status == "DRAFT"
    client.force_login(life.operator)
    assert client.get("/api/v1/classes?status=DRAFT").json()[0]["code"] == klass.code
