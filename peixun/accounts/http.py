"""Small helpers every app's views use: permission gate, client address, Excel/CSV responses,
reading an uploaded table."""

from dataclasses import replace
from functools import wraps
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse

from peixun.core.tabular import ImportFailed, RowError, Table, read_table

from .roles import has_perm

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def require_perm(perm: str):
    """A page the role may not use answers 404, like an object outside the user's scope."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_perm(request.user, perm):
                raise Http404("页面不存在")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def download_response(content: bytes | str, filename: str) -> HttpResponse:
    """Attachment with a Chinese file name (RFC 5987) and the right content type."""
    if filename.endswith(".xlsx"):
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content_type = "text/csv; charset=utf-8"
        if isinstance(content, str):
            content = "\ufeff" + content  # Excel opens UTF-8 CSV correctly only with a BOM
    response = HttpResponse(content, content_type=content_type)
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


def read_upload(upload, *, required, optional=(), expected_name: str | None = None) -> Table:
    """An uploaded .csv or .xlsx, checked for size and type before it is parsed."""
    if upload is None:
        raise ImportFailed([RowError("", 0, "文件", "请选择要导入的文件")])
    name = upload.name or ""
    if not name.lower().endswith((".csv", ".xlsx")):
        raise ImportFailed([RowError(name, 0, "文件", "只接受 .csv 或 .xlsx 文件")])
    if upload.size > MAX_UPLOAD_BYTES:
        raise ImportFailed([RowError(name, 0, "文件", f"文件超过{MAX_UPLOAD_BYTES // 1024 // 1024}MB上限")])
    # The sheet of an .xlsx is found by the contract's file name (e.g. "institutions"), whatever
    # the uploaded file was called.
    filename = name
    if expected_name and name.lower().endswith(".xlsx"):
        filename = expected_name.replace(".csv", ".xlsx")
    try:
        table = read_table(upload, filename=filename, required=required, optional=optional)
    except ImportFailed as exc:
        if filename == name:
            raise
        # the errors name the file the user uploaded, not the contract name used to find the sheet
        raise ImportFailed([replace(e, file=name) if e.file == filename else e for e in exc.errors]) from exc
    if filename != name:
        table = Table(name, table.columns, table.rows)
    return table
