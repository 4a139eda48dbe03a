from django.core.management.base import CommandError

from peixun.core.tabular import ImportFailed


def fail_with_rows(exc: ImportFailed, stderr) -> None:
    """contract.md: print every bad row as `file:line: column: 问题`, exit non-zero."""
    for error in exc.errors:
        stderr.write(str(error))
    raise CommandError(exc.message)
