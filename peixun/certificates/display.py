"""What a certificate says about who numbered and who issued it, the same on the PDF, the detail page
and the public verification page (第十二条: the city numbers 培训合格证 and the institution hands it
out; the region numbers 创业培训合格证 and the city hands it out)."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from peixun.core.errors import PeixunError
from peixun.core.models import Area

from .models import Certificate
from .services import city_of


def authority_name(area: Area) -> str:
    if area.kind == Area.Kind.REGION:
        return f"{area.name}人力资源和社会保障厅"
    return f"{area.name}人力资源和社会保障局"


@dataclass(frozen=True)
class Issuing:
    numbered_by: str  # 编号机关 ("" for certificates of evaluation bodies: they number their own)
    issued_by: str  # 发证单位
    provider: str  # 培训机构 or 评价机构, as the verification page names it


def issuing(certificate: Certificate) -> Issuing:
    klass = certificate.training_class
    if certificate.kind == Certificate.Kind.TRAINING and klass is not None:
        return Issuing(
            authority_name(certificate.issuer_area), klass.institution.name, klass.institution.name
        )
    if certificate.kind == Certificate.Kind.STARTUP and klass is not None:
        try:
            city = authority_name(city_of(klass.area))
        except PeixunError:
            city = authority_name(certificate.issuer_area)
        return Issuing(authority_name(certificate.issuer_area), city, klass.institution.name)
    body = certificate.evaluation_body
    name = body.name if body is not None else ""
    return Issuing("", name, name)


def verification_url(certificate: Certificate) -> str:
    """The public address printed in the QR code: the configured portal address, not the host the
    PDF happened to be downloaded from (an intranet name means nothing to an employer)."""
    return settings.PEIXUN_PUBLIC_BASE_URL + reverse("certificates:verify", args=[certificate.verify_token])
