"""Forms of the 统计报表 pages: shape only; the follow-up rules stay in services.py."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peixun.institutions.forms import DateInput, StyledForm

from .jobs import REPORT_KINDS
from .models import FollowUp

CHOOSE = "—— 请选择 ——"


class FollowUpForm(StyledForm):
    """登记就业跟踪回访 (第十七条)."""

    outcome = forms.ChoiceField(label=_("就业情况"), choices=[("", CHOOSE), *FollowUp.Outcome.choices])
    method = forms.ChoiceField(label=_("回访方式"), choices=FollowUp.Method.choices)
    contacted_on = forms.DateField(label=_("回访日期"), widget=DateInput())
    employer_name = forms.CharField(
        label=_("就业单位或创业项目"),
        max_length=200,
        required=False,
        help_text=_("单位就业、自主创业或灵活就业时必填"),
    )
    employed_since = forms.DateField(label=_("就业（创业）开始日期"), widget=DateInput(), required=False)
    note = forms.CharField(
        label=_("备注"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReportForm(StyledForm):
    report = forms.ChoiceField(label=_("报表"), choices=list(REPORT_KINDS.items()))
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    month = forms.IntegerField(
        label=_("月份"), min_value=1, max_value=12, required=False, help_text=_("仅统计月报需要")
    )
    area = forms.ChoiceField(label=_("地区"), required=False)

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", _("本级全部")), *((a.code, a.name) for a in areas)]

    def clean(self):
        data = super().clean()
        if data.get("report") == "monthly" and not data.get("month"):
            self.add_error("month", _("统计月报请选择月份"))
        year = data.get("year")
        if year and year > timezone.localdate().year:
            self.add_error("year", _("不能生成未来年度的报表"))
        return data
