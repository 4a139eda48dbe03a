"""The left menu, by role: only what the user's permissions open."""

import functools
from dataclasses import dataclass
from types import SimpleNamespace

from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils.translation import get_language

from peixun.accounts.roles import Perm, Role, has_perm
from peixun.inbox.services import unread_count


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    icon: str
    perm: str | None = None
    roles: frozenset[str] | None = None


# Findings concern officials and the institution whose class they are about, not trainees.
FINDING_ROLES = frozenset(
    {
        Role.REGION_ADMIN,
        Role.CITY_ADMIN,
        Role.REVIEWER,
        Role.FINANCE,
        Role.INSPECTOR,
        Role.INSTITUTION_OPERATOR,
    }
)

DEVICE_ROLES = frozenset(
    {Role.REGION_ADMIN, Role.CITY_ADMIN, Role.REVIEWER, Role.INSPECTOR, Role.INSTITUTION_OPERATOR}
)
PLATFORM_ROLES = frozenset({Role.REGION_ADMIN, Role.CITY_ADMIN, Role.PLATFORM_OPERATOR})

MENU: list[tuple[str, list[MenuItem]]] = [
    ("工作台", [MenuItem("待办事项", "home", "inbox"), MenuItem("站内消息", "inbox:inbox", "bell")]),
    (
        "基础信息",
        [
            MenuItem("人员信息", "person_list", "people", perm=Perm.VIEW_PEOPLE),
            MenuItem("行政区划", "area_tree", "diagram-3", perm=Perm.VIEW_AREAS),
        ],
    ),
    (
        "机构与师资",
        [
            MenuItem("培训机构", "institutions:list", "building", perm=Perm.VIEW_INSTITUTIONS),
            MenuItem("师资库", "institutions:teachers", "person-video3", perm=Perm.VIEW_INSTITUTIONS),
            MenuItem("评价机构", "institutions:evaluation_bodies", "award", perm=Perm.VIEW_INSTITUTIONS),
        ],
    ),
    (
        "培训与考勤",
        [
            MenuItem("培训班", "training:classes", "easel", perm=Perm.VIEW_PEOPLE, roles=FINDING_ROLES),
            MenuItem("扫码签到", "checkin:lessons", "qr-code", roles=frozenset({Role.INSTITUTION_OPERATOR})),
            MenuItem(
                "人脸照片", "faces:classes", "person-bounding-box", perm=Perm.VIEW_PEOPLE, roles=FINDING_ROLES
            ),
            MenuItem("考勤设备", "intake:devices", "fingerprint", roles=DEVICE_ROLES),
            MenuItem("线上培训平台", "intake:platforms", "laptop", roles=PLATFORM_ROLES),
            MenuItem("我的培训", "attendance:my", "journal-bookmark", roles=frozenset({Role.TRAINEE})),
            MenuItem("证书", "certificates:list", "patch-check", perm=Perm.VIEW_PEOPLE),
            MenuItem("登记评价机构证书", "certificates:record", "award", perm=Perm.RECORD_CERTIFICATES),
        ],
    ),
    (
        "补贴",
        [
            MenuItem(
                "补贴申请",
                "subsidies:applications",
                "cash-coin",
                perm=Perm.VIEW_PEOPLE,
                roles=FINDING_ROLES | {Role.TRAINEE},
            ),
            MenuItem("公示异议", "subsidies:objections", "chat-left-dots", perm=Perm.REVIEW_SUBSIDIES),
            MenuItem("补贴拨付", "subsidies:payments", "bank", perm=Perm.PAY_SUBSIDIES),
        ],
    ),
    (
        "目录与需求",
        [
            MenuItem("补贴目录", "catalog:list", "journal-text", perm=Perm.VIEW_CATALOG),
            MenuItem("职业分类", "catalog:occupations", "list-columns", perm=Perm.VIEW_CATALOG),
            MenuItem("培训需求", "demand:pool", "bar-chart", perm=Perm.VIEW_DEMAND),
            MenuItem("开班公告", "demand:announcements", "megaphone", perm=Perm.ANNOUNCE_CLASSES),
        ],
    ),
    (
        "数据与核查",
        [
            MenuItem(
                "问题线索",
                "checks:findings",
                "shield-exclamation",
                perm=Perm.VIEW_PEOPLE,
                roles=FINDING_ROLES,
            ),
            MenuItem("机构风险", "checks:risk", "graph-up", perm=Perm.VIEW_PEOPLE, roles=FINDING_ROLES),
            MenuItem("数据交换", "exchange:home", "arrow-left-right", perm=Perm.IMPORT_DATA),
            MenuItem("审核时效", "workload", "stopwatch", perm=Perm.VIEW_WORKLOAD),
        ],
    ),
    (
        "统计分析",
        [
            MenuItem("统计分析", "reports:dashboard", "bar-chart-line", perm=Perm.VIEW_STATISTICS),
            MenuItem(
                "盟市对比",
                "reports:cities",
                "columns-gap",
                perm=Perm.VIEW_STATISTICS,
                roles=frozenset({Role.REGION_ADMIN}),
            ),
            MenuItem("就业跟踪", "reports:employment", "briefcase", perm=Perm.VIEW_STATISTICS),
            MenuItem("需求对接", "reports:needs", "diagram-2", perm=Perm.VIEW_DEMAND),
            MenuItem("统计报表", "reports:standard", "file-earmark-spreadsheet", perm=Perm.GENERATE_REPORTS),
        ],
    ),
    (
        "监督检查",
        [
            MenuItem("监督检查", "supervision:home", "shield-check", perm=Perm.VIEW_SUPERVISION),
            MenuItem("双随机抽查", "supervision:draws", "shuffle", perm=Perm.MANAGE_DRAWS),
            MenuItem("检查人员名录", "supervision:inspectors", "person-badge", perm=Perm.MANAGE_DRAWS),
            MenuItem(
                "回避申报",
                "supervision:conflicts",
                "person-x",
                roles=frozenset({Role.INSPECTOR, Role.CITY_ADMIN, Role.REGION_ADMIN}),
            ),
            MenuItem("检查记录", "supervision:inspections", "clipboard-check", perm=Perm.VIEW_SUPERVISION),
            MenuItem("违规处理", "supervision:violations", "exclamation-octagon", perm=Perm.VIEW_SUPERVISION),
            MenuItem(
                "资金追回", "supervision:recoveries", "arrow-counterclockwise", perm=Perm.VIEW_SUPERVISION
            ),
            MenuItem("诚信与年度检查", "supervision:integrity", "award", perm=Perm.VIEW_SUPERVISION),
            MenuItem("线索移送", "supervision:clues", "send", perm=Perm.HAND_OVER),
            MenuItem("联合执法", "supervision:joint", "people", perm=Perm.HAND_OVER),
            MenuItem(
                "经办人员培训", "supervision:staff_training", "mortarboard", perm=Perm.MANAGE_STAFF_TRAINING
            ),
        ],
    ),
    (
        "信息发布",
        [
            MenuItem("政策通知管理", "portal:notice_manage", "newspaper", perm=Perm.MANAGE_NOTICES),
        ],
    ),
    (
        "系统管理",
        [
            MenuItem("用户管理", "user_list", "person-gear", perm=Perm.MANAGE_USERS),
            MenuItem("规则参数", "rule_settings", "sliders", perm=Perm.VIEW_AREAS),
            MenuItem("工作日历", "calendar", "calendar3", perm=Perm.VIEW_AREAS),
            MenuItem("审计日志", "audit_list", "journal-check", perm=Perm.VIEW_AUDIT),
            MenuItem("个人信息访问记录", "access_log", "eye", perm=Perm.VIEW_ACCESS_LOG),
        ],
    ),
]


def menu_for(user) -> list[tuple[str, list[dict]]]:
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return _menu(user)
    # What has_perm answers depends on the role alone for an active user: one menu per role.
    return _menu_of_role(user.role, get_script_prefix())


@functools.cache
def _menu_of_role(role: str, prefix: str) -> list[tuple[str, list[dict]]]:
    return _menu(SimpleNamespace(role=role, is_authenticated=True, is_active=True))


def _menu(user) -> list[tuple[str, list[dict]]]:
    sections = []
    for title, items in MENU:
        visible = [
            {"label": i.label, "url": reverse(i.url_name), "icon": i.icon, "name": i.url_name}
            for i in items
            if (i.perm is None or has_perm(user, i.perm)) and (i.roles is None or user.role in i.roles)
        ]
        if visible:
            sections.append((title, visible))
    return sections


@functools.lru_cache(maxsize=1024)
def _menu_html(role: str, prefix: str, current: str, language: str) -> str:
    """The left menu as HTML, marked at the current page. Every page shows it, and a template
    loop over its 40-odd links cost a tenth of a short list page. So it is built once per role and
    page here."""
    return render_to_string(
        "web/_menu.html", {"menu": _menu_of_role(role, prefix), "current_url_name": current}
    )


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    if user.is_active:
        menu_html = _menu_html(user.role, get_script_prefix(), current, get_language())
    else:
        menu_html = render_to_string("web/_menu.html", {"menu": _menu(user), "current_url_name": current})
    return {
        "menu_html": menu_html,
        "current_url_name": current,
        "role_label": Role(user.role).label if user.role else "",
        "unread_messages": unread_count(user),
    }
