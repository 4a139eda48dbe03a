"""One entry point for a check run, used by the command, the reviewer's page and background jobs:
one class (or a few) through the interactive Python path, everything through the set-wise path."""

from collections.abc import Callable
from dataclasses import dataclass

from peixun.core.services import current_rule_settings

from .services import StoreResult, findings_store

# Rules whose facts live in apps above `checks` (the face embeddings of `faces`) hand in their hits
# through a registered source, so a run stores every rule of the catalog without `checks` importing
# those apps. A source is `(class_ids=None | list[int]) -> list[Hit]`.
HitSource = Callable[..., list]
_SOURCES: list[HitSource] = []


def register_hit_source(source: HitSource) -> HitSource:
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


@dataclass(frozen=True)
class RunResult:
    hits: int
    stored: StoreResult
    path: str


def crosscheck_run(*, class_ids: list[int] | None = None, actor=None) -> RunResult:
    from .engine import run_python
    from .facts import RuleParams
    from .sql import run_sql

    settings = current_rule_settings()
    params = RuleParams.from_settings(settings)
    if class_ids is None:
        hits, path = run_sql(params=params), "sql"
    else:
        hits, path = run_python(class_ids=class_ids, params=params), "python"
    hits = list(hits)
    for source in _SOURCES:
        hits.extend(source(class_ids=class_ids))
    stored = findings_store(hits=hits, rules_version=settings.version, class_ids=class_ids, actor=actor)
    return RunResult(hits=len(hits), stored=stored, path=path)
