"""Forms of the class attendance page: 手工补录 and 更正 (both need a reason, 第二十条)."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peixun.training.models import Enrollment

from .models import AttendanceRecord

DATETIME = forms.DateTimeInput(
    attrs={"type": "datetime-local", "class": "form-control form-control-sm"}, format="%Y-%m-%dT%H:%M"
)


class _Times(forms.Form):
    check_in = forms.DateTimeField(label=_("签到时间"), widget=DATETIME)
    check_out = forms.DateTimeField(label=_("签退时间"), widget=DATETIME)
    reason = forms.CharField(
        label=_("原因"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
        help_text=_("必填；审核人员可见"),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("请填写原因"))
        return reason

    def clean(self):
        data = super().clean()
        check_in, check_out = data.get("check_in"), data.get("check_out")
        if check_in and check_out and check_out < check_in:
            self.add_error("check_out", _("签退时间早于签到时间"))
        if check_in and check_in > timezone.now() + dt.timedelta(minutes=5):
            self.add_error("check_in", _("签到时间不能晚于现在"))
        return data


class ManualEntryForm(_Times):
    """手工补录 for a trainee on the roster."""

    enrollment = forms.ModelChoiceField(
        label=_("学员"),
        queryset=Enrollment.objects.none(),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        empty_label=_("请选择学员"),
    )

    field_order = ["enrollment", "check_in", "check_out", "reason"]

    def __init__(self, *args, training_class, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enrollment"].queryset = (
            Enrollment.objects.filter(training_class=training_class)
            .select_related("person")
            .order_by("person__name")
        )
        self.fields["enrollment"].label_from_instance = lambda e: f"{e.person.name}（{e.person.id_masked}）"


class CorrectionForm(_Times):
    method = forms.ChoiceField(
        label=_("方式"),
        choices=AttendanceRecord.Method.choices,
        initial=AttendanceRecord.Method.MANUAL,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    field_order = ["check_in", "check_out", "method", "reason"]
