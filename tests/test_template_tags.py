"""Template helpers that lists use on every row, and the cached choice labels of every model."""

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from peixun.training.models import ClassStatus, TrainingClass
from peixun.web.templatetags.peixun_tags import row_url, status_badge

ROW_URLS = [
    "training:detail",
    "attendance:class_sheet",
    "checks:class_findings",
    "checks:finding",
    "subsidies:apply",
    "subsidies:application_detail",
    "subsidies:objection_decide",
]


@pytest.mark.parametrize("name", ROW_URLS)
def test_row_url_is_the_reversed_url(name):
    for pk in (1, 42, 1234567):
        assert row_url(pk, name) == reverse(name, args=[pk])


def test_row_url_refuses_a_pattern_without_its_argument_in_the_path():
    with pytest.raises(NoReverseMatch):
        row_url(1, "training:classes")  # takes no argument
    # A non-integer pk is refused rather than put in a URL.
    with pytest.raises(ValueError):
        row_url("1/../2", "training:detail")


def test_status_badge_colours_and_escapes():
    assert status_badge("class", "APPROVED", "已批准") == '<span class="badge text-bg-success">已批准</span>'
    assert 'bi-patch-check"></i> 已结业' in status_badge("class", "COMPLETED", "已结业")
    assert status_badge("line", "REFUSED", "<b>") == '<span class="badge text-bg-danger">&lt;b&gt;</span>'
    # Unknown statuses get the light badge; a finding whose cause is gone says so.
    assert "text-bg-light border" in status_badge("application", "WHATEVER", "x")
    assert "原因已消除" in status_badge("finding", "OPEN", "待处理", False)


@pytest.mark.django_db
def test_choice_labels_are_those_of_the_choices_and_fall_back_to_the_value():
    klass = TrainingClass(status=ClassStatus.OPENING_REVIEW, level="5")
    with translation.override("zh-hans"):
        assert klass.get_status_display() == str(ClassStatus.OPENING_REVIEW.label)
        assert klass.get_status_display() == klass.get_status_display()  # cached, same answer
        klass.status = "NOT_A_STATUS"
        assert klass.get_status_display() == "NOT_A_STATUS"
