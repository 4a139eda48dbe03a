"""The contract's imports and the province-wide cross-check as background jobs."""

from pathlib import Path

from peixun.checks.importing import import_history, import_registry
from peixun.core.jobs import job_function

from .package import import_package


@job_function("import_package")
def run_import_package(*, params, actor, report):
    report(0, 1, "正在校验并导入数据包…")
    result = import_package(directory=Path(params["directory"]), actor=actor, progress=report)
    return {"files": result.files}


@job_function("import_registry")
def run_import_registry(*, params, actor, report):
    report(0, 1, "正在导入外部数据…")
    snapshot = import_registry(
        kind=params["kind"], path=Path(params["path"]), actor=actor, progress=lambda m: report(0, 1, m)
    )
    return {"kind": snapshot.kind, "rows": snapshot.row_count, "sha256": snapshot.sha256}


@job_function("import_history")
def run_import_history(*, params, actor, report):
    report(0, 1, "正在导入历史培训记录…")
    return import_history(path=Path(params["path"]), actor=actor)


@job_function("crosscheck")
def run_crosscheck(*, params, actor, report):
    from peixun.checks.run import crosscheck_run

    report(0, 1, "正在运行全部核查规则…")
    result = crosscheck_run(class_ids=params.get("class_ids"), actor=actor)
    s = result.stored
    return {
        "hits": result.hits,
        "opened": s.opened,
        "reopened": s.reopened,
        "kept": s.kept,
        "closed": s.closed,
    }
