"""What apps above attendance add to a trainee's own page (我的培训): today the subsidy status.

我的培训 lives here with the hours it mostly shows, but subsidies sit a layer above attendance and
may not be imported from it (docs/architecture.md). The subsidies app registers a source at
start-up, the way faces registers its findings with the cross-check run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StatusItem:
    """One line of status under a class: a subsidy line, say."""

    label: str  # 培训补贴
    status: str  # the state's code, for the badge colour
    status_label: str  # 公示中
    detail: str = ""  # 补贴金额1,200.00元，2026-05-12已拨付
    url: str = ""


# (person_id, class_ids) → {class_id: [StatusItem, …]}
StatusSource = Callable[[int, list[int]], dict[int, list[StatusItem]]]
_SOURCES: list[StatusSource] = []


def register_status_source(source: StatusSource) -> StatusSource:
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def status_items(person_id: int, class_ids: list[int]) -> dict[int, list[StatusItem]]:
    """Every registered source's items for the person's classes, in registration order."""
    items: dict[int, list[StatusItem]] = {}
    for source in _SOURCES:
        for class_id, found in source(person_id, class_ids).items():
            items.setdefault(class_id, []).extend(found)
    return items
