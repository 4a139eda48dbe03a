from decimal import Decimal

from django import template

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
