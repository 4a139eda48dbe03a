from django.urls import path

from . import views

app_name = "attendance"

urlpatterns = [
    path("classes/<int:pk>/", views.class_sheet, name="class_sheet"),
    path("classes/<int:pk>/sheet.xlsx", views.sheet_xlsx, name="sheet_xlsx"),
    path("classes/<int:pk>/upload/", views.upload, name="upload"),
    path("classes/<int:pk>/upload-template.xlsx", views.upload_template, name="upload_template"),
    path("classes/<int:pk>/sheet.pdf", views.sheet_pdf, name="sheet_pdf"),
    path("classes/<int:pk>/trainees/<uuid:public_id>/", views.trainee, name="trainee"),
    path(
        "classes/<int:pk>/trainees/<uuid:public_id>/online-record.pdf",
        views.online_record_pdf,
        name="online_record_pdf",
    ),
    path("records/<int:pk>/correct/", views.correct, name="correct"),
    path("my/", views.my, name="my"),
]
