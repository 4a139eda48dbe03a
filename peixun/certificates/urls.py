from django.urls import path

from . import views

app_name = "certificates"

urlpatterns = [
    path("", views.certificate_list, name="list"),
    path("record/", views.certificate_record, name="record"),
    path("<int:pk>/", views.certificate_detail, name="detail"),
    path("<int:pk>/pdf/", views.certificate_pdf_download, name="pdf"),
    path("<int:pk>/revoke/", views.certificate_revoke, name="revoke"),
    path("verify/<str:token>/", views.certificate_verify, name="verify"),
]
