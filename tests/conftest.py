"""Shared fixtures: the people of peixun's tests, each in their role.

Areas, the calendar and rule settings v1 come from the data migration; transactional tests
(browser tests) flush the database, so `reference_data` loads them again idempotently.
"""

import datetime as dt
import random

import pytest
from hypothesis import settings as hypothesis_settings

from peixun.accounts.models import Organisation, User
from peixun.accounts.roles import Role
from peixun.accounts.services import organisation_create, person_register, user_create
from peixun.core.models import Area, CalendarDay, CalendarYear, RuleSettings
from peixun.core.reference import ensure_rule_settings, load_areas, seed_calendar_days
from peixun.web.demo import make_id_number

# Property tests and the API fuzzing draw the same examples on every run: a CI run must not turn red
# on a case no earlier run saw. New cases come from changing the tests, not from chance.
hypothesis_settings.register_profile("peixun", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.load_profile("peixun")

PASSWORD = "Test-Passw0rd-2026"


@pytest.fixture
def reference_data(db):
    load_areas(Area)
    ensure_rule_settings(RuleSettings)
    seed_calendar_days(CalendarYear, CalendarDay)


def area(code: str) -> Area:
    return Area.objects.get(code=code)


def new_id_number(
    area_code: str = "150102", birth: dt.date = dt.date(1990, 5, 17), male: bool = True, seed=None
):
    return make_id_number(random.Random(seed), area_code, birth, male)


class World:
    """Two cities, two counties in one city, two institutions, and a user for each role."""

    def __init__(self):
        self.region = organisation_create(
            name="内蒙古自治区人力资源和社会保障厅",
            kind=Organisation.Kind.REGION_DEPT,
            area=area("150000"),
            actor=None,
        )
        self.hohhot = organisation_create(
            name="呼和浩特市人社局", kind=Organisation.Kind.CITY_BUREAU, area=area("150100"), actor=None
        )
        self.baotou = organisation_create(
            name="包头市人社局", kind=Organisation.Kind.CITY_BUREAU, area=area("150200"), actor=None
        )
        self.xincheng = organisation_create(
            name="新城区就业服务中心", kind=Organisation.Kind.COUNTY_BUREAU, area=area("150102"), actor=None
        )
        self.huimin = organisation_create(
            name="回民区就业服务中心", kind=Organisation.Kind.COUNTY_BUREAU, area=area("150103"), actor=None
        )
        self.inst_a = organisation_create(
            name="鸿翔职业技能培训学校", kind=Organisation.Kind.INSTITUTION, area=area("150102"), actor=None
        )
        self.inst_b = organisation_create(
            name="青城家政职业培训学校", kind=Organisation.Kind.INSTITUTION, area=area("150103"), actor=None
        )
        self.region_admin = self.user("wang_region", Role.REGION_ADMIN, "王建国", self.region)
        self.hohhot_admin = self.user("zhang_hohhot", Role.CITY_ADMIN, "张海燕", self.hohhot)
        self.baotou_admin = self.user("liu_baotou", Role.CITY_ADMIN, "刘志强", self.baotou)
        self.xincheng_reviewer = self.user("zhao_xincheng", Role.REVIEWER, "赵晓东", self.xincheng)
        self.huimin_reviewer = self.user("wu_huimin", Role.REVIEWER, "吴红梅", self.huimin)
        self.inspector = self.user("sun_inspector", Role.INSPECTOR, "苏日娜", self.hohhot)
        self.inst_a_operator = self.user("ma_hongxiang", Role.INSTITUTION_OPERATOR, "马文华", self.inst_a)
        self.inst_b_operator = self.user("he_qingcheng", Role.INSTITUTION_OPERATOR, "何春雨", self.inst_b)
        # 李明 lives in 新城区 and is on institution A's roster; 陈静 lives in 回民区, institution B.
        self.li_ming, _ = person_register(
            id_number=new_id_number("150102", dt.date(1988, 3, 9), True, seed=1),
            name="李明",
            actor=None,
            organisation=self.inst_a,
            phone="13947112345",
        )
        self.chen_jing, _ = person_register(
            id_number=new_id_number("150103", dt.date(1995, 11, 2), False, seed=2),
            name="陈静",
            actor=None,
            organisation=self.inst_b,
            phone="15904718888",
        )
        self.trainee = user_create(
            username="liming",
            password=PASSWORD,
            role=Role.TRAINEE,
            display_name="李明",
            person=self.li_ming,
            actor=None,
        )

    @staticmethod
    def user(username, role, name, org) -> User:
        return user_create(
            username=username, password=PASSWORD, role=role, display_name=name, organisation=org, actor=None
        )


@pytest.fixture
def world(reference_data) -> World:
    return World()
