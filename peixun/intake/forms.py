"""Forms of the 数据采集 pages: shape only; the rules are in services.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from peixun.institutions.forms import StyledForm

from .models import Platform
from .services import filing_areas


class DeviceForm(StyledForm):
    name = forms.CharField(label=_("设备名称"), max_length=100, help_text=_("如：一号教室人脸考勤机"))
    serial_no = forms.CharField(label=_("出厂序列号"), max_length=64, required=False)
    site_address = forms.CharField(label=_("安装地点"), max_length=200, help_text=_("培训场地的详细地址"))
    site_lat = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90)
    site_lon = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)

    def clean(self):
        data = super().clean()
        if (data.get("site_lat") is None) != (data.get("site_lon") is None):
            raise forms.ValidationError(_("经度和纬度应同时填写或同时不填"))
        return data


class ReasonForm(StyledForm):
    reason = forms.CharField(
        label=_("理由"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


COURSES_HELP = _(
    "每行一门课程：职业编码|课程名称|学时|依据标准，如 4-10-01-05|养老护理基础|16|养老护理员国家职业技能标准（2019年版）"
)


class PlatformForm(StyledForm):
    filed_with = forms.ModelChoiceField(label=_("备案机关"), queryset=None, empty_label=None)
    name = forms.CharField(label=_("平台名称"), max_length=100)
    operator_name = forms.CharField(label=_("运营单位"), max_length=128)
    uscc = forms.CharField(label=_("统一社会信用代码"), min_length=18, max_length=18)
    address = forms.CharField(label=_("运营单位地址"), max_length=200)
    website = forms.CharField(label=_("平台网址"), max_length=200)
    contact_name = forms.CharField(label=_("联系人"), max_length=64)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=32)
    security_level = forms.ChoiceField(
        label=_("网络安全等级保护级别"), choices=Platform.SecurityLevel.choices
    )
    security_cert_no = forms.CharField(label=_("等保备案证明编号"), max_length=64)
    stability_info = forms.CharField(
        label=_("安全稳定运行情况"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("服务器部署、容灾备份、运维保障等"),
    )
    courses_text = forms.CharField(
        label=_("课程与学时"), widget=forms.Textarea(attrs={"rows": 5}), help_text=COURSES_HELP
    )
    cap_real_name = forms.BooleanField(label=_("实名注册"), required=False)
    cap_identity_category = forms.BooleanField(label=_("身份类别识别"), required=False)
    cap_course_time_control = forms.BooleanField(label=_("课程与学时控制"), required=False)
    cap_assessment = forms.BooleanField(label=_("考核"), required=False)
    cap_process_record = forms.BooleanField(label=_("学习过程记录"), required=False)
    cap_learning_archive = forms.BooleanField(label=_("学习档案与培训证明"), required=False)

    def __init__(self, *args, fixed_area=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["filed_with"].queryset = filing_areas()
        self.fields["filed_with"].label_from_instance = lambda a: (
            f"{a.name}人社部门" if a.kind == "CITY" else "自治区人社厅"
        )
        if fixed_area:
            self.fields["filed_with"].disabled = True

    def clean(self):
        data = super().clean()
        lacking = [str(self.fields[f].label) for f in Platform.CAPABILITIES if not data.get(f)]
        if lacking:
            raise forms.ValidationError(
                _("线上平台须具备以下功能（第十八条），尚未确认：") + "、".join(lacking)
            )
        return data
