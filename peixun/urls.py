from django.urls import include, path

from .api import api

urlpatterns = [
    path("api/", api.urls),
    path("portal/", include("peixun.portal.urls")),
    path("institutions/", include("peixun.institutions.urls")),
    path("catalog/", include("peixun.catalog.urls")),
    path("demand/", include("peixun.demand.urls")),
    path("checks/", include("peixun.checks.urls")),
    path("exchange/", include("peixun.exchange.urls")),
    path("classes/", include("peixun.training.urls")),
    path("faces/", include("peixun.faces.urls")),
    path("checkin/", include("peixun.checkin.urls")),
    path("intake/", include("peixun.intake.urls")),
    path("attendance/", include("peixun.attendance.urls")),
    path("certificates/", include("peixun.certificates.urls")),
    path("subsidies/", include("peixun.subsidies.urls")),
    path("inbox/", include("peixun.inbox.urls")),
    path("supervision/", include("peixun.supervision.urls")),
    path("reports/", include("peixun.reports.urls")),
    path("", include("peixun.web.urls")),
]
