"""数据交换: upload a data package, a registry snapshot or history; run the province-wide check;
follow each as a background job with its progress and row-level errors."""

import shutil
from pathlib import Path

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from peixun.accounts.http import require_perm
from peixun.accounts.roles import Perm
from peixun.checks.models import RegistryKind, RegistrySnapshot
from peixun.core.errors import PeixunError
from peixun.core.jobs import job_progress, job_retry, job_submit
from peixun.core.models import Job

from .forms import HistoryForm, PackageForm, RegistryForm
from .package import PACKAGE_FILES
from .uploads import save_uploads

PACKAGE_NAMES = {name for name, *_ in PACKAGE_FILES}


def _jobs_for(user):
    return Job.objects.filter(created_by=user) if not user.is_superuser else Job.objects.all()


@require_perm(Perm.IMPORT_DATA)
def exchange_home(request):
    forms = {
        "package": PackageForm(prefix="package"),
        "registry": RegistryForm(prefix="registry"),
        "history": HistoryForm(prefix="history"),
    }
    if request.method == "POST":
        which = request.POST.get("which")
        try:
            job = _submit(request, which, forms)
        except PeixunError as exc:
            messages.error(request, exc.message)
        else:
            if job is not None:
                return redirect("exchange:job", job.public_id)
    snapshots = {}
    for snapshot in RegistrySnapshot.objects.select_related("imported_by").order_by("-imported_at")[:200]:
        snapshots.setdefault(snapshot.kind, snapshot)
    return render(
        request,
        "exchange/home.html",
        {
            **forms,
            "jobs": _jobs_for(request.user)[:20],
            "package_names": [n for n, *_ in PACKAGE_FILES],
            "snapshots": [(label, snapshots.get(kind)) for kind, label in RegistryKind.choices],
        },
    )


def _single_file(directory: Path) -> Path:
    """The one file of a registry or history upload (a .csv/.xlsx, or a .zip holding exactly one)."""
    files = sorted(p for p in directory.iterdir() if p.is_file())
    if len(files) != 1:
        shutil.rmtree(directory, ignore_errors=True)
        if not files:
            raise PeixunError("压缩包内没有文件：请上传一个 .csv 或 .xlsx 文件，或只含一个该类文件的 .zip")
        raise PeixunError(
            f"一次只能导入一个文件，压缩包内有{len(files)}个：{'、'.join(p.name for p in files)}"
        )
    return files[0]


def _submit(request, which, forms):
    if which == "package":
        form = forms["package"] = PackageForm(request.POST, request.FILES, prefix="package")
        if form.is_valid():
            directory = save_uploads(form.cleaned_data["files"], allowed=PACKAGE_NAMES)
            return job_submit(
                kind="import_package",
                title="导入数据包",
                params={"directory": str(directory)},
                actor=request.user,
            )
    elif which == "registry":
        form = forms["registry"] = RegistryForm(request.POST, request.FILES, prefix="registry")
        if form.is_valid():
            directory = save_uploads([form.cleaned_data["file"]])
            path = _single_file(directory)
            kind = form.cleaned_data["kind"]
            return job_submit(
                kind="import_registry",
                title=f"导入{RegistryKind(kind).label}",
                params={"kind": kind, "path": str(path)},
                actor=request.user,
            )
    elif which == "history":
        form = forms["history"] = HistoryForm(request.POST, request.FILES, prefix="history")
        if form.is_valid():
            directory = save_uploads([form.cleaned_data["file"]])
            return job_submit(
                kind="import_history",
                title="导入历史培训记录",
                params={"path": str(_single_file(directory))},
                actor=request.user,
            )
    elif which == "crosscheck":
        return job_submit(kind="crosscheck", title="全省实名核查", params={}, actor=request.user)
    return None


def _job(request, public_id) -> Job:
    job = _jobs_for(request.user).filter(public_id=public_id).first()
    if job is None:
        raise Http404("任务不存在")
    return job


@require_perm(Perm.IMPORT_DATA)
def job_detail(request, public_id):
    job = _job(request, public_id)
    return render(request, "exchange/job.html", {"job": job, "progress": job_progress(job)})


@require_perm(Perm.IMPORT_DATA)
def job_progress_fragment(request, public_id):
    job = _job(request, public_id)
    response = render(request, "exchange/_progress.html", {"job": job, "progress": job_progress(job)})
    if job.finished:
        # htmx: stop polling and reload the page to show the result and the error rows
        response["HX-Refresh"] = "true"
    return response


@require_POST
@require_perm(Perm.IMPORT_DATA)
def job_retry_view(request, public_id):
    job = _job(request, public_id)
    if job.status != Job.Status.FAILED:
        messages.error(request, "只有失败的任务可以重新执行")
        return redirect("exchange:job", job.public_id)
    return redirect("exchange:job", job_retry(job=job, actor=request.user).public_id)
