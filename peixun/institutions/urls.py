from django.urls import path

from . import views

app_name = "institutions"

urlpatterns = [
    path("", views.institution_list, name="list"),
    path("export.xlsx", views.institution_export, name="export"),
    path("new/", views.institution_create, name="create"),
    path("import/", views.institution_import, name="import"),
    path("template/<str:kind>.xlsx", views.import_template, name="template"),
    path("<int:pk>/", views.institution_detail, name="detail"),
    path("<int:pk>/edit/", views.institution_edit, name="edit"),
    path("<int:pk>/assess/", views.institution_assess, name="assess"),
    path("<int:pk>/directory/<slug:transition>/", views.directory_change, name="directory_change"),
    path("photos/<int:pk>/", views.assessment_photo, name="assessment_photo"),
    path("decisions/<int:pk>/", views.decision_file, name="decision_file"),
    path("teachers/", views.teacher_list, name="teachers"),
    path("teachers/new/", views.teacher_create, name="teacher_create"),
    path("teachers/export.xlsx", views.teacher_export, name="teacher_export"),
    path("teachers/<int:pk>/pool/", views.teacher_pool, name="teacher_pool"),
    path("evaluation-bodies/", views.evaluation_body_list, name="evaluation_bodies"),
    path("evaluation-bodies/new/", views.evaluation_body_create, name="evaluation_body_create"),
    path("evaluation-bodies/import/", views.evaluation_body_import, name="evaluation_body_import"),
    path("evaluation-bodies/template.xlsx", views.evaluation_body_template, name="evaluation_body_template"),
    path("evaluation-bodies/export.xlsx", views.evaluation_body_export, name="evaluation_body_export"),
]
