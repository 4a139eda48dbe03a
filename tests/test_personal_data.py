"""Personal data on the pages: masked by default, full ID number only on request, every view logged.

个人信息保护法 第五十一条: the processor adopts 去标识化 measures (三) — the 居民身份证号 and phone
number are shown masked unless the full value is needed — and sets 操作权限 by role (四): only roles
that verify identity or pay money may display the full number. 第五十四条 (合规审计) needs a record of
who processed what, so every view of a person's file and every display of a full ID number is a
PersonAccessLog row (网络安全法 第二十一条(三): logs of network operations are kept).
"""

import re
import uuid

import pytest
from django.urls import reverse

from peixun.core.models import PersonAccessLog

pytestmark = pytest.mark.django_db

MASKED_ID = re.compile(r"\b150102\*{8}\d{3}[\dX]\b")


def detail_url(person) -> str:
    return reverse("person_detail", args=[person.public_id])


def reveal_url(person) -> str:
    return reverse("person_reveal_id", args=[person.public_id])


def logs(kind, **filters):
    return PersonAccessLog.objects.filter(kind=kind, **filters)


# --- masking ------------------------------------------------------------------------------------


def test_stored_masked_form_keeps_area_code_and_last_four(world):
    full = world.li_ming.reveal_id_number()
    assert len(full) == 18
    assert world.li_ming.id_masked == full[:6] + "*" * 8 + full[14:]
    assert MASKED_ID.fullmatch(world.li_ming.id_masked)


def test_detail_page_shows_the_masked_id_number_and_never_the_full_one(client, world):
    """个人信息保护法 第五十一条(三): the full 身份证号 is not shown where the masked form suffices."""
    client.force_login(world.xincheng_reviewer)
    html = client.get(detail_url(world.li_ming)).content.decode()
    assert MASKED_ID.search(html)
    assert world.li_ming.id_masked in html
    full = world.li_ming.reveal_id_number()
    assert full not in html
    # Not even the hidden birth-date-and-sequence part appears on its own.
    assert full[6:14] + full[14:] not in html


@pytest.mark.parametrize(
    "user_attr",
    ["region_admin", "hohhot_admin", "xincheng_reviewer", "inspector", "inst_a_operator", "trainee"],
)
def test_no_role_sees_the_full_id_number_without_asking(client, world, user_attr):
    client.force_login(getattr(world, user_attr))
    full = world.li_ming.reveal_id_number()
    for url in (detail_url(world.li_ming), reverse("person_list"), "/api/v1/persons"):
        body = client.get(url).content.decode()
        assert full not in body, (user_attr, url)
    api = client.get(f"/api/v1/persons/{world.li_ming.public_id}").json()
    assert api["id_number_masked"] == world.li_ming.id_masked
    assert full not in str(api)


def test_phone_number_is_masked_on_the_detail_page(client, world):
    client.force_login(world.xincheng_reviewer)
    html = client.get(detail_url(world.li_ming)).content.decode()
    assert "139****2345" in html
    assert "13947112345" not in html


def test_audit_log_keeps_only_masked_id_and_phone(client, world):
    """The audit trail itself must not become a copy of the sensitive data."""
    client.force_login(world.region_admin)
    html = client.get(reverse("audit_list")).content.decode()
    assert world.li_ming.id_masked in html
    assert "139****2345" in html
    assert world.li_ming.reveal_id_number() not in html
    assert "13947112345" not in html
    assert world.chen_jing.reveal_id_number() not in html
    assert "15904718888" not in html


# --- revealing the full number ------------------------------------------------------------------


def test_reviewer_reveals_the_full_id_number_and_the_reveal_is_logged(client, world):
    client.force_login(world.xincheng_reviewer)
    response = client.post(reveal_url(world.li_ming))
    assert response.status_code == 200
    assert world.li_ming.reveal_id_number() in response.content.decode()
    log = logs(PersonAccessLog.Kind.REVEAL_ID).get()
    assert log.viewer == world.xincheng_reviewer
    assert log.person == world.li_ming
    assert log.ip == "127.0.0.1"


def test_each_reveal_is_logged_separately(client, world):
    client.force_login(world.hohhot_admin)
    client.post(reveal_url(world.li_ming))
    client.post(reveal_url(world.chen_jing))
    client.post(reveal_url(world.li_ming))
    assert logs(PersonAccessLog.Kind.REVEAL_ID, person=world.li_ming).count() == 2
    assert logs(PersonAccessLog.Kind.REVEAL_ID, person=world.chen_jing).count() == 1


def test_inspector_cannot_reveal_and_nothing_is_logged(client, world):
    """督导检查员 work from masked numbers: the reveal answers 404 like a page that does not exist."""
    client.force_login(world.inspector)
    response = client.post(reveal_url(world.li_ming))
    assert response.status_code == 404
    assert world.li_ming.reveal_id_number() not in response.content.decode()
    assert not logs(PersonAccessLog.Kind.REVEAL_ID).exists()


def test_reveal_service_itself_refuses_an_inspector(world):
    """The role check lives in the service too, so an API or importer calling it cannot bypass it."""
    from peixun.accounts.services import person_reveal_id
    from peixun.core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        person_reveal_id(person=world.li_ming, viewer=world.inspector)
    assert not PersonAccessLog.objects.exists()
    assert (
        person_reveal_id(person=world.li_ming, viewer=world.hohhot_admin) == world.li_ming.reveal_id_number()
    )
    assert logs(PersonAccessLog.Kind.REVEAL_ID, viewer=world.hohhot_admin).count() == 1


def test_detail_page_offers_the_reveal_button_only_to_roles_that_may_reveal(client, world):
    client.force_login(world.inspector)
    assert reveal_url(world.li_ming) not in client.get(detail_url(world.li_ming)).content.decode()
    client.force_login(world.xincheng_reviewer)
    assert reveal_url(world.li_ming) in client.get(detail_url(world.li_ming)).content.decode()


def test_reveal_outside_scope_is_404_and_not_logged(client, world):
    client.force_login(world.huimin_reviewer)
    response = client.post(reveal_url(world.li_ming))
    assert response.status_code == 404
    assert world.li_ming.reveal_id_number() not in response.content.decode()
    assert not logs(PersonAccessLog.Kind.REVEAL_ID).exists()


def test_reveal_of_a_missing_person_is_404(client, world):
    client.force_login(world.region_admin)
    response = client.post(reverse("person_reveal_id", args=[uuid.uuid4()]))
    assert response.status_code == 404
    assert not PersonAccessLog.objects.exists()


def test_reveal_needs_a_post_so_a_link_or_prefetch_cannot_trigger_it(client, world):
    client.force_login(world.xincheng_reviewer)
    response = client.get(reveal_url(world.li_ming))
    assert response.status_code == 405
    assert not logs(PersonAccessLog.Kind.REVEAL_ID).exists()


def test_trainee_may_reveal_only_their_own_number(client, world):
    client.force_login(world.trainee)
    own = client.post(reveal_url(world.li_ming))
    assert own.status_code == 200
    assert world.li_ming.reveal_id_number() in own.content.decode()
    assert client.post(reveal_url(world.chen_jing)).status_code == 404
    assert list(logs(PersonAccessLog.Kind.REVEAL_ID).values_list("person", flat=True)) == [world.li_ming.pk]


def test_anonymous_reveal_redirects_to_login_and_logs_nothing(client, world):
    response = client.post(reveal_url(world.li_ming))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not PersonAccessLog.objects.exists()


# --- logging views of a file --------------------------------------------------------------------


def test_every_detail_page_view_writes_a_view_file_row(client, world):
    client.force_login(world.xincheng_reviewer)
    for expected in (1, 2, 3):
        assert client.get(detail_url(world.li_ming)).status_code == 200
        assert logs(PersonAccessLog.Kind.VIEW_FILE, viewer=world.xincheng_reviewer).count() == expected
    log = logs(PersonAccessLog.Kind.VIEW_FILE).first()
    assert log.person == world.li_ming
    assert log.ip == "127.0.0.1"


def test_detail_page_view_by_inspector_is_logged_too(client, world):
    client.force_login(world.inspector)
    client.get(detail_url(world.chen_jing))
    assert logs(PersonAccessLog.Kind.VIEW_FILE, viewer=world.inspector, person=world.chen_jing).count() == 1


def test_a_refused_detail_view_writes_no_row(client, world):
    client.force_login(world.huimin_reviewer)
    assert client.get(detail_url(world.li_ming)).status_code == 404
    assert not PersonAccessLog.objects.exists()


def test_api_detail_view_is_logged(client, world):
    client.force_login(world.inst_a_operator)
    response = client.get(f"/api/v1/persons/{world.li_ming.public_id}")
    assert response.status_code == 200
    log = logs(PersonAccessLog.Kind.VIEW_FILE).get()
    assert log.viewer == world.inst_a_operator
    assert log.person == world.li_ming


def test_a_refused_api_detail_view_writes_no_row(client, world):
    client.force_login(world.inst_a_operator)
    assert client.get(f"/api/v1/persons/{world.chen_jing.public_id}").status_code == 404
    assert not PersonAccessLog.objects.exists()


# --- the access-log page ------------------------------------------------------------------------


def test_region_admin_sees_the_access_log(client, world):
    client.force_login(world.xincheng_reviewer)
    client.get(detail_url(world.li_ming))
    client.post(reveal_url(world.li_ming))
    client.force_login(world.region_admin)
    response = client.get(reverse("access_log"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "赵晓东" in html
    assert "新城区就业服务中心" in html
    assert "查看人员档案" in html
    assert "查看完整身份证号" in html
    assert world.li_ming.id_masked in html
    assert world.li_ming.reveal_id_number() not in html
    assert "共2条" in html


@pytest.mark.parametrize(
    "user_attr",
    ["hohhot_admin", "baotou_admin", "xincheng_reviewer", "inspector", "inst_a_operator", "trainee"],
)
def test_access_log_page_is_404_for_everyone_but_the_region_admin(client, world, user_attr):
    client.force_login(getattr(world, user_attr))
    assert client.get(reverse("access_log")).status_code == 404


def test_access_log_is_not_in_a_city_admins_menu(client, world):
    client.force_login(world.hohhot_admin)
    assert reverse("access_log") not in client.get(reverse("home")).content.decode()
    client.force_login(world.region_admin)
    assert reverse("access_log") in client.get(reverse("home")).content.decode()
