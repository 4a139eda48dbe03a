"""Every link the left menu shows a user opens for that user: the menu and the views agree."""

import pytest

from peixun.web.context import menu_for

pytestmark = pytest.mark.django_db


def test_every_menu_link_opens_for_every_role(client, world):
    users = [
        world.region_admin,
        world.hohhot_admin,
        world.baotou_admin,
        world.xincheng_reviewer,
        world.inspector,
        world.inst_a_operator,
        world.trainee,
    ]
    for user in users:
        client.force_login(user)
        for _title, items in menu_for(user):
            for item in items:
                response = client.get(item["url"])
                assert response.status_code == 200, (
                    f"{user.username} {item['label']} {item['url']}: {response.status_code}"
                )
        client.logout()
