from django import forms
from django.utils.translation import gettext_lazy as _

from peixun.core.models import CalendarDay, RuleSettings


class LoginForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput)


class RuleSettingsForm(forms.ModelForm):
    reason = forms.CharField(label=_("修改原因"), max_length=200, help_text=_("如：依据××文件调整"))

    class Meta:
        model = RuleSettings
        fields = list(RuleSettings.RULE_FIELDS)


class CalendarDayForm(forms.Form):
    date = forms.DateField(
        label=_("日期"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    kind = forms.ChoiceField(
        label=_("类别"),
        choices=[("", _("恢复为普通日（周一至周五上班）")), *CalendarDay.Kind.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    name = forms.CharField(
        label=_("节日名称"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )


class CalendarYearForm(forms.Form):
    year = forms.IntegerField(
        label=_("年份"),
        min_value=2004,
        max_value=2100,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
    )
    source = forms.CharField(
        label=_("依据"),
        max_length=200,
        help_text=_("国务院办公厅关于××年部分节假日安排的通知"),
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
