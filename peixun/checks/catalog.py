"""The rule catalog of rules.md: stable codes (part of the data contract), severity, article.

Every finding carries the code, the severity and the article from this one table.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleSpec:
    code: str
    severity: str  # "BLOCK" or "REVIEW"
    article: str
    title: str
    # whom the finding names: "trainee", "teacher" or "class" (class-level: no person)
    subject: str = "trainee"


RULES: dict[str, RuleSpec] = {
    r.code: r
    for r in (
        RuleSpec("AGE_UNDER_16", "BLOCK", "劳动法", "未满16周岁"),
        RuleSpec("DECEASED", "BLOCK", "第十五条 公安死亡信息", "已死亡人员"),
        RuleSpec("PUBLIC_PAYROLL", "BLOCK", "181号 第十六条", "财政供养人员"),
        RuleSpec("UNEMPLOYED_NOT_REGISTERED", "REVIEW", "第十五条 就业失业登记", "未办理失业登记"),
        RuleSpec("UNEMPLOYED_BUT_INSURED", "REVIEW", "第十五条 社会保险", "失业/转移就业人员在参保"),
        RuleSpec("UNEMPLOYED_BUT_BUSINESS", "REVIEW", "第十五条 工商营业执照", "失业人员持有营业执照"),
        RuleSpec("HOSPITALIZED_PRESENT", "BLOCK", "第十五条 医保住院", "住院期间有考勤"),
        RuleSpec("REPEAT_TRAINING", "BLOCK", "第二十二条", "重复参加同一工种培训"),
        RuleSpec("ALREADY_CERTIFIED", "REVIEW", "第十五条 技能人才评价", "已取得同等或更高等级证书"),
        RuleSpec("LIFETIME_CAP", "BLOCK", "181号 第五条", "超过终身补贴次数"),
        RuleSpec("OVERLAPPING_CLASSES", "BLOCK", "第二十二条 虚假上课记录", "同时段在两个班考勤"),
        RuleSpec(
            "TEACHER_DOUBLE_BOOKED", "REVIEW", "第二十一条 授课师资", "教师同时段在两个班授课", "teacher"
        ),
        RuleSpec("ATTENDANCE_OUTSIDE_SCHEDULE", "REVIEW", "第二十二条", "考勤不在课程表时段内"),
        RuleSpec("ATTENDANCE_BELOW_THRESHOLD", "BLOCK", "第十条", "学时不足仍参加考试"),
        RuleSpec("DUPLICATE_PHOTO", "BLOCK", "第二十二条", "考勤照片重复使用"),
        RuleSpec("LOCATION_MISMATCH", "REVIEW", "第十九条", "签到位置偏离培训地点"),
        RuleSpec("BATCH_CHECKIN", "REVIEW", "第二十二条", "同一秒批量签到", "class"),
        RuleSpec("ONLINE_SHARE_EXCEEDED", "BLOCK", "第十九条", "线上学时超过总课时比例"),
        RuleSpec("ONLINE_DAILY_EXCEEDED", "BLOCK", "第十九条", "单日线上学时超限"),
        RuleSpec("ONLINE_CONCURRENT", "BLOCK", "第二十条 刷课", "线上学习时间重叠"),
        RuleSpec("ONLINE_IP_FARM", "REVIEW", "第二十条 外挂软件刷课", "同一IP多人同时在线"),
        RuleSpec("ONLINE_FACE_FAILED", "REVIEW", "第十九条 人脸识别", "线上学习人脸核验未通过"),
        RuleSpec("FACE_MISMATCH", "REVIEW", "第十九条 人脸识别、过程拍照", "签到照片与本人不符"),
        RuleSpec("FACE_SHARED", "BLOCK", "第二十二条 虚假参训人员身份", "同一人脸对应多个身份证号"),
        RuleSpec("OUT_OF_SCOPE", "BLOCK", "第二十二条 超越办学许可范围", "超出办学许可范围", "class"),
        RuleSpec("INSTITUTION_NOT_LISTED", "BLOCK", "第二十一条", "机构不在培训机构目录", "class"),
    )
}

# FACE_MISMATCH and FACE_SHARED need photos uploaded to peixun (attendance issue); the data package
# carries only photo hashes. They are listed so that their codes are reserved and exported alike.
PACKAGE_RULES = tuple(code for code in RULES if code not in ("FACE_MISMATCH", "FACE_SHARED"))


@dataclass(frozen=True, order=True)
class Hit:
    """One rule firing: the identity of a finding plus its evidence in plain Chinese."""

    rule_code: str
    class_code: str
    # the person's (trainee's or teacher's) id_hmac; "" for a class-level rule
    subject: str
    evidence: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule_code, self.class_code, self.subject)
