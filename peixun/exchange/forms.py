from django import forms
from django.utils.translation import gettext_lazy as _

from peixun.checks.models import RegistryKind


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx,.zip"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class PackageForm(forms.Form):
    files = MultipleFileField(
        label=_("数据包文件"), help_text=_("选择多个 .csv/.xlsx 文件，或一个 .zip 压缩包")
    )


class RegistryForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("外部数据类别"),
        choices=RegistryKind.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    file = forms.FileField(
        label=_("文件"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx"}),
    )


class HistoryForm(forms.Form):
    file = forms.FileField(
        label=_("history.csv"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx"}),
    )
