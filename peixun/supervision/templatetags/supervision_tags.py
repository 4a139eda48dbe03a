"""Status tags of the supervision pages: one colour per meaning (ui.md) — waiting blue, needs action
amber, refused or violating red, done green, closed grey."""

from django import template
from django.utils.html import format_html

register = template.Library()

COLOURS = {
    # draws
    "COMMITTED": "info",
    "DRAWN": "success",
    "CANCELLED": "secondary",
    # inspections
    "PLANNED": "primary",
    "FOLLOW_UP": "warning",
    # outcomes
    "PASS": "success",
    "RECTIFY": "warning",
    "VIOLATION": "danger",
    # violations, sanctions, recoveries, clues
    "OPEN": "danger",
    "IN_FORCE": "warning",
    "DONE": "success",
    "LIFTED": "secondary",
    "ORDERED": "danger",
    "PARTIAL": "warning",
    "COMPLETED": "success",
    "SENT": "primary",
    "REPLIED": "info",
    # annual inspection
    "FAIL": "danger",
    # grades
    "A": "success",
    "B": "primary",
    "C": "warning",
    "D": "danger",
}


@register.simple_tag
def status_tag(code, label, closed_colour="success"):
    colour = COLOURS.get(code) or ({"CLOSED": closed_colour}.get(code)) or "light border text-body"
    return format_html('<span class="badge text-bg-{}">{}</span>', colour, label)


@register.filter
def percent(value) -> str:
    if value in (None, ""):
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


@register.filter
def share(value) -> str:
    """0.0500 → 5%: a share stored as a fraction, shown as a percentage."""
    if value in (None, ""):
        return "—"
    return percent(value * 100)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
