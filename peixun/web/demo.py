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
from peixun.core.uscc import uscc_complete

DEMO_PASSWORD = "Peixun@2026"

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = [
    "建国",
    "志强",
    "秀英",
    "桂兰",
    "海燕",
    "丽娜",
    "晓东",
    "红梅",
    "玉兰",
    "文华",
    "春雨",
    "明辉",
    "丽华",
    "永胜",
    "淑珍",
    "宏伟",
    "国庆",
    "金凤",
    "伟",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "超",
    "霞",
    "鹏",
    "晓燕",
    "子涵",
    "宇航",
    "欣怡",
    "浩然",
    "雅琴",
    "俊杰",
    "佳琪",
    "建华",
    "秀兰",
    "立新",
    "桂芳",
    "振华",
    "慧敏",
]
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
        return rng.choice(MONGOLIAN_NAMES)
    surname = rng.choice(SURNAMES)
    return surname + rng.choice(GIVEN)


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
    ("platform", "北疆技能在线学习平台", Organisation.Kind.ONLINE_PLATFORM, "150105"),
]
ORG_USCC = {"platform": "91150105MA0Q8RT52A"}

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
        # Officials first: they are the actors of the registry records (assessments need one).
        logins = []
        for username, role, display, org_key in USERS:
            if org_key in orgs and not User.objects.filter(username=username).exists():
                user_create(
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    display_name=display,
                    organisation=orgs[org_key],
                    actor=None,
                )
        orgs.update(
            seed_registries(random.Random(seed + 1), areas, actor=User.objects.get(username="hohhot_admin"))
        )
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
    seed_training_data(seed=seed)
    from .demo_lifecycle import seed_lifecycle

    seed_lifecycle(seed=seed, make_id_number=make_id_number, make_name=make_name)
    from peixun.supervision.demo import seed_supervision

    seed_supervision(password=DEMO_PASSWORD, seed=seed)
    from peixun.reports.demo import seed_reports

    seed_reports(seed=seed)
    for username, role_label in (
        ("xincheng_inspector", Role.INSPECTOR.label),
        ("huimin_inspector", Role.INSPECTOR.label),
    ):
        user = User.objects.filter(username=username).select_related("organisation").first()
        if user is not None and not any(item.username == username for item in logins):
            logins.append(
                DemoLogin(username, role_label, user.get_full_name(), str(user.organisation or "—"))
            )
    return logins


# The counties whose demo reviewers should find classes and findings on their pages.
DEMO_CLASS_COUNTIES = ("150102", "150103", "150203", "150402")


def _move_classes_to_demo_counties(path) -> None:
    """The generator spreads classes over the whole region; the demo logins sit in four counties.
    Where a class is held does not enter any rule, so the demo moves them there."""
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        columns, rows = reader.fieldnames, list(reader)
    for index, row in enumerate(rows):
        row["area_code"] = DEMO_CLASS_COUNTIES[index % len(DEMO_CLASS_COUNTIES)]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def seed_training_data(*, seed: int, trainees: int = 600) -> None:
    """Classes with schedules, rosters, attendance, online sessions and exams, other departments'
    registries and the old system's history — generated with planted problems — imported through the
    data contract and cross-checked, so reviewers find real findings on their pages. Idempotent."""
    import tempfile
    from io import StringIO
    from pathlib import Path

    from django.core.management import call_command

    from peixun.checks.generator import generate
    from peixun.training.models import TrainingClass

    if TrainingClass.objects.exists():
        return
    with tempfile.TemporaryDirectory(prefix="peixun-demo-") as tmp:
        data = Path(tmp)
        generate(trainees=trainees, out=data, seed=seed)
        _move_classes_to_demo_counties(data / "classes.csv")
        quiet = StringIO()
        call_command("import_package", str(data), stdout=quiet)
        for path in sorted((data / "registries").glob("*.csv")):
            call_command("import_registry", path.stem, str(path), stdout=quiet)
        call_command("import_history", str(data / "history.csv"), stdout=quiet)
        call_command("crosscheck", stdout=quiet)


# --- registries (issue: two catalogs and the public portal) -------------------------------------


make_uscc = uscc_complete


# (key, name, type, area, licensed occupations, directory outcome)
DEMO_INSTITUTIONS = [
    (
        "inst_hx",
        "呼和浩特市鸿翔职业技能培训学校",
        "PRIVATE_SCHOOL",
        "150102",
        ["4-10-01-05", "4-10-01-06", "4-03-02-01", "4-03-02-02", "4-10-01-03"],
        "list",
    ),
    (
        "inst_qc",
        "呼和浩特市青城电子商务职业培训学校",
        "PRIVATE_SCHOOL",
        "150105",
        ["4-01-06-01", "4-02-07-08"],
        "list",
    ),
    (
        "inst_nmgzy",
        "内蒙古机电职业技术学院",
        "VOCATIONAL_COLLEGE",
        "150105",
        ["6-31-01-03", "6-18-02-04", "4-12-01-01", "6-29-03-03"],
        "list",
    ),
    ("inst_xn", "呼和浩特市新诺家政服务有限公司", "ENTERPRISE", "150103", ["4-10-01-06"], "pending"),
    (
        "inst_bt",
        "包头市钢城职业技能培训学校",
        "PRIVATE_SCHOOL",
        "150203",
        ["6-31-01-03", "6-18-02-04", "6-30-05-05"],
        "list",
    ),
    (
        "inst_btjg",
        "包头钢铁技师学院",
        "TECHNICAL_SCHOOL",
        "150207",
        ["6-18-02-04", "6-31-01-03", "4-12-01-01"],
        "list",
    ),
    ("inst_btmy", "包头市美业职业培训学校", "PRIVATE_SCHOOL", "150204", ["4-10-03-01"], "suspended"),
    (
        "inst_cf",
        "赤峰市红山区巾帼家政职业培训学校",
        "PRIVATE_SCHOOL",
        "150402",
        ["4-10-01-05", "4-10-01-06", "4-10-01-03"],
        "list",
    ),
    (
        "inst_cfny",
        "赤峰市松山区兴农农业技术培训学校",
        "PRIVATE_SCHOOL",
        "150404",
        ["5-05-01-01", "6-09-03-11"],
        "list",
    ),
]

DEMO_CATALOG_2026 = [
    # occupation, level, training type, amount, min hours
    ("4-10-01-05", "5", "EMPLOYMENT", "1200", 120),
    ("4-10-01-05", "4", "EMPLOYMENT", "1600", 160),
    ("4-10-01-05", "4", "UPGRADE", "1500", 120),
    ("4-10-01-06", "5", "EMPLOYMENT", "1000", 100),
    ("4-10-01-06", "4", "EMPLOYMENT", "1400", 140),
    ("4-10-01-03", "5", "EMPLOYMENT", "1100", 110),
    ("4-03-02-01", "5", "EMPLOYMENT", "1300", 140),
    ("4-03-02-02", "5", "EMPLOYMENT", "1300", 140),
    ("4-01-06-01", "5", "EMPLOYMENT", "1000", 90),
    ("4-02-07-08", "BASIC", "EMPLOYMENT", "600", 40),
    ("6-31-01-03", "5", "EMPLOYMENT", "1500", 160),
    ("6-31-01-03", "4", "UPGRADE", "1800", 160),
    ("6-18-02-04", "5", "EMPLOYMENT", "1600", 180),
    ("6-18-02-04", "3", "UPGRADE", "2200", 200),
    ("4-12-01-01", "5", "EMPLOYMENT", "1400", 150),
    ("6-29-03-03", "4", "UPGRADE", "1800", 160),
    ("6-30-05-05", "5", "EMPLOYMENT", "1500", 150),
    ("4-10-03-01", "5", "EMPLOYMENT", "1100", 120),
    ("5-05-01-01", "5", "EMPLOYMENT", "900", 80),
    ("6-09-03-11", "SPECIAL", "SPECIAL", "800", 60),
]

DEMO_TEACHER_QUALS = [
    "养老护理员二级/技师",
    "高级讲师、电工一级/高级技师",
    "中式烹调师二级/技师",
    "焊工一级/高级技师",
    "电子商务师三级/高级工、讲师",
    "家政服务员二级/技师",
    "高级农艺师",
]


def seed_registries(rng: random.Random, areas: dict, *, actor: User) -> dict[str, Organisation]:
    """Institutions (listed, pending, suspended), teachers and a shared pool, an evaluation body,
    the 2025 and 2026 region catalogs and a 呼和浩特 city catalog, demand reports, announcements,
    notices. Idempotent."""
    from django.utils import timezone

    from peixun.catalog.models import SubsidyCatalog
    from peixun.catalog.services import catalog_create, catalog_import_entries
    from peixun.core.tabular import Row, Table
    from peixun.demand.models import ClassAnnouncement, DemandReport
    from peixun.demand.services import announcement_create, announcement_transition, demand_submit
    from peixun.institutions.models import EvaluationBody, Institution
    from peixun.institutions.services import (
        assessment_record,
        directory_change,
        evaluation_body_register,
        institution_register,
        teacher_register,
    )
    from peixun.portal.models import Notice
    from peixun.portal.services import notice_publish

    today = timezone.localdate()
    orgs: dict[str, Organisation] = {}
    for index, (key, name, type_, code, occupations, outcome) in enumerate(DEMO_INSTITUTIONS):
        institution = Institution.objects.filter(name=name).first()
        if institution is None:
            uscc = make_uscc(f"52{code}MJY{index:05d}{'ABCDEFGH'[index % 8]}")
            institution = institution_register(
                code=uscc,
                name=name,
                type=type_,
                area=areas[code],
                actor=None,
                address=f"{areas[code].parent.name}{areas[code].name}{rng.choice(['新华', '团结', '光明', '建设', '民族'])}路{rng.randint(1, 199)}号",
                licensed_occupation_codes=occupations,
                licence_no=f"教民{code}{index:05d}号",
                licence_valid_to=dt.date(today.year + 3, 12, 31),
                premises="理论教室2间（共120平方米），实训室1间（80平方米）",
                equipment="多媒体教学设备、实训设备一套",
                contact_name=make_name(rng),
                contact_phone=f"0471-{rng.randint(3000000, 6999999)}",
            )
            if outcome in ("list", "suspended"):
                assessment_record(
                    institution=institution,
                    actor=actor,
                    assessed_on=dt.date(today.year, 1, 10) + dt.timedelta(days=index),
                    assessors="赵晓东、苏日娜",
                    premises_ok=True,
                    equipment_ok=True,
                    teachers_ok=True,
                    notes="场地、设备与申报一致，师资符合要求。",
                )
                directory_change(
                    institution=institution,
                    transition="list",
                    actor=None,
                    effective_date=dt.date(today.year, 2, 1) + dt.timedelta(days=index),
                    reason="经实地考察评估，符合承接政府补贴性培训条件",
                    decision_no=f"内人社职〔{today.year}〕{10 + index}号",
                )
            if outcome == "suspended":
                directory_change(
                    institution=institution,
                    transition="suspend",
                    actor=None,
                    effective_date=dt.date(today.year, 9, 15),
                    reason="督导检查发现培训课时不足，责令整改",
                    decision_no=f"包人社发〔{today.year}〕88号",
                )
            for _ in range(2 if outcome != "pending" else 1):
                birth = dt.date(rng.randint(1965, 1992), rng.randint(1, 12), rng.randint(1, 28))
                teacher_register(
                    id_number=make_id_number(rng, code, birth, rng.random() < 0.5),
                    name=make_name(rng),
                    institution=institution,
                    qualification=rng.choice(DEMO_TEACHER_QUALS),
                    actor=None,
                    occupation_codes=occupations[:2],
                    phone=f"139{rng.randrange(10**7, 10**8)}",
                    high_skill_title=rng.choice(["", "", "MASTER", "CRAFTSMAN"]),
                )
        orgs[key] = institution.organisation
    # shared teacher pools (共享师资库) of 呼和浩特 and 包头: a 非遗传承人 and a 劳动模范
    from peixun.institutions.models import Teacher

    if not Teacher.objects.filter(institution__isnull=True).exists():
        teacher_register(
            id_number=make_id_number(rng, "150104", dt.date(1962, 4, 12), False),
            name="其其格",
            institution=None,
            qualification="蒙古族刺绣非遗代表性传承人",
            actor=None,
            high_skill_title="HERITAGE",
            occupation_codes=["6-09-03-11"],
            shared_pool_area=areas["150100"],
        )
        teacher_register(
            id_number=make_id_number(rng, "150203", dt.date(1970, 8, 3), True),
            name="郭永强",
            institution=None,
            qualification="焊工一级/高级技师、全国劳动模范",
            actor=None,
            high_skill_title="MODEL_WORKER",
            occupation_codes=["6-18-02-04"],
            shared_pool_area=areas["150200"],
        )
    body = EvaluationBody.objects.filter(name="内蒙古职业技能鉴定指导中心").first()
    if body is None:
        body = evaluation_body_register(
            code=make_uscc("12150000460012345"),
            name="内蒙古职业技能鉴定指导中心",
            area=areas["150105"],
            actor=None,
            address="呼和浩特市赛罕区敕勒川大街",
            filing_no="S150000000001",
            scopes=[
                ("4-10-01-05", "5"),
                ("4-10-01-05", "4"),
                ("6-31-01-03", "5"),
                ("6-31-01-03", "4"),
                ("6-18-02-04", "5"),
                ("4-03-02-01", "5"),
                ("4-10-01-06", "5"),
            ],
        )
    orgs["eval"] = body.organisation
    if not SubsidyCatalog.objects.exists():

        def table(rows):
            return Table(
                "catalog.csv",
                ("occupation_code", "level", "training_type", "subsidy_amount", "min_hours"),
                [
                    Row(
                        i + 2,
                        dict(
                            zip(
                                ("occupation_code", "level", "training_type", "subsidy_amount", "min_hours"),
                                map(str, r),
                                strict=True,
                            )
                        ),
                    )
                    for i, r in enumerate(rows)
                ],
            )

        old = catalog_create(
            area=areas["150000"],
            title=f"内蒙古自治区职业技能培训补贴目录（{today.year - 1}年版）",
            document_no=f"内人社发〔{today.year - 1}〕6号",
            valid_from=dt.date(today.year - 1, 1, 1),
            actor=None,
        )
        catalog_import_entries(
            catalog=old,
            actor=None,
            table=table([(o, lvl, t, str(int(a) - 200), h) for o, lvl, t, a, h in DEMO_CATALOG_2026[:14]]),
        )
        new = catalog_create(
            area=areas["150000"],
            title=f"内蒙古自治区职业技能培训补贴目录（{today.year}年版）",
            document_no=f"内人社发〔{today.year}〕3号",
            valid_from=dt.date(today.year, 1, 1),
            actor=None,
        )
        catalog_import_entries(catalog=new, actor=None, table=table(DEMO_CATALOG_2026))
        city = catalog_create(
            area=areas["150100"],
            title=f"呼和浩特市职业技能培训补贴目录（{today.year}年版）",
            document_no=f"呼人社发〔{today.year}〕21号",
            valid_from=dt.date(today.year, 3, 1),
            actor=None,
        )
        catalog_import_entries(
            catalog=city,
            actor=None,
            table=table(
                [
                    ("4-10-01-05", "5", "EMPLOYMENT", "1400", 120),
                    ("6-09-03-11", "SPECIAL", "SPECIAL", "1000", 60),
                ]
            ),
        )
        # 包头 and 赤峰 set local standards for their own trades (第七条: 盟市公布的补贴目录)
        for code, city_name, doc, entries in (
            (
                "150200",
                "包头市",
                "包人社发",
                [("6-18-02-04", "5", "EMPLOYMENT", "1800", 180), ("6-31-01-03", "4", "UPGRADE", "2000", 160)],
            ),
            (
                "150400",
                "赤峰市",
                "赤人社发",
                [
                    ("4-10-01-06", "5", "EMPLOYMENT", "1100", 100),
                    ("5-05-01-01", "5", "EMPLOYMENT", "1000", 80),
                ],
            ),
        ):
            local = catalog_create(
                area=areas[code],
                title=f"{city_name}职业技能培训补贴目录（{today.year}年版）",
                document_no=f"{doc}〔{today.year}〕9号",
                valid_from=dt.date(today.year, 2, 1),
                actor=None,
            )
            catalog_import_entries(catalog=local, actor=None, table=table(entries))
    if not DemandReport.objects.exists():
        enterprises = [
            "内蒙古伊利实业集团股份有限公司",
            "包头钢铁（集团）有限责任公司",
            "赤峰云铜有色金属有限公司",
            "呼和浩特市康乐养老服务中心",
            "内蒙古蒙牛乳业（集团）股份有限公司",
            "包头市青山区众诚物业公司",
        ]
        wishes = [
            ("150102", "4-10-01-05"),
            ("150103", "4-10-01-06"),
            ("150105", "4-01-06-01"),
            ("150203", "6-31-01-03"),
            ("150204", "6-18-02-04"),
            ("150402", "4-10-01-03"),
            ("150404", "5-05-01-01"),
            ("150121", "4-10-01-05"),
        ]
        for i in range(14):
            code, occupation = wishes[i % len(wishes)]
            demand_submit(
                kind="WORKER",
                channel=rng.choice(["PUBLIC_FORM", "BUREAU"]),
                area=areas[code],
                occupation_code=occupation,
                level="5",
                headcount=1,
                contact_name=make_name(rng),
                contact_phone=f"15{rng.randrange(10**8, 10**9)}",
                preferred_period="周末或晚间",
            )
        for i, name in enumerate(enterprises):
            code, occupation = wishes[(i * 3) % len(wishes)]
            demand_submit(
                kind="ENTERPRISE",
                channel="BUREAU",
                area=areas[code],
                occupation_code=occupation,
                level=rng.choice(["5", "4"]),
                headcount=rng.choice([8, 12, 20, 30, 45]),
                enterprise_name=name,
                contact_name=make_name(rng),
                contact_phone=f"0471-{rng.randint(3000000, 6999999)}",
            )
    if not ClassAnnouncement.objects.exists():
        plans = [
            ("inst_hx", "4-10-01-05", "5", "养老护理员（五级）就业技能培训班", "呼和浩特市各养老机构"),
            ("inst_hx", "4-03-02-01", "5", "中式烹调师（五级）就业技能培训班", "餐饮企业"),
            ("inst_bt", "6-18-02-04", "5", "焊工（五级）就业技能培训班", "包钢集团及配套企业"),
            ("inst_cf", "4-10-01-06", "5", "家政服务员（五级）就业技能培训班", "家政服务企业、自主创业"),
        ]
        for i, (key, occupation, level, title, destination) in enumerate(plans):
            institution = orgs[key].institution
            start = today + dt.timedelta(days=10 + 7 * i)
            announcement = announcement_create(
                institution=institution,
                actor=None,
                title=title,
                occupation_code=occupation,
                level=level,
                start_date=start,
                end_date=start + dt.timedelta(days=24),
                place=institution.address,
                capacity=40,
                contact_phone=institution.contact_phone,
                employment_destination=destination,
            )
            announcement_transition(announcement=announcement, action="publish", actor=None)
    if not Notice.objects.exists():
        notice_publish(
            category="POLICY",
            title="内蒙古自治区职业技能培训管理办法",
            document_no="内人社办发〔2023〕119号",
            body="为规范职业技能培训行为，提高培训质量，保障补贴资金安全，制定本办法。全文见附件。",
            area=areas["150000"],
            actor=None,
            published_on=dt.date(2023, 7, 7),
        )
        notice_publish(
            category="NOTICE",
            title=f"关于公布{today.year}年度职业技能培训补贴目录的通知",
            document_no=f"内人社发〔{today.year}〕3号",
            body="现将本年度职业技能培训补贴目录予以公布，各盟市可结合实际制定本地区目录。",
            area=areas["150000"],
            actor=None,
            published_on=dt.date(today.year, 1, 5),
        )
        notice_publish(
            category="NOTICE",
            title=f"呼和浩特市{today.year}年企业用工和劳动者培训需求调查的通知",
            body="请有用工需求的企业和有培训意愿的劳动者通过本网站“培训需求登记”栏目填报。",
            area=areas["150100"],
            actor=None,
            published_on=dt.date(today.year, 3, 10),
        )
    return orgs
