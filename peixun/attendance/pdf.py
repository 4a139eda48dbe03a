"""PDF documents (考勤表, 线上学习记录和培训证明) rendered with WeasyPrint from templates.

The fonts come from the system (Debian fonts-noto-cjk: "Noto Sans CJK SC"); nothing is fetched
from the network: the URL fetcher refuses every URL.
"""

from django.template.loader import render_to_string


def _no_fetch(url, *args, **kwargs):
    raise ValueError(f"external resources are not loaded in PDFs: {url[:80]}")


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML  # imported lazily: loading it costs ~0.5 s

    html = render_to_string(template, context)
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf()
