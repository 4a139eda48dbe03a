from django.urls import path

from . import views

app_name = "checks"

urlpatterns = [
    path("findings/", views.finding_list, name="findings"),
    path("findings/export.xlsx", views.finding_export, name="findings_export"),
    path("findings/<int:pk>/", views.finding_detail, name="finding"),
    path("classes/<int:pk>/findings/", views.class_findings, name="class_findings"),
    path("risk/", views.risk, name="risk"),
]
