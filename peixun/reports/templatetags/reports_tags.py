"""Cells of the statistics tables: counts with thousands separators, rates as 85.3%, money as ¥1,200.00."""

from django import template

from peixun.reports.dashboards import format_cell

register = template.Library()


@register.filter
def cell(value, kind: str) -> str:
    return format_cell(value, kind)


@register.filter
def pairs(row, columns):
    """Zip a row with its columns for the template."""
    return zip(row, columns, strict=False)


@register.simple_tag
def chart_id(chart, suffix: str = "") -> str:
    return f"chart-{chart.key}{suffix}"


@register.filter
def index(items, i: int):
    try:
        return items[i]
    except (IndexError, TypeError, KeyError):
        return None


@register.simple_tag
def drill_query(filters, link: dict) -> str:
    """The current filters narrowed to one row of a table: an area, an institution or an occupation."""
    override = dict(link)
    if "area" in override:
        override["institution"] = ""
    return filters.query(**override)
