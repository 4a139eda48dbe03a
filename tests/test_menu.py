"""Every link the left menu shows a user opens for that user: the menu and the views agree."""

import pytest
from django.urls import reverse

from peixun.web.context import MENU, menu_for

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


def _hrefs(user) -> set[str]:
    return {item["url"] for _title, items in menu_for(user) for item in items}


def test_the_page_shows_the_menu_of_the_users_role_marked_at_the_current_page(client, world):
    """The menu is built once per role and page; each user still sees their own role's menu."""
    region_only = _hrefs(world.region_admin) - _hrefs(world.inst_a_operator)
    assert region_only
    client.force_login(world.region_admin)
    page = client.get("/classes/").content.decode()
    assert 'class="nav-link active" href="/classes/"' in page
    assert all(f'href="{url}"' in page for url in _hrefs(world.region_admin))
    assert 'class="nav-link active" href="/classes/"' not in client.get("/").content.decode()
    client.logout()
    client.force_login(world.inst_a_operator)
    page = client.get("/classes/").content.decode()
    assert 'class="nav-link active" href="/classes/"' in page
    assert not any(f'class="nav-link" href="{url}"' in page for url in region_only)


def test_an_inactive_users_menu_is_not_taken_from_the_role_cache(world):
    user = world.xincheng_reviewer
    active = menu_for(user)
    user.is_active = False
    # Without permissions only the items open to everyone of the role remain.
    assert _hrefs(user) < {item["url"] for _t, items in active for item in items}
    assert _hrefs(user) == {
        reverse(i.url_name)
        for _t, items in MENU
        for i in items
        if i.perm is None and (i.roles is None or user.role in i.roles)
    }
