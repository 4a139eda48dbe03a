"""The printable 培训合格证 / 创业培训合格证 (WeasyPrint, Noto Sans CJK SC from the system, embedded).

Everything the page shows is inside the HTML: the trainee's enrolment photo and the QR code come as
data: URIs, and the URL fetcher accepts no other scheme, so rendering never touches the network or
the file system.
"""

import base64
import io

import segno
from django.template.loader import render_to_string
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from peixun.faces.models import FacePhoto

from .display import issuing, verification_url
from .models import Certificate

# Enough for a 35 × 45 mm photo printed at 200 dpi; keeps the PDF small whatever was uploaded.
PHOTO_MAX_PIXELS = (280, 360)


def _photo_data_uri(certificate: Certificate) -> str | None:
    photo = (
        FacePhoto.objects.filter(person_id=certificate.person_id, kind=FacePhoto.Kind.ENROLMENT)
        .order_by("-taken_at", "-id")
        .first()
    )
    if photo is None:
        return None
    try:
        with photo.image.open("rb") as handle:
            raw = handle.read()
        with Image.open(io.BytesIO(raw)) as image:
            picture = ImageOps.exif_transpose(image).convert("RGB")
        picture.thumbnail(PHOTO_MAX_PIXELS, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=85)
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        return None  # a missing or unreadable file prints the 无照片 box rather than failing
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=2)


def certificate_context(certificate: Certificate) -> dict:
    url = verification_url(certificate)
    return {
        "cert": certificate,
        "person": certificate.person,
        "klass": certificate.training_class,
        "issuing": issuing(certificate),
        "photo": _photo_data_uri(certificate),
        "qr": qr_data_uri(url),
        "verify_url": url,
        "revoked_on": timezone.localtime(certificate.revoked_at).date() if certificate.revoked_at else None,
    }


def certificate_pdf(certificate: Certificate) -> bytes:
    """The certificate as an A4 landscape PDF with the CJK font embedded."""
    from weasyprint import HTML  # imported lazily: loading it costs ~0.5 s
    from weasyprint.urls import URLFetcher

    if not certificate.issued_by_peixun:
        raise ValueError("peixun prints only the certificates it issues (培训合格证、创业培训合格证)")
    html = render_to_string("certificates/certificate_pdf.html", certificate_context(certificate))
    fetcher = URLFetcher(allowed_protocols=("data",))
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
