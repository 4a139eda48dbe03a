import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_page_renders_in_chinese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "内蒙古自治区职业技能培训管理系统" in response.content.decode()


def test_every_role_reaches_its_home_page(client, world):
    for user in [
        world.region_admin,
        world.hohhot_admin,
        world.xincheng_reviewer,
        world.inspector,
        world.inst_a_operator,
        world.trainee,
    ]:
        client.force_login(user)
        response = client.get(reverse("home"))
        assert response.status_code == 200, user.username
        assert "待办事项" in response.content.decode()
