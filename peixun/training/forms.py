"""Forms of the class pages. They check shape (required fields, formats, files) and give every
problem at once in Chinese (一次性告知); the business rules stay in services.py, whose refusals
the views add to the form as non-field errors."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import Level, TrainingType
from peixun.core.services import current_rule_settings
from peixun.institutions.forms import DateInput, StyledForm
from peixun.institutions.models import Teacher
from peixun.intake.models import Platform

from .models import Category, ChangeRequest, ClassDocument, Enrollment, Lesson

CHOOSE = "—— 请选择 ——"
HOURS = {"min_value": Decimal("0.5"), "max_digits": 6, "decimal_places": 1}


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


def _choices(choices):
    return [("", CHOOSE), *choices]


# --- the application itself (第八条) ----------------------------------------------------------------


class ClassForm(StyledForm):
    """申请开班 and, while the application may still be edited, 修改基本信息."""

    occupation = forms.ChoiceField(
        label=_("职业（工种）"), help_text=_("只能选择本机构办学许可范围内的职业（第二十二条）")
    )
    level = forms.ChoiceField(label=_("等级"), choices=_choices(Level.choices))
    training_type = forms.ChoiceField(label=_("培训类型"), choices=_choices(TrainingType.choices))
    start_date = forms.DateField(
        label=_("开班日期"),
        widget=DateInput(),
        help_text=_("须在提交开班申请之后（第八条：开展培训前提出申请）"),
    )
    end_date = forms.DateField(label=_("结业日期"), widget=DateInput())
    total_hours = forms.DecimalField(label=_("总课时"), **HOURS)
    online_hours = forms.DecimalField(
        label=_("线上课时"),
        min_value=Decimal(0),
        max_digits=6,
        decimal_places=1,
        initial=Decimal(0),
    )
    site_address = forms.CharField(label=_("培训地点"), max_length=200)
    planned_size = forms.IntegerField(label=_("计划人数"), min_value=1, max_value=500)
    teaching_resources = forms.CharField(
        label=_("教学资源"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("教材、讲义、实训设备等；也可以在“材料”中上传"),
    )
    assessment_plan = forms.CharField(
        label=_("考核方案"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("考核方式、内容和合格标准；也可以在“材料”中上传"),
    )

    def __init__(self, *args, institution, current=None, **kwargs):
        super().__init__(*args, **kwargs)
        occupations = {o.code: o.name for o in institution.licensed_occupations.order_by("code")}
        if current is not None and current.occupation_code not in occupations:
            # The licence may have changed since the draft was made; keep what the draft says visible.
            occupations[current.occupation_code] = current.occupation_name
        self.occupation_names = occupations
        share = current_rule_settings().online_max_share
        self.fields["online_hours"].help_text = _(
            "没有线上课程填0；线上课时不得超过总课时的%(share)s%%（第十九条）"
        ) % {"share": f"{share * 100:.0f}"}
        self.fields["occupation"].choices = _choices(
            [(code, f"{code} {name}") for code, name in occupations.items()]
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("结业日期不能早于开班日期"))
        total, online = data.get("total_hours"), data.get("online_hours")
        if total is not None and online is not None and online > total:
            self.add_error("online_hours", _("线上课时不能超过总课时"))
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        code = data.pop("occupation")
        data["occupation_code"] = code
        data["occupation_name"] = self.occupation_names[code]
        return data

    @staticmethod
    def initial_of(training_class) -> dict:
        c = training_class
        return {
            "occupation": c.occupation_code,
            **{
                f: getattr(c, f)
                for f in (
                    "level",
                    "training_type",
                    "start_date",
                    "end_date",
                    "total_hours",
                    "online_hours",
                    "site_address",
                    "planned_size",
                    "teaching_resources",
                    "assessment_plan",
                )
            },
        }


# --- roster (花名册) -------------------------------------------------------------------------------


class RosterForm(StyledForm):
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=18,
        min_length=18,
        widget=forms.TextInput(attrs={"class": "font-monospace", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("姓名"), max_length=50)
    category = forms.ChoiceField(label=_("人员类别"), choices=_choices(Category.choices))
    phone = forms.CharField(label=_("手机号码"), max_length=20, required=False)

    def clean_id_number(self):
        return self.cleaned_data["id_number"].strip().upper()


class UploadForm(StyledForm):
    file = forms.FileField(
        label=_("花名册文件"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"})
    )


# --- teaching plan, schedule, teachers (第八、十八条) -------------------------------------------------


class PlatformChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Platform) -> str:
        return f"{obj.name}（{obj.code}）" if obj.code else obj.name


class ModuleForm(StyledForm):
    name = forms.CharField(label=_("模块名称"), max_length=100)
    hours = forms.DecimalField(label=_("课时"), **HOURS)
    mode = forms.ChoiceField(label=_("方式"), choices=Lesson.Mode.choices, initial=Lesson.Mode.OFFLINE)
    platform = PlatformChoiceField(
        label=_("线上培训平台"),
        queryset=Platform.objects.none(),
        required=False,
        empty_label=CHOOSE,
        help_text=_("线上模块必选，只能选已备案的平台（第十八条）"),
    )
    content = forms.CharField(label=_("主要内容"), max_length=300, required=False)

    def __init__(self, *args, platforms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].queryset = platforms

    def clean(self):
        data = super().clean()
        if data.get("mode") == Lesson.Mode.ONLINE and not data.get("platform"):
            self.add_error("platform", _("线上模块须选择已备案的线上培训平台"))
        if data.get("mode") == Lesson.Mode.OFFLINE:
            data["platform"] = None
        return data


class TeacherChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Teacher) -> str:
        where = _("共享师资库") if obj.institution_id is None else _("本机构")
        return f"{obj.person.name}（{where}，{obj.qualification}）"


class LessonForm(StyledForm):
    date = forms.DateField(label=_("日期"), widget=DateInput())
    start_time = forms.TimeField(label=_("开始时间"), widget=TimeInput())
    end_time = forms.TimeField(label=_("结束时间"), widget=TimeInput())
    hours = forms.DecimalField(label=_("课时"), **HOURS)
    mode = forms.ChoiceField(label=_("方式"), choices=Lesson.Mode.choices, initial=Lesson.Mode.OFFLINE)
    teacher = TeacherChoiceField(
        label=_("授课教师"),
        queryset=Teacher.objects.none(),
        required=False,
        empty_label=CHOOSE,
        help_text=_("线下课程必须指定；选中的教师自动列入本班师资"),
    )

    def __init__(self, *args, teachers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teacher"].queryset = teachers

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("结束时间须晚于开始时间"))
        return data


class TeacherEngageForm(StyledForm):
    teacher = TeacherChoiceField(label=_("教师"), queryset=Teacher.objects.none(), empty_label=CHOOSE)
    subject = forms.CharField(label=_("承担课程"), max_length=100, required=False)

    def __init__(self, *args, teachers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teacher"].queryset = teachers


class DocumentForm(StyledForm):
    kind = forms.ChoiceField(label=_("材料类别"), choices=_choices(ClassDocument.Kind.choices))
    title = forms.CharField(
        label=_("材料名称"), max_length=200, required=False, help_text=_("不填则用文件名")
    )
    file = forms.FileField(label=_("文件"), help_text=_("PDF、图片、Word或Excel，不超过20MB"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 20 * 1024 * 1024:
            raise ValidationError(_("文件不能超过20MB"))
        return upload


# --- review (第九、十一条) --------------------------------------------------------------------------


class ReturnForm(StyledForm):
    more = forms.CharField(
        label=_("审核员补充的问题"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("每行一项；与上面系统检查出的问题一并一次性告知机构"),
    )

    def items(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("more", "").splitlines() if line.strip()]


class ReasonForm(StyledForm):
    """不予批准 / 结业不予通过: the reason is required (it goes to the institution)."""

    reason = forms.CharField(label=_("理由"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4}))

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("请填写理由"))
        return reason


class CommentForm(StyledForm):
    reason = forms.CharField(
        label=_("审核意见"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class WithdrawForm(StyledForm):
    reason = forms.CharField(label=_("撤回原因"), max_length=300, required=False)


class CompletionApproveForm(StyledForm):
    material_review = forms.CharField(
        label=_("材料审核情况"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("花名册、考勤、考试成绩和结业材料的审核情况"),
    )
    crosscheck_review = forms.CharField(
        label=_("部门数据比对情况"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("与社保、学籍、市场主体等部门数据比对的结果"),
    )
    onsite_check = forms.CharField(
        label=_("现场核查情况"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("未进行现场核查的可不填"),
    )


# --- exams (第十条) --------------------------------------------------------------------------------


class ExamForm(StyledForm):
    enrollment = forms.IntegerField(widget=forms.HiddenInput)
    exam_date = forms.DateField(label=_("考试日期"), widget=DateInput())
    score = forms.DecimalField(
        label=_("成绩"), required=False, min_value=Decimal(0), max_value=Decimal(100), decimal_places=1
    )
    passed = forms.TypedChoiceField(
        label=_("是否合格"),
        choices=[("", CHOOSE), ("1", _("合格")), ("0", _("不合格"))],
        coerce=lambda v: v == "1",
    )


# --- change requests (第二十二条) -------------------------------------------------------------------


class EnrollmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Enrollment) -> str:
        return f"{obj.person.name}（{obj.person.id_masked}）"


class LessonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Lesson) -> str:
        return f"{obj.date:%Y-%m-%d} {obj.start_time:%H:%M}-{obj.end_time:%H:%M}（{obj.get_mode_display()}）"


class ChangeRequestForm(StyledForm):
    """One form for the four kinds; the fields the chosen kind needs become required."""

    kind = forms.ChoiceField(label=_("变更类型"), choices=_choices(ChangeRequest.Kind.choices))
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=18,
        required=False,
        widget=forms.TextInput(attrs={"class": "font-monospace", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    category = forms.ChoiceField(label=_("人员类别"), choices=_choices(Category.choices), required=False)
    phone = forms.CharField(label=_("手机号码"), max_length=20, required=False)
    enrollment = EnrollmentChoiceField(
        label=_("要减少的学员"), queryset=Enrollment.objects.none(), required=False, empty_label=CHOOSE
    )
    lesson = LessonChoiceField(
        label=_("课程"), queryset=Lesson.objects.none(), required=False, empty_label=CHOOSE
    )
    date = forms.DateField(label=_("调整后日期"), required=False, widget=DateInput())
    start_time = forms.TimeField(label=_("调整后开始时间"), required=False, widget=TimeInput())
    end_time = forms.TimeField(label=_("调整后结束时间"), required=False, widget=TimeInput())
    teacher = TeacherChoiceField(
        label=_("新授课教师"), queryset=Teacher.objects.none(), required=False, empty_label=CHOOSE
    )
    reason = forms.CharField(label=_("变更理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    NEEDS = {
        ChangeRequest.Kind.ADD_TRAINEE: ("id_number", "name", "category"),
        ChangeRequest.Kind.REMOVE_TRAINEE: ("enrollment",),
        ChangeRequest.Kind.MOVE_LESSON: ("lesson", "date", "start_time", "end_time"),
        ChangeRequest.Kind.CHANGE_TEACHER: ("lesson", "teacher"),
    }

    def __init__(self, *args, training_class, teachers, **kwargs):
        super().__init__(*args, **kwargs)
        kind = self.data.get("kind") if self.is_bound else self.initial.get("kind")
        for name in self.NEEDS.get(kind, ()):
            self.fields[name].required = True
        self.fields["enrollment"].queryset = training_class.enrollments.filter(
            removed_at__isnull=True
        ).select_related("person")
        self.fields["lesson"].queryset = training_class.lessons.all()
        self.fields["teacher"].queryset = teachers

    def payload(self) -> dict:
        d = self.cleaned_data
        kind = d["kind"]
        if kind == ChangeRequest.Kind.ADD_TRAINEE:
            return {
                "id_number": d["id_number"].strip().upper(),
                "name": d["name"].strip(),
                "category": d["category"],
                "phone": d["phone"].strip(),
            }
        if kind == ChangeRequest.Kind.REMOVE_TRAINEE:
            return {"enrollment": d["enrollment"].pk}
        if kind == ChangeRequest.Kind.MOVE_LESSON:
            return {
                "lesson": d["lesson"].pk,
                "date": d["date"].isoformat(),
                "start_time": d["start_time"].strftime("%H:%M"),
                "end_time": d["end_time"].strftime("%H:%M"),
            }
        return {"lesson": d["lesson"].pk, "teacher": d["teacher"].pk}


class ChangeDecideForm(StyledForm):
    decision = forms.ChoiceField(choices=[("approve", _("同意")), ("reject", _("不同意"))])
    reason = forms.CharField(label=_("审核意见"), max_length=500, required=False)
