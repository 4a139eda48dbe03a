"""Chinese names of audit actions and of the fields that appear in before/after, for the audit pages.

An action not listed here shows its code: add its name when adding the action.
"""

ACTION_LABELS = {
    "person.created": "登记人员",
    "person.updated": "修改人员信息",
    "person.affiliated": "登记为本单位人员",
    "user.created": "创建用户",
    "user.locked": "账户锁定",
    "user.unlocked": "账户解锁",
    "organisation.created": "创建单位",
    "rule_settings.changed": "修改规则参数",
    "calendar.seeded": "载入节假日",
    "calendar.day_set": "设置节假日",
    "calendar.year_opened": "启用年度工作日历",
    "catalog.created": "发布补贴目录",
    "catalog.superseded": "补贴目录被新版本替代",
    "catalog.entries_imported": "导入目录条目",
    "institution.registered": "登记培训机构",
    "institution.updated": "修改机构信息",
    "institution.assessed": "实地考察评估",
    "institution.directory.list": "列入培训机构目录",
    "institution.directory.suspend": "暂停",
    "institution.directory.resume": "恢复",
    "institution.directory.remove": "移出培训机构目录",
    "institution.directory.relist": "重新列入目录",
    "teacher.registered": "登记教师",
    "teacher.updated": "修改教师信息",
    "teacher.pool_changed": "调整共享师资库",
    "evaluation_body.registered": "登记评价机构",
    "evaluation_body.updated": "修改评价机构",
    "occupation.region_special_added": "新增自治区专项职业能力项目",
    "occupation.updated": "修改职业名称",
    "face_photo.added": "上传人脸照片",
    "attendance.uploaded": "上传考勤表",
    "attendance.manual_entry": "手工补录考勤",
    "attendance.corrected": "更正考勤记录",
    "intake.device.registered": "登记考勤设备",
    "intake.device.revoked": "停用考勤设备",
    "intake.platform.filed": "线上平台备案",
    "intake.platform.updated": "修改平台备案",
    "intake.platform.approve": "批准平台备案",
    "intake.platform.return": "退回平台备案",
    "intake.platform.reject": "驳回平台备案",
    "intake.platform.suspend": "暂停平台",
    "intake.platform.resume": "恢复平台",
    "intake.platform.resubmit": "重新提交平台备案",
    "intake.platform.secret_issued": "发放平台接口密钥",
    "demand.submitted": "提交培训需求",
    "announcement.created": "创建开班公告",
    "announcement.publish": "发布开班公告",
    "announcement.withdraw": "撤回开班公告",
    "notice.published": "发布政策通知",
    "notice.withdrawn": "撤下政策通知",
    "registry.imported": "导入外部数据",
    "history.imported": "导入历史培训记录",
    "package.imported": "导入数据包",
    "crosscheck.run": "运行实名核查",
    "finding.confirmed": "确认问题线索",
    "finding.dismissed": "排除问题线索",
    "certificate.issued": "编号发放证书",
    "certificate.revoked": "撤销证书",
    "certificate.recorded": "登记评价机构证书",
}

FIELD_LABELS = {
    "name": "名称",
    "id_number": "身份证号",
    "phone": "手机号码",
    "area": "地区",
    "kind": "类别",
    "role": "角色",
    "username": "用户名",
    "organisation": "单位",
    "uscc": "统一社会信用代码",
    "code": "代码",
    "type": "类型",
    "status": "状态",
    "reason": "原因",
    "locked_until": "锁定至",
    "effective_date": "生效日期",
    "decision_no": "决定文号",
    "title": "标题",
    "valid_from": "生效日期",
    "valid_to": "失效日期",
    "document_no": "文号",
    "year": "年份",
    "source": "依据",
    "years_added": "新增年份数",
    "rows": "行数",
    "created": "新增",
    "updated": "更新",
    "file": "文件",
    "conclusion": "结论",
    "assessed_on": "考察日期",
    "licensed_occupations": "许可职业",
    "qualification": "任教资格",
    "shared_pool": "共享师资库",
    "headcount": "人数",
    "occupation": "职业",
    "level": "等级",
    "contact_phone": "联系电话",
    "number": "证书编号",
    "numbers": "证书编号",
    "count": "张数",
    "issued_on": "发证日期",
    "issuer": "编号机关区划",
    "holder": "持证人",
    "evaluation_body": "评价机构",
}


def _rule_setting_labels() -> dict[str, str]:
    from .models import RuleSettings

    return {f: str(RuleSettings._meta.get_field(f).verbose_name) for f in RuleSettings.RULE_FIELDS}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def describe_changes(values: dict | None) -> list[tuple[str, str]]:
    if not values:
        return []
    labels = {**_rule_setting_labels(), **FIELD_LABELS}
    return [(labels.get(k, k), "—" if v is None else str(v)) for k, v in values.items()]
