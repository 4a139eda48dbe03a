import functools
from decimal import Decimal

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from peixun.core.audit_labels import action_label, describe_changes

register = template.Library()


@register.filter
def audit_action(action: str) -> str:
    return action_label(action)


@register.filter
def changes(values) -> list[tuple[str, str]]:
    return describe_changes(values if isinstance(values, dict) else None)


@register.filter
def yuan(value) -> str:
    """¥1,200.00 as ui.md asks for money."""
    if value in (None, ""):
        return "—"
    return f"¥{Decimal(value):,.2f}"


@register.filter
def hours(value) -> str:
    if value in (None, ""):
        return "—"
    return f"{Decimal(value):.1f}"


@register.filter(name="mask_phone")
def mask_phone_filter(value) -> str:
    """139****0000: phone numbers in lists are masked (ui.md)."""
    from peixun.core.identity import mask_phone

    return mask_phone(value) if value else ""


# A number no primary key reaches, standing for the pk while a pattern is reversed once.
_PK_MARK = 918273645546372819


@functools.cache
def _url_around_pk(name: str, prefix: str) -> tuple[str, str]:
    head, mark, tail = reverse(name, args=[_PK_MARK]).partition(str(_PK_MARK))
    if not mark:
        raise ValueError(f"{name} does not put its one argument in the path")
    return head, tail


@register.filter
def row_url(pk, name: str) -> str:
    """`{{ c.pk|row_url:"training:detail" }}` is `{% url "training:detail" c.pk %}` for a URL
    whose one argument is an integer primary key. A list reverses the same patterns on every row
    (five per row in the class list: 250 reverses for 50 rows). Here each pattern is reversed once
    per process, and the row's pk is put in its place."""
    head, tail = _url_around_pk(name, get_script_prefix())
    return f"{head}{int(pk)}{tail}"


# The badge colour of each status, by kind of record; a status not listed gets a light badge.
_BADGES = {
    "class": {
        "DRAFT": "text-bg-secondary",
        "OPENING_REVIEW": "text-bg-primary",
        "COMPLETION_REVIEW": "text-bg-primary",
        "OPENING_RETURNED": "text-bg-warning",
        "COMPLETION_RETURNED": "text-bg-warning",
        "OPENING_REJECTED": "text-bg-danger",
        "COMPLETION_REJECTED": "text-bg-danger",
        "APPROVED": "text-bg-success",
        "COMPLETED": "text-bg-success",
        "IMPORTED": "text-bg-info",
    },
    "finding": {"OPEN": "text-bg-primary", "CONFIRMED": "text-bg-dark", "DISMISSED": "text-bg-success"},
    "application": {
        "SUBMITTED": "text-bg-primary",
        "RETURNED": "text-bg-warning",
        "REJECTED": "text-bg-danger",
        "NOTICE": "text-bg-info",
        "CLOSED": "text-bg-secondary",
    },
    "line": {
        "PENDING": "text-bg-primary",
        "REFUSED": "text-bg-danger",
        "NOTICE": "text-bg-info",
        "SUSPENDED": "text-bg-warning",
        "PAYABLE": "text-bg-dark",
        "PAID": "text-bg-success",
    },
}
# Statuses shown with an icon before the label.
_BADGE_ICONS = {("class", "COMPLETED"): "bi-patch-check"}
_UNLISTED = "text-bg-light border"


@register.simple_tag
def status_badge(kind: str, status: str, label, current: bool = True) -> str:
    """The coloured badge of a status: `{% status_badge "class" c.status c.get_status_display %}`.
    A tag rather than an included template: lists show one per row, and an include costs a
    template render each time. A finding whose cause has gone away (`current` false) shows that
    instead of its status."""
    if not current:
        return format_html('<span class="badge {}">{}</span>', _UNLISTED, gettext("原因已消除"))
    colour = _BADGES[kind].get(status, "text-bg-secondary" if kind == "finding" else _UNLISTED)
    icon = _BADGE_ICONS.get((kind, status))
    if icon:
        return format_html('<span class="badge {}"><i class="bi {}"></i> {}</span>', colour, icon, label)
    return format_html('<span class="badge {}">{}</span>', colour, label)


@register.simple_tag
def severity_badge(severity: str, label) -> str:
    """A finding's severity, with what it means for the reviewer in the tooltip."""
    if severity == "BLOCK":
        return format_html(
            '<span class="badge text-bg-danger" title="{}">{}</span>',
            gettext("阻断：问题处理前不能通过相应审批"),
            label,
        )
    return format_html(
        '<span class="badge text-bg-warning" title="{}">{}</span>',
        gettext("需复核：审核人员须核实并记录处理意见"),
        label,
    )


@register.simple_tag
def finding_subject(finding) -> str:
    """Who a finding is about: the person (ID number masked), an ID number not registered in
    peixun, or the class as a whole."""
    if finding.person_id:
        person = finding.person
        return format_html(
            '{} <span class="font-monospace small text-muted">{}</span>', person.name, person.id_masked
        )
    if finding.subject_key:
        return format_html('<span class="text-muted">{}</span>', gettext("未登记人员"))
    return format_html(
        '<span class="badge text-bg-light border"><i class="bi bi-people"></i> {}</span>', gettext("班级")
    )
