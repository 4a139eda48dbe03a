"""Forms of the subsidy-catalog pages (第七条). They only collect input; the services decide."""

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from peixun.core.models import Area

from .models import Level, Occupation, TrainingType

DATE_WIDGET = {"type": "date", "class": "form-control form-control-sm"}
# An <input type="date"> takes ISO dates only, whatever the locale's input formats say.
ISO = "%Y-%m-%d"

MAJOR_GROUPS = [
    ("1", _("第一大类 党的机关、国家机关、群众团体和社会组织、企事业单位人员")),
    ("2", _("第二大类 专业技术人员")),
    ("3", _("第三大类 办事人员和有关人员")),
    ("4", _("第四大类 社会生产服务和生活服务人员")),
    ("5", _("第五大类 农、林、牧、渔业生产及辅助人员")),
    ("6", _("第六大类 生产制造及有关人员")),
    ("7", _("第七大类 军队人员")),
    ("8", _("第八大类 不便分类的其他从业人员")),
]


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        return f"{obj.code} {obj.name}"


class OccupationCodeField(forms.CharField):
    """A code typed or picked from the suggestion list ("4-10-01-06 家政服务员"): the code is kept."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.split()[0] if value.strip() else ""

    def validate(self, value):
        super().validate(value)
        if value and not Occupation.objects.filter(code=value).exists():
            raise forms.ValidationError(_("职业编码“%(code)s”不在职业分类中"), params={"code": value})


def occupation_widget(list_id: str = "occupation-options") -> forms.TextInput:
    """Typing part of a code or name fetches suggestions into a <datalist> (htmx, no inline script)."""
    return forms.TextInput(
        attrs={
            "class": "form-control form-control-sm",
            "list": list_id,
            "autocomplete": "off",
            "placeholder": _("输入编码或名称，如 家政"),
            "hx-get": reverse_lazy("catalog:occupation_suggest"),
            "hx-trigger": "input changed delay:300ms",
            "hx-target": f"#{list_id}",
            "hx-swap": "outerHTML",
        }
    )


class CatalogCreateForm(forms.Form):
    area = AreaChoiceField(
        label=_("发布地区"),
        queryset=Area.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    title = forms.CharField(
        label=_("目录名称"),
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-sm",
                "placeholder": _("如：2026年职业技能培训补贴目录"),
            }
        ),
    )
    document_no = forms.CharField(
        label=_("文号"),
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={"class": "form-control form-control-sm", "placeholder": _("如：内人社发〔2026〕12号")}
        ),
    )
    valid_from = forms.DateField(label=_("生效日期"), widget=forms.DateInput(attrs=DATE_WIDGET, format=ISO))
    valid_to = forms.DateField(
        label=_("失效日期"),
        required=False,
        help_text=_("一般不填：下一版目录生效时，本版自动于其生效前一天失效"),
        widget=forms.DateInput(attrs=DATE_WIDGET, format=ISO),
    )

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        if areas is not None:
            self.fields["area"].queryset = areas

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", _("失效日期不能早于生效日期"))
        return data


class CatalogImportForm(forms.Form):
    file = forms.FileField(
        label=_("目录条目文件"),
        help_text=_("接受 .csv（UTF-8）或 .xlsx，列与模板一致"),
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control form-control-sm", "accept": ".csv,.xlsx"}
        ),
    )


class CatalogLookupForm(forms.Form):
    """“查询某日适用目录”: which standard applies to a class in this area on this date."""

    area = AreaChoiceField(
        label=_("培训地区"),
        queryset=Area.objects.all(),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    on_date = forms.DateField(label=_("开班日期"), widget=forms.DateInput(attrs=DATE_WIDGET, format=ISO))
    occupation = OccupationCodeField(label=_("职业（工种）"), max_length=120, widget=occupation_widget())
    level = forms.ChoiceField(
        label=_("等级"),
        required=False,
        choices=[("", _("全部等级")), *Level.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    training_type = forms.ChoiceField(
        label=_("培训类型"),
        required=False,
        choices=[("", _("全部类型")), *TrainingType.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
