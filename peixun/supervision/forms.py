"""Forms of the supervision pages: shape only (required, formats, files), every problem at once in
Chinese; the rules of 第二十至二十五条 stay in services.py. Choices are built from querysets the view
has already restricted to the user's scope."""

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peixun.institutions.forms import (
    DECISION_EXTENSIONS,
    DECISION_MAX_BYTES,
    DateInput,
    PhotosField,
    StyledForm,
)

from .models import (
    AnnualInspection,
    CheckItem,
    Department,
    Draw,
    Inspection,
    InspectionItem,
    PhoneCheck,
    SanctionKind,
    StaffTraining,
    ViolationType,
)


def _document(upload, label):
    if not upload:
        return None
    if not upload.name.lower().endswith(DECISION_EXTENSIONS):
        raise ValidationError(_("%(label)s只接受PDF、OFD、JPG或PNG文件"), params={"label": label})
    if upload.size > DECISION_MAX_BYTES:
        raise ValidationError(_("%(label)s不能超过10MB"), params={"label": label})
    return upload


def _with_defaults(kwargs, defaults: dict) -> None:
    """Default initial values that the view's own `initial` may override (not replace)."""
    kwargs["initial"] = {**defaults, **(kwargs.get("initial") or {})}


def _percent(value):
    return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.0001"))


class Multiple(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    def __init__(self, **kwargs):
        kwargs.setdefault("widget", Multiple())
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        uploads = [u for u in (data if isinstance(data, list | tuple) else [data]) if u]
        too_big = [u.name for u in uploads if u.size > DECISION_MAX_BYTES]
        if too_big:
            raise ValidationError(_("附件不能超过10MB：%(names)s"), params={"names": "、".join(too_big)})
        return uploads


class ObjectChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, label_from=str, **kwargs):
        self._label_from = label_from
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return self._label_from(obj)


class ObjectMultipleChoiceField(forms.ModelMultipleChoiceField):
    def __init__(self, *args, label_from=str, **kwargs):
        self._label_from = label_from
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return self._label_from(obj)


# --- draws ---------------------------------------------------------------------------------------------


class DrawForm(StyledForm):
    title = forms.CharField(
        label=_("抽查任务名称"), max_length=200, help_text=_("如：2026年第四季度培训机构双随机抽查")
    )
    target_kind = forms.ChoiceField(
        label=_("抽查对象"),
        choices=Draw.TargetKind.choices,
        widget=forms.RadioSelect,
        initial=Draw.TargetKind.INSTITUTION,
    )
    sample_share = forms.DecimalField(
        label=_("抽查比例（%）"),
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        decimal_places=2,
        initial=Decimal("5"),
        help_text=_("默认5%；抽取数量 = 对象池数量 × 比例，向上取整，至少1个"),
    )
    inspectors_per_target = forms.IntegerField(
        label=_("每个对象的检查人员数"), min_value=2, max_value=5, initial=2, help_text=_("至少2名")
    )
    stratify = forms.BooleanField(label=_("按风险分层抽取（每百名学员问题线索数）"), required=False)
    high_risk_threshold = forms.DecimalField(
        label=_("高风险阈值（每百名学员问题线索数）"),
        required=False,
        min_value=0,
        decimal_places=2,
        initial=Decimal("10"),
    )
    high_risk_share = forms.DecimalField(
        label=_("高风险层抽查比例（%）"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        decimal_places=2,
        initial=Decimal("20"),
    )
    inspection_due = forms.DateField(label=_("检查完成期限"), widget=DateInput())
    publish_within_days = forms.IntegerField(
        label=_("结果公开期限（检查后工作日）"), min_value=1, max_value=60, initial=20
    )

    def __init__(self, *args, **kwargs):
        _with_defaults(kwargs, {"inspection_due": timezone.localdate() + dt.timedelta(days=30)})
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("stratify"):
            if data.get("high_risk_threshold") is None:
                self.add_error("high_risk_threshold", _("按风险分层时必填"))
            if data.get("high_risk_share") is None:
                self.add_error("high_risk_share", _("按风险分层时必填"))
        return data

    def service_args(self) -> dict:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "target_kind": d["target_kind"],
            "sample_share": _percent(d["sample_share"]),
            "inspectors_per_target": d["inspectors_per_target"],
            "stratify": d["stratify"],
            "high_risk_threshold": d.get("high_risk_threshold"),
            "high_risk_share": _percent(d.get("high_risk_share")),
            "inspection_due": d["inspection_due"],
            "publish_within_days": d["publish_within_days"],
        }


class ReasonForm(StyledForm):
    reason = forms.CharField(label=_("原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class ExpertForm(StyledForm):
    name = forms.CharField(label=_("姓名"), max_length=64)
    organisation = ObjectChoiceField(queryset=None, label=_("所在单位"))
    speciality = forms.CharField(label=_("专业领域"), max_length=100, required=False)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class ConflictForm(StyledForm):
    inspector = ObjectChoiceField(queryset=None, label=_("检查人员"))
    institution = ObjectChoiceField(queryset=None, label=_("培训机构"))
    reason = forms.CharField(
        label=_("回避事由"), max_length=300, help_text=_("如：曾在该机构任职、近亲属为该机构负责人")
    )

    def __init__(self, *args, inspectors, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspector"].queryset = inspectors
        self.fields["institution"].queryset = institutions
        if inspectors.count() == 1:
            self.fields["inspector"].initial = inspectors.first()


# --- inspections ---------------------------------------------------------------------------------------


class InspectionPlanForm(StyledForm):
    kind = forms.ChoiceField(
        label=_("检查方式"),
        choices=[c for c in Inspection.Kind.choices if c[0] != Inspection.Kind.DRAW],
        widget=forms.RadioSelect,
    )
    institution = ObjectChoiceField(queryset=None, label=_("培训机构"))
    training_class = ObjectChoiceField(
        queryset=None,
        label=_("培训班"),
        required=False,
        label_from=lambda c: f"{c.code} {c.occupation_name}（{c.institution.name}）",
        help_text=_("检查某一在训班级时选择；电话抽查按该班花名册拨打"),
    )
    inspectors = ObjectMultipleChoiceField(
        queryset=None,
        label=_("检查人员"),
        widget=forms.CheckboxSelectMultiple,
        label_from=lambda i: f"{i.name}（{i.organisation.name}，{i.get_kind_display()}）",
        help_text=_("现场检查至少2人；与被检查机构有利害关系的人员应回避"),
    )
    due_date = forms.DateField(label=_("检查期限"), widget=DateInput(), required=False)

    def __init__(self, *args, institutions, classes, inspectors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions
        self.fields["training_class"].queryset = classes
        self.fields["inspectors"].queryset = inspectors

    def clean(self):
        data = super().clean()
        klass, institution = data.get("training_class"), data.get("institution")
        if klass and institution and klass.institution_id != institution.pk:
            self.add_error("training_class", _("所选培训班不属于该机构"))
        return data


OUTCOME_HELP = {
    Inspection.Outcome.PASS: _("各要素符合要求，检查直接办结"),
    Inspection.Outcome.RECTIFY: _("须写明整改要求和期限，机构整改后复查办结"),
    Inspection.Outcome.VIOLATION: _("涉及第二十二条行为，移交盟市人社局立案处理"),
}


class InspectionRecordForm(StyledForm):
    """The 第二十一条 checklist, one radio group and note per element, then the outcome."""

    inspected_on = forms.DateField(label=_("检查日期"), widget=DateInput())
    place = forms.CharField(label=_("检查地点"), max_length=200, required=False)
    trainees_present = forms.IntegerField(label=_("实到学员人数"), min_value=0, required=False)
    summary = forms.CharField(
        label=_("检查情况"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("现场看到的情况，如教学秩序、实到人数与签到是否一致"),
    )
    outcome = forms.ChoiceField(
        label=_("检查结论"), choices=Inspection.Outcome.choices, widget=forms.RadioSelect
    )
    follow_up = forms.CharField(
        label=_("整改要求"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("结论为责令整改时必填"),
    )
    follow_up_due = forms.DateField(label=_("整改期限"), widget=DateInput(), required=False)
    photos = PhotosField(
        label=_("现场照片"), required=False, help_text=_("可拍照或多选；JPG、PNG，每张不超过5MB")
    )

    def __init__(self, *args, **kwargs):
        _with_defaults(kwargs, {"inspected_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        for code, label in CheckItem.choices:
            self.fields[f"result_{code}"] = forms.ChoiceField(
                label=label, choices=InspectionItem.Result.choices, widget=forms.RadioSelect
            )
            self.fields[f"note_{code}"] = forms.CharField(
                label=_("情况说明"),
                max_length=500,
                required=False,
                widget=forms.TextInput(attrs={"placeholder": _("不符合时必填")}),
            )
        self.fields["photos"].widget.attrs["capture"] = "environment"
        # StyledForm set the classes before the checklist fields existed
        for code in CheckItem.values:
            self.fields[f"note_{code}"].widget.attrs["class"] = "form-control form-control-sm"
            self.fields[f"result_{code}"].widget.attrs["class"] = "btn-check"

    def checklist(self):
        return [(self[f"result_{code}"], self[f"note_{code}"], label) for code, label in CheckItem.choices]

    def clean(self):
        data = super().clean()
        for code in CheckItem.values:
            if (
                data.get(f"result_{code}") == InspectionItem.Result.PROBLEM
                and not (data.get(f"note_{code}") or "").strip()
            ):
                self.add_error(f"note_{code}", _("不符合时请说明情况"))
        if data.get("outcome") == Inspection.Outcome.RECTIFY:
            if not (data.get("follow_up") or "").strip():
                self.add_error("follow_up", _("责令整改时必填"))
            if not data.get("follow_up_due"):
                self.add_error("follow_up_due", _("责令整改时必填"))
        return data

    def items(self) -> dict:
        d = self.cleaned_data
        return {code: (d[f"result_{code}"], d.get(f"note_{code}") or "") for code in CheckItem.values}


YES_NO_UNKNOWN = [("yes", _("是")), ("no", _("否")), ("", _("不确定"))]


class PhoneCheckForm(StyledForm):
    enrollment = forms.IntegerField(widget=forms.HiddenInput)
    reached = forms.TypedChoiceField(
        label=_("是否接通"),
        choices=[("1", _("已接通")), ("0", _("未接通"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    attended = forms.ChoiceField(
        label=_("是否参训"), choices=PhoneCheck.Attended.choices, required=False, widget=forms.RadioSelect
    )
    taught = forms.CharField(label=_("学员所述培训内容"), max_length=300, required=False)
    matches_plan = forms.ChoiceField(
        label=_("与教学计划相符"), choices=YES_NO_UNKNOWN, required=False, widget=forms.RadioSelect
    )
    note = forms.CharField(label=_("备注"), max_length=300, required=False)

    def clean(self):
        data = super().clean()
        if data.get("reached") and not data.get("attended"):
            self.add_error("attended", _("已接通时请选择"))
        data["matches_plan"] = {"yes": True, "no": False}.get(data.get("matches_plan") or "")
        return data


class NoteForm(StyledForm):
    note = forms.CharField(label=_("复查意见"), widget=forms.Textarea(attrs={"rows": 2}))


class RectificationForm(StyledForm):
    text = forms.CharField(label=_("整改情况"), widget=forms.Textarea(attrs={"rows": 3}))
    file = forms.FileField(
        label=_("整改材料"), required=False, help_text=_("可选；PDF、OFD、JPG或PNG，不超过10MB")
    )

    def clean_file(self):
        return _document(self.cleaned_data.get("file"), _("整改材料"))


# --- violations, sanctions, recovery -----------------------------------------------------------------


class ViolationForm(StyledForm):
    type = forms.ChoiceField(label=_("违规类型（第二十二条）"), choices=[("", "—")] + ViolationType.choices)
    description = forms.CharField(label=_("违规事实"), widget=forms.Textarea(attrs={"rows": 4}))
    found_on = forms.DateField(label=_("发现日期"), widget=DateInput())
    inspection = ObjectChoiceField(
        queryset=None,
        label=_("来源检查"),
        required=False,
        label_from=lambda i: (
            f"{i.code} {i.get_kind_display()} {i.inspected_on or ''} {i.get_outcome_display()}"
        ),
    )
    training_class = ObjectChoiceField(
        queryset=None,
        label=_("涉及培训班"),
        required=False,
        label_from=lambda c: f"{c.code} {c.occupation_name}",
    )
    findings = ObjectMultipleChoiceField(
        queryset=None,
        label=_("问题线索（证据）"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label_from=lambda f: (
            f"{f.training_class.code} {f.rule_code}"
            + (f" {f.person.name}" if f.person_id else "")
            + f"：{f.evidence[:60]}（{f.get_status_display()}）"
        ),
    )
    responsible_name = forms.CharField(label=_("责任人姓名"), max_length=64, required=False)
    responsible_role = forms.CharField(
        label=_("责任人职务"), max_length=64, required=False, help_text=_("如：法定代表人、校长")
    )
    responsible_id_number = forms.CharField(
        label=_("责任人身份证号"), max_length=18, required=False, help_text=_("填写后计入责任人诚信记录")
    )

    def __init__(self, *args, inspections, classes, findings, **kwargs):
        _with_defaults(kwargs, {"found_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["inspection"].queryset = inspections
        self.fields["training_class"].queryset = classes
        self.fields["findings"].queryset = findings


class SanctionForm(StyledForm):
    kind = forms.ChoiceField(label=_("处理措施"), choices=SanctionKind.choices, widget=forms.RadioSelect)
    decided_on = forms.DateField(label=_("决定日期"), widget=DateInput())
    document_no = forms.CharField(
        label=_("文书编号"), max_length=100, help_text=_("如：呼人社监字〔2026〕15号")
    )
    content = forms.CharField(label=_("决定内容"), widget=forms.Textarea(attrs={"rows": 3}))
    effective_to = forms.DateField(
        label=_("期限至"),
        widget=DateInput(),
        required=False,
        help_text=_("责令整改的整改期限（必填）；暂停开班的暂停截止日期"),
    )
    fine_amount = forms.DecimalField(
        label=_("罚款金额（元）"), required=False, min_value=Decimal("0.01"), decimal_places=2
    )
    recipient = forms.CharField(
        label=_("接收的公安机关"),
        max_length=128,
        required=False,
        help_text=_("移送司法机关时必填，证据包随即生成"),
    )
    document = forms.FileField(
        label=_("决定文书"), required=False, help_text=_("PDF、OFD、JPG或PNG，不超过10MB")
    )

    def __init__(self, *args, **kwargs):
        _with_defaults(kwargs, {"decided_on": timezone.localdate()})
        super().__init__(*args, **kwargs)

    def clean_document(self):
        return _document(self.cleaned_data.get("document"), _("决定文书"))

    def clean(self):
        data = super().clean()
        if data.get("kind") == SanctionKind.RECTIFY and not data.get("effective_to"):
            self.add_error("effective_to", _("责令整改须写明整改期限"))
        if data.get("kind") == SanctionKind.JUDICIAL and not (data.get("recipient") or "").strip():
            self.add_error("recipient", _("移送司法机关时必填"))
        if data.get("fine_amount") and data.get("kind") != SanctionKind.PENALTY:
            self.add_error("fine_amount", _("罚款金额只用于行政处罚"))
        return data


class SanctionEndForm(StyledForm):
    ended_on = forms.DateField(label=_("日期"), widget=DateInput())
    note = forms.CharField(label=_("执行情况"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        _with_defaults(kwargs, {"ended_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class RecoveryForm(StyledForm):
    lines = ObjectMultipleChoiceField(
        queryset=None,
        label=_("追回的补贴明细（已拨付）"),
        widget=forms.CheckboxSelectMultiple,
        label_from=lambda line: (
            f"{line.application.code} {line.person.name}（{line.person.id_masked}） ¥{line.amount:,.2f}"
        ),
    )
    ordered_on = forms.DateField(label=_("下达日期"), widget=DateInput())
    due_date = forms.DateField(label=_("缴回期限"), widget=DateInput())
    document_no = forms.CharField(label=_("追回通知书编号"), max_length=100)

    def __init__(self, *args, lines, **kwargs):
        today = timezone.localdate()
        _with_defaults(kwargs, {"ordered_on": today, "due_date": today + dt.timedelta(days=30)})
        super().__init__(*args, **kwargs)
        self.fields["lines"].queryset = lines


class ReceiptForm(StyledForm):
    amount = forms.DecimalField(label=_("到账金额（元）"), min_value=Decimal("0.01"), decimal_places=2)
    received_on = forms.DateField(label=_("到账日期"), widget=DateInput())
    voucher_no = forms.CharField(label=_("缴款凭证号"), max_length=64)

    def __init__(self, *args, **kwargs):
        _with_defaults(kwargs, {"received_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class AnnualForm(StyledForm):
    year = forms.IntegerField(label=_("年度"), min_value=2020, max_value=2100)
    result = forms.ChoiceField(
        label=_("结论"), choices=AnnualInspection.Result.choices, widget=forms.RadioSelect
    )
    reasons = forms.CharField(label=_("结论依据"), widget=forms.Textarea(attrs={"rows": 3}))


# --- hand-over, joint enforcement, staff training ----------------------------------------------------


class ClueForm(StyledForm):
    department = forms.ChoiceField(label=_("接收部门"), choices=Department.choices)
    recipient = forms.CharField(
        label=_("接收单位"), max_length=128, help_text=_("如：呼和浩特市公安局新城区分局")
    )
    summary = forms.CharField(label=_("移送内容"), widget=forms.Textarea(attrs={"rows": 4}))
    sent_on = forms.DateField(label=_("移送日期"), widget=DateInput())
    institution = ObjectChoiceField(queryset=None, label=_("涉及机构"), required=False)
    violation = ObjectChoiceField(
        queryset=None,
        label=_("违规案件"),
        required=False,
        label_from=lambda v: f"{v.code} {v.institution.name} {v.get_type_display()}",
        help_text=_("选择后证据包含案件、处理措施、问题线索、检查记录和照片"),
    )
    attachments = AttachmentsField(label=_("其他附件"), required=False, help_text=_("可多选，每个不超过10MB"))

    def __init__(self, *args, institutions, violations, **kwargs):
        _with_defaults(kwargs, {"sent_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions
        self.fields["violation"].queryset = violations


class ClueReplyForm(StyledForm):
    reply_on = forms.DateField(label=_("回复日期"), widget=DateInput())
    reply = forms.CharField(label=_("回复内容"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        _with_defaults(kwargs, {"reply_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class ClueCloseForm(StyledForm):
    closed_on = forms.DateField(label=_("办结日期"), widget=DateInput())
    outcome = forms.CharField(label=_("处理结果"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        _with_defaults(kwargs, {"closed_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class JointForm(StyledForm):
    held_on = forms.DateField(label=_("执法日期"), widget=DateInput())
    departments = forms.MultipleChoiceField(
        label=_("参加部门"), choices=Department.choices, widget=forms.CheckboxSelectMultiple
    )
    partner_units = forms.CharField(
        label=_("参加单位"), max_length=300, help_text=_("如：新城区市场监管局、新城区公安分局")
    )
    place = forms.CharField(label=_("地点"), max_length=200)
    institutions = ObjectMultipleChoiceField(
        queryset=None, label=_("检查机构"), required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    summary = forms.CharField(label=_("执法情况"), widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.CharField(
        label=_("处理结果与反馈"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, institutions, **kwargs):
        _with_defaults(kwargs, {"held_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["institutions"].queryset = institutions


class StaffTrainingForm(StyledForm):
    title = forms.CharField(label=_("培训主题"), max_length=200)
    topic = forms.ChoiceField(label=_("类别"), choices=StaffTraining.Topic.choices)
    held_on = forms.DateField(label=_("培训日期"), widget=DateInput())
    hours = forms.DecimalField(label=_("学时"), min_value=Decimal("0.5"), max_digits=4, decimal_places=1)
    form = forms.CharField(label=_("形式"), max_length=64, help_text=_("集中授课、视频会议、岗位练兵等"))
    teacher = forms.CharField(label=_("授课人"), max_length=64, required=False)
    attendees = ObjectMultipleChoiceField(
        queryset=None,
        label=_("参训人员"),
        widget=forms.CheckboxSelectMultiple,
        label_from=lambda u: f"{u.get_full_name()}（{u.organisation}，{u.get_role_display()}）",
    )
    notes = forms.CharField(label=_("内容摘要"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, attendees, **kwargs):
        _with_defaults(kwargs, {"held_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = attendees
