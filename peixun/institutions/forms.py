"""Forms of the institution pages. They check shape (required, formats, file types) and give every
problem at once in Chinese (一次性告知); the business rules stay in services.py."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import Level, Occupation
from peixun.core.models import Area

from .models import Institution, Teacher

PHOTO_TYPES = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_COUNT = 20
DECISION_EXTENSIONS = (".pdf", ".ofd", ".jpg", ".jpeg", ".png")
DECISION_MAX_BYTES = 10 * 1024 * 1024

CODE_SEPARATORS = re.compile(r"[;；\r\n]+")


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}MB"


class StyledForm(forms.Form):
    """Bootstrap classes on every widget; fields with errors are marked is-invalid."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] += " is-invalid"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class OccupationCodesField(forms.CharField):
    """职业编码 separated by ；, ; or line breaks; every code must be in the occupation catalog."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}))
        kwargs.setdefault("help_text", _("每行一个，或用分号“；”分隔，如：4-10-01-05；4-10-01-06"))
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value) or ""
        return list(dict.fromkeys(c.strip() for c in CODE_SEPARATORS.split(text) if c.strip()))

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        known = set(Occupation.objects.filter(code__in=value).values_list("code", flat=True))
        unknown = [c for c in value if c not in known]
        if unknown:
            raise ValidationError(
                _("以下职业编码不在国家职业分类大典或自治区专项职业能力目录中：%(codes)s"),
                params={"codes": "、".join(unknown)},
            )

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        if obj.parent_id and obj.kind not in (Area.Kind.CITY, Area.Kind.COUNTY_DIRECT):
            return f"{obj.parent.name} · {obj.name}（{obj.code}）"
        return f"{obj.name}（{obj.code}）"


# --- institutions -------------------------------------------------------------------------------

DESCRIPTIVE_FIELDS = ("address", "premises", "equipment", "contact_name", "contact_phone")


class InstitutionForm(StyledForm):
    """Registration and editing. `fields_allowed` limits what an institution's own operator edits."""

    code = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=18,
        min_length=18,
        help_text=_("18位；校验位不符时仅提示，仍可保存"),
        widget=forms.TextInput(attrs={"class": "font-monospace", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("机构名称"), max_length=128)
    type = forms.ChoiceField(label=_("机构类型"), choices=[("", "—— 请选择 ——"), *Institution.Type.choices])
    area = AreaChoiceField(label=_("所在地区"), queryset=Area.objects.none(), empty_label="—— 请选择 ——")
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    licence_no = forms.CharField(label=_("办学许可证号"), max_length=64, required=False)
    licence_valid_to = forms.DateField(label=_("许可证有效期至"), required=False, widget=DateInput())
    licensed_occupations = OccupationCodesField(label=_("许可培训职业（工种）编码"), required=False)
    premises = forms.CharField(
        label=_("培训场地"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("地址、面积、教室与实训场所"),
    )
    equipment = forms.CharField(label=_("设施设备"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    contact_name = forms.CharField(label=_("联系人"), max_length=64, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=32, required=False)

    def __init__(self, *args, areas=None, creating: bool = True, fields_allowed=None, **kwargs):
        super().__init__(*args, **kwargs)
        if areas is not None:
            self.fields["area"].queryset = areas
        if not creating:
            # The code and the area identify the institution and decide who supervises it.
            del self.fields["code"]
            del self.fields["area"]
        if fields_allowed is not None:
            for name in list(self.fields):
                if name not in fields_allowed:
                    del self.fields[name]

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()


class DirectoryChangeForm(StyledForm):
    effective_date = forms.DateField(label=_("生效日期"), widget=DateInput())
    reason = forms.CharField(
        label=_("原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("将记入目录变更记录"),
    )
    decision_no = forms.CharField(
        label=_("决定文号"), max_length=100, required=False, help_text=_("如：呼人社发〔2026〕12号")
    )
    decision_file = forms.FileField(
        label=_("决定文书"),
        required=False,
        help_text=_("可选；PDF、OFD、JPG或PNG，不超过10MB"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.ofd,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"effective_date": timezone.localdate()})
        super().__init__(*args, **kwargs)

    def clean_decision_file(self):
        upload = self.cleaned_data.get("decision_file")
        if not upload:
            return None
        if not upload.name.lower().endswith(DECISION_EXTENSIONS):
            raise ValidationError(_("决定文书只接受PDF、OFD、JPG或PNG文件"))
        if upload.size > DECISION_MAX_BYTES:
            raise ValidationError(
                _("决定文书不能超过10MB（该文件%(size)s）"), params={"size": _mb(upload.size)}
            )
        return upload


# --- on-site assessment (第六条) -------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos at once: JPEG or PNG only (checked by content, not only by name), 5 MB each."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        uploads = [u for u in (data if isinstance(data, list | tuple) else [data]) if u]
        if not uploads:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        if len(uploads) > PHOTO_MAX_COUNT:
            raise ValidationError(_("一次最多上传%(n)s张照片"), params={"n": PHOTO_MAX_COUNT})
        problems = []
        for upload in uploads:
            name = upload.name or "照片"
            head = upload.read(16)
            upload.seek(0)
            declared = (getattr(upload, "content_type", "") or "").lower()
            signatures = PHOTO_TYPES.get(declared)
            if signatures is None or not head.startswith(signatures):
                problems.append(
                    ValidationError(_("“%(name)s”不是JPEG或PNG照片，请转换后上传"), params={"name": name})
                )
            elif upload.size > PHOTO_MAX_BYTES:
                problems.append(
                    ValidationError(
                        _("“%(name)s”超过5MB（%(size)s），请压缩后上传"),
                        params={"name": name, "size": _mb(upload.size)},
                    )
                )
        if problems:
            raise ValidationError(problems)
        return uploads


class AssessmentForm(StyledForm):
    assessed_on = forms.DateField(label=_("考察日期"), widget=DateInput())
    assessors = forms.CharField(label=_("考察人员"), max_length=200, help_text=_("两人以上，用“、”分隔"))
    premises_ok = forms.BooleanField(label=_("培训场地已核实，符合要求"), required=False)
    equipment_ok = forms.BooleanField(label=_("设施设备已核实，符合要求"), required=False)
    teachers_ok = forms.BooleanField(label=_("师资力量已核实，符合要求"), required=False)
    notes = forms.CharField(label=_("考察意见"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    photos = PhotosField(
        label=_("现场照片"), required=False, help_text=_("可多选；仅限JPG、PNG格式，每张不超过5MB")
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"assessed_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["assessed_on"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean_assessed_on(self):
        value = self.cleaned_data["assessed_on"]
        if value > timezone.localdate():
            raise ValidationError(_("考察日期不能晚于今天"))
        return value


# --- imports ------------------------------------------------------------------------------------

IMPORT_KINDS = {
    "institutions": ("institutions.csv", _("培训机构（institutions.csv）")),
    "teachers": ("teachers.csv", _("教师（teachers.csv）")),
}


class ImportForm(StyledForm):
    kind = forms.ChoiceField(
        label=_("数据类别"),
        choices=[(k, label) for k, (_f, label) in IMPORT_KINDS.items()],
        widget=forms.RadioSelect,
        initial="institutions",
    )
    file = forms.FileField(
        label=_("文件"),
        help_text=_("CSV（UTF-8）或Excel（.xlsx），列名与模板一致"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


# --- teachers -----------------------------------------------------------------------------------


class TeacherForm(StyledForm):
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=18,
        min_length=18,
        widget=forms.TextInput(attrs={"class": "font-monospace", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("姓名"), max_length=64)
    phone = forms.CharField(label=_("手机号码"), max_length=20, required=False)
    institution = forms.ModelChoiceField(
        label=_("所在机构"),
        queryset=Institution.objects.none(),
        required=False,
        empty_label="—— 无（共享师资库教师）——",
    )
    shared_pool_area = AreaChoiceField(
        label=_("列入共享师资库（盟市）"),
        queryset=Area.objects.none(),
        required=False,
        empty_label="—— 不列入 ——",
    )
    qualification = forms.CharField(
        label=_("任教资格"), max_length=200, help_text=_("如：养老护理员二级/技师、讲师")
    )
    high_skill_title = forms.ChoiceField(
        label=_("高技能人才称号"), required=False, choices=[("", "无"), *Teacher.HighSkillTitle.choices]
    )
    certificates = forms.CharField(
        label=_("证书"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一个：证书名称、编号、等级"),
    )
    occupations = OccupationCodesField(label=_("可授课职业（工种）编码"), required=False)

    def __init__(self, *args, institutions=None, pool_areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        if institutions is None:
            del self.fields["institution"]
        else:
            self.fields["institution"].queryset = institutions
        if pool_areas is None:
            del self.fields["shared_pool_area"]
        else:
            self.fields["shared_pool_area"].queryset = pool_areas

    def clean_id_number(self):
        return self.cleaned_data["id_number"].strip().upper()

    def clean(self):
        data = super().clean()
        if "institution" in self.fields and not data.get("institution") and not data.get("shared_pool_area"):
            raise ValidationError(_("请选择所在机构，或将教师列入某个盟市的共享师资库"))
        return data


class PoolForm(forms.Form):
    area = forms.ModelChoiceField(queryset=Area.objects.none(), required=False, to_field_name="code")

    def __init__(self, *args, pool_areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = pool_areas


# --- evaluation bodies --------------------------------------------------------------------------


class EvaluationBodyForm(StyledForm):
    code = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=18,
        min_length=18,
        widget=forms.TextInput(attrs={"class": "font-monospace", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("机构名称"), max_length=128)
    area = AreaChoiceField(label=_("所在地区"), queryset=Area.objects.none(), empty_label="—— 请选择 ——")
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    filing_no = forms.CharField(label=_("备案编号"), max_length=64, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=32, required=False)
    scopes = forms.CharField(
        label=_("评价范围"),
        widget=forms.Textarea(attrs={"rows": 6, "class": "font-monospace"}),
        help_text=_(
            "每行一项：职业编码 空格 等级，如“4-10-01-05 4”。等级：5、4、3、2、1、SPECIAL、STARTUP、BASIC"
        ),
    )

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        if areas is not None:
            self.fields["area"].queryset = areas

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def clean_scopes(self):
        lines = [line.strip() for line in self.cleaned_data["scopes"].splitlines()]
        scopes, problems = [], []
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            parts = line.replace("　", " ").split()
            if len(parts) != 2:
                problems.append(f"第{number}行“{line}”应为“职业编码 等级”两项，用空格分隔")
                continue
            code, level = parts[0], parts[1].upper()
            if level not in Level.values:
                problems.append(f"第{number}行：等级“{parts[1]}”无效，应为 {'、'.join(Level.values)}")
            scopes.append((number, code, level))
        known = set(
            Occupation.objects.filter(code__in=[c for _n, c, _l in scopes]).values_list("code", flat=True)
        )
        problems += [f"第{n}行：职业编码“{c}”不在职业分类中" for n, c, _l in scopes if c not in known]
        if problems:
            raise ValidationError(problems)
        if not scopes:
            raise ValidationError(_("请至少填写一项评价范围"))
        return [(c, lvl) for _n, c, lvl in scopes]
