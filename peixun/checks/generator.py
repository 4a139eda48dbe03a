"""Synthetic data packages with a known truth: `peixun generate --trainees N --out DIR --seed S`.

Writes a data package (contract.md), the eight registries, history.csv and labels.csv — the exact
set of findings the rule catalog (rules.md) must produce on that data. Used to test `crosscheck`
end to end and to measure it at the region's scale.

How the truth is kept exact:

- The baseline is clean by construction: attendance records cover their lesson, check-in seconds
  are distinct within a lesson, photo hashes are random, every person has an IP of their own,
  teachers never teach two classes whose dates overlap, registry rows of trainees never touch
  their class dates.
- Violations and near misses are planted as named scenarios at known rates. Each planted trainee
  is then judged by `_trainee_hits` / `_person_hits` — an independent, plain reading of rules.md
  over exactly the rows written — and that judgement, not the plan, goes into labels.csv. The plan
  is checked against it: a scenario that does not fire (or a near miss that does) is a bug and
  stops the generator.
- Class-level rules are judged per class (check-in counter, licence list, directory); photo
  hashes and IPs that were planted are tracked and judged across the whole package at the end;
  teacher double bookings are checked against every lesson of the teacher on that day.

Everything is streamed class by class: memory holds the plan (classes, institutions, teachers)
and one class's records, never the whole attendance. One `random.Random(seed)` drives all
choices, so a seed gives identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from peixun.catalog.reference import OCCUPATIONS_CSV
from peixun.checks.catalog import PACKAGE_RULES
from peixun.core.contract import HISTORY_COLUMNS, PACKAGE_COLUMNS, REGISTRY_COLUMNS
from peixun.core.identity import id_check_char
from peixun.core.reference import read_areas
from peixun.core.uscc import USCC_CHARS, uscc_complete

# --- file formats (contract.md) -----------------------------------------------------------------

PACKAGE_HEADERS = PACKAGE_COLUMNS
REGISTRY_HEADERS = REGISTRY_COLUMNS
HISTORY_HEADER = HISTORY_COLUMNS
LABELS_HEADER = ("rule_code", "class_code", "id_number")

# --- the numbers of rules.md (defaults) ---------------------------------------------------------

DAY = 86400
CLASS_HOUR = 45 * 60  # seconds in one 课时
LESSON = 4 * CLASS_HOUR  # every lesson is 4 class hours: 180 minutes
COVER_MIN = LESSON * 9 // 10  # an attendance record must cover 90 % of the lesson
DAILY_MAX = 8 * CLASS_HOUR  # valid online seconds per day
LOCATION_TOLERANCE_M = 1000.0
BATCH_MIN = 10
FARM_MIN = 5
EARTH_RADIUS_M = 6371008.8


def _online_cap(total_hours: int) -> int:
    """0.40 × total hours, in seconds (exact: 0.4 × 2700 = 1080)."""
    return 1080 * total_hours


def _exam_min(total_hours: int) -> int:
    """0.95 × total hours, in seconds (exact: 0.95 × 2700 = 2565)."""
    return 2565 * total_hours


# --- timetable -----------------------------------------------------------------------------------

SLOT_MORNING = (8 * 3600 + 1800, 11 * 3600 + 1800)  # 08:30–11:30
SLOT_AFTERNOON = (14 * 3600, 17 * 3600)  # 14:00–17:00
SLOT_EVENING = (18 * 3600 + 1800, 21 * 3600 + 1800)  # 18:30–21:30
SLOT_EVENING17 = (17 * 3600, 20 * 3600)  # 17:00–20:00 (after-work classes next to a day class)
SCHEDULES = {
    "DAY": ("work", (SLOT_MORNING, SLOT_AFTERNOON)),
    "EVENING": ("work", (SLOT_EVENING,)),
    "EVENING17": ("work", (SLOT_EVENING17,)),
    "WEEKEND": ("weekend", (SLOT_MORNING, SLOT_AFTERNOON)),
}
# three-hour windows a trainee may use outside the timetable: on lesson days, and on free days
LESSON_DAY_WINDOWS = {
    "DAY": ((19 * 3600, 22 * 3600),),
    "WEEKEND": ((19 * 3600, 22 * 3600),),
    "EVENING": ((9 * 3600, 12 * 3600), (13 * 3600, 16 * 3600)),
    "EVENING17": ((9 * 3600, 12 * 3600), (13 * 3600, 16 * 3600)),
}
FREE_DAY_WINDOWS = ((9 * 3600, 12 * 3600), (14 * 3600, 17 * 3600))

FIRST_START = dt.date(2024, 3, 1)
LAST_START = dt.date(2026, 5, 31)
CALENDAR_FIRST = dt.date(2024, 1, 1)
CALENDAR_LAST = dt.date(2026, 12, 31)

# --- reference lists ------------------------------------------------------------------------------

SECTORS: dict[str, tuple[str, ...]] = {
    "care": ("4-10-01-05", "4-10-01-06", "4-10-01-03", "4-14-01-03", "4-09-08-01"),
    "food": ("4-03-02-01", "4-03-02-02", "4-03-02-04", "4-03-02-05", "4-03-02-07", "4-03-02-10"),
    "commerce": ("4-01-06-01", "4-01-06-02", "4-02-07-08", "4-10-08-01", "4-02-06-03", "4-01-02-04"),
    "beauty": ("4-10-03-01", "4-10-03-02", "4-10-07-03"),
    "industry": (
        "6-18-02-04",
        "6-31-01-03",
        "6-31-01-02",
        "6-20-01-01",
        "6-29-03-03",
        "4-12-01-01",
        "6-18-04-06",
    ),
    "construction": ("6-29-01-01", "6-29-01-03", "6-29-01-04", "6-29-01-05", "6-29-02-08"),
    "agriculture": ("5-01-02-01", "5-03-02-01", "5-05-01-01", "5-05-05-01", "5-05-05-02", "6-02-04-02"),
    "energy": ("6-28-01-10", "6-20-02-04", "6-16-01-09", "4-02-04-06"),
    "service": ("4-07-05-01", "4-03-01-01", "4-03-01-02", "6-09-03-11"),
}
SECTOR_NAMES = {
    "care": ("家政", "康养", "护理"),
    "food": ("烹饪", "餐饮", "厨艺"),
    "commerce": ("电商", "网络营销", "物流"),
    "beauty": ("美容美发", "美业"),
    "industry": ("机电", "焊接", "技工"),
    "construction": ("建筑", "建工"),
    "agriculture": ("农牧", "农业科技", "乳业"),
    "energy": ("新能源", "能源"),
    "service": ("物业", "酒店服务", "民族手工艺"),
}
CITY_COORDS = {
    "150100": (40.842, 111.749),
    "150200": (40.657, 109.840),
    "150300": (39.655, 106.795),
    "150400": (42.258, 118.887),
    "150500": (43.652, 122.243),
    "150600": (39.608, 109.781),
    "150700": (49.211, 119.766),
    "150800": (40.743, 107.388),
    "150900": (41.000, 113.133),
    "152200": (46.077, 122.068),
    "152500": (43.933, 116.048),
    "152900": (38.843, 105.729),
    "150781": (49.597, 117.379),
    "152501": (43.653, 111.977),
}
# ID numbers issued before re-organisations keep the old 盟 code (data/README.md)
HISTORIC_ID_AREAS = ("152100", "152300", "152600", "152700", "152800")

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴"
    "夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文云包乌奇敖"
)
GIVEN = (
    "建国 志强 秀英 桂兰 海燕 丽娜 晓东 红梅 玉兰 文华 春雨 明辉 丽华 永胜 淑珍 宏伟 国庆 金凤 伟 敏 静 磊 洋 勇 艳 杰 娟 涛 "
    "超 霞 鹏 晓燕 子涵 宇航 欣怡 浩然 雅琴 俊杰 佳琪 建华 秀兰 立新 桂芳 振华 慧敏 志刚 海军 利平 亚楠 雪梅 晓峰 婷婷 "
    "鑫 博 悦 宇 昊 琳 晨 瑞 凯 佳 一鸣 思远 梦瑶 雨欣 子轩 金宝 春花 满仓 秀梅 凤英 守业 长青"
).split()
MONGOLIAN_NAMES = (
    "巴特尔 乌兰 其其格 敖日格勒 斯琴高娃 那仁 满都拉 苏日娜 宝音 图雅 额尔敦 朝鲁 阿拉坦 哈斯 萨仁 乌云 "
    "孟和 白音 格日勒 娜仁花 呼和 巴雅尔 特木尔 阿古拉 达来 吉日嘎拉"
).split()
ROADS = (
    "新华大街 中山路 锡林路 昭乌达路 钢铁大街 阿尔丁大街 民族街 建设路 团结路 迎宾路 人民路 胜利路 "
    "光明路 解放路 学府路 工业路 北京路 南京路 富强路 和平路 友谊路 草原路 金桥路 科技路"
).split()
BRANDS = (
    "鸿翔 青城 鑫达 恒信 北疆 草原 金桥 塞北 阳光 华育 博远 明德 远航 众诚 兴农 巾帼 蒙达 星辰 "
    "德润 启航 宏图 兴安 敕勒川 晨曦 荣达 鼎盛 育才 匠心 新起点 天骄"
).split()
HOSPITAL_KINDS = ("人民医院", "中医医院", "蒙医医院", "第二人民医院", "妇幼保健院", "中心医院")
UNIT_KINDS = (
    "教育局",
    "卫生健康委员会",
    "第一中学",
    "实验小学",
    "疾病预防控制中心",
    "自然资源局",
    "司法局",
    "街道办事处",
)
SHOP_KINDS = ("便利店", "餐馆", "养殖场", "汽车修理部", "美发店", "商贸有限公司", "家庭农场", "网店", "民宿")
EMPLOYER_KINDS = (
    "有限责任公司",
    "股份有限公司",
    "物业服务有限公司",
    "建筑工程有限公司",
    "乳业有限公司",
    "能源有限公司",
)
PLATFORMS = ("91150105MA0Q8RT52A", "91150102MA13T4KX9P", "91150203MA0N6Y2B3L")

CATEGORIES = (
    "POVERTY_MONITORED",
    "GRADUATE",
    "SCHOOL_LEAVER",
    "RURAL_MIGRANT",
    "REGISTERED_UNEMPLOYED",
    "EMPLOYMENT_DIFFICULTY",
    "ENTERPRISE_EMPLOYEE",
)
RU, RM, SL, GR, EE, ED, PM = (
    "REGISTERED_UNEMPLOYED",
    "RURAL_MIGRANT",
    "SCHOOL_LEAVER",
    "GRADUATE",
    "ENTERPRISE_EMPLOYEE",
    "EMPLOYMENT_DIFFICULTY",
    "POVERTY_MONITORED",
)
CATEGORY_MIX = {
    "EMPLOYMENT": ((RM, 30), (RU, 22), (GR, 12), (SL, 6), (PM, 12), (ED, 10), (EE, 8)),
    "UPGRADE": ((EE, 90), (RM, 6), (ED, 4)),
    "STARTUP": ((RU, 35), (GR, 30), (RM, 25), (ED, 10)),
    "SPECIAL": ((RM, 40), (PM, 25), (ED, 15), (RU, 20)),
}
AGE_RANGE = {SL: (17, 19), GR: (21, 25), EE: (22, 55), RM: (18, 55), RU: (20, 55), ED: (35, 58), PM: (18, 58)}
_NONLEAP_MONTH_DAYS = [
    (m, d)
    for m in range(1, 13)
    for d in range(1, (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[m - 1] + 1)
]


# --- small helpers --------------------------------------------------------------------------------


def _iso(day: int) -> str:
    return dt.date.fromordinal(day).isoformat()


class _DayPrefixes(dict):
    """ordinal → "YYYY-MM-DDT", filled on first use (a plain dict lookup afterwards)."""

    def __missing__(self, ordinal: int) -> str:
        text = self[ordinal] = dt.date.fromordinal(ordinal).isoformat() + "T"
        return text


class _Fmt:
    """Cached date and time strings: formatting dominates the attendance loop."""

    def __init__(self):
        self.days: dict[int, str] = {}
        self.prefixes = _DayPrefixes()
        self.times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]

    def day(self, ordinal: int | None) -> str:
        if ordinal is None:
            return ""
        text = self.days.get(ordinal)
        if text is None:
            text = self.days[ordinal] = dt.date.fromordinal(ordinal).isoformat()
        return text

    @staticmethod
    def month(index: int | None) -> str:
        if index is None:
            return ""
        return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _month(day: int) -> int:
    d = dt.date.fromordinal(day)
    return d.year * 12 + d.month - 1


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _numeric(level: str) -> bool:
    return len(level) == 1 and level in "12345"


def _level_covers(other: str, this: str) -> bool:
    """`other` is the same or a higher level than `this` (rules.md, REPEAT_TRAINING)."""
    if _numeric(other) and _numeric(this):
        return int(other) <= int(this)
    return other == this


def _overlap(a0: int, a1: int, b0: int, b1: int) -> bool:
    """Each starts before the other ends: touching ends do not overlap (rules.md)."""
    return a0 < b1 and b0 < a1


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _offset(lat: float, lon: float, metres: float, bearing: float) -> tuple[float, float]:
    """A point `metres` away on the sphere, rounded to 6 decimals as written to the files."""
    delta = metres / EARTH_RADIUS_M
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(delta) + math.cos(p1) * math.sin(delta) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(delta) * math.cos(p1), math.cos(delta) - math.sin(p1) * math.sin(p2)
    )
    return round(math.degrees(p2), 6), round(math.degrees(l2), 6)


_uscc = uscc_complete


class _Ids:
    """Unique ID numbers without a set of all issued ones.

    The k-th person of one (area, birth year, sex) gets day-of-year (k·7919 + offset) mod 365 and
    sequence block k // 365: a bijection, so numbers never repeat. Persons whose birth date is
    fixed by a scenario (16th birthday on the start date) use sequence blocks 451–499.
    """

    def __init__(self):
        self.counters: dict[tuple[str, int, bool], int] = {}
        self.exact: dict[tuple[str, int, bool], int] = {}

    @staticmethod
    def _number(area: str, birth: dt.date, seq: int) -> str:
        first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
        return first17 + id_check_char(first17)

    def new(self, area: str, year: int, male: bool) -> tuple[str, dt.date]:
        key = (area, year, male)
        k = self.counters.get(key, 0)
        self.counters[key] = k + 1
        block, pos = divmod(k, 365)
        if block >= 450:
            raise ValueError(f"too many persons born {year} in {area}")
        month, day = _NONLEAP_MONTH_DAYS[(pos * 7919 + int(area) * 31 + year * 7) % 365]
        birth = dt.date(year, month, day)
        return self._number(area, birth, block * 2 + (1 if male else 2)), birth

    def exact_birth(self, area: str, birth: dt.date, male: bool) -> str:
        key = (area, birth.toordinal(), male)
        k = self.exact.get(key, 0)
        self.exact[key] = k + 1
        if k >= 48:
            raise ValueError(f"too many persons born {birth} in {area}")
        return self._number(area, birth, (451 + k) * 2 + (1 if male else 2))


# --- the plan -------------------------------------------------------------------------------------


@dataclass
class Teacher:
    id_number: str
    name: str
    institution_code: str
    qualification: str
    busy_until: int = 0
    classes: list = field(default_factory=list)


@dataclass
class Institution:
    code: str
    name: str
    type: str
    area: str
    address: str
    licensed: list[str]
    listed: bool
    weight: float
    teachers: list[Teacher] = field(default_factory=list)


@dataclass
class ClassPlan:
    idx: int
    inst: Institution
    area: str
    occ: str
    level: str
    ttype: str
    sched: str
    start_req: int
    total: int  # total_hours
    online: int  # online_hours
    exam_offset: int
    method: str
    platform: str
    size: int = 0  # ordinary trainees (linked persons come on top)
    pair: str = ""  # the cross-class scenario this class takes part in, if any
    occ_locked: bool = False  # a pair relies on the occupation
    reserve: int = 0  # members kept free of scenarios (batch check-ins need them)
    batch: str = ""  # "V": ≥10 identical check-ins planted; "N": exactly 9
    scenarios: list = field(default_factory=list)  # (name, occupancy, param)
    linked: list = field(default_factory=list)  # (LinkedPerson, role)
    code: str = ""
    start: int = 0
    end: int = 0
    exam_day: int = 0
    teachers: list = field(default_factory=list)
    overrides: dict = field(default_factory=dict)  # lesson index → Teacher
    site_address: str = ""
    lat: float = 0.0
    lon: float = 0.0

    @property
    def used(self) -> int:
        return sum(n for _name, n, _param in self.scenarios)

    @property
    def capacity(self) -> int:
        return self.size - self.reserve - self.used


@dataclass
class Person:
    id_number: str
    name: str
    phone: str
    birth: dt.date
    area: str
    ip: str = ""
    deaths: list = field(default_factory=list)  # day
    payroll: list = field(default_factory=list)  # (start, end|None, unit)
    business: list = field(default_factory=list)  # (established, revoked|None, uscc, name)
    hospital: list = field(default_factory=list)  # (admit, discharge|None, hospital)
    insurance: list = field(default_factory=list)  # (start_month, end_month|None, uscc, employer)
    filing: list = field(default_factory=list)  # (start, end|None, uscc)
    unemployment: list = field(default_factory=list)  # (registered, end|None)
    certificates: list = field(default_factory=list)  # (occupation, level, number, issued)
    history: list = field(default_factory=list)  # (occupation, level, type, completed, institution, amount)


@dataclass
class Enrolment:
    cls: ClassPlan
    category: str
    records: list = field(default_factory=list)  # [check_in, check_out, method, photo, lat, lon, far]
    sessions: list = field(default_factory=list)  # [start, end, ip, passed, failed]
    exam: tuple | None = None  # (day, score, passed, certificate_type, certificate_no)
    class_hits: set = field(default_factory=set)  # rules judged within the class


@dataclass
class LinkedPerson:
    """A trainee enrolled in two classes of a cross-class scenario."""

    person: Person
    role: str
    pair: tuple = ()  # (earlier or day class, later or evening class)
    enrolments: dict = field(default_factory=dict)  # class idx → Enrolment


@dataclass
class Summary:
    out: Path
    seed: int
    trainees: int
    classes: int
    institutions: int
    teachers: int
    rows: dict[str, int]
    sizes: dict[str, int]
    findings: dict[str, int]
    scenarios: dict[str, int]
    near_misses: dict[str, int]
    seconds: float


# --- scenarios ------------------------------------------------------------------------------------


def _online(c: ClassPlan) -> bool:
    return c.online > 0


def _slack(c: ClassPlan) -> bool:
    """Room for 4 more online hours under the 40 % cap."""
    return c.online * 10 <= 4 * c.total - 40


def _two_lesson_online_day(c: ClassPlan) -> bool:
    if c.sched in ("DAY", "WEEKEND"):
        return c.online >= 8
    return c.online >= 4


def _exact40(c: ClassPlan) -> bool:
    return c.online * 10 == 4 * c.total


def _not_upgrade(c: ClassPlan) -> bool:
    return c.ttype != "UPGRADE"


def _ru_business(c: ClassPlan) -> bool:
    return c.ttype in ("EMPLOYMENT", "SPECIAL")


def _certifiable(c: ClassPlan) -> bool:
    return _numeric(c.level) or c.level == "SPECIAL"


def _upper_level(c: ClassPlan) -> bool:
    return _numeric(c.level) and int(c.level) <= 4


def _force_online(c: ClassPlan) -> None:
    if c.online == 0:
        c.online = max(4, 4 * (c.total // 20))


def _force_slack_online(c: ClassPlan) -> None:
    c.online = max(4, 4 * (c.total // 20))


def _force_exact40(c: ClassPlan) -> None:
    c.total = max(60, c.total - c.total % 20)
    c.online = c.total * 4 // 10


def _force_t80(c: ClassPlan) -> None:
    c.total = 80 if c.total < 120 else 160
    c.online = min(c.online, c.total * 4 // 10) // 4 * 4


def _force_t80_exact40(c: ClassPlan) -> None:
    _force_t80(c)
    c.online = c.total * 4 // 10


def _force_employment(c: ClassPlan) -> None:
    c.ttype, c.level = "EMPLOYMENT", "5"


def _force_startup(c: ClassPlan) -> None:
    c.ttype, c.level = "STARTUP", "STARTUP"


def _force_upgrade(c: ClassPlan) -> None:
    c.ttype, c.level = "UPGRADE", "4"


def _force_day(c: ClassPlan) -> None:
    c.sched = "DAY"


def _force_short(c: ClassPlan) -> None:
    c.total = 60 + 4 * (c.idx % 5)
    c.online = min(c.online, c.total * 4 // 10) // 4 * 4


@dataclass(frozen=True)
class Scenario:
    """One planted situation. `fires` is the rule the plan expects to fire (violation) or not
    (near miss) for the planted trainee in that class."""

    rule: str
    fires: bool
    rate: float  # share of trainees (of classes for class-level scenarios)
    occupancy: int = 1
    need: object = None  # predicate a host class must satisfy
    prefer: object = None  # predicate tried first
    force: object = None  # how to make a class satisfy `need`
    minimum: int = 2


SCENARIOS: dict[str, Scenario] = {
    # AGE_UNDER_16
    "AGE_V": Scenario("AGE_UNDER_16", True, 0.003, prefer=_not_upgrade),
    "AGE_16_ON_START_N": Scenario("AGE_UNDER_16", False, 0.001, prefer=_not_upgrade),
    # DECEASED
    "DEAD_BEFORE_V": Scenario("DECEASED", True, 0.002),
    "DEAD_DURING_V": Scenario("DECEASED", True, 0.002),
    "DEAD_DAY_AFTER_N": Scenario("DECEASED", False, 0.002, prefer=lambda c: c.exam_offset == 0),
    # PUBLIC_PAYROLL
    "PAYROLL_V": Scenario("PUBLIC_PAYROLL", True, 0.004),
    "PAYROLL_ENDS_DAY_BEFORE_N": Scenario("PUBLIC_PAYROLL", False, 0.001),
    "PAYROLL_STARTS_DAY_AFTER_N": Scenario("PUBLIC_PAYROLL", False, 0.001),
    # UNEMPLOYED_NOT_REGISTERED
    "UNREG_NONE_V": Scenario(
        "UNEMPLOYED_NOT_REGISTERED", True, 0.002, need=_not_upgrade, force=_force_employment
    ),
    "UNREG_ENDED_DAY_BEFORE_V": Scenario(
        "UNEMPLOYED_NOT_REGISTERED", True, 0.002, need=_not_upgrade, force=_force_employment
    ),
    "UNREG_ENDS_ON_START_N": Scenario(
        "UNEMPLOYED_NOT_REGISTERED", False, 0.001, need=_not_upgrade, force=_force_employment
    ),
    "UNREG_FROM_START_N": Scenario(
        "UNEMPLOYED_NOT_REGISTERED", False, 0.001, need=_not_upgrade, force=_force_employment
    ),
    # UNEMPLOYED_BUT_INSURED
    "INSURED_V": Scenario("UNEMPLOYED_BUT_INSURED", True, 0.004, need=_not_upgrade, force=_force_employment),
    "INSURED_PREVIOUS_MONTH_N": Scenario(
        "UNEMPLOYED_BUT_INSURED", False, 0.001, need=_not_upgrade, force=_force_employment
    ),
    "INSURED_GRADUATE_N": Scenario(
        "UNEMPLOYED_BUT_INSURED", False, 0.001, need=_not_upgrade, force=_force_employment
    ),
    # UNEMPLOYED_BUT_BUSINESS
    "BUSINESS_V": Scenario(
        "UNEMPLOYED_BUT_BUSINESS", True, 0.004, need=_ru_business, force=_force_employment
    ),
    "BUSINESS_REVOKED_DAY_BEFORE_N": Scenario(
        "UNEMPLOYED_BUT_BUSINESS", False, 0.001, need=_ru_business, force=_force_employment
    ),
    "BUSINESS_STARTUP_CLASS_N": Scenario(
        "UNEMPLOYED_BUT_BUSINESS", False, 0.001, need=lambda c: c.ttype == "STARTUP", force=_force_startup
    ),
    # HOSPITALIZED_PRESENT
    "HOSPITAL_V": Scenario("HOSPITALIZED_PRESENT", True, 0.003),
    "HOSPITAL_ABSENT_N": Scenario("HOSPITALIZED_PRESENT", False, 0.002),
    # REPEAT_TRAINING (history)
    "REPEAT_HISTORY_V": Scenario("REPEAT_TRAINING", True, 0.004),
    "REPEAT_LOWER_LEVEL_N": Scenario(
        "REPEAT_TRAINING", False, 0.001, need=_upper_level, force=_force_upgrade
    ),
    # ALREADY_CERTIFIED
    "CERT_V": Scenario("ALREADY_CERTIFIED", True, 0.004, need=_certifiable, force=_force_employment),
    "CERT_ON_START_N": Scenario(
        "ALREADY_CERTIFIED", False, 0.001, need=_certifiable, force=_force_employment
    ),
    "CERT_LOWER_LEVEL_N": Scenario(
        "ALREADY_CERTIFIED", False, 0.001, need=_upper_level, force=_force_upgrade
    ),
    # LIFETIME_CAP (history)
    "LIFETIME_V": Scenario("LIFETIME_CAP", True, 0.003),
    "LIFETIME_THIRD_N": Scenario("LIFETIME_CAP", False, 0.002),
    # ATTENDANCE_OUTSIDE_SCHEDULE
    "OUTSIDE_V": Scenario("ATTENDANCE_OUTSIDE_SCHEDULE", True, 0.004),
    "OUTSIDE_PARTIAL_N": Scenario("ATTENDANCE_OUTSIDE_SCHEDULE", False, 0.002),
    # ATTENDANCE_BELOW_THRESHOLD
    "BELOW_MISSED_V": Scenario("ATTENDANCE_BELOW_THRESHOLD", True, 0.003),
    "BELOW_COVER_89_V": Scenario(
        "ATTENDANCE_BELOW_THRESHOLD", True, 0.002, need=lambda c: c.total < 80, force=_force_short
    ),
    "COVER_90_N": Scenario(
        "ATTENDANCE_BELOW_THRESHOLD", False, 0.002, need=lambda c: c.total < 80, force=_force_short
    ),
    "EXACT_95_N": Scenario(
        "ATTENDANCE_BELOW_THRESHOLD", False, 0.002, need=lambda c: c.total % 80 == 0, force=_force_t80
    ),
    # LOCATION_MISMATCH
    "LOCATION_V": Scenario("LOCATION_MISMATCH", True, 0.004),
    "LOCATION_980M_N": Scenario("LOCATION_MISMATCH", False, 0.002),
    # ONLINE_SHARE_EXCEEDED
    "SHARE_V": Scenario(
        "ONLINE_SHARE_EXCEEDED",
        True,
        0.003,
        need=_online,
        prefer=lambda c: c.online * 10 >= 3 * c.total,
        force=_force_online,
    ),
    "SHARE_EXACT_40_N": Scenario("ONLINE_SHARE_EXCEEDED", False, 0.002, need=_exact40, force=_force_exact40),
    # ONLINE_DAILY_EXCEEDED
    "DAILY_V": Scenario(
        "ONLINE_DAILY_EXCEEDED", True, 0.003, need=_two_lesson_online_day, force=_force_online
    ),
    "DAILY_EXACT_8_N": Scenario(
        "ONLINE_DAILY_EXCEEDED",
        False,
        0.002,
        need=lambda c: c.sched in ("DAY", "WEEKEND") and c.online >= 8,
        force=lambda c: (_force_day(c), _force_online(c)),
    ),
    # ONLINE_CONCURRENT
    "CONCURRENT_SESSIONS_V": Scenario("ONLINE_CONCURRENT", True, 0.002, need=_online, force=_force_online),
    "CONCURRENT_ATTENDANCE_V": Scenario(
        "ONLINE_CONCURRENT", True, 0.002, need=lambda c: _online(c) and _slack(c), force=_force_slack_online
    ),
    "TOUCHING_SESSIONS_N": Scenario("ONLINE_CONCURRENT", False, 0.001, need=_online, force=_force_online),
    "TOUCHING_ATTENDANCE_N": Scenario(
        "ONLINE_CONCURRENT", False, 0.001, need=lambda c: _online(c) and _slack(c), force=_force_slack_online
    ),
    # ONLINE_FACE_FAILED
    "FACE_FAILED_V": Scenario("ONLINE_FACE_FAILED", True, 0.003, need=_online, force=_force_online),
    "FACE_NONE_PASSED_V": Scenario("ONLINE_FACE_FAILED", True, 0.002, need=_online, force=_force_online),
    "FACE_60_MINUTES_N": Scenario(
        "ONLINE_FACE_FAILED", False, 0.002, need=lambda c: _online(c) and _slack(c), force=_force_slack_online
    ),
    # ONLINE_IP_FARM: groups of 5–6 trainees; 4 at once plus one touching is the near miss
    "IP_FARM_V": Scenario(
        "ONLINE_IP_FARM",
        True,
        0.0005,
        occupancy=6,
        need=_online,
        prefer=lambda c: c.sched == "DAY",
        force=_force_online,
    ),
    "IP_FOUR_PLUS_TOUCHING_N": Scenario(
        "ONLINE_IP_FARM",
        False,
        0.0002,
        occupancy=5,
        need=_online,
        prefer=lambda c: c.sched == "DAY",
        force=_force_online,
    ),
    # DUPLICATE_PHOTO
    "DUP_OTHER_PERSON_V": Scenario("DUPLICATE_PHOTO", True, 0.001, occupancy=2),
    "DUP_OTHER_DAY_V": Scenario("DUPLICATE_PHOTO", True, 0.002),
    "DUP_SAME_DAY_N": Scenario(
        "DUPLICATE_PHOTO", False, 0.002, need=lambda c: c.sched in ("DAY", "WEEKEND"), force=_force_day
    ),
}
# persons whose exact check-in times matter: batch check-ins leave their records alone
TIME_EXACT = {
    "BELOW_COVER_89_V",
    "COVER_90_N",
    "OUTSIDE_PARTIAL_N",
    "TOUCHING_ATTENDANCE_N",
    "CONCURRENT_ATTENDANCE_V",
    "HOSPITAL_V",
}
# cross-class scenarios: (rule, rate of trainees, minimum persons, minimum class pairs)
PAIR_SCENARIOS = {
    "OVERLAP_V": ("OVERLAPPING_CLASSES", 0.001, 2, 1),
    "OVERLAP_TOUCHING_N": ("OVERLAPPING_CLASSES", 0.0005, 2, 2),
    "REPEAT_LATER_V": ("REPEAT_TRAINING", 0.001, 2, 1),
    "REPEAT_SAME_DAY_V": ("REPEAT_TRAINING", 0.0003, 2, 1),
    "UPGRADE_N": ("REPEAT_TRAINING", 0.0005, 2, 1),
    "LIFETIME_FOURTH_V": ("LIFETIME_CAP", 0.0003, 2, 1),
}
DUP_CROSS_RATE = 0.0005
TEACHER_PAIR_RATE = 0.0025  # of classes
OUT_OF_SCOPE_RATE = 0.01
NOT_LISTED_RATE = 0.01
BATCH_RATE = 0.01
BATCH_NEAR_RATE = 0.005


# --- calendar and timetable ----------------------------------------------------------------------


class _Calendar:
    """Working days and free weekend days from the chinesecalendar package (official 放假/调休)."""

    def __init__(self):
        import chinese_calendar

        self.work: set[int] = set()
        self.weekend: set[int] = set()
        day = CALENDAR_FIRST
        while day <= CALENDAR_LAST:
            try:
                working = chinese_calendar.is_workday(day)
                _holiday, name = chinese_calendar.get_holiday_detail(day)
            except NotImplementedError:
                working, name = day.weekday() < 5, None
            if working:
                self.work.add(day.toordinal())
            elif day.weekday() >= 5 and name is None:
                self.weekend.add(day.toordinal())
            day += dt.timedelta(days=1)

    def days(self, sched: str) -> set[int]:
        return self.work if SCHEDULES[sched][0] == "work" else self.weekend

    def first_on_or_after(self, sched: str, day: int) -> int:
        days = self.days(sched)
        while day not in days or dt.date.fromordinal(day).strftime("%m%d") == "0229":
            day += 1
        return day


def _timetable(cal: _Calendar, c: ClassPlan) -> list[tuple[int, int, int, str]]:
    """(day, start second, end second, mode) of every lesson; online days spread evenly, never
    the first or the last day; the last offline day and the last online day may be half days."""
    days = cal.days(c.sched)
    slots = SCHEDULES[c.sched][1]
    per_day = len(slots)
    n_online = c.online // 4
    n_offline = c.total // 4 - n_online
    offline_days = -(-n_offline // per_day)
    online_days = -(-n_online // per_day)
    n_days = offline_days + online_days
    online_at = {(j + 1) * n_days // (online_days + 1) for j in range(online_days)}
    lessons = []
    day, k = c.start_req, 0
    while k < n_days:
        if day in days:
            if k in online_at:
                n, mode = min(per_day, n_online), "ONLINE"
                n_online -= n
            else:
                n, mode = min(per_day, n_offline), "OFFLINE"
                n_offline -= n
            for start, end in slots[:n]:
                lessons.append((day, start, end, mode))
            k += 1
        day += 1
    return lessons


# --- the generator --------------------------------------------------------------------------------


class _Generator:
    def __init__(self, *, trainees: int, out: Path, seed: int):
        if trainees < 300:
            raise ValueError("至少需要 300 名学员，才能为每条规则各埋入至少两处问题")
        self.n = trainees
        self.out = out
        self.seed = seed
        self.rng = random.Random(seed)
        self.fmt = _Fmt()
        self.cal = _Calendar()
        self.ids = _Ids()
        self.areas = [a for a in read_areas() if a["kind"] in ("COUNTY", "COUNTY_DIRECT")]
        self.area_names = {a["code"]: a["name"] for a in read_areas()}
        self.area_city = {a["code"]: a["parent_code"] for a in self.areas}
        self.city_areas: dict[str, list[str]] = {}
        for a in self.areas:
            self.city_areas.setdefault(a["parent_code"], []).append(a["code"])
        self.area_codes = [a["code"] for a in self.areas]
        self.area_weights = [self._area_weight(a["code"]) for a in self.areas]
        with OCCUPATIONS_CSV.open(encoding="utf-8-sig", newline="") as fh:
            names = {row["code"]: row["name"] for row in csv.DictReader(fh)}
        self.occupation_names = {code: names[code] for codes in SECTORS.values() for code in codes}
        self.all_occupations = list(self.occupation_names)
        self.labels: set[tuple[str, str, str]] = set()
        self.scenario_counts: Counter = Counter()
        self.expectations: list[tuple[str, str, str, bool, str]] = []  # rule, class, id, fires, scenario
        self.tracked_photos: dict[str, list[tuple[str, str, int]]] = {}  # hash → (class, id, day)
        self.tracked_ips: dict[str, list[tuple[int, int, str, str]]] = {}  # ip → (start, end, id, class)
        self.rows: Counter = Counter()
        self.ip_counter = 0
        self.cert_counter = 0
        self.employers = [
            (
                _uscc("91" + self.rng.choice(self.area_codes) + self._org_code()),
                self.area_names[self.rng.choice(self.area_codes)]
                + self.rng.choice(BRANDS)
                + self.rng.choice(EMPLOYER_KINDS),
            )
            for _ in range(200 + trainees // 200)
        ]
        self.linked: list[LinkedPerson] = []

    # -- small factories --

    def _area_weight(self, code: str) -> float:
        weight = 3.0 if int(code[4:]) <= 20 else 1.0  # 市辖区 are more populous than 旗县
        if code[:4] in ("1501", "1502", "1504", "1505", "1506"):
            weight *= 2
        return weight

    def _org_code(self) -> str:
        return "".join(self.rng.choice(USCC_CHARS) for _ in range(9))

    def _coords(self, area: str) -> tuple[float, float]:
        if area in CITY_COORDS:
            return CITY_COORDS[area]
        lat, lon = CITY_COORDS[self.area_city[area]]
        n = int(area)
        spread = 0.06 if int(area[4:]) <= 20 else 0.7
        return lat + ((n * 37) % 101 - 50) / 50 * spread * 0.6, lon + ((n * 53) % 101 - 50) / 50 * spread

    def _place(self, area: str) -> str:
        city = self.area_names[self.area_city.get(area, area)]
        county = self.area_names[area]
        prefix = county if county.startswith(city[:2]) or area in CITY_COORDS else city + county
        return f"{prefix}{self.rng.choice(ROADS)}{self.rng.randint(1, 300)}号"

    def _name(self) -> str:
        if self.rng.random() < 0.15:
            return self.rng.choice(MONGOLIAN_NAMES)
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def _phone(self) -> str:
        return f"1{self.rng.choice('3578')}{self.rng.randrange(10**8, 10**9)}"

    def _ip(self) -> str:
        """A fresh public address for each person: nobody shares one unless a scenario says so."""
        k = self.ip_counter
        self.ip_counter += 1
        block, rest = divmod(k, 254 * 256)
        first = (1, 27, 36, 42, 49, 110, 111, 116, 121, 123, 124, 175, 202, 218, 219, 222, 223)
        a = first[block % len(first)]
        b = 16 + block // len(first)
        return f"{a}.{b % 256}.{rest // 254}.{rest % 254 + 1}"

    def _person_area(self, class_area: str) -> str:
        r = self.rng.random()
        if r < 0.7:
            return self.rng.choice(self.city_areas[self.area_city[class_area]])
        return self.rng.choices(self.area_codes, self.area_weights)[0]

    def _new_person(self, area: str, year: int, *, birth: dt.date | None = None) -> Person:
        male = self.rng.random() < 0.52
        if birth is None:
            if year < 1990 and self.rng.random() < 0.01:
                area = self.rng.choice(HISTORIC_ID_AREAS)
            number, birth = self.ids.new(area, year, male)
        else:
            number = self.ids.exact_birth(area, birth, male)
        return Person(number, self._name(), self._phone(), birth, area)

    def _cert_no(self, kind: str, area: str, year: int) -> str:
        self.cert_counter += 1
        prefix = {
            "SKILL_LEVEL": "S",
            "QUALIFICATION": "Q",
            "SPECIAL": "Z",
            "TRAINING": "PX",
            "STARTUP": "CY",
        }[kind]
        return f"{prefix}{area}{year % 100:02d}{self.cert_counter:08d}"

    # -- plan: institutions and classes --

    def plan(self) -> None:
        rng = self.rng
        n_inst = max(3, self.n // 1000)
        n_classes = max(20, round(self.n / 25))
        self.institutions = []
        names_used: set[str] = set()
        for i in range(n_inst):
            area = rng.choices(self.area_codes, self.area_weights)[0]
            kind = rng.choices(
                ("PRIVATE_SCHOOL", "ENTERPRISE", "VOCATIONAL_COLLEGE", "TECHNICAL_SCHOOL"), (60, 20, 10, 10)
            )[0]
            sectors = rng.sample(list(SECTORS), rng.choice((1, 1, 2, 2, 3)))
            pool = [code for s in sectors for code in SECTORS[s]]
            licensed = rng.sample(pool, min(len(pool), rng.randint(3, 8)))
            city = self.area_names[self.area_city[area]]
            county = self.area_names[area]
            place = county if area in CITY_COORDS else city + county
            theme = rng.choice(SECTOR_NAMES[sectors[0]])
            name = {
                "PRIVATE_SCHOOL": f"{place}{rng.choice(BRANDS)}{theme}职业技能培训学校",
                "ENTERPRISE": f"{city}{rng.choice(BRANDS)}{theme}服务有限公司",
                "VOCATIONAL_COLLEGE": f"{city}{rng.choice(BRANDS)}职业技术学院",
                "TECHNICAL_SCHOOL": f"{city}{rng.choice(BRANDS)}技工学校",
            }[kind]
            while name in names_used:
                name = name.replace("学校", "分校", 1) if "学校" in name else f"{name}（{len(names_used)}）"
                if name in names_used:
                    name = f"{name[:-2]}第{i}培训部"
            names_used.add(name)
            prefix = {"PRIVATE_SCHOOL": "52", "ENTERPRISE": "91"}.get(kind, "12")
            self.institutions.append(
                Institution(
                    code=_uscc(prefix + area + self._org_code()),
                    name=name,
                    type=kind,
                    area=area,
                    address=self._place(area),
                    licensed=licensed,
                    listed=True,
                    weight=rng.uniform(0.5, 2.0),
                )
            )
        n_unlisted = max(1, round(0.02 * n_inst))
        unlisted = rng.sample(self.institutions, n_unlisted)
        for inst in unlisted:
            inst.listed = False
        listed = [inst for inst in self.institutions if inst.listed]
        n_unlisted_classes = max(2, round(NOT_LISTED_RATE * n_classes))

        first, last = FIRST_START.toordinal(), LAST_START.toordinal()
        self.classes: list[ClassPlan] = []
        for idx in range(n_classes):
            if idx < n_unlisted_classes:
                inst = unlisted[idx % n_unlisted]
            else:
                inst = rng.choices(listed, [x.weight for x in listed])[0]
            ttype = rng.choices(("EMPLOYMENT", "UPGRADE", "SPECIAL", "STARTUP"), (60, 25, 8, 7))[0]
            if ttype == "EMPLOYMENT":
                level = rng.choices(("5", "4", "BASIC"), (75, 15, 10))[0]
                total = {"5": rng.randint(20, 40), "4": rng.randint(30, 50), "BASIC": rng.randint(15, 20)}[
                    level
                ] * 4
            elif ttype == "UPGRADE":
                level = rng.choices(("4", "3", "2"), (50, 35, 15))[0]
                total = rng.randint(20, 50) * 4
            else:
                level = ttype
                total = rng.randint(15, 25) * 4
            online = 0
            if rng.random() < 0.45:
                if total % 20 == 0 and rng.random() < 0.12:
                    online = total * 4 // 10  # exactly the 40 % limit: a near miss
                else:
                    online = 4 * rng.randint(1, max(1, (total * 4 // 10 - 4) // 4))
            sched = rng.choices(("DAY", "EVENING", "WEEKEND"), (72, 15, 13))[0]
            area = inst.area if rng.random() < 0.8 else rng.choice(self.city_areas[self.area_city[inst.area]])
            self.classes.append(
                ClassPlan(
                    idx=idx,
                    inst=inst,
                    area=area,
                    occ=rng.choice(inst.licensed),
                    level=level,
                    ttype=ttype,
                    sched=sched,
                    start_req=rng.randint(first, last),
                    total=total,
                    online=online,
                    exam_offset=0 if rng.random() < 0.7 else rng.randint(1, 7),
                    method=rng.choices(("FACE", "FINGERPRINT", "CARD"), (70, 15, 15))[0],
                    platform=rng.choice(PLATFORMS),
                )
            )
        self._plan_sizes()
        self._plan_pairs()
        self._plan_class_level()
        self._plan_scenarios()
        for c in self.classes:
            self._settle(c)
        self._plan_teachers()

    def _plan_sizes(self) -> None:
        rng = self.rng
        n_linked = sum(max(m, round(rate * self.n)) for _r, rate, m, _p in PAIR_SCENARIOS.values())
        ordinary = self.n - n_linked
        raw = [rng.randint(15, 35) for _ in self.classes]
        scale = ordinary / sum(raw)
        sizes = [max(1, int(r * scale)) for r in raw]
        i = 0
        while sum(sizes) != ordinary:
            j = i % len(sizes)
            if sum(sizes) < ordinary:
                sizes[j] += 1
            elif sizes[j] > 12:
                sizes[j] -= 1
            i += 1
        for c, size in zip(self.classes, sizes, strict=True):
            c.size = size

    def _settle(self, c: ClassPlan) -> None:
        """Fix the class's dates from its timetable; code, site and exam day follow."""
        c.start_req = self.cal.first_on_or_after(c.sched, c.start_req)
        lessons = _timetable(self.cal, c)
        c.start, c.end = lessons[0][0], lessons[-1][0]
        c.exam_day = c.end + c.exam_offset
        c.code = f"PX{c.area}-{dt.date.fromordinal(c.start):%Y%m}-{c.idx + 1:06d}"
        if not c.site_address:
            c.site_address = self._place(c.area)
            lat, lon = self._coords(c.area)
            c.lat = round(lat + self.rng.uniform(-0.02, 0.02), 6)
            c.lon = round(lon + self.rng.uniform(-0.03, 0.03), 6)

    def _free_pool(self) -> None:
        """Classes of listed institutions not yet in a pair, in random order, also by institution."""
        self.pool = [c for c in self.classes if c.inst.listed]
        self.rng.shuffle(self.pool)
        self.pool_by_inst: dict[str, list[ClassPlan]] = {}
        for c in self.pool:
            self.pool_by_inst.setdefault(c.inst.code, []).append(c)

    def _take(self, role: str, same_inst_as: ClassPlan | None = None) -> ClassPlan:
        if same_inst_as is not None:
            mates = self.pool_by_inst[same_inst_as.inst.code]
            while mates:
                c = mates.pop()
                if not c.pair:
                    c.pair = role
                    return c
        while self.pool:
            c = self.pool.pop()
            if not c.pair:
                c.pair = role
                return c
        raise ValueError("班级不足以埋入跨班问题，请增加学员数")

    def _other_occupation(self, c: ClassPlan, avoid: set[str]) -> str:
        """A licensed occupation of c's institution not in `avoid`; licensed on the spot if none."""
        choices = [o for o in c.inst.licensed if o not in avoid]
        if choices:
            return self.rng.choice(choices)
        code = self.rng.choice([o for o in self.all_occupations if o not in avoid])
        c.inst.licensed.append(code)
        return code

    def _license(self, c: ClassPlan, code: str) -> None:
        if code not in c.inst.licensed:
            c.inst.licensed.append(code)

    def _plan_pairs(self) -> None:
        """Classes that share a person (or a teacher) and the dates that make that happen."""
        rng = self.rng
        self.pairs: dict[str, list[tuple[ClassPlan, ClassPlan]]] = {}
        self._free_pool()
        early = FIRST_START.toordinal() + (LAST_START.toordinal() - FIRST_START.toordinal()) * 2 // 3
        for role, (_rule, rate, minimum, min_pairs) in PAIR_SCENARIOS.items():
            persons = max(minimum, round(rate * self.n))
            n_pairs = max(min_pairs, -(-persons // 3))
            pairs = []
            for _ in range(n_pairs):
                x = self._take(role)
                y = self._take(role, same_inst_as=x)
                if role in ("OVERLAP_V", "OVERLAP_TOUCHING_N", "REPEAT_SAME_DAY_V"):
                    x.sched = "DAY"
                    y.sched = "EVENING17" if role == "OVERLAP_TOUCHING_N" else "DAY"
                    y.start_req = x.start_req = self.cal.first_on_or_after("DAY", x.start_req)
                    if role != "REPEAT_SAME_DAY_V":
                        x.online = y.online = 0
                        y.occ = self._other_occupation(y, {x.occ})
                else:
                    x.start_req = min(x.start_req, early)
                    self._settle(x)
                    y.start_req = x.exam_day + rng.randint(20, 90)
                    if role == "UPGRADE_N":
                        x.ttype, x.level = "EMPLOYMENT", "5"
                        y.ttype, y.level = "UPGRADE", "4"
                        y.occ = x.occ
                    elif role == "LIFETIME_FOURTH_V":
                        y.occ = self._other_occupation(y, {x.occ})
                if role in ("REPEAT_LATER_V", "REPEAT_SAME_DAY_V"):
                    y.occ, y.level, y.ttype = x.occ, x.level, x.ttype
                self._license(y, y.occ)
                x.occ_locked = y.occ_locked = True
                self._settle(x)
                self._settle(y)
                pairs.append((x, y))
            self.pairs[role] = pairs
            for i in range(persons):
                x, y = pairs[i % n_pairs]
                lp = self._linked_person(role, x)
                lp.pair = (x, y)
                for c in (x, y):
                    c.linked.append((lp, role))
        # teacher double booking: pairs of day classes that start together
        wanted = max(2, round(TEACHER_PAIR_RATE * len(self.classes)))
        self.teacher_pairs = list(self.pairs["OVERLAP_V"] + self.pairs["REPEAT_SAME_DAY_V"])[:wanted]
        while len(self.teacher_pairs) < wanted:
            x = self._take("TEACHER")
            y = self._take("TEACHER", same_inst_as=x)
            x.sched = y.sched = "DAY"
            y.start_req = x.start_req = self.cal.first_on_or_after("DAY", x.start_req)
            self._settle(x)
            self._settle(y)
            self.teacher_pairs.append((x, y))
        self.teacher_near_pairs = list(self.pairs["OVERLAP_TOUCHING_N"])

    def _linked_person(self, role: str, c: ClassPlan) -> LinkedPerson:
        year = dt.date.fromordinal(c.start_req).year - self.rng.randint(25, 50)
        person = self._new_person(self._person_area(c.area), year)
        person.ip = self._ip()
        lp = LinkedPerson(person, role)
        self.linked.append(lp)
        return lp

    def _plan_class_level(self) -> None:
        rng = self.rng
        n = len(self.classes)
        candidates = [c for c in self.classes if c.inst.listed and not c.occ_locked]
        n_scope = max(2, round(OUT_OF_SCOPE_RATE * n))
        self.out_of_scope = []
        for c in rng.sample(candidates, min(n_scope, len(candidates))):
            c.occ = rng.choice([o for o in self.all_occupations if o not in c.inst.licensed])
            self.out_of_scope.append(c)
        if len(self.out_of_scope) < 2:
            raise ValueError("班级不足以埋入超范围培训")
        big = sorted(self.classes, key=lambda c: (-c.size, c.idx))
        n_batch = max(2, round(BATCH_RATE * n))
        n_near = max(2, round(BATCH_NEAR_RATE * n))
        pool = [c for c in big if c.size >= 14][: 4 * (n_batch + n_near)]
        if len(pool) < n_batch + n_near:
            raise ValueError("班级人数不足以埋入批量签到")
        chosen = rng.sample(pool, n_batch + n_near)
        for i, c in enumerate(chosen):
            c.batch = "V" if i < n_batch else "N"
            c.reserve = 11

    def _plan_scenarios(self) -> None:
        rng = self.rng
        for name, spec in SCENARIOS.items():
            count = max(spec.minimum, round(spec.rate * self.n))
            fits = [c for c in self.classes if spec.need is None or spec.need(c)]
            preferred = [c for c in fits if spec.prefer(c)] if spec.prefer else []
            for _ in range(count):
                host = self._pick(preferred, spec.occupancy) or self._pick(fits, spec.occupancy)
                if host is None:
                    host = self._force(name, spec)
                    fits.append(host)
                host.scenarios.append((name, spec.occupancy, None))
        # the same photo in two classes
        count = max(2, round(DUP_CROSS_RATE * self.n))
        anywhere = list(self.classes)
        for _ in range(count):
            photo = f"{rng.getrandbits(256):064x}"
            a = self._pick(anywhere, 1)
            b = self._pick([c for c in anywhere if c is not a], 1)
            if a is None or b is None:
                raise ValueError("没有可以埋入跨班照片重复的班级，请增加学员数")
            a.scenarios.append(("DUP_CROSS_V", 1, photo))
            b.scenarios.append(("DUP_CROSS_V", 1, photo))

    def _pick(self, candidates: list[ClassPlan], occupancy: int) -> ClassPlan | None:
        """A random candidate with room; full ones are dropped from the list as they are met."""
        while candidates:
            i = self.rng.randrange(len(candidates))
            c = candidates[i]
            if c.capacity >= occupancy:
                return c
            candidates[i] = candidates[-1]
            candidates.pop()
        return None

    def _force(self, name: str, spec: Scenario) -> ClassPlan:
        """Make a class fit: one not in a cross-class pair, whose hosted scenarios still fit."""
        for c in self.rng.sample(self.classes, len(self.classes)):
            if c.pair or c.capacity < spec.occupancy or spec.force is None:
                continue
            trial = replace(c, scenarios=list(c.scenarios))
            spec.force(trial)
            if spec.need(trial) and all(
                SCENARIOS[n].need is None or SCENARIOS[n].need(trial)
                for n, _k, _p in c.scenarios
                if n in SCENARIOS
            ):
                spec.force(c)
                return c
        raise ValueError(f"没有可以埋入 {name} 的班级，请增加学员数")

    def _plan_teachers(self) -> None:
        """Each teacher teaches one class at a time (dates never overlap); then the planted
        double bookings lend one lesson to a teacher of a class running at the same time."""
        rng = self.rng
        for c in sorted(self.classes, key=lambda c: (c.start, c.idx)):
            need = 1 + (c.total >= 100) + (c.total >= 160)
            free = [t for t in c.inst.teachers if t.busy_until < c.start]
            rng.shuffle(free)
            chosen = free[:need]
            while len(chosen) < need:
                chosen.append(self._new_teacher(c))
            for t in chosen:
                t.busy_until = c.end
                t.classes.append(c)
            c.teachers = chosen
        self.teacher_labels: list[tuple[str, str, str]] = []
        self.teacher_checks: list[tuple[ClassPlan, int, Teacher, bool]] = []
        for pairs, touching in ((self.teacher_pairs, False), (self.teacher_near_pairs, True)):
            for x, y in pairs:
                lx = _timetable(self.cal, x)
                ly = _timetable(self.cal, y)
                done = False
                for ix, (dx, sx, ex, _m) in enumerate(lx):
                    for iy, (dy, sy, ey, _my) in enumerate(ly):
                        hit = dx == dy and (ex == sy if touching else _overlap(sx, ex, sy, ey))
                        if hit and iy not in y.overrides:
                            t = x.overrides.get(ix) or x.teachers[ix % len(x.teachers)]
                            y.overrides[iy] = t
                            t.classes.append(y)
                            self.teacher_checks.append((y, iy, t, not touching))
                            done = True
                            break
                    if done:
                        break
                if not done:
                    raise ValueError(f"无法为班级 {x.code}/{y.code} 安排教师冲突")
        self._judge_teachers()

    def _new_teacher(self, c: ClassPlan) -> Teacher:
        rng = self.rng
        year = 2024 - rng.randint(28, 60)
        person = self._new_person(self._person_area(c.inst.area), year)
        occ = rng.choice(c.inst.licensed)
        qual = rng.choice(
            (
                f"{self.occupation_names[occ]}二级/技师",
                f"{self.occupation_names[occ]}一级/高级技师",
                "讲师、" + self.occupation_names[occ] + "三级/高级工",
                "高级讲师",
                "中级职称、职业技能等级评价考评员",
            )
        )
        t = Teacher(person.id_number, person.name, c.inst.code, qual)
        c.inst.teachers.append(t)
        return t

    def _judge_teachers(self) -> None:
        """TEACHER_DOUBLE_BOOKED, judged over every lesson the teacher gives on that day."""
        cache: dict[int, list] = {}

        def lessons(c: ClassPlan) -> list:
            if c.idx not in cache:
                table = _timetable(self.cal, c)
                cache[c.idx] = [
                    (d, s, e, c.overrides.get(i) or c.teachers[i % len(c.teachers)])
                    for i, (d, s, e, _m) in enumerate(table)
                ]
            return cache[c.idx]

        for c, iy, t, expected in self.teacher_checks:
            d, s, e, _t = lessons(c)[iy]
            clashes = []
            for other in t.classes:
                if other is c:
                    continue
                for d2, s2, e2, t2 in lessons(other):
                    if t2 is t and d2 == d and _overlap(s, e, s2, e2):
                        clashes.append(other)
            if bool(clashes) != expected:
                raise AssertionError(f"教师冲突埋点与判定不一致：{c.code}")
            for other in clashes:
                self.labels.add(("TEACHER_DOUBLE_BOOKED", c.code, t.id_number))
                self.labels.add(("TEACHER_DOUBLE_BOOKED", other.code, t.id_number))
            self.scenario_counts["TEACHER_V" if expected else "TEACHER_TOUCHING_N"] += 1

    # -- writing --

    def _open(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "registries").mkdir(exist_ok=True)
        self.files = {}
        self.writers = {}
        for name, header in PACKAGE_HEADERS.items():
            self._writer(name, self.out / name, header)
        for kind, header in REGISTRY_HEADERS.items():
            self._writer(kind, self.out / "registries" / f"{kind}.csv", header)
        self._writer("history.csv", self.out / "history.csv", HISTORY_HEADER)

    def _writer(self, key: str, path: Path, header) -> None:
        fh = path.open("w", encoding="utf-8", newline="")
        self.files[key] = (fh, path)
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        self.writers[key] = writer

    def _write(self, key: str, rows: list) -> None:
        self.writers[key].writerows(rows)
        self.rows[key] += len(rows)

    def write_plan(self) -> None:
        self._write(
            "institutions.csv",
            [
                (i.code, i.name, i.type, i.area, i.address, ";".join(i.licensed), "Y" if i.listed else "N")
                for i in self.institutions
            ],
        )
        self._write(
            "teachers.csv",
            [
                (t.id_number, t.name, t.institution_code, t.qualification)
                for i in self.institutions
                for t in i.teachers
            ],
        )
        self._write(
            "classes.csv",
            [
                (
                    c.code,
                    c.inst.code,
                    c.area,
                    c.occ,
                    self.occupation_names[c.occ],
                    c.level,
                    c.ttype,
                    _iso(c.start),
                    _iso(c.end),
                    c.total,
                    c.online,
                    c.site_address,
                    f"{c.lat:.6f}",
                    f"{c.lon:.6f}",
                )
                for c in self.classes
            ],
        )
        for c in self.classes:
            if not c.inst.listed:
                self.labels.add(("INSTITUTION_NOT_LISTED", c.code, ""))
            if c.occ not in c.inst.licensed:
                self.labels.add(("OUT_OF_SCOPE", c.code, ""))
        self.scenario_counts["NOT_LISTED_V"] = sum(1 for c in self.classes if not c.inst.listed)
        self.scenario_counts["OUT_OF_SCOPE_V"] = len(self.out_of_scope)

    # -- one class --

    def run_class(self, c: ClassPlan) -> None:
        rng = self.rng
        run = _ClassRun(self.cal, c)
        start_date = dt.date.fromordinal(c.start)
        members: list[tuple[Person, Enrolment, str, object, LinkedPerson | None]] = []
        # scenario slots first, then ordinary trainees, then the linked persons of pairs
        slots: list[tuple[str, object, int]] = []
        for name, occupancy, param in c.scenarios:
            for k in range(occupancy):
                slots.append((name, param, k))
        n_members = c.size + len(c.linked)
        run.draw_offsets(rng, n_members)
        groups: dict[int, list[int]] = {}
        for j in range(c.size):
            name, param, k = slots[j] if j < len(slots) else ("", None, 0)
            category = self._category(c, name)
            birth = None
            if name in ("AGE_V", "AGE_16_ON_START_N"):
                sixteenth = start_date.replace(year=start_date.year - 16)
                birth = sixteenth + dt.timedelta(days=rng.randint(1, 300) if name == "AGE_V" else 0)
            year = start_date.year - rng.randint(*AGE_RANGE[category])
            person = self._new_person(self._person_area(c.area), year, birth=birth)
            person.ip = self._ip()
            en = Enrolment(c, category)
            run.baseline(rng, en, person, j, full=bool(name) or bool(c.batch), fmt=self.fmt)
            if name:
                self._plant_records(name, run, en, person, param)
                if SCENARIOS.get(name) and SCENARIOS[name].occupancy > 1:
                    groups.setdefault(id(slots[j - k]), []).append(j)
            members.append((person, en, name, param, None))
        for lp, role in c.linked:
            en = Enrolment(c, self._linked_category(c))
            lp.enrolments[c.idx] = en
            j = len(members)
            if not (role == "REPEAT_SAME_DAY_V" and c is lp.pair[1]):  # else: enrolled, never came
                run.baseline(rng, en, lp.person, j, full=True, fmt=self.fmt)
                if role == "OVERLAP_TOUCHING_N":
                    self._touching_pair(run, en, lp)
            members.append((lp.person, en, role, None, lp))
        for js in groups.values():
            name = members[js[0]][2]
            self._plant_group(name, run, [members[j] for j in js])
        if c.batch:
            self._plant_batch(run, members)
        # class-level: identical check-ins
        seconds = Counter(rec[0] for _p, en, *_ in members for rec in en.records)
        top = max(seconds.values(), default=0)
        if top >= BATCH_MIN:
            self.labels.add(("BATCH_CHECKIN", c.code, ""))
        if c.batch:
            if (top >= BATCH_MIN) != (c.batch == "V"):
                raise AssertionError(f"批量签到埋点与判定不一致：{c.code}")
            self.scenario_counts["BATCH_V" if c.batch == "V" else "BATCH_NINE_N"] += 1
        elif top >= BATCH_MIN:
            raise AssertionError(f"意外的批量签到：{c.code}")
        # exams, registries, judgement
        for person, en, name, param, lp in members:
            scan = run._scan(en)
            counted = run.counted(en, scan[0])
            forced = name in ("BELOW_MISSED_V", "BELOW_COVER_89_V", "COVER_90_N", "EXACT_95_N")
            if forced or (counted >= _exam_min(c.total) and rng.random() < 0.96):
                self._exam(c, en, person)
            en.class_hits = run.judge(en, scan)
            if lp is not None:
                continue
            if name:
                self._plant_registry(name, run, en, person, param)
            else:
                self._baseline_registry(c, en, person)
            self._certificate_from_exam(c, en, person)
            hits = en.class_hits | _person_hits(person, [en]).get(c.idx, set())
            for rule in sorted(hits):
                self.labels.add((rule, c.code, person.id_number))
            if name:
                self._expect(name, c, person, hits)
            self._write_person(person)
        self._track(c, members)
        self._write_class(run, members)
        self._fillers(c)

    def _category(self, c: ClassPlan, name: str) -> str:
        forced = {
            "AGE_V": SL,
            "AGE_16_ON_START_N": SL,
            "UNREG_NONE_V": RU,
            "UNREG_ENDED_DAY_BEFORE_V": RU,
            "UNREG_ENDS_ON_START_N": RU,
            "UNREG_FROM_START_N": RU,
            "INSURED_PREVIOUS_MONTH_N": RU,
            "INSURED_GRADUATE_N": GR,
            "BUSINESS_V": RU,
            "BUSINESS_REVOKED_DAY_BEFORE_N": RU,
            "BUSINESS_STARTUP_CLASS_N": RU,
        }.get(name)
        if forced:
            return forced
        if name == "INSURED_V":
            return self.rng.choice((RU, RM, SL))
        mix = CATEGORY_MIX[c.ttype]
        return self.rng.choices([m[0] for m in mix], [m[1] for m in mix])[0]

    @staticmethod
    def _linked_category(c: ClassPlan) -> str:
        return EE if c.ttype == "UPGRADE" else RM

    def _touching_pair(self, run: _ClassRun, en: Enrolment, lp: LinkedPerson) -> None:
        """The person's day-class afternoon record ends at 17:00:00 and the evening class's record
        starts at 17:00:00 on every day both classes meet: touching, not overlapping."""
        x, y = lp.pair
        if run.c is x:
            days_y = {d for d, *_ in _timetable(self.cal, y)}
            for rec in en.records:
                d = rec[0] // DAY
                if d in days_y and rec[0] % DAY > 12 * 3600:
                    rec[1] = d * DAY + SLOT_AFTERNOON[1]
        else:
            afternoons = {
                d for d, s, _e, m in _timetable(self.cal, x) if s == SLOT_AFTERNOON[0] and m == "OFFLINE"
            }
            for rec in en.records:
                d = rec[0] // DAY
                if d in afternoons:
                    rec[0] = d * DAY + SLOT_EVENING17[0]

    # -- scenarios: records --

    def _plant_records(self, name: str, run: _ClassRun, en: Enrolment, person: Person, param) -> None:
        rng = self.rng
        c = run.c
        self.scenario_counts[name] += 1
        recs = en.records
        if name == "HOSPITAL_ABSENT_N":
            days = sorted({r[0] // DAY for r in recs})
            i = rng.randint(1, max(1, len(days) - 4))
            d1, d2 = days[i], days[min(i + rng.randint(0, 2), len(days) - 2)]
            en.records = [r for r in recs if not d1 <= r[0] // DAY <= d2]
            en.sessions = [s for s in en.sessions if not d1 <= s[0] // DAY <= d2]
            person.hospital.append((d1, d2, self._hospital(person)))
        elif name == "OUTSIDE_V":
            d, w0, w1 = run.window(rng, en, lesson_free=True)
            ci = d * DAY + w0 + rng.randint(0, 1800)
            en.records.append(run.face_record(rng, ci, ci + rng.randint(3600, 5400)))
        elif name == "OUTSIDE_PARTIAL_N":
            rec, (d, s, e) = run.record_of(rng, en, skip_first_day=True)
            rec[0], rec[1] = d * DAY + e - 900, d * DAY + e + 300
        elif name == "BELOW_MISSED_V":
            miss = c.total // 80 + 1  # 4·miss hours > 5 % of total
            self._drop_lessons(run, en, miss)
        elif name == "BELOW_COVER_89_V":
            rec, (d, s, e) = run.record_of(rng, en, skip_first_day=False)
            rec[0] = d * DAY + s + LESSON - COVER_MIN + 1  # 89.99 %: the lesson does not count
            while run.counted(en) >= _exam_min(c.total):
                self._drop_lessons(run, en, 1)
        elif name == "COVER_90_N":
            rec, (d, s, e) = run.record_of(rng, en, skip_first_day=False)
            rec[0] = d * DAY + s + LESSON - COVER_MIN  # exactly 90 %: the lesson counts
        elif name == "EXACT_95_N":
            self._drop_lessons(run, en, c.total // 80)
        elif name in ("LOCATION_V", "LOCATION_980M_N"):
            rec, _lesson = run.record_of(rng, en, skip_first_day=False)
            metres = rng.uniform(1500, 25000) if name == "LOCATION_V" else 980.0
            lat, lon = _offset(c.lat, c.lon, metres, rng.uniform(0, 2 * math.pi))
            rec[2], rec[3], rec[4], rec[5], rec[6] = "FACE", f"{rng.getrandbits(256):064x}", lat, lon, True
        elif name == "SHARE_V":
            while run.online_capped(en) <= _online_cap(c.total):
                d, w0, _w1 = run.window(rng, en, session_free_day=True)
                en.sessions.append([d * DAY + w0, d * DAY + w0 + LESSON, person.ip, rng.randint(2, 6), 0])
        elif name == "DAILY_V":
            by_day = run.online_by_day(en)
            day = max(sorted(by_day), key=lambda d: by_day[d])
            while run.online_by_day(en)[day] <= DAILY_MAX:
                w0, _w1 = run.window_on(en, day)
                en.sessions.append([day * DAY + w0, day * DAY + w0 + LESSON, person.ip, rng.randint(2, 6), 0])
        elif name == "CONCURRENT_SESSIONS_V":
            s = rng.choice(en.sessions)
            start = s[0]
            s[1] = start + 3 * CLASS_HOUR
            en.sessions.append([start + 6300, start + 9000, person.ip, rng.randint(1, 3), 0])
        elif name == "CONCURRENT_ATTENDANCE_V":
            rec, _lesson = run.record_of(rng, en, skip_first_day=False)
            en.sessions.append([rec[0] + 1800, rec[0] + 1800 + CLASS_HOUR, person.ip, rng.randint(1, 2), 0])
        elif name == "TOUCHING_SESSIONS_N":
            s = rng.choice(en.sessions)
            half = (s[1] - s[0]) // 2
            en.sessions.append([s[0] + half, s[1], person.ip, rng.randint(1, 3), 0])
            s[1] = s[0] + half
        elif name == "TOUCHING_ATTENDANCE_N":
            rec = run.first_record_of_a_day(rng, en)
            en.sessions.append([rec[0] - 2 * CLASS_HOUR, rec[0], person.ip, rng.randint(1, 3), 0])
        elif name == "FACE_FAILED_V":
            s = rng.choice(en.sessions)
            s[3], s[4] = rng.randint(0, 3), rng.randint(1, 3)
        elif name == "FACE_NONE_PASSED_V":
            s = rng.choice(en.sessions)
            s[3], s[4] = 0, 0
        elif name == "FACE_60_MINUTES_N":
            d, w0, _w1 = run.window(rng, en, session_free_day=True)
            en.sessions.append([d * DAY + w0, d * DAY + w0 + 3600, person.ip, 0, 0])
        elif name == "DUP_OTHER_DAY_V":
            a, b = run.two_records_on_different_days(rng, en)
            photo = run.make_face(rng, a)
            run.make_face(rng, b, photo)
            self.tracked_photos.setdefault(photo, [])
        elif name == "DUP_SAME_DAY_N":
            a, b = run.two_records_on_one_day(rng, en)
            photo = run.make_face(rng, a)
            run.make_face(rng, b, photo)
            self.tracked_photos.setdefault(photo, [])
        elif name == "DUP_CROSS_V":
            rec, _lesson = run.record_of(rng, en, skip_first_day=False)
            run.make_face(rng, rec, param)
            self.tracked_photos.setdefault(param, [])

    def _drop_lessons(self, run: _ClassRun, en: Enrolment, n: int) -> None:
        """The trainee misses n more offline lessons (never the first day's)."""
        covered = sorted({run.lesson_of(r) for r in en.records} - {None})
        first_day = run.offline[0][0]
        choices = [k for k in covered if run.offline[k][0] != first_day]
        for k in self.rng.sample(choices, n):
            en.records = [r for r in en.records if run.lesson_of(r) != k]

    def _plant_group(self, name: str, run: _ClassRun, members: list) -> None:
        rng = self.rng
        if name == "DUP_OTHER_PERSON_V":
            (_pa, ea, *_), (_pb, eb, *_) = members
            ra, _l = run.record_of(rng, ea, skip_first_day=False)
            rb, _l = run.record_of(rng, eb, skip_first_day=False)
            photo = run.make_face(rng, ra)
            run.make_face(rng, rb, photo)
            self.tracked_photos.setdefault(photo, [])
        elif name in ("IP_FARM_V", "IP_FOUR_PLUS_TOUCHING_N"):
            ip = self._ip()
            self.tracked_ips.setdefault(ip, [])
            last_of_day = [
                k
                for k, (d, s, _e) in enumerate(run.online)
                if k + 1 == len(run.online) or run.online[k + 1][0] != d
            ]
            k = rng.choice(last_of_day if name == "IP_FOUR_PLUS_TOUCHING_N" else range(len(run.online)))
            d, s, e = run.online[k]
            lesson_start = d * DAY + s
            for i, (_p, en, *_rest) in enumerate(members):
                session = next(x for x in en.sessions if run.session_lesson(x) == k)
                session[2] = ip
                if name == "IP_FOUR_PLUS_TOUCHING_N":
                    shift = LESSON if i == len(members) - 1 else 0
                    session[0], session[1] = lesson_start + shift, lesson_start + shift + LESSON

    def _plant_batch(self, run: _ClassRun, members: list) -> None:
        """Ten or more (or exactly nine) trainees with the identical check-in second."""
        c = run.c
        free = [en for _p, en, name, _param, lp in members if lp is None and name not in TIME_EXACT]
        by_lesson: dict[int, list] = {}
        for en in free:
            for rec in en.records:
                k = run.lesson_of(rec)
                if k is not None:
                    by_lesson.setdefault(k, []).append(rec)
        k = max(sorted(by_lesson), key=lambda k: len(by_lesson[k]))
        recs = by_lesson[k]
        n = len(recs) if c.batch == "V" else 9
        if n < (BATCH_MIN if c.batch == "V" else 9):
            raise AssertionError(f"班级 {c.code} 的签到人数不足以埋入批量签到")
        d, s, _e = run.offline[k]
        taken = {rec[0] for _p, en, *_ in members for rec in en.records}
        moment = next(d * DAY + s - x for x in range(300, 900) if d * DAY + s - x not in taken)
        for rec in recs[:n]:
            rec[0] = moment

    # -- scenarios: registries --

    def _plant_registry(self, name: str, run: _ClassRun, en: Enrolment, person: Person, param) -> None:
        rng = self.rng
        c = run.c
        start, end = c.start, c.end
        month = _month(start)
        if en.category == RU and not name.startswith("UNREG"):
            person.unemployment.append((start - rng.randint(10, 400), None))
        if name == "DEAD_BEFORE_V":
            person.deaths.append(start - rng.randint(1, 400))
        elif name == "DEAD_DURING_V":
            days = sorted({r[0] // DAY for r in en.records})
            person.deaths.append(rng.choice(days[1:]) - 1)
        elif name == "DEAD_DAY_AFTER_N":
            last = max([end] + [r[0] // DAY for r in en.records] + [s[0] // DAY for s in en.sessions])
            if en.exam:
                last = max(last, en.exam[0])
            person.deaths.append(last + 1)
        elif name == "PAYROLL_V":
            s = start - rng.randint(200, 4000)
            person.payroll.append((s, None if rng.random() < 0.6 else rng.randint(start, end), self._unit(c)))
        elif name == "PAYROLL_ENDS_DAY_BEFORE_N":
            person.payroll.append((start - rng.randint(300, 3000), start - 1, self._unit(c)))
        elif name == "PAYROLL_STARTS_DAY_AFTER_N":
            person.payroll.append((end + 1, None, self._unit(c)))
        elif name == "UNREG_ENDED_DAY_BEFORE_V":
            person.unemployment.append((start - rng.randint(100, 500), start - 1))
        elif name == "UNREG_ENDS_ON_START_N":
            person.unemployment.append((start - rng.randint(100, 500), start))
        elif name == "UNREG_FROM_START_N":
            person.unemployment.append((start, None))
        elif name in ("INSURED_V", "INSURED_GRADUATE_N"):
            employer = rng.choice(self.employers)
            end_month = None if rng.random() < 0.5 else month + rng.randint(0, 12)
            person.insurance.append((month - rng.randint(0, 24), end_month, *employer))
        elif name == "INSURED_PREVIOUS_MONTH_N":
            person.insurance.append((month - rng.randint(4, 40), month - 1, *rng.choice(self.employers)))
        elif name in ("BUSINESS_V", "BUSINESS_STARTUP_CLASS_N"):
            person.business.append((start - rng.randint(30, 2000), None, *self._business(person)))
        elif name == "BUSINESS_REVOKED_DAY_BEFORE_N":
            person.business.append((start - rng.randint(400, 2000), start - 1, *self._business(person)))
        elif name == "HOSPITAL_V":
            days = sorted({r[0] // DAY for r in en.records})
            d = rng.choice(days)
            person.hospital.append((d - rng.randint(0, 2), d + rng.randint(0, 2), self._hospital(person)))
        elif name == "REPEAT_HISTORY_V":
            level = c.level
            if _numeric(level) and level != "1" and rng.random() < 0.3:
                level = str(int(level) - 1)
            person.history.append(self._history_row(c.occ, level, c.ttype))
        elif name == "REPEAT_LOWER_LEVEL_N":
            person.history.append(self._history_row(c.occ, str(int(c.level) + 1), "EMPLOYMENT"))
        elif name in ("CERT_V", "CERT_ON_START_N", "CERT_LOWER_LEVEL_N"):
            level = str(int(c.level) + 1) if name == "CERT_LOWER_LEVEL_N" else c.level
            issued = start if name == "CERT_ON_START_N" else start - rng.randint(30, 1500)
            kind = "SPECIAL" if level == "SPECIAL" else "SKILL_LEVEL"
            number = self._cert_no(kind, person.area, dt.date.fromordinal(issued).year)
            person.certificates.append((c.occ, level, number, issued))
        elif name in ("LIFETIME_V", "LIFETIME_THIRD_N"):
            n = 3 if name == "LIFETIME_V" else 2
            for occ in rng.sample([o for o in self.all_occupations if o != c.occ], n):
                person.history.append(
                    self._history_row(occ, rng.choice(("5", "5", "BASIC", "SPECIAL")), None)
                )

    def _baseline_registry(self, c: ClassPlan, en: Enrolment, person: Person) -> None:
        """Registry rows of an ordinary trainee: none of them touches the class (rules.md)."""
        rng = self.rng
        r = rng.random
        start, end = c.start, c.end
        month = _month(start)
        cat = en.category
        last = max([end] + ([en.exam[0]] if en.exam else []))
        if cat == RU:
            end_reg = None if r() < 0.7 else start + rng.randint(30, 400)
            person.unemployment.append((start - rng.randint(10, 500), end_reg))
        if cat in (RU, RM, SL) and r() < 0.25:
            em = month - rng.randint(2, 36)
            person.insurance.append((em - rng.randint(3, 60), em, *rng.choice(self.employers)))
        if cat == RM and r() < 0.1:
            person.insurance.append((month + rng.randint(1, 12), None, *rng.choice(self.employers)))
        if cat in (EE, GR) and (cat == EE or r() < 0.15):
            employer = rng.choice(self.employers)
            person.insurance.append((month - rng.randint(0, 120), None, *employer))
            if cat == EE:
                person.filing.append((start - rng.randint(0, 3650), None, employer[0]))
        if cat == ED and r() < 0.5:
            person.unemployment.append((start - rng.randint(10, 900), None))
        if cat == RU and r() < 0.05:
            person.business.append(
                (start - rng.randint(800, 3000), start - rng.randint(30, 700), *self._business(person))
            )
        if cat != RU and r() < 0.03:
            person.business.append((start - rng.randint(30, 3000), None, *self._business(person)))
        if r() < 0.03:
            if r() < 0.5:
                d = start - rng.randint(1, 700)
                person.hospital.append((d - rng.randint(0, 15), d, self._hospital(person)))
            else:
                d = last + rng.randint(1, 300)
                person.hospital.append((d, d + rng.randint(0, 15), self._hospital(person)))
        if r() < 0.005:
            e = start - rng.randint(365, 3000)
            person.payroll.append((e - rng.randint(300, 3000), e, self._unit(c)))
        if r() < 0.01:
            person.filing.append(
                (start - rng.randint(400, 2000), start - rng.randint(30, 399), rng.choice(self.employers)[0])
            )
        n_history = 2 if r() < 0.03 else 1 if r() < 0.1 else 0
        for occ in rng.sample([o for o in self.all_occupations if o != c.occ], n_history):
            person.history.append(
                self._history_row(occ, rng.choice(("5", "5", "4", "BASIC", "SPECIAL")), None)
            )
        if r() < 0.05:
            occ = rng.choice([o for o in self.all_occupations if o != c.occ])
            issued = start - rng.randint(60, 3000)
            person.certificates.append(
                (
                    occ,
                    "5",
                    self._cert_no("SKILL_LEVEL", person.area, dt.date.fromordinal(issued).year),
                    issued,
                )
            )

    def _certificate_from_exam(self, c: ClassPlan, en: Enrolment, person: Person) -> None:
        """技能人才评价 holds the certificate this class led to: issued after the exam."""
        if en.exam and en.exam[2] == "Y" and en.exam[3] in ("SKILL_LEVEL", "SPECIAL"):
            person.certificates.append((c.occ, c.level, en.exam[4], en.exam[0] + self.rng.randint(15, 40)))

    def _exam(self, c: ClassPlan, en: Enrolment, person: Person) -> None:
        rng = self.rng
        passed = rng.random() < 0.92
        if not passed:
            en.exam = (c.exam_day, str(rng.randint(30, 59)), "N", "", "")
            return
        kind = {"SPECIAL": "SPECIAL", "STARTUP": "STARTUP", "BASIC": "TRAINING"}.get(c.level, "SKILL_LEVEL")
        number = self._cert_no(kind, c.area, dt.date.fromordinal(c.exam_day).year)
        en.exam = (c.exam_day, str(rng.randint(60, 98)), "Y", kind, number)

    def _history_row(self, occ: str, level: str, ttype: str | None) -> tuple:
        rng = self.rng
        if ttype is None:
            ttype = {"SPECIAL": "SPECIAL", "STARTUP": "STARTUP"}.get(level, "EMPLOYMENT")
        day = dt.date(rng.randint(2016, 2023), rng.randint(1, 12), rng.randint(1, 28)).toordinal()
        inst = (
            rng.choice(self.institutions).code
            if rng.random() < 0.6
            else _uscc("52" + rng.choice(self.area_codes) + self._org_code())
        )
        return (occ, level, ttype, day, inst, str(rng.choice((600, 800, 1000, 1200, 1500, 1800, 2200))))

    def _hospital(self, person: Person) -> str:
        area = person.area if person.area in self.area_city else self.rng.choice(self.area_codes)
        return self.area_names[area] + self.rng.choice(HOSPITAL_KINDS)

    def _unit(self, c: ClassPlan) -> str:
        return self.area_names[c.area] + self.rng.choice(UNIT_KINDS)

    def _business(self, person: Person) -> tuple[str, str]:
        area = person.area if person.area in self.area_city else self.rng.choice(self.area_codes)
        code = _uscc("92" + area + self._org_code())
        return code, self.area_names[area] + self.rng.choice(BRANDS) + self.rng.choice(SHOP_KINDS)

    def _expect(self, name: str, c: ClassPlan, person: Person, hits: set[str]) -> None:
        spec = SCENARIOS.get(name)
        if spec is None or spec.rule in ("DUPLICATE_PHOTO", "ONLINE_IP_FARM"):
            return  # judged across the package at the end
        if (spec.rule in hits) != spec.fires:
            raise AssertionError(f"埋点 {name} 与判定不一致：班级 {c.code}，判定 {sorted(hits)}")

    # -- writing one class --

    def _write_person(self, p: Person) -> None:
        f = self.fmt
        w = self._write
        if p.deaths:
            w("death", [(p.id_number, p.name, f.day(d)) for d in p.deaths])
        if p.payroll:
            w("public_payroll", [(p.id_number, p.name, u, f.day(s), f.day(e)) for s, e, u in p.payroll])
        if p.business:
            w(
                "business_license",
                [(p.id_number, p.name, code, n, f.day(s), f.day(e)) for s, e, code, n in p.business],
            )
        if p.hospital:
            w("hospitalization", [(p.id_number, p.name, h, f.day(s), f.day(e)) for s, e, h in p.hospital])
        if p.insurance:
            w(
                "social_insurance",
                [(p.id_number, p.name, code, n, f.month(s), f.month(e)) for s, e, code, n in p.insurance],
            )
        if p.filing:
            w(
                "employment_filing",
                [(p.id_number, p.name, code, f.day(s), f.day(e)) for s, e, code in p.filing],
            )
        if p.unemployment:
            w(
                "unemployment_registration",
                [(p.id_number, p.name, f.day(s), f.day(e)) for s, e in p.unemployment],
            )
        if p.certificates:
            w(
                "skill_certificate",
                [(p.id_number, p.name, occ, lvl, no, f.day(d)) for occ, lvl, no, d in p.certificates],
            )
        if p.history:
            w(
                "history.csv",
                [
                    (p.id_number, p.name, occ, lvl, t, f.day(d), inst, amt)
                    for occ, lvl, t, d, inst, amt in p.history
                ],
            )

    def _track(self, c: ClassPlan, members: list) -> None:
        photos, ips = self.tracked_photos, self.tracked_ips
        for person, en, *_ in members:
            for rec in en.records:
                if rec[3] and rec[3] in photos:
                    photos[rec[3]].append((c.code, person.id_number, rec[0] // DAY))
            for s in en.sessions:
                if s[2] in ips:
                    ips[s[2]].append((s[0], s[1], person.id_number, c.code))

    def _write_class(self, run: _ClassRun, members: list) -> None:
        c = run.c
        f = self.fmt
        code = c.code
        lessons = []
        for i, (d, s, e, mode) in enumerate(run.lessons):
            t = c.overrides.get(i) or c.teachers[i % len(c.teachers)]
            lessons.append((code, f.day(d), f.times[s][:5], f.times[e][:5], 4, mode, t.id_number))
        self._write("lessons.csv", lessons)
        enrol, att, ses, exams = [], [], [], []
        prefix, times = f.prefixes, f.times
        for person, en, *_ in members:
            idn = person.id_number
            enrol.append((code, idn, person.name, person.phone, en.category))
            en.records.sort(key=lambda r: r[0])
            att.extend(
                (
                    code,
                    idn,
                    prefix[ci // DAY] + times[ci % DAY],
                    prefix[co // DAY] + times[co % DAY],
                    method,
                    photo,
                    "" if lat is None else f"{lat:.6f}",
                    "" if lon is None else f"{lon:.6f}",
                )
                for ci, co, method, photo, lat, lon, _far in en.records
            )
            en.sessions.sort(key=lambda x: x[0])
            ses.extend(
                (
                    code,
                    idn,
                    c.platform,
                    prefix[a // DAY] + times[a % DAY],
                    prefix[b // DAY] + times[b % DAY],
                    ip,
                    p,
                    n,
                )
                for a, b, ip, p, n in en.sessions
            )
            if en.exam:
                day, score, passed, kind, number = en.exam
                exams.append((code, idn, f.day(day), score, passed, kind, number))
        self._write("enrollments.csv", enrol)
        self._write("attendance.csv", att)
        self._write("online_sessions.csv", ses)
        self._write("exams.csv", exams)

    def _fillers(self, c: ClassPlan) -> None:
        """People who are not trainees, in every registry and in history."""
        rng = self.rng
        size = c.size
        rates = (
            ("death", 0.04),
            ("public_payroll", 0.06),
            ("business_license", 0.05),
            ("hospitalization", 0.05),
            ("social_insurance", 0.08),
            ("employment_filing", 0.05),
            ("unemployment_registration", 0.04),
            ("skill_certificate", 0.05),
            ("history.csv", 0.06),
        )
        lo, hi = dt.date(2012, 1, 1).toordinal(), dt.date(2026, 10, 31).toordinal()
        for kind, rate in rates:
            for _ in range(sum(1 for _ in range(size) if rng.random() < rate)):
                p = self._new_person(rng.choice(self.area_codes), rng.randint(1950, 2004))
                d = rng.randint(lo, hi)
                later = None if rng.random() < 0.4 else d + rng.randint(1, 2000)
                if kind == "death":
                    p.deaths.append(d)
                elif kind == "public_payroll":
                    p.payroll.append(
                        (d, later, self.area_names[rng.choice(self.area_codes)] + rng.choice(UNIT_KINDS))
                    )
                elif kind == "business_license":
                    p.business.append((d, later, *self._business(p)))
                elif kind == "hospitalization":
                    p.hospital.append((d, d + rng.randint(0, 20), self._hospital(p)))
                elif kind == "social_insurance":
                    m = _month(d)
                    p.insurance.append(
                        (m, None if later is None else _month(later), *rng.choice(self.employers))
                    )
                elif kind == "employment_filing":
                    p.filing.append((d, later, rng.choice(self.employers)[0]))
                elif kind == "unemployment_registration":
                    p.unemployment.append((d, later))
                elif kind == "skill_certificate":
                    occ = rng.choice(self.all_occupations)
                    level = rng.choice(("5", "4", "3", "SPECIAL"))
                    kind_c = "SPECIAL" if level == "SPECIAL" else "SKILL_LEVEL"
                    p.certificates.append(
                        (occ, level, self._cert_no(kind_c, p.area, dt.date.fromordinal(d).year), d)
                    )
                else:
                    p.history.append(
                        self._history_row(
                            rng.choice(self.all_occupations), rng.choice(("5", "4", "BASIC")), None
                        )
                    )
                self._write_person(p)

    # -- the end: linked persons, shared photos and IPs, labels --

    def finish(self) -> None:
        for lp in self.linked:
            p = lp.person
            x, y = lp.pair
            if lp.role == "LIFETIME_FOURTH_V":
                for occ in self.rng.sample([o for o in self.all_occupations if o not in (x.occ, y.occ)], 2):
                    p.history.append(self._history_row(occ, "5", None))
            enrolments = [lp.enrolments[x.idx], lp.enrolments[y.idx]]
            for en in enrolments:
                self._certificate_from_exam(en.cls, en, p)
            hits = _person_hits(p, enrolments)
            for en in enrolments:
                for rule in en.class_hits | hits.get(en.cls.idx, set()):
                    self.labels.add((rule, en.cls.code, p.id_number))
            rule = PAIR_SCENARIOS[lp.role][0]
            expected = {
                "OVERLAP_V": (True, True),
                "OVERLAP_TOUCHING_N": (False, False),
                "REPEAT_LATER_V": (False, True),
                "REPEAT_SAME_DAY_V": (True, True),
                "UPGRADE_N": (False, False),
                "LIFETIME_FOURTH_V": (False, True),
            }[lp.role]
            for en, fires in zip(enrolments, expected, strict=True):
                got = rule in (en.class_hits | hits.get(en.cls.idx, set()))
                if got != fires:
                    raise AssertionError(f"跨班埋点 {lp.role} 与判定不一致：{en.cls.code}")
            if lp.role == "UPGRADE_N" and "ALREADY_CERTIFIED" in hits.get(y.idx, set()):
                raise AssertionError("晋级培训不应判为已取得证书")
            self.scenario_counts[lp.role] += 1
            self._write_person(p)
        self._judge_photos()
        self._judge_ips()

    def _judge_photos(self) -> None:
        for photo in sorted(self.tracked_photos):
            occ = self.tracked_photos[photo]
            persons = {idn for _c, idn, _d in occ}
            for code, idn, day in occ:
                if len(persons) > 1 or any(i == idn and d != day for _c, i, d in occ):
                    self.labels.add(("DUPLICATE_PHOTO", code, idn))
        for name in ("DUP_OTHER_PERSON_V", "DUP_OTHER_DAY_V", "DUP_CROSS_V", "DUP_SAME_DAY_N"):
            self.scenario_counts.setdefault(name, 0)
        # the plan: every tracked photo fires except the same-day near misses
        for photo in sorted(self.tracked_photos):
            occ = self.tracked_photos[photo]
            fired = any(("DUPLICATE_PHOTO", code, idn) in self.labels for code, idn, _d in occ)
            same_day = len({(i, d) for _c, i, d in occ}) == 1
            if fired == same_day:
                raise AssertionError(f"照片埋点与判定不一致：{photo}")

    def _judge_ips(self) -> None:
        for ip in sorted(self.tracked_ips):
            sessions = self.tracked_ips[ip]
            reported: set[tuple[str, str]] = set()
            for t, *_ in sessions:
                open_now = [(idn, code) for s, e, idn, code in sessions if s <= t < e]
                if len({idn for idn, _c in open_now}) >= FARM_MIN:
                    reported.update(open_now)
            for idn, code in reported:
                self.labels.add(("ONLINE_IP_FARM", code, idn))
            farm = len({idn for idn, _c in {(i, c) for _s, _e, i, c in sessions}}) >= 6
            if bool(reported) != farm:
                raise AssertionError(f"IP 埋点与判定不一致：{ip}")

    def write_labels(self) -> None:
        with (self.out / "labels.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(LABELS_HEADER)
            writer.writerows(sorted(self.labels))
        self.rows["labels.csv"] = len(self.labels)

    def close(self) -> None:
        for fh, _path in self.files.values():
            fh.close()


# --- one class at generation time -----------------------------------------------------------------


class _ClassRun:
    """A class's timetable and the helpers to make and judge its trainees' records."""

    def __init__(self, cal: _Calendar, c: ClassPlan):
        self.c = c
        self.lessons = _timetable(cal, c)
        self.offline = [(d, s, e) for d, s, e, m in self.lessons if m == "OFFLINE"]
        self.online = [(d, s, e) for d, s, e, m in self.lessons if m == "ONLINE"]
        self.off_by_day: dict[int, list[tuple[int, int, int]]] = {}
        for k, (d, s, e) in enumerate(self.offline):
            self.off_by_day.setdefault(d, []).append((k, s, e))
        self.lesson_days = {d: [] for d, *_ in self.lessons}
        for d, s, e, _m in self.lessons:
            self.lesson_days[d].append((s, e))
        self.online_day_of = [d for d, _s, _e in self.online]
        self.session_starts = {d * DAY + s: k for k, (d, s, _e) in enumerate(self.online)}
        # fingerprint and card devices stand at the site
        self.device = (round(c.lat + 0.0002, 6), round(c.lon - 0.0003, 6))
        self.coslat = math.cos(math.radians(c.lat))

    def draw_offsets(self, rng: random.Random, n: int) -> None:
        """Distinct check-in seconds (1–900 s before the lesson) for the n trainees of each lesson:
        one random permutation of the 900 seconds per class, rotated by a random shift per lesson."""
        if n > 900:
            raise ValueError("一个班最多 900 名学员")
        self.offset_perm = rng.sample(range(1, 901), 900)
        self.offset_shift = [rng.randrange(900) for _ in self.offline]

    def baseline(self, rng, en: Enrolment, person: Person, j: int, *, full: bool, fmt) -> None:
        c = self.c
        n_off, n_on = len(self.offline), len(self.online)
        absent: set[int] = set()
        if not full:
            u = rng.random()
            if u < 0.02:  # dropped out
                cut = rng.randint(1, (n_off + n_on) // 2)
                absent = set(range(cut, n_off + n_on))
            elif u < 0.14:
                absent = set(rng.sample(range(n_off + n_on), rng.randint(1, 3)))
        method = c.method
        rand = rng.random
        bits = rng.getrandbits
        lat0, lon0, coslat = c.lat, c.lon, self.coslat
        device_lat, device_lon = self.device
        records = en.records
        perm, shifts = self.offset_perm, self.offset_shift
        for k, (d, s, e) in enumerate(self.offline):
            if k in absent:
                continue
            base = d * DAY
            ci = base + s - perm[(j + shifts[k]) % 900]
            co = base + e + int(rand() * 600)
            m = "MANUAL" if rand() < 0.02 else method
            if m == "FACE":
                r = rand() * 150.0
                a = rand() * 6.283185307179586
                lat = lat0 + r * math.cos(a) / 111320.0  # within 150 m: never judged far
                lon = lon0 + r * math.sin(a) / (111320.0 * coslat)
                records.append([ci, co, m, f"{bits(256):064x}", lat, lon, False])
            elif m == "FINGERPRINT":
                records.append([ci, co, m, "", device_lat, device_lon, False])
            else:
                records.append([ci, co, m, "", None, None, False])
        ip = person.ip
        for k, (d, s, e) in enumerate(self.online):
            if n_off + k in absent:
                continue
            start = d * DAY + s + int(rand() * 1801)
            en.sessions.append([start, start + (e - s), ip, 2 + int(rand() * 5), 0])

    # -- helpers for scenarios --

    def lesson_of(self, rec) -> int | None:
        """The offline lesson a record covers (≥ 90 %), if any."""
        d = rec[0] // DAY
        for k, s, e in self.off_by_day.get(d, ()):
            if min(rec[1], d * DAY + e) - max(rec[0], d * DAY + s) >= COVER_MIN:
                return k
        return None

    def session_lesson(self, session) -> int | None:
        for delta in range(0, 1801):
            k = self.session_starts.get(session[0] - delta)
            if k is not None:
                return k
        return None

    def record_of(self, rng, en: Enrolment, *, skip_first_day: bool):
        first_day = self.offline[0][0]
        choices = []
        for rec in en.records:
            k = self.lesson_of(rec)
            if k is not None and not (skip_first_day and self.offline[k][0] == first_day):
                choices.append((rec, self.offline[k]))
        return rng.choice(choices)

    def first_record_of_a_day(self, rng, en: Enrolment):
        by_day: dict[int, list] = {}
        for rec in en.records:
            by_day.setdefault(rec[0] // DAY, []).append(rec)
        day = rng.choice(sorted(by_day))
        return min(by_day[day], key=lambda r: r[0])

    def two_records_on_different_days(self, rng, en: Enrolment):
        a = rng.choice(en.records)
        b = rng.choice([r for r in en.records if r[0] // DAY != a[0] // DAY])
        return a, b

    def two_records_on_one_day(self, rng, en: Enrolment):
        by_day: dict[int, list] = {}
        for rec in en.records:
            by_day.setdefault(rec[0] // DAY, []).append(rec)
        day = rng.choice([d for d in sorted(by_day) if len(by_day[d]) >= 2])
        return by_day[day][0], by_day[day][1]

    def make_face(self, rng, rec, photo: str | None = None) -> str:
        """Turn a record into a face check-in near the site (keeping a position already set)."""
        photo = photo or f"{rng.getrandbits(256):064x}"
        if rec[2] != "FACE" or rec[4] is None:
            rec[4], rec[5] = _offset(self.c.lat, self.c.lon, rng.uniform(5, 150), rng.uniform(0, 2 * math.pi))
        rec[2], rec[3] = "FACE", photo
        return photo

    def face_record(self, rng, ci: int, co: int) -> list:
        lat, lon = _offset(self.c.lat, self.c.lon, rng.uniform(5, 150), rng.uniform(0, 2 * math.pi))
        return [ci, co, "FACE", f"{rng.getrandbits(256):064x}", lat, lon, False]

    def _busy(self, en: Enrolment, a: int, b: int) -> bool:
        return any(_overlap(a, b, r[0], r[1]) for r in en.records) or any(
            _overlap(a, b, s[0], s[1]) for s in en.sessions
        )

    def window(self, rng, en: Enrolment, *, lesson_free: bool = True, session_free_day: bool = False):
        """A 3-hour window inside the class dates clear of every lesson and of the trainee's own
        records and sessions (optionally on a day without any of the trainee's sessions)."""
        c = self.c
        session_days = {s[0] // DAY for s in en.sessions}
        candidates = []
        for d in range(c.start, c.end + 1):
            windows = LESSON_DAY_WINDOWS[c.sched] if d in self.lesson_days else FREE_DAY_WINDOWS
            for w0, w1 in windows:
                if session_free_day and d in session_days:
                    continue
                if any(_overlap(w0, w1, s, e) for s, e in self.lesson_days.get(d, ())):
                    continue
                if self._busy(en, d * DAY + w0, d * DAY + w1):
                    continue
                candidates.append((d, w0, w1))
        if not candidates:
            raise AssertionError(f"班级 {c.code} 没有可用的课外时段")
        return rng.choice(candidates)

    def window_on(self, en: Enrolment, day: int) -> tuple[int, int]:
        """A free 3-hour window on one day (for too many online hours on that day)."""
        for w0, w1 in (
            (19 * 3600, 22 * 3600),
            (9 * 3600, 12 * 3600),
            (13 * 3600, 16 * 3600),
            (5 * 3600, 8 * 3600),
        ):
            if any(_overlap(w0, w1, s, e) for s, e in self.lesson_days.get(day, ())):
                continue
            if not self._busy(en, day * DAY + w0, day * DAY + w1):
                return w0, w1
        raise AssertionError(f"班级 {self.c.code} 在 {_iso(day)} 没有空闲时段")

    # -- hours (rules.md, "How hours are counted") --

    def online_by_day(self, en: Enrolment) -> dict[int, int]:
        by_day: dict[int, int] = {}
        for start, end, _ip, _passed, failed in en.sessions:
            if failed == 0:
                d = start // DAY
                by_day[d] = by_day.get(d, 0) + (end - start)
        return by_day

    def online_capped(self, en: Enrolment) -> int:
        return sum(min(v, DAILY_MAX) for v in self.online_by_day(en).values())

    def _scan(self, en: Enrolment) -> tuple[set[int], bool]:
        """The offline lessons the records cover (≥ 90 %), and whether a record overlaps no
        offline lesson at all (looking at the day before and after too)."""
        covered: set[int] = set()
        outside = False
        off_by_day = self.off_by_day
        for rec in en.records:
            ci, co = rec[0], rec[1]
            d = ci // DAY
            touched = False
            for dd in (d, d - 1, d + 1):
                base = dd * DAY
                for k, s, e in off_by_day.get(dd, ()):
                    a, b = base + s, base + e
                    if ci < b and a < co:
                        touched = True
                        if (co if co < b else b) - (ci if ci > a else a) >= COVER_MIN:
                            covered.add(k)
                if touched and dd == d:
                    break
            if not touched:
                outside = True
        return covered, outside

    def counted(self, en: Enrolment, covered: set[int] | None = None) -> int:
        """Counted hours × 2700 (seconds of class hours), exactly."""
        if covered is None:
            covered = self._scan(en)[0]
        return len(covered) * LESSON + min(self.online_capped(en), _online_cap(self.c.total))

    def judge(self, en: Enrolment, scan: tuple[set[int], bool] | None = None) -> set[str]:
        """The rules that depend only on this class and the trainee's own records in it."""
        c = self.c
        hits = set()
        covered, outside = scan or self._scan(en)
        if outside:
            hits.add("ATTENDANCE_OUTSIDE_SCHEDULE")
        for _ci, _co, _m, _photo, lat, lon, far in en.records:
            if far and lat is not None and _haversine(c.lat, c.lon, lat, lon) > LOCATION_TOLERANCE_M:
                hits.add("LOCATION_MISMATCH")
        if en.exam and self.counted(en, covered) < _exam_min(c.total):
            hits.add("ATTENDANCE_BELOW_THRESHOLD")
        by_day = self.online_by_day(en)
        if sum(min(v, DAILY_MAX) for v in by_day.values()) > _online_cap(c.total):
            hits.add("ONLINE_SHARE_EXCEEDED")
        if any(v > DAILY_MAX for v in by_day.values()):
            hits.add("ONLINE_DAILY_EXCEEDED")
        if en.sessions:
            records_by_day: dict[int, list] = {}
            for r in en.records:
                records_by_day.setdefault(r[0] // DAY, []).append(r)
            latest_end = None
            for s0, s1, _ip, passed, failed in sorted(en.sessions):
                if failed > 0 or (s1 - s0 > 3600 and passed == 0):
                    hits.add("ONLINE_FACE_FAILED")
                if latest_end is not None and s0 < latest_end:
                    hits.add("ONLINE_CONCURRENT")  # sorted by start: overlaps an earlier session
                latest_end = s1 if latest_end is None else max(latest_end, s1)
                for d in range(s0 // DAY - 1, (s1 - 1) // DAY + 1):
                    if any(_overlap(s0, s1, r[0], r[1]) for r in records_by_day.get(d, ())):
                        hits.add("ONLINE_CONCURRENT")
        return hits


# --- rules over a person's registries, history and enrolments ---------------------------------------


def _person_hits(p: Person, enrolments: list[Enrolment]) -> dict[int, set[str]]:
    """Registry, history and cross-class rules for each of the person's enrolments (class idx →
    rule codes). Written from rules.md, independently of the scenario that planted the rows."""
    result: dict[int, set[str]] = {}
    order = sorted(enrolments, key=lambda en: (en.cls.start, en.cls.code))
    for en in enrolments:
        c = en.cls
        start, end = c.start, c.end
        month = _month(start)
        hits = set()
        if _age(p.birth, dt.date.fromordinal(start)) < 16:
            hits.add("AGE_UNDER_16")
        days = [r[0] // DAY for r in en.records] + [s[0] // DAY for s in en.sessions]
        if en.exam:
            days.append(en.exam[0])
        last = max(days, default=None)
        for death in p.deaths:
            if death < start or (last is not None and death < last):
                hits.add("DECEASED")
        if any(s <= end and (e is None or e >= start) for s, e, _u in p.payroll):
            hits.add("PUBLIC_PAYROLL")
        if en.category == RU and not any(s <= start and (e is None or e >= start) for s, e in p.unemployment):
            hits.add("UNEMPLOYED_NOT_REGISTERED")
        if en.category in (RU, RM, SL) and any(
            s <= month and (e is None or e >= month) for s, e, _c, _n in p.insurance
        ):
            hits.add("UNEMPLOYED_BUT_INSURED")
        if (
            en.category == RU
            and c.ttype != "STARTUP"
            and any(s <= start and (e is None or e >= start) for s, e, _c, _n in p.business)
        ):
            hits.add("UNEMPLOYED_BUT_BUSINESS")
        attendance_days = {r[0] // DAY for r in en.records}
        if any(any(a <= d and (b is None or d <= b) for d in attendance_days) for a, b, _h in p.hospital):
            hits.add("HOSPITALIZED_PRESENT")
        if any(occ == c.occ and _level_covers(level, c.level) for occ, level, *_ in p.history) or any(
            other is not en
            and other.cls.occ == c.occ
            and _level_covers(other.cls.level, c.level)
            and other.cls.start <= start
            for other in enrolments
        ):
            hits.add("REPEAT_TRAINING")
        if any(
            occ == c.occ and _level_covers(level, c.level) and issued < start
            for occ, level, _no, issued in p.certificates
        ):
            hits.add("ALREADY_CERTIFIED")
        if len(p.history) + order.index(en) >= 3:
            hits.add("LIFETIME_CAP")
        for other in enrolments:
            if other is en:
                continue
            if any(_overlap(r[0], r[1], o[0], o[1]) for r in en.records for o in other.records):
                hits.add("OVERLAPPING_CLASSES")
            if any(_overlap(s[0], s[1], o[0], o[1]) for s in en.sessions for o in other.records):
                hits.add("ONLINE_CONCURRENT")
        result[c.idx] = hits
    return result


# --- entry point ----------------------------------------------------------------------------------


def generate(*, trainees: int, out: Path, seed: int) -> Summary:
    """Write a data package of `trainees` persons, its registries, history and labels to `out`."""
    began = time.monotonic()
    g = _Generator(trainees=trainees, out=Path(out), seed=seed)
    g.plan()
    g._open()
    try:
        g.write_plan()
        for c in g.classes:
            g.run_class(c)
        g.finish()
    finally:
        g.close()
    g.write_labels()
    unknown = {rule for rule, _c, _i in g.labels} - set(PACKAGE_RULES)
    if unknown:
        raise AssertionError(f"labels name rules outside the package: {sorted(unknown)}")
    findings = Counter(rule for rule, _c, _i in g.labels)
    scenarios = {k: v for k, v in sorted(g.scenario_counts.items()) if not k.endswith("_N")}
    near = {k: v for k, v in sorted(g.scenario_counts.items()) if k.endswith("_N")}
    paths = {name: path for name, (_fh, path) in g.files.items()}
    paths["labels.csv"] = g.out / "labels.csv"
    rows = {}
    sizes = {}
    for key, path in paths.items():
        rel = str(path.relative_to(g.out))
        rows[rel] = g.rows[key]
        sizes[rel] = path.stat().st_size
    return Summary(
        out=g.out,
        seed=seed,
        trainees=trainees,
        classes=len(g.classes),
        institutions=len(g.institutions),
        teachers=sum(len(i.teachers) for i in g.institutions),
        rows=rows,
        sizes=sizes,
        findings={code: findings.get(code, 0) for code in PACKAGE_RULES},
        scenarios=scenarios,
        near_misses=near,
        seconds=time.monotonic() - began,
    )


__all__ = ["generate", "Summary", "PACKAGE_HEADERS", "REGISTRY_HEADERS", "HISTORY_HEADER", "LABELS_HEADER"]
