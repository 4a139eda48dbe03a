"""The interactive (Python) path of the cross-check: load the facts of a few classes, run the pure
rules of checks.rules on each class, return the hits. Used by the crosscheck command and the
reviewer's page; storing the hits as Finding rows is the caller's business.
"""

from __future__ import annotations

from collections.abc import Iterable

from peixun.core.services import current_rule_settings
from peixun.training.models import TrainingClass

from .catalog import Hit
from .facts import RuleParams, load_facts
from .rules import check_class

# Classes per load_facts call: bounds memory and the size of the IN (...) lists.
BATCH_SIZE = 50


def _batches(ids: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def run_python(
    *, class_ids: list[int] | None = None, params: RuleParams | None = None, batch_size: int = BATCH_SIZE
) -> list[Hit]:
    """Every package rule over the given classes (None = all classes), in batches of classes.

    Returns the hits de-duplicated on (rule_code, class_code, subject) and sorted. `params`
    defaults to the current version of the rule settings.
    """
    if params is None:
        params = RuleParams.from_settings(current_rule_settings())
    if class_ids is None:
        ids = list(TrainingClass.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(class_ids))
    hits: dict[tuple[str, str, str], Hit] = {}
    for batch in _batches(ids, batch_size):
        facts = load_facts(batch)
        for class_id in batch:
            if class_id not in facts.classes:
                continue
            for hit in check_class(facts.for_class(class_id), params):
                hits.setdefault(hit.key, hit)
    return sorted(hits.values())
