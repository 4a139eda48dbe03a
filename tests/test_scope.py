"""Scope isolation: every user sees exactly the people of their area, organisation or self.

个人信息保护法 第六条 (最小必要) and 第五十一条(四) (操作权限 by role and office): an official sees the people
of the area their bureau is responsible for, an institution the people it registered, a trainee
only themself. A foreign person answers 404 exactly like a non-existent one, so that existence
cannot be probed.
"""

import datetime as dt
import uuid

import pytest
from django.urls import reverse

from peixun.accounts.models import Organisation
from peixun.accounts.roles import Role
from peixun.accounts.scope import areas_covered, restrict, scope_of
from peixun.accounts.services import organisation_create, person_register, user_create
from peixun.core.models import Area, AuditEntry, Person
from tests.conftest import PASSWORD, new_id_number

pytestmark = pytest.mark.django_db

# (user attribute of World, the people (World attributes) that user may see)
VISIBILITY = [
    ("region_admin", {"li_ming", "chen_jing"}),
    ("hohhot_admin", {"li_ming", "chen_jing"}),
    ("baotou_admin", set()),
    ("xincheng_reviewer", {"li_ming"}),
    ("huimin_reviewer", {"chen_jing"}),
    ("inspector", {"li_ming", "chen_jing"}),
    ("inst_a_operator", {"li_ming"}),
    ("inst_b_operator", {"chen_jing"}),
    ("trainee", {"li_ming"}),
]
PEOPLE = ("li_ming", "chen_jing")
VISIBILITY_IDS = [user for user, _ in VISIBILITY]


def visible_pairs():
    """Every (user, person, visible?) combination, for the detail-page and API checks."""
    return [
        pytest.param(user, person, person in seen, id=f"{user}-{person}")
        for user, seen in VISIBILITY
        for person in PEOPLE
    ]


# --- restrict() ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("user_attr", "expected"), VISIBILITY, ids=VISIBILITY_IDS)
def test_restrict_returns_exactly_the_people_in_the_users_scope(world, user_attr, expected):
    user = getattr(world, user_attr)
    seen = set(restrict(Person.objects.all(), user).values_list("pk", flat=True))
    assert seen == {getattr(world, p).pk for p in expected}


def test_restrict_by_institution_does_not_repeat_a_person_registered_twice(world):
    """A person linked to the same institution as trainee and teacher is listed once."""
    person_register(
        id_number=world.li_ming.reveal_id_number(),
        name="李明",
        actor=None,
        organisation=world.inst_a,
        kind="TEACHER",
    )
    rows = list(restrict(Person.objects.all(), world.inst_a_operator))
    assert rows == [world.li_ming]


def test_anonymous_and_deactivated_users_see_no_one(world):
    from django.contrib.auth.models import AnonymousUser

    assert not restrict(Person.objects.all(), AnonymousUser()).exists()
    world.hohhot_admin.is_active = False
    world.hohhot_admin.save(update_fields=["is_active"])
    world.hohhot_admin.refresh_from_db()
    assert scope_of(world.hohhot_admin).nothing
    assert not restrict(Person.objects.all(), world.hohhot_admin).exists()


def test_restrict_refuses_a_model_without_scope_paths(world):
    """A model that never declared how it is scoped cannot leak by default."""
    from peixun.core.models import CalendarDay

    with pytest.raises(TypeError):
        restrict(CalendarDay.objects.all(), world.region_admin)


# --- the people list page -----------------------------------------------------------------------


@pytest.mark.parametrize(("user_attr", "expected"), VISIBILITY, ids=VISIBILITY_IDS)
def test_person_list_page_shows_only_people_in_scope(client, world, user_attr, expected):
    client.force_login(getattr(world, user_attr))
    response = client.get(reverse("person_list"))
    assert response.status_code == 200
    html = response.content.decode()
    for attr in PEOPLE:
        person = getattr(world, attr)
        link = reverse("person_detail", args=[person.public_id])
        row = f'<a href="{link}">{person.name}</a>'
        if attr in expected:
            assert row in html, f"{user_attr} should see {person.name}"
            assert person.id_masked in html
        else:
            assert row not in html, f"{user_attr} must not see {person.name}"
            assert str(person.public_id) not in html
            assert person.id_masked not in html


def test_person_list_of_baotou_admin_is_empty(client, world):
    client.force_login(world.baotou_admin)
    html = client.get(reverse("person_list")).content.decode()
    assert "没有符合条件的人员" in html
    assert "共0条" in html


def test_person_list_area_choices_are_limited_to_the_users_scope(client, world):
    """The area filter offers only areas the user is responsible for."""
    client.force_login(world.xincheng_reviewer)
    html = client.get(reverse("person_list")).content.decode()
    assert 'value="150102"' in html
    assert 'value="150103"' not in html
    assert 'value="150202"' not in html

    client.force_login(world.baotou_admin)
    html = client.get(reverse("person_list")).content.decode()
    assert 'value="150202"' in html
    assert 'value="150102"' not in html

    client.force_login(world.region_admin)
    html = client.get(reverse("person_list")).content.decode()
    assert 'value="150102"' in html
    assert 'value="150202"' in html
    assert 'value="150781"' in html


def test_person_list_offers_no_area_filter_to_trainees_and_institutions(client, world):
    for user in (world.trainee, world.inst_a_operator):
        client.force_login(user)
        html = client.get(reverse("person_list")).content.decode()
        assert 'name="area"' not in html, user.username


def test_person_list_area_filter_narrows_within_scope(client, world):
    client.force_login(world.hohhot_admin)
    html = client.get(reverse("person_list"), {"area": "150103"}).content.decode()
    assert str(world.chen_jing.public_id) in html
    assert str(world.li_ming.public_id) not in html
    # Filtering by the whole city keeps both counties.
    html = client.get(reverse("person_list"), {"area": "150100"}).content.decode()
    assert str(world.chen_jing.public_id) in html
    assert str(world.li_ming.public_id) in html


def test_person_list_area_filter_cannot_widen_scope(client, world):
    """Asking for a foreign county's code in the URL shows nothing, not that county's people."""
    client.force_login(world.xincheng_reviewer)
    html = client.get(reverse("person_list"), {"area": "150103"}).content.decode()
    assert str(world.chen_jing.public_id) not in html
    assert str(world.li_ming.public_id) not in html


def test_person_list_name_search_cannot_find_foreign_people(client, world):
    client.force_login(world.xincheng_reviewer)
    html = client.get(reverse("person_list"), {"q": "陈静"}).content.decode()
    assert str(world.chen_jing.public_id) not in html
    assert "共0条" in html


# --- the detail page ----------------------------------------------------------------------------


@pytest.mark.parametrize(("user_attr", "person_attr", "visible"), visible_pairs())
def test_person_detail_page_is_404_outside_scope(client, world, user_attr, person_attr, visible):
    client.force_login(getattr(world, user_attr))
    person = getattr(world, person_attr)
    response = client.get(reverse("person_detail", args=[person.public_id]))
    if visible:
        assert response.status_code == 200
        assert person.id_masked in response.content.decode()
    else:
        assert response.status_code == 404


def test_foreign_person_detail_answers_exactly_like_a_missing_one(client, world):
    """The 404 for another county's person cannot be told apart from a uuid that does not exist."""
    client.force_login(world.xincheng_reviewer)
    foreign = client.get(reverse("person_detail", args=[world.chen_jing.public_id]))
    missing = client.get(reverse("person_detail", args=[uuid.uuid4()]))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    assert "陈静" not in foreign.content.decode()


def test_institution_sees_only_its_own_registration_of_a_shared_person(client, world):
    """When two institutions registered the same person, neither learns of the other's link."""
    person_register(
        id_number=world.li_ming.reveal_id_number(), name="李明", actor=None, organisation=world.inst_b
    )
    client.force_login(world.inst_b_operator)
    html = client.get(reverse("person_detail", args=[world.li_ming.public_id])).content.decode()
    assert "青城家政职业培训学校（学员）" in html
    assert "鸿翔职业技能培训学校" not in html
    client.force_login(world.hohhot_admin)
    html = client.get(reverse("person_detail", args=[world.li_ming.public_id])).content.decode()
    assert "青城家政职业培训学校（学员）" in html
    assert "鸿翔职业技能培训学校（学员）" in html


# --- the API ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("user_attr", "expected"), VISIBILITY, ids=VISIBILITY_IDS)
def test_api_person_list_returns_only_people_in_scope(client, world, user_attr, expected):
    client.force_login(getattr(world, user_attr))
    response = client.get("/api/v1/persons")
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()}
    assert ids == {str(getattr(world, p).public_id) for p in expected}


def test_api_person_list_name_filter_stays_in_scope(client, world):
    client.force_login(world.inst_a_operator)
    assert client.get("/api/v1/persons", {"name": "陈"}).json() == []
    rows = client.get("/api/v1/persons", {"name": "李"}).json()
    assert [r["id"] for r in rows] == [str(world.li_ming.public_id)]


@pytest.mark.parametrize(("user_attr", "person_attr", "visible"), visible_pairs())
def test_api_person_detail_is_404_outside_scope(client, world, user_attr, person_attr, visible):
    client.force_login(getattr(world, user_attr))
    person = getattr(world, person_attr)
    response = client.get(f"/api/v1/persons/{person.public_id}")
    if visible:
        assert response.status_code == 200
        assert response.json()["id"] == str(person.public_id)
        assert response.json()["id_number_masked"] == person.id_masked
    else:
        assert response.status_code == 404


def test_api_foreign_person_answers_exactly_like_a_missing_one(client, world):
    client.force_login(world.inst_b_operator)
    foreign = client.get(f"/api/v1/persons/{world.li_ming.public_id}")
    missing = client.get(f"/api/v1/persons/{uuid.uuid4()}")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json() == {"code": "not_found", "message": "对象不存在或无权查看"}


# --- anonymous ----------------------------------------------------------------------------------


def test_anonymous_person_list_redirects_to_login(client, world):
    response = client.get(reverse("person_list"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('person_list')}"


def test_anonymous_person_detail_redirects_to_login_without_revealing_anything(client, world):
    url = reverse("person_detail", args=[world.li_ming.public_id])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "李明" not in response.content.decode()


@pytest.mark.parametrize("path", ["/api/v1/persons", "/api/v1/me", "/api/v1/areas"])
def test_anonymous_api_request_gets_401(client, world, path):
    response = client.get(path)
    assert response.status_code == 401


def test_anonymous_api_person_detail_gets_401_not_404(client, world):
    response = client.get(f"/api/v1/persons/{world.li_ming.public_id}")
    assert response.status_code == 401
    assert "李明" not in response.content.decode()


# --- the audit log ------------------------------------------------------------------------------


def test_baotou_audit_page_shows_nothing_about_hohhot_people(client, world):
    """审计日志 entries carry the personal data's area; another city's officials never see them."""
    client.force_login(world.baotou_admin)
    response = client.get(reverse("audit_list"))
    assert response.status_code == 200
    html = response.content.decode()
    # The page does list 包头's own entries (the checks below would pass vacuously on an empty page).
    assert "organisation.created" in html
    assert "user.created" in html
    for person in (world.li_ming, world.chen_jing):
        assert person.name not in html
        assert person.id_masked not in html
    assert "person.created" not in html
    assert "person.affiliated" not in html
    html = client.get(reverse("audit_list"), {"action": "person"}).content.decode()
    assert "暂无记录" in html


def test_hohhot_audit_page_shows_its_own_peoples_entries(client, world):
    client.force_login(world.hohhot_admin)
    html = client.get(reverse("audit_list")).content.decode()
    assert world.li_ming.id_masked in html
    assert world.chen_jing.id_masked in html
    assert "person.created" in html
    assert "包头市人社局" not in html


def test_restricted_audit_entries_of_a_county_reviewer_stay_in_the_county(world):
    entries = restrict(AuditEntry.objects.filter(object_type="core.Person"), world.xincheng_reviewer)
    assert entries.exists()
    assert set(entries.values_list("object_id", flat=True)) == {str(world.li_ming.public_id)}


# --- which areas a bureau covers ----------------------------------------------------------------


def codes(ids) -> set[str]:
    return set(Area.objects.filter(id__in=ids).values_list("code", flat=True))


def test_city_coverage_excludes_manzhouli_which_reports_to_the_region(reference_data):
    """满洲里市 (150781) is under 呼伦贝尔市 in GB/T 2260 but reports directly to the region."""
    covered = codes(areas_covered(Area.objects.get(code="150700")))
    assert "150781" not in covered
    assert {"150700", "150702", "150703", "150721", "150782", "150785"} <= covered
    # 呼伦贝尔市 and its 13 other counties; nothing of another city.
    assert covered == {
        a.code for a in Area.objects.filter(code__startswith="1507") if a.kind != Area.Kind.COUNTY_DIRECT
    }


def test_city_coverage_excludes_erenhot_under_xilingol(reference_data):
    covered = codes(areas_covered(Area.objects.get(code="152500")))
    assert "152501" not in covered
    assert "152502" in covered


def test_region_covers_everything_and_a_county_only_itself(reference_data):
    region = codes(areas_covered(Area.objects.get(code="150000")))
    assert {"150781", "152501", "150102", "150700"} <= region
    assert len(region) == Area.objects.count()
    assert codes(areas_covered(Area.objects.get(code="150102"))) == {"150102"}
    assert codes(areas_covered(Area.objects.get(code="150781"))) == {"150781"}


def test_hulunbuir_bureau_sees_its_counties_but_not_manzhouli(client, world):
    bureau = organisation_create(
        name="呼伦贝尔市人社局",
        kind=Organisation.Kind.CITY_BUREAU,
        area=Area.objects.get(code="150700"),
        actor=None,
    )
    admin = user_create(
        username="bao_hulunbuir",
        password=PASSWORD,
        role=Role.CITY_ADMIN,
        display_name="包玉兰",
        organisation=bureau,
        actor=None,
    )
    hailar, _ = person_register(
        id_number=new_id_number("150702", dt.date(1990, 1, 1), True, seed=11), name="巴特尔", actor=None
    )
    manzhouli, _ = person_register(
        id_number=new_id_number("150781", dt.date(1991, 2, 2), False, seed=12), name="乌兰", actor=None
    )
    assert hailar.area.code == "150702"
    assert manzhouli.area.code == "150781"

    seen = set(restrict(Person.objects.all(), admin))
    assert seen == {hailar}
    assert manzhouli in restrict(Person.objects.all(), world.region_admin)

    client.force_login(admin)
    assert client.get(reverse("person_detail", args=[hailar.public_id])).status_code == 200
    assert client.get(reverse("person_detail", args=[manzhouli.public_id])).status_code == 404
    assert [r["id"] for r in client.get("/api/v1/persons").json()] == [str(hailar.public_id)]


@pytest.mark.parametrize(
    ("user_attr", "expected"),
    [
        (
            "xincheng_reviewer",
            {
                "username": "zhao_xincheng",
                "name": "赵晓东",
                "role": "REVIEWER",
                "role_label": "审核员",
                "organisation": "新城区就业服务中心",
                "area_code": "150102",
            },
        ),
        (
            "trainee",
            {
                "username": "liming",
                "name": "李明",
                "role": "TRAINEE",
                "role_label": "学员",
                "organisation": None,
                "area_code": None,
            },
        ),
    ],
)
def test_api_me_describes_the_caller_and_their_scope_anchor(client, world, user_attr, expected):
    client.force_login(getattr(world, user_attr))
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json() == expected


def test_the_signed_in_user_comes_with_organisation_and_area(client, world):
    """The scope of every request is computed from the user's organisation and its area: they are
    read with the user, and computing the scope asks the database nothing more."""
    from django.contrib.auth import get_user
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from peixun.accounts.scope import scope_of

    for signed_in in (world.hohhot_admin, world.xincheng_reviewer):
        client.force_login(signed_in)
        request = RequestFactory().get("/")
        request.session = client.session
        user = get_user(request)  # what the authentication middleware gives each request
        assert user.pk == signed_in.pk
        with CaptureQueriesContext(connection) as queries:
            scope = scope_of(user)
        assert world.xincheng_reviewer.organisation.area_id in scope.area_ids
        # A county's scope is its area; a city's needs one query for the counties under it.
        assert len(queries) == (0 if signed_in is world.xincheng_reviewer else 1)
