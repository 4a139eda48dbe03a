"""Forms of the demand pages (第五条): survey answers entered by a bureau, class announcements."""

from django import forms
from django.utils.translation import gettext_lazy as _

from peixun.catalog.forms import AreaChoiceField, OccupationCodeField, occupation_widget
from peixun.catalog.models import Level, Occupation
from peixun.core.models import Area

from .models import DemandReport

TEXT = {"class": "form-control form-control-sm"}
SELECT = {"class": "form-select form-select-sm"}
DATE = {"type": "date", "class": "form-control form-control-sm"}


class DemandEntryForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("需求类别"),
        choices=DemandReport.Kind.choices,
        initial=DemandReport.Kind.ENTERPRISE,
        widget=forms.RadioSelect,
    )
    area = AreaChoiceField(
        label=_("所在地区"),
        queryset=Area.objects.none(),
        empty_label=_("请选择旗县市区"),
        widget=forms.Select(attrs=SELECT),
    )
    occupation = OccupationCodeField(label=_("职业（工种）"), max_length=120, widget=occupation_widget())
    level = forms.ChoiceField(
        label=_("等级"),
        required=False,
        choices=[("", _("不限/未明确")), *Level.choices],
        widget=forms.Select(attrs=SELECT),
    )
    headcount = forms.IntegerField(
        label=_("人数"), min_value=1, max_value=100000, initial=1, widget=forms.NumberInput(attrs=TEXT)
    )
    enterprise_name = forms.CharField(
        label=_("企业名称"),
        max_length=128,
        required=False,
        help_text=_("企业用工需求必填"),
        widget=forms.TextInput(attrs=TEXT),
    )
    enterprise_uscc = forms.CharField(
        label=_("统一社会信用代码"), max_length=18, required=False, widget=forms.TextInput(attrs=TEXT)
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=64, widget=forms.TextInput(attrs=TEXT))
    contact_phone = forms.CharField(label=_("联系电话"), max_length=32, widget=forms.TextInput(attrs=TEXT))
    preferred_period = forms.CharField(
        label=_("期望培训时间"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("如：2026年第三季度")}),
    )
    note = forms.CharField(
        label=_("备注"), max_length=300, required=False, widget=forms.TextInput(attrs=TEXT)
    )

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        if areas is not None:
            self.fields["area"].queryset = areas

    def clean(self):
        data = super().clean()
        if (
            data.get("kind") == DemandReport.Kind.ENTERPRISE
            and not (data.get("enterprise_name") or "").strip()
        ):
            self.add_error("enterprise_name", _("企业用工需求请填写企业名称"))
        return data


class AnnouncementForm(forms.Form):
    title = forms.CharField(
        label=_("标题"),
        max_length=200,
        widget=forms.TextInput(
            attrs={**TEXT, "placeholder": _("如：2026年第3期家政服务员（五级）培训班招生")}
        ),
    )
    occupation = forms.ModelChoiceField(
        label=_("职业（工种）"),
        queryset=Occupation.objects.none(),
        empty_label=_("请选择"),
        help_text=_("仅限本机构办学许可范围内的职业（第二十二条）"),
        widget=forms.Select(attrs=SELECT),
    )
    level = forms.ChoiceField(label=_("等级"), choices=Level.choices, widget=forms.Select(attrs=SELECT))
    start_date = forms.DateField(label=_("开班日期"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    end_date = forms.DateField(label=_("结业日期"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    place = forms.CharField(label=_("培训地点"), max_length=200, widget=forms.TextInput(attrs=TEXT))
    capacity = forms.IntegerField(
        label=_("招生人数"), min_value=1, max_value=1000, widget=forms.NumberInput(attrs=TEXT)
    )
    contact_phone = forms.CharField(label=_("报名电话"), max_length=32, widget=forms.TextInput(attrs=TEXT))
    employment_destination = forms.CharField(
        label=_("就业去向"), max_length=200, required=False, widget=forms.TextInput(attrs=TEXT)
    )

    def __init__(self, *args, occupations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if occupations is not None:
            self.fields["occupation"].queryset = occupations
        self.fields["occupation"].label_from_instance = lambda o: f"{o.code} {o.name}"

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("结业日期不能早于开班日期"))
        return data
