"""Forms of the public portal (第五条) and of the office page that publishes notices.

Area choices are one select of 旗县区 grouped by 盟市 (no script needed); occupations are typed as a
code or a name and resolved against the occupation list, so a typo is refused with a Chinese
message rather than stored.
"""

import re

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import Level, Occupation
from peixun.core.models import Area
from peixun.demand.models import DemandReport

from .models import Notice

OCCUPATION_CODE = re.compile(r"^[0-9A-Z]{1,2}(-[0-9A-Z]{2}){1,4}$")
# 手机号 or 固定电话 with area code (0471-1234567, 04711234567, 0471-1234567-801).
PHONE = re.compile(r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?)$")
MAX_OCCUPATION_CANDIDATES = 8


class BootstrapMixin:
    """Bootstrap classes on every widget, and `is-invalid` on the fields that failed."""

    def _style_widgets(self):
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            base = "form-select" if isinstance(widget, forms.Select) else "form-control"
            classes = widget.attrs.get("class", "")
            if base not in classes.split():
                widget.attrs["class"] = f"{base} {classes}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"


# --- areas --------------------------------------------------------------------------------------


def area_groups() -> list[tuple[Area, list[Area]]]:
    """(盟市, its 旗县区 and 开发区) in code order; 满洲里市 and 二连浩特市 stand on their own, as they
    report directly to the region."""
    areas = list(Area.objects.exclude(kind=Area.Kind.REGION).order_by("code"))
    below: dict[int, list[Area]] = {}
    for a in areas:
        if a.kind in (Area.Kind.COUNTY, Area.Kind.ZONE):
            below.setdefault(a.parent_id, []).append(a)
    tops = [a for a in areas if a.kind in (Area.Kind.CITY, Area.Kind.COUNTY_DIRECT)]
    tops.sort(key=lambda a: (a.kind == Area.Kind.COUNTY_DIRECT, a.code))
    return [(top, below.get(top.id, [])) for top in tops]


def filter_area_choices() -> list:
    """For the search bars: a whole 盟市 or one 旗县区."""
    choices: list = [("", _("全区（不限）"))]
    for top, children in area_groups():
        if top.kind == Area.Kind.COUNTY_DIRECT:
            choices.append((top.name, [(top.code, top.name)]))
        else:
            choices.append(
                (top.name, [(top.code, f"{top.name}（全部）"), *[(c.code, c.name) for c in children]])
            )
    return choices


def survey_area_choices() -> list:
    """For the survey: the 旗县区 where the need is, or the 盟市 when the county is not known."""
    choices: list = [("", _("请选择"))]
    for top, children in area_groups():
        if top.kind == Area.Kind.COUNTY_DIRECT:
            choices.append((top.name, [(top.code, top.name)]))
        else:
            choices.append(
                (top.name, [*[(c.code, c.name) for c in children], (top.code, f"{top.name}（旗县区不确定）")])
            )
    return choices


# --- occupations --------------------------------------------------------------------------------


def occupation_code_in(text: str) -> str | None:
    """The code at the start of "4-03-02-01 中式烹调师" (what the suggestion list fills in), or None."""
    first = (text or "").strip().split(" ")[0].upper()
    return first if OCCUPATION_CODE.match(first) else None


def occupation_matches(text: str):
    """Active occupations whose code or name fits what a member of the public typed."""
    text = (text or "").strip()
    if not text:
        return Occupation.objects.none()
    active = Occupation.objects.filter(active=True)
    code = occupation_code_in(text)
    if code:
        exact = active.filter(code=code)
        if exact.exists():
            return exact
        return active.filter(code__startswith=code)
    exact = active.filter(name=text)
    if exact.exists():
        return exact
    return active.filter(name__contains=text)


def occupation_filter(text: str, path: str) -> Q | None:
    """The Q for a search bar's 职业 box through the occupation relation `path` (a code or its
    beginning, or part of the name), or None when the box is empty."""
    text = (text or "").strip()
    if not text:
        return None
    code = occupation_code_in(text)
    if code:
        return Q(**{f"{path}__code__startswith": code})
    return Q(**{f"{path}__name__contains": text})


def resolve_occupation(text: str) -> Occupation:
    """Exactly one occupation, or a ValidationError saying what to type instead."""
    text = (text or "").strip()
    matches = list(occupation_matches(text)[: MAX_OCCUPATION_CANDIDATES + 1])
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise forms.ValidationError(
            _("未找到职业（工种）“%(text)s”，请输入职业名称或编码，如“中式烹调师”或“4-03-02-01”"),
            params={"text": text},
        )
    names = "、".join(o.name for o in matches[:MAX_OCCUPATION_CANDIDATES])
    more = "等" if len(matches) > MAX_OCCUPATION_CANDIDATES else ""
    raise forms.ValidationError(
        _("“%(text)s”对应多个职业（%(names)s%(more)s），请填写完整的职业名称"),
        params={"text": text, "names": names, "more": more},
    )


# --- search bars --------------------------------------------------------------------------------


class PublicSearchForm(BootstrapMixin, forms.Form):
    """The filter bar of the directory, the class announcements and the evaluation bodies."""

    area = forms.ChoiceField(label=_("地区"), required=False)
    occupation = forms.CharField(
        label=_("职业（工种）"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("名称或编码，如：电工"), "autocomplete": "off"}),
    )
    q = forms.CharField(
        label=_("机构名称"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("机构名称关键字")}),
    )

    def __init__(self, *args, with_name: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = filter_area_choices()
        if not with_name:
            del self.fields["q"]
        self._style_widgets()

    def value(self, name: str) -> str:
        self.is_valid()  # an invalid box is ignored; the others still filter
        return (self.cleaned_data.get(name) or "").strip()


# --- demand survey (第五条) -----------------------------------------------------------------------


class SurveyForm(BootstrapMixin, forms.Form):
    """企业用工需求 / 劳动者培训需求: what the public tells the bureau they need (第五条)."""

    kind = forms.ChoiceField(choices=DemandReport.Kind.choices, widget=forms.HiddenInput)
    area = forms.ChoiceField(
        label=_("所在地区"),
        help_text=_("按盟市分组，请选择所在旗县区"),
        error_messages={"required": _("请选择所在地区"), "invalid_choice": _("请从列表中选择所在地区")},
    )
    occupation = forms.CharField(
        label=_("职业（工种）"),
        max_length=100,
        help_text=_("输入名称或编码后可从提示中选择，如：中式烹调师、电工、养老护理员"),
        error_messages={"required": _("请填写职业（工种）")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "list": "occupation-options"}),
    )
    level = forms.ChoiceField(
        label=_("培训等级"),
        required=False,
        choices=[("", _("不限/不确定")), *Level.choices],
    )
    headcount = forms.IntegerField(
        label=_("需求人数"),
        required=False,
        min_value=1,
        max_value=100000,
        error_messages={
            "invalid": _("请填写整数"),
            "min_value": _("人数至少为1"),
            "max_value": _("人数不能超过100000"),
        },
    )
    enterprise_name = forms.CharField(label=_("企业名称"), required=False, max_length=128)
    enterprise_uscc = forms.CharField(
        label=_("统一社会信用代码"),
        required=False,
        max_length=18,
        help_text=_("18位，见营业执照，可不填"),
    )
    contact_name = forms.CharField(
        label=_("联系人"), max_length=64, error_messages={"required": _("请填写联系人")}
    )
    contact_phone = forms.CharField(
        label=_("联系电话"),
        max_length=32,
        help_text=_("手机号或带区号的固定电话，仅供人社部门联系，不会公开"),
        error_messages={"required": _("请填写联系电话")},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    preferred_period = forms.CharField(
        label=_("期望培训时间"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": _("如：2026年第四季度、农闲时（11月以后）")}),
    )
    note = forms.CharField(
        label=_("补充说明"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Honeypot: hidden from people (class d-none, not reachable by Tab); bots fill every field.
    homepage = forms.CharField(
        label=_("网址（请勿填写）"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    HONEYPOT = "homepage"

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["area"].choices = survey_area_choices()
        self.fields["kind"].initial = kind
        if kind == DemandReport.Kind.ENTERPRISE:
            self.fields["area"].label = _("用工地区")
            for name in ("headcount", "enterprise_name"):
                self.fields[name].required = True
            self.fields["headcount"].error_messages["required"] = _("请填写需求人数")
            self.fields["enterprise_name"].error_messages["required"] = _("请填写企业名称")
            self.fields["occupation"].label = _("需求职业（工种）")
        else:
            for name in ("headcount", "enterprise_name", "enterprise_uscc"):
                del self.fields[name]
            self.fields["area"].label = _("户籍或常住地区")
            self.fields["occupation"].label = _("想学的职业（工种）")
            self.fields["contact_name"].label = _("姓名")
            self.fields["contact_name"].error_messages["required"] = _("请填写姓名")
        self._style_widgets()

    @property
    def is_bot(self) -> bool:
        return bool((self.data.get(self.HONEYPOT) or "").strip())

    def clean_kind(self):
        if self.cleaned_data["kind"] != self.kind:
            raise forms.ValidationError(_("需求类别无效"))
        return self.cleaned_data["kind"]

    def clean_area(self):
        area = Area.objects.filter(code=self.cleaned_data["area"]).exclude(kind=Area.Kind.REGION).first()
        if area is None:
            raise forms.ValidationError(_("请从列表中选择所在地区"))
        return area

    def clean_occupation(self):
        return resolve_occupation(self.cleaned_data["occupation"])

    def clean_enterprise_uscc(self):
        value = (self.cleaned_data.get("enterprise_uscc") or "").strip().upper()
        if value and not re.fullmatch(r"[0-9A-Z]{18}", value):
            raise forms.ValidationError(_("统一社会信用代码应为18位数字或大写字母"))
        return value

    def clean_contact_name(self):
        value = self.cleaned_data["contact_name"].strip()
        if not value:
            raise forms.ValidationError(self.fields["contact_name"].error_messages["required"])
        return value

    def clean_contact_phone(self):
        value = re.sub(r"[\s（）()]", "", self.cleaned_data["contact_phone"]).replace("－", "-")
        if not PHONE.match(value):
            raise forms.ValidationError(_("请填写11位手机号或带区号的固定电话，如 0471-1234567"))
        return value


# --- office: notices ----------------------------------------------------------------------------


class NoticeForm(BootstrapMixin, forms.Form):
    """发布新通知: a policy or notice for the public (第五条)."""

    category = forms.ChoiceField(label=_("栏目"), choices=Notice.Category.choices)
    title = forms.CharField(label=_("标题"), max_length=200)
    document_no = forms.CharField(
        label=_("文号"), max_length=100, required=False, help_text=_("如：内人社办发〔2023〕119号，可不填")
    )
    published_on = forms.DateField(
        label=_("发布日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("可填写文件的印发日期，不能晚于今天"),
    )
    body = forms.CharField(
        label=_("正文"),
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_("公开发布，请勿包含个人身份证号、电话等个人信息"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["published_on"].initial = timezone.localdate()
        self._style_widgets()

    def clean_published_on(self):
        day = self.cleaned_data["published_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("发布日期不能晚于今天"))
        return day

    def clean_title(self):
        value = self.cleaned_data["title"].strip()
        if not value:
            raise forms.ValidationError(_("请填写标题"))
        return value

    def clean_body(self):
        value = self.cleaned_data["body"].strip()
        if not value:
            raise forms.ValidationError(_("请填写正文"))
        return value
