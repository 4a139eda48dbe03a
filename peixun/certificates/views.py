"""证书 pages: the list and detail in the user's scope, the PDF, 撤销, 登记评价机构证书, and the public
verification page behind the QR code. Every certificate is fetched through `selectors`; every write
is one service call."""

from urllib.parse import quote

import segno
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from peixun.accounts.http import require_perm
from peixun.accounts.roles import Perm, has_perm
from peixun.accounts.scope import restrict
from peixun.accounts.services import person_register
from peixun.core.errors import PeixunError
from peixun.core.identity import mask_name
from peixun.institutions.models import EvaluationBody

from . import services
from .display import issuing, verification_url
from .forms import ExternalCertificateForm, RevokeForm
from .models import Certificate
from .pdf import certificate_pdf
from .selectors import certificate_get_visible_or_404, certificate_related, certificates_visible

PER_PAGE = 50


@require_perm(Perm.VIEW_PEOPLE)
@require_GET
def certificate_list(request):
    """Certificates in the user's scope: officials their area's, an institution its classes', an
    evaluation body those it recorded, a trainee their own."""
    queryset = certificate_related(certificates_visible(request.user))
    q = (request.GET.get("q") or "").strip()
    if q:
        queryset = queryset.filter(Q(number__icontains=q) | Q(training_class__code=q))
    kind = request.GET.get("kind") or ""
    if kind in Certificate.Kind.values:
        queryset = queryset.filter(kind=kind)
    status = request.GET.get("status") or ""
    if status == "valid":
        queryset = queryset.filter(revoked_at__isnull=True)
    elif status == "revoked":
        queryset = queryset.filter(revoked_at__isnull=False)
    page = Paginator(queryset.order_by("-issued_on", "number"), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "certificates/list.html",
        {
            "page": page,
            "q": q,
            "kind": kind,
            "status": status,
            "kinds": Certificate.Kind.choices,
            "can_record": has_perm(request.user, Perm.RECORD_CERTIFICATES),
        },
    )


def _detail_context(request, cert: Certificate, *, form=None) -> dict:
    can_revoke = has_perm(request.user, Perm.ISSUE_CERTIFICATES) and not cert.is_revoked
    url = verification_url(cert)
    return {
        "cert": cert,
        "issuing": issuing(cert),
        "verify_url": url,
        "qr_svg": segno.make(url, error="m", micro=False).svg_inline(
            scale=3, border=2, omitsize=True, title="证书核验二维码", svgclass="d-block", lineclass=None
        ),
        "can_revoke": can_revoke,
        "form": form if form is not None else (RevokeForm() if can_revoke else None),
    }


@require_perm(Perm.VIEW_PEOPLE)
@require_GET
def certificate_detail(request, pk: int):
    cert = certificate_get_visible_or_404(request.user, certificate_related(), pk=pk)
    return render(request, "certificates/detail.html", _detail_context(request, cert))


@require_perm(Perm.ISSUE_CERTIFICATES)
@require_POST
def certificate_revoke(request, pk: int):
    cert = certificate_get_visible_or_404(request.user, certificate_related(), pk=pk)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            services.certificate_revoke(
                certificate=cert, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"证书{cert.number}已撤销")
            return redirect("certificates:detail", pk=cert.pk)
    cert.refresh_from_db()
    context = _detail_context(request, cert, form=form)
    context["can_revoke"] = not cert.is_revoked
    return render(request, "certificates/detail.html", context, status=400)


@require_perm(Perm.VIEW_PEOPLE)
@require_GET
def certificate_pdf_download(request, pk: int):
    cert = certificate_get_visible_or_404(request.user, certificate_related(), pk=pk)
    if not cert.issued_by_peixun:
        raise Http404("评价机构的证书由评价机构出具，本系统不打印")
    response = HttpResponse(certificate_pdf(cert), content_type="application/pdf")
    filename = f"{cert.get_kind_display()}_{cert.number}.pdf"
    response["Content-Disposition"] = (
        f"attachment; filename=\"{cert.number}.pdf\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


@require_perm(Perm.RECORD_CERTIFICATES)
def certificate_record(request):
    """登记评价机构证书 (第十三条): an evaluation body's operator for their own body, an official for the
    bodies of their area."""
    bodies = restrict(EvaluationBody.objects.filter(active=True), request.user).select_related("area")
    form = ExternalCertificateForm(request.POST or None, bodies=bodies)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # The holder is found (or entered) and the certificate recorded together, or neither.
            with transaction.atomic():
                person, _created = person_register(
                    id_number=data["id_number"], name=data["name"], actor=request.user
                )
                cert = services.certificate_record_external(
                    person=person,
                    kind=data["kind"],
                    number=data["number"],
                    occupation_code=data["occupation_code"],
                    occupation_name=data["occupation_name"],
                    level=data["level"],
                    issued_on=data["issued_on"],
                    evaluation_body=data["evaluation_body"],
                    actor=request.user,
                )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已登记{cert.get_kind_display()}{cert.number}（{person.name}）")
            return redirect("certificates:detail", pk=cert.pk)
    return render(request, "certificates/record.html", {"form": form, "has_bodies": bodies.exists()})


@require_GET
def certificate_verify(request, token: str):
    """证书核验 for the public: who holds it (masked), what and when, and whether it was revoked.
    Nothing personal beyond the masked name and ID number."""
    cert = services.certificate_verify(token)
    if cert is None:
        response = render(request, "certificates/verify_missing.html", status=404)
    else:
        response = render(
            request,
            "certificates/verify.html",
            {
                "cert": cert,
                "holder_name": mask_name(cert.person.name),
                "holder_id": cert.person.id_masked,
                "issuing": issuing(cert),
            },
        )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    return response
