"""Demo data: organisations and a user for every role in a few cities and counties, with
realistic Chinese names and valid ID numbers. Idempotent: running it twice changes nothing.

Later issues extend `seed_demo()` with classes, attendance and subsidies.
"""

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction

from peixun.accounts.models import Organisation, User
from peixun.accounts.roles import Role
from peixun.accounts.services import organisation_create, person_register, user_create
from peixun.core.identity import id_check_char
from peixun.core.models import Area

DEMO_PASSWORD = "Peixun@2026"

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "建国志强秀英桂兰海燕丽娜晓东红梅玉兰文华春雨明辉丽华永胜淑珍宏伟秀兰国庆金凤巴特尔乌兰其其格敖日格勒斯琴高娃那仁满都拉苏日娜宝音图雅额尔敦"
MONGOLIAN_NAMES = [
    "巴特尔",
    "乌兰",
    "其其格",
    "敖日格勒",
    "斯琴高娃",
    "那仁",
    "满都拉",
    "苏日娜",
    "宝音",
    "图雅",
]


def make_id_number(rng: random.Random, area_code: str, birth: dt.date, male: bool) -> str:
    seq = rng.randrange(0, 100) * 10 + rng.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
    first17 = f"{area_code}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def make_name(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return rng.choice(MONGOLIAN_NAMES) + rng.choice(["", "图", "夫"])
    surname = rng.choice(SURNAMES)
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2])))
    return surname + given


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    name: str
    organisation: str


ORGS = [
    # (key, name, kind, area code)
    ("region", "内蒙古自治区人力资源和社会保障厅", Organisation.Kind.REGION_DEPT, "150000"),
    ("hohhot", "呼和浩特市人力资源和社会保障局", Organisation.Kind.CITY_BUREAU, "150100"),
    ("baotou", "包头市人力资源和社会保障局", Organisation.Kind.CITY_BUREAU, "150200"),
    ("chifeng", "赤峰市人力资源和社会保障局", Organisation.Kind.CITY_BUREAU, "150400"),
    ("xincheng", "新城区就业服务中心", Organisation.Kind.COUNTY_BUREAU, "150102"),
    ("huimin", "回民区就业服务中心", Organisation.Kind.COUNTY_BUREAU, "150103"),
    ("kundulun", "昆都仑区就业服务中心", Organisation.Kind.COUNTY_BUREAU, "150203"),
    ("hongshan", "红山区就业服务中心", Organisation.Kind.COUNTY_BUREAU, "150402"),
    ("inst_hx", "呼和浩特市鸿翔职业技能培训学校", Organisation.Kind.INSTITUTION, "150102"),
    ("inst_bt", "包头市钢城职业技能培训学校", Organisation.Kind.INSTITUTION, "150203"),
    ("inst_cf", "赤峰市红山区巾帼家政职业培训学校", Organisation.Kind.INSTITUTION, "150402"),
    ("eval", "内蒙古职业技能鉴定指导中心", Organisation.Kind.EVALUATION_BODY, "150105"),
    ("platform", "北疆技能在线学习平台", Organisation.Kind.ONLINE_PLATFORM, "150105"),
]
ORG_USCC = {
    "inst_hx": "52150102MJY0713E4X",
    "inst_bt": "52150203MJY1234K3T",
    "inst_cf": "52150402MJY5522P8C",
    "eval": "12150000460012345L",
    "platform": "91150105MA0Q8RT52A",
}

USERS = [
    # (username, role, display name, org key)
    ("region_admin", Role.REGION_ADMIN, "王建国", "region"),
    ("region_finance", Role.FINANCE, "李秀英", "region"),
    ("region_inspector", Role.INSPECTOR, "巴特尔", "region"),
    ("hohhot_admin", Role.CITY_ADMIN, "张海燕", "hohhot"),
    ("hohhot_inspector", Role.INSPECTOR, "苏日娜", "hohhot"),
    ("baotou_admin", Role.CITY_ADMIN, "刘志强", "baotou"),
    ("chifeng_admin", Role.CITY_ADMIN, "陈丽华", "chifeng"),
    ("xincheng_reviewer", Role.REVIEWER, "赵晓东", "xincheng"),
    ("xincheng_finance", Role.FINANCE, "周淑珍", "xincheng"),
    ("huimin_reviewer", Role.REVIEWER, "吴红梅", "huimin"),
    ("kundulun_reviewer", Role.REVIEWER, "孙明辉", "kundulun"),
    ("hongshan_reviewer", Role.REVIEWER, "高玉兰", "hongshan"),
    ("inst_hongxiang", Role.INSTITUTION_OPERATOR, "马文华", "inst_hx"),
    ("inst_gangcheng", Role.INSTITUTION_OPERATOR, "郭永胜", "inst_bt"),
    ("inst_jinguo", Role.INSTITUTION_OPERATOR, "何春雨", "inst_cf"),
    ("eval_center", Role.EVALUATOR_OPERATOR, "乌兰", "eval"),
    ("platform_beijiang", Role.PLATFORM_OPERATOR, "宋宏伟", "platform"),
]

# Trainees registered by each institution: (institution key, residence area codes to draw from)
TRAINEE_POOLS = [
    ("inst_hx", ["150102", "150103", "150104", "150105", "150121"], 18),
    ("inst_bt", ["150202", "150203", "150204", "150207"], 14),
    ("inst_cf", ["150402", "150403", "150404", "150421"], 12),
]


def seed_demo(*, seed: int = 2026) -> list[DemoLogin]:
    rng = random.Random(seed)
    areas = {a.code: a for a in Area.objects.all()}
    with transaction.atomic():
        orgs: dict[str, Organisation] = {}
        for key, name, kind, code in ORGS:
            org = Organisation.objects.filter(name=name).first()
            if org is None:
                org = organisation_create(
                    name=name, kind=kind, area=areas[code], actor=None, uscc=ORG_USCC.get(key, "")
                )
            orgs[key] = org
        logins = []
        for username, role, display, org_key in USERS:
            if not User.objects.filter(username=username).exists():
                user_create(
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    display_name=display,
                    organisation=orgs[org_key],
                    actor=None,
                )
            logins.append(DemoLogin(username, Role(role).label, display, orgs[org_key].name))
        first_trainee = None
        for org_key, codes, count in TRAINEE_POOLS:
            for _ in range(count):
                male = rng.random() < 0.55
                birth = dt.date(rng.randint(1968, 2006), rng.randint(1, 12), rng.randint(1, 28))
                code = rng.choice(codes)
                number = make_id_number(rng, code, birth, male)
                person, _created = person_register(
                    id_number=number,
                    name=make_name(rng),
                    actor=None,
                    organisation=orgs[org_key],
                    phone=f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}",
                    area=areas[code],
                )
                first_trainee = first_trainee or person
        # A person with a historic ID code (152100 呼伦贝尔盟, before 2001): valid, kept as issued.
        historic = make_id_number(rng, "152100", dt.date(1975, 6, 18), True)
        person_register(
            id_number=historic, name="额尔敦", actor=None, organisation=orgs["inst_hx"], area=areas["150702"]
        )
        if not User.objects.filter(username="trainee_demo").exists():
            user_create(
                username="trainee_demo",
                password=DEMO_PASSWORD,
                role=Role.TRAINEE,
                display_name=first_trainee.name,
                person=first_trainee,
                actor=None,
            )
        logins.append(DemoLogin("trainee_demo", Role.TRAINEE.label, first_trainee.name, "—"))
    return logins
