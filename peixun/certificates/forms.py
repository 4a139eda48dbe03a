"""Forms of the certificate pages: 撤销 (a reason is required) and 登记评价机构证书 (第十三条)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import Level
from peixun.core.errors import InvalidIdNumber
from peixun.core.identity import parse_id_number
from peixun.institutions.forms import DateInput, StyledForm
from peixun.institutions.models import EvaluationBody

from .models import Certificate
from .services import EXTERNAL_KINDS, GRADED_LEVELS


class RevokeForm(StyledForm):
    reason = forms.CharField(
        label=_("撤销原因"),
        max_length=500,
        error_messages={"required": _("请填写撤销原因")},
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("必填；将显示在公开核验页面上，请勿填写个人信息"),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("请填写撤销原因"))
        return reason


class ExternalCertificateForm(StyledForm):
    evaluation_body = forms.ModelChoiceField(
        label=_("评价机构"), queryset=EvaluationBody.objects.none(), empty_label=_("—— 请选择 ——")
    )
    id_number = forms.CharField(
        label=_("持证人身份证号"),
        max_length=18,
        widget=forms.TextInput(attrs={"class": "font-monospace", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("持证人姓名"), max_length=64)
    kind = forms.ChoiceField(
        label=_("证书类型"), choices=[(k.value, k.label) for k in EXTERNAL_KINDS], widget=forms.RadioSelect
    )
    number = forms.CharField(
        label=_("证书编号"),
        max_length=64,
        widget=forms.TextInput(attrs={"class": "font-monospace", "autocomplete": "off"}),
    )
    occupation_code = forms.CharField(
        label=_("职业编码"),
        max_length=20,
        widget=forms.TextInput(attrs={"class": "font-monospace", "placeholder": "4-10-01-05"}),
        help_text=_("国家职业分类大典编码，或自治区专项职业能力项目编码"),
    )
    occupation_name = forms.CharField(
        label=_("职业（工种）名称"),
        max_length=100,
        required=False,
        help_text=_("不填则使用职业分类目录中的名称"),
    )
    level = forms.ChoiceField(
        label=_("等级"),
        required=False,
        choices=[("", _("—— 专项职业能力证书不填 ——")), *[(lv.value, lv.label) for lv in GRADED_LEVELS]],
    )
    issued_on = forms.DateField(label=_("发证日期"), widget=DateInput())

    field_order = [
        "evaluation_body",
        "id_number",
        "name",
        "kind",
        "number",
        "occupation_code",
        "occupation_name",
        "level",
        "issued_on",
    ]

    def __init__(self, *args, bodies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evaluation_body"].queryset = bodies
        if len(bodies) == 1 and not self.is_bound:
            self.initial.setdefault("evaluation_body", bodies[0].pk)

    def clean_id_number(self):
        try:
            return parse_id_number(self.cleaned_data["id_number"]).value
        except InvalidIdNumber as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        if Certificate.objects.filter(number=number).exists():
            raise forms.ValidationError(_("该证书编号已登记，不能重复登记"))
        return number

    def clean_issued_on(self):
        issued_on = self.cleaned_data["issued_on"]
        if issued_on > timezone.localdate():
            raise forms.ValidationError(_("发证日期不能晚于今天"))
        return issued_on

    def clean(self):
        data = super().clean()
        kind, level = data.get("kind"), data.get("level")
        if kind == Certificate.Kind.SPECIAL and level:
            self.add_error("level", _("专项职业能力证书不分等级"))
        elif kind in (Certificate.Kind.QUALIFICATION, Certificate.Kind.SKILL_LEVEL) and not level:
            self.add_error("level", _("请选择等级（五级至一级）"))
        if kind == Certificate.Kind.SPECIAL:
            data["level"] = Level.SPECIAL
        return data
