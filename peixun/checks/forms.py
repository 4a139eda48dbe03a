"""Forms of the findings pages: the filter bar and the reviewer's decision. They check shape and
give every problem at once in Chinese; the decision itself is finding_decide's business."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .catalog import RULES
from .models import Finding

# a status filter value: OPEN and CONFIRMED together (what the risk view counts by default)
ACTIVE = "ACTIVE"


def rule_choices():
    return [("", _("全部"))] + [(code, f"{spec.title}（{code}）") for code, spec in RULES.items()]


class FindingFilterForm(forms.Form):
    """The filter bar of the findings list (GET). Unknown values are ignored, never an error page."""

    area = forms.CharField(required=False)
    institution = forms.CharField(required=False, max_length=100)
    rule = forms.ChoiceField(required=False, choices=rule_choices)
    severity = forms.ChoiceField(required=False, choices=[("", _("全部")), *Finding.Severity.choices])
    status = forms.ChoiceField(
        required=False,
        choices=[("", _("全部")), *Finding.Status.choices, (ACTIVE, _("未排除（待处理和已确认）"))],
    )
    class_code = forms.CharField(required=False, max_length=40)

    def values(self) -> dict[str, str]:
        """The cleaned filters; a field that failed validation counts as empty."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: (data.get(name) or "").strip() for name in self.fields}


class DecisionForm(forms.Form):
    """确认 (with the consequence) or 排除 — both with a written reason (处理意见)."""

    ACTIONS = [("confirm", _("确认问题属实")), ("dismiss", _("排除（经核实不属于问题）"))]

    action = forms.ChoiceField(
        label=_("处理方式"),
        choices=ACTIONS,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择确认或排除"), "invalid_choice": _("请选择确认或排除")},
    )
    consequence = forms.ChoiceField(
        label=_("处理结果"),
        required=False,
        choices=[("", _("请选择（确认时必填）")), *Finding.Consequence.choices],
        help_text=_("仅在确认时填写"),
    )
    reason = forms.CharField(
        label=_("处理意见"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写处理意见（核实了什么、依据是什么）")},
        help_text=_("写明核实情况和依据，排除时尤其要说明理由；将记入处理记录和审计日志"),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["action"].widget.attrs["class"] = "form-check-input"
        self.fields["consequence"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["reason"].widget.attrs["class"] = "form-control form-control-sm"

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("请填写处理意见（核实了什么、依据是什么）"))
        return reason

    def clean(self):
        data = super().clean()
        if data.get("action") == "confirm" and not data.get("consequence"):
            self.add_error("consequence", _("确认时请选择处理结果（学员移出本班、不予补贴或其他处理）"))
        if data.get("action") == "dismiss":
            data["consequence"] = ""
        return data

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()
