"""Roles and what each may do. The one table that pages, API and tests read."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REGION_ADMIN = "REGION_ADMIN", _("自治区管理员")
    CITY_ADMIN = "CITY_ADMIN", _("盟市管理员")
    REVIEWER = "REVIEWER", _("审核员")
    FINANCE = "FINANCE", _("财务人员")
    INSPECTOR = "INSPECTOR", _("督导检查员")
    INSTITUTION_OPERATOR = "INSTITUTION_OPERATOR", _("培训机构经办人")
    EVALUATOR_OPERATOR = "EVALUATOR_OPERATOR", _("评价机构经办人")
    PLATFORM_OPERATOR = "PLATFORM_OPERATOR", _("线上平台经办人")
    TRAINEE = "TRAINEE", _("学员")


class Perm(models.TextChoices):
    VIEW_PEOPLE = "view_people", _("查看人员")
    REVEAL_ID_NUMBER = "reveal_id_number", _("查看完整身份证号")
    VIEW_AUDIT = "view_audit", _("查看审计日志")
    VIEW_ACCESS_LOG = "view_access_log", _("查看个人信息访问记录")
    EDIT_RULE_SETTINGS = "edit_rule_settings", _("修改规则参数")
    EDIT_CALENDAR = "edit_calendar", _("维护工作日历")
    VIEW_AREAS = "view_areas", _("查看行政区划")
    MANAGE_USERS = "manage_users", _("管理用户")
    VIEW_INSTITUTIONS = "view_institutions", _("查看培训机构")
    MANAGE_INSTITUTIONS = "manage_institutions", _("登记培训机构、决定目录状态")
    ASSESS_INSTITUTIONS = "assess_institutions", _("实地考察评估")
    EDIT_OWN_INSTITUTION = "edit_own_institution", _("维护本机构信息和教师")
    MANAGE_TEACHER_POOL = "manage_teacher_pool", _("管理共享师资库")
    VIEW_CATALOG = "view_catalog", _("查看补贴目录")
    MANAGE_CATALOG = "manage_catalog", _("维护补贴目录")
    VIEW_DEMAND = "view_demand", _("查看培训需求")
    ENTER_DEMAND = "enter_demand", _("录入培训需求")
    ANNOUNCE_CLASSES = "announce_classes", _("发布开班公告")
    MANAGE_NOTICES = "manage_notices", _("发布政策通知")
    MANAGE_EVALUATION_BODIES = "manage_evaluation_bodies", _("管理评价机构")
    IMPORT_DATA = "import_data", _("导入数据包与外部数据、运行全省核查")
    APPLY_CLASSES = "apply_classes", _("申请开班、结业和补贴")
    REVIEW_CLASSES = "review_classes", _("审核开班、变更和结业")
    ISSUE_CERTIFICATES = "issue_certificates", _("撤销培训合格证")
    RECORD_CERTIFICATES = "record_certificates", _("登记评价机构证书")
    REVIEW_SUBSIDIES = "review_subsidies", _("审核补贴申请、处理公示异议")
    PAY_SUBSIDIES = "pay_subsidies", _("登记补贴拨付")
    VIEW_WORKLOAD = "view_workload", _("查看审核时效统计")
    # 监督检查 (第二十一至二十五条)
    VIEW_SUPERVISION = "view_supervision", _("查看监督检查、违规处理和诚信记录")
    MANAGE_DRAWS = "manage_draws", _("组织双随机抽查、维护检查人员名录")
    INSPECT = "inspect", _("录入督导检查记录（实地、暗访、电话抽查）")
    DECIDE_SANCTIONS = "decide_sanctions", _("认定违规、决定处理措施和追回资金、年度检查")
    RECORD_RECOVERY = "record_recovery", _("登记追回资金到账")
    HAND_OVER = "hand_over", _("线索移送和联合执法")
    MANAGE_STAFF_TRAINING = "manage_staff_training", _("登记经办人员培训")
    # 统计报表与就业跟踪 (第五条、第十七条、第二十四条)
    VIEW_STATISTICS = "view_statistics", _("查看统计分析和就业跟踪")
    RECORD_FOLLOW_UP = "record_follow_up", _("登记就业跟踪回访")
    GENERATE_REPORTS = "generate_reports", _("生成统计报表、补贴台账和专账")


OFFICIAL_ROLES = frozenset({Role.REGION_ADMIN, Role.CITY_ADMIN, Role.REVIEWER, Role.FINANCE, Role.INSPECTOR})

# Who needs the full ID number: those who verify identity (reviewers, admins), pay money (finance)
# or entered it themselves (institutions, for their own trainees). Inspectors work from masked
# numbers; a trainee sees their own number.
_OFFICIAL_READ = frozenset({Perm.VIEW_INSTITUTIONS, Perm.VIEW_CATALOG, Perm.VIEW_DEMAND, Perm.VIEW_AREAS})

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.REGION_ADMIN: _OFFICIAL_READ
    | {
        Perm.VIEW_PEOPLE,
        Perm.REVEAL_ID_NUMBER,
        Perm.VIEW_AUDIT,
        Perm.VIEW_ACCESS_LOG,
        Perm.EDIT_RULE_SETTINGS,
        Perm.EDIT_CALENDAR,
        Perm.MANAGE_USERS,
        Perm.MANAGE_INSTITUTIONS,
        Perm.ASSESS_INSTITUTIONS,
        Perm.MANAGE_TEACHER_POOL,
        Perm.MANAGE_CATALOG,
        Perm.ENTER_DEMAND,
        Perm.MANAGE_NOTICES,
        Perm.MANAGE_EVALUATION_BODIES,
        Perm.IMPORT_DATA,
        Perm.ISSUE_CERTIFICATES,
        Perm.RECORD_CERTIFICATES,
        Perm.VIEW_WORKLOAD,
    },
    Role.CITY_ADMIN: _OFFICIAL_READ
    | {
        Perm.VIEW_PEOPLE,
        Perm.REVEAL_ID_NUMBER,
        Perm.VIEW_AUDIT,
        Perm.MANAGE_USERS,
        Perm.MANAGE_INSTITUTIONS,
        Perm.ASSESS_INSTITUTIONS,
        Perm.MANAGE_TEACHER_POOL,
        Perm.MANAGE_CATALOG,
        Perm.ENTER_DEMAND,
        Perm.MANAGE_NOTICES,
        # Overdue reviews escalate to the city (第九条), which may then decide them itself.
        Perm.REVIEW_CLASSES,
        Perm.REVIEW_SUBSIDIES,
        Perm.ISSUE_CERTIFICATES,
        Perm.RECORD_CERTIFICATES,
        Perm.VIEW_WORKLOAD,
    },
    Role.REVIEWER: _OFFICIAL_READ
    | {
        Perm.VIEW_PEOPLE,
        Perm.REVEAL_ID_NUMBER,
        Perm.VIEW_AUDIT,
        Perm.ASSESS_INSTITUTIONS,
        Perm.ENTER_DEMAND,
        Perm.REVIEW_CLASSES,
        Perm.REVIEW_SUBSIDIES,
        Perm.VIEW_WORKLOAD,
    },
    Role.FINANCE: _OFFICIAL_READ | {Perm.VIEW_PEOPLE, Perm.REVEAL_ID_NUMBER, Perm.PAY_SUBSIDIES},
    Role.INSPECTOR: _OFFICIAL_READ | {Perm.VIEW_PEOPLE, Perm.ASSESS_INSTITUTIONS},
    Role.INSTITUTION_OPERATOR: frozenset(
        {
            Perm.VIEW_PEOPLE,
            Perm.REVEAL_ID_NUMBER,
            Perm.VIEW_AUDIT,
            Perm.VIEW_INSTITUTIONS,
            Perm.VIEW_CATALOG,
            Perm.EDIT_OWN_INSTITUTION,
            Perm.ANNOUNCE_CLASSES,
            Perm.APPLY_CLASSES,
        }
    ),
    Role.EVALUATOR_OPERATOR: frozenset({Perm.VIEW_PEOPLE, Perm.VIEW_CATALOG, Perm.RECORD_CERTIFICATES}),
    Role.PLATFORM_OPERATOR: frozenset({Perm.VIEW_CATALOG}),
    # A trainee may apply for their own subsidy (第十四条 个人申请).
    Role.TRAINEE: frozenset({Perm.VIEW_PEOPLE, Perm.REVEAL_ID_NUMBER, Perm.APPLY_CLASSES}),
}


# 监督检查 (第二十一至二十五条): the region and the cities organise draws, decide sanctions and hand
# over clues; inspectors record what they saw; finance records money recovered; an institution sees
# the inspections, sanctions and integrity records about itself (never a draw before its inspection).
_SUPERVISION_GRANTS: dict[str, frozenset[str]] = {
    Role.REGION_ADMIN: frozenset(
        {
            Perm.VIEW_SUPERVISION,
            Perm.MANAGE_DRAWS,
            Perm.DECIDE_SANCTIONS,
            Perm.RECORD_RECOVERY,
            Perm.HAND_OVER,
            Perm.MANAGE_STAFF_TRAINING,
        }
    ),
    Role.CITY_ADMIN: frozenset(
        {
            Perm.VIEW_SUPERVISION,
            Perm.MANAGE_DRAWS,
            Perm.DECIDE_SANCTIONS,
            Perm.RECORD_RECOVERY,
            Perm.HAND_OVER,
            Perm.MANAGE_STAFF_TRAINING,
        }
    ),
    Role.REVIEWER: frozenset({Perm.VIEW_SUPERVISION}),
    Role.FINANCE: frozenset({Perm.VIEW_SUPERVISION, Perm.RECORD_RECOVERY}),
    Role.INSPECTOR: frozenset({Perm.VIEW_SUPERVISION, Perm.INSPECT}),
    Role.INSTITUTION_OPERATOR: frozenset({Perm.VIEW_SUPERVISION}),
}
for _role, _granted in _SUPERVISION_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _granted


# 统计报表与就业跟踪: officials and institutions see the statistics of their own scope; institutions and
# the bureaus that review their classes record follow-up calls (第十七条); the bureaus and finance
# produce the standard reports, the payment ledger and the skill-upgrade account.
_REPORT_GRANTS: dict[str, frozenset[str]] = {
    Role.REGION_ADMIN: frozenset({Perm.VIEW_STATISTICS, Perm.RECORD_FOLLOW_UP, Perm.GENERATE_REPORTS}),
    Role.CITY_ADMIN: frozenset({Perm.VIEW_STATISTICS, Perm.RECORD_FOLLOW_UP, Perm.GENERATE_REPORTS}),
    Role.REVIEWER: frozenset({Perm.VIEW_STATISTICS, Perm.RECORD_FOLLOW_UP, Perm.GENERATE_REPORTS}),
    Role.FINANCE: frozenset({Perm.VIEW_STATISTICS, Perm.GENERATE_REPORTS}),
    Role.INSPECTOR: frozenset({Perm.VIEW_STATISTICS}),
    Role.INSTITUTION_OPERATOR: frozenset({Perm.VIEW_STATISTICS, Perm.RECORD_FOLLOW_UP}),
}
for _role, _granted in _REPORT_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _granted


def has_perm(user, perm: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return perm in ROLE_PERMISSIONS.get(user.role, frozenset())
