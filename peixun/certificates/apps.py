from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "peixun.certificates"
    label = "certificates"
    verbose_name = "证书"
