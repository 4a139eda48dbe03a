"""Forms of the subsidy pages. They only shape the input; every rule is checked in services.py."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Payment

TEXT = {"class": "form-control form-control-sm"}
AREA = {"class": "form-control form-control-sm", "rows": 3}
SELECT = {"class": "form-select form-select-sm"}
DATE = {"class": "form-control form-control-sm", "type": "date"}


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            if isinstance(f.widget, forms.RadioSelect | forms.CheckboxInput | forms.CheckboxSelectMultiple):
                f.widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(f.widget, forms.Select):
                f.widget.attrs.setdefault("class", SELECT["class"])
            elif isinstance(f.widget, forms.Textarea):
                f.widget.attrs.update({k: v for k, v in AREA.items() if k not in f.widget.attrs})
            else:
                f.widget.attrs.setdefault("class", TEXT["class"])


class InstitutionApplyForm(StyledForm):
    payee_name = forms.CharField(label=_("收款户名"), max_length=128, help_text=_("培训机构基本账户户名"))
    payee_account = forms.CharField(label=_("收款账号"), max_length=64)
    payee_bank = forms.CharField(label=_("开户银行"), max_length=128)


class PersonApplyForm(StyledForm):
    payee_account = forms.CharField(
        label=_("社会保障卡号"), max_length=64, help_text=_("补贴发放至本人社会保障卡的金融账户")
    )
    payee_bank = forms.CharField(label=_("社会保障卡开户银行"), max_length=128, required=False)


class ReturnForm(StyledForm):
    reasons = forms.CharField(
        label=_("需补正的事项"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("每行一项，一次性告知全部需补正的内容；退回后审核时限暂停计算"),
    )


class ApproveForm(StyledForm):
    reason = forms.CharField(label=_("审核意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"refuse_{line.pk}"] = forms.BooleanField(label=_("不予补贴"), required=False)
            self.fields[f"reason_{line.pk}"] = forms.CharField(
                label=_("不予补贴理由"), required=False, max_length=300
            )
        # the base class styled only the fields declared on the class
        for name, f in self.fields.items():
            if name.startswith("refuse_"):
                f.widget.attrs.setdefault("class", "form-check-input")
            elif name.startswith("reason_"):
                f.widget.attrs.setdefault("class", TEXT["class"])

    def line_rows(self):
        return [(line, self[f"refuse_{line.pk}"], self[f"reason_{line.pk}"]) for line in self.lines]

    def decisions(self) -> dict[int, tuple[bool, str]]:
        data = self.cleaned_data
        return {
            line.pk: (False, data.get(f"reason_{line.pk}", ""))
            for line in self.lines
            if data.get(f"refuse_{line.pk}")
        }


class ReasonForm(StyledForm):
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 3}))


class OptionalReasonForm(StyledForm):
    reason = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ResubmitForm(StyledForm):
    note = forms.CharField(
        label=_("补正说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )
    payee_name = forms.CharField(label=_("收款户名"), max_length=128, required=False)
    payee_account = forms.CharField(label=_("收款账号"), max_length=64, required=False)
    payee_bank = forms.CharField(label=_("开户银行"), max_length=128, required=False)


class ObjectionDecideForm(StyledForm):
    decision = forms.ChoiceField(
        label=_("处理结果"),
        choices=[("dismissed", _("异议不成立，恢复公示/拨付")), ("upheld", _("异议成立，不予补贴"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("处理意见"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


class PaymentForm(StyledForm):
    lines = forms.MultipleChoiceField(label=_("拨付学员"), widget=forms.CheckboxSelectMultiple)
    payee_kind = forms.ChoiceField(label=_("收款方式"), choices=Payment.PayeeKind.choices)
    payee_name = forms.CharField(label=_("收款人"), max_length=128)
    payee_account = forms.CharField(label=_("收款账号"), max_length=64)
    voucher_no = forms.CharField(label=_("凭证号"), max_length=64)
    paid_on = forms.DateField(label=_("支付日期"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    amount = forms.DecimalField(
        label=_("金额（元）"), max_digits=12, decimal_places=2, help_text=_("须等于所选学员补贴之和")
    )
    outcome = forms.ChoiceField(
        label=_("支付结果"), choices=Payment.Outcome.choices, widget=forms.RadioSelect
    )
    failure_reason = forms.CharField(
        label=_("失败原因"), required=False, max_length=300, help_text=_("支付失败时填写银行退回的原因")
    )

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [(str(line.pk), str(line.pk)) for line in lines]
        self.fields["paid_on"].initial = timezone.localdate()


class ObjectionForm(StyledForm):
    name = forms.CharField(label=_("您的姓名"), max_length=64)
    phone = forms.CharField(label=_("联系电话"), max_length=20, help_text=_("仅用于核实异议，不会公开"))
    content = forms.CharField(
        label=_("异议内容"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("请写明异议的事实和理由，如未实际参加培训、已是财政供养人员等"),
    )
    # Honeypot: hidden from people (class d-none, not reachable by Tab); bots fill every field.
    homepage = forms.CharField(
        label=_("网址（请勿填写）"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    @property
    def is_bot(self) -> bool:
        return bool((self.data.get("homepage") or "").strip())
