from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cities/", views.cities, name="cities"),
    path("employment/", views.employment, name="employment"),
    path("employment/class/<int:pk>/", views.class_employment, name="class_employment"),
    path("employment/follow-up/<int:enrollment_pk>/<int:checkpoint>/", views.follow_up, name="follow_up"),
    path("needs/", views.needs, name="needs"),
    path("export/<str:page>/<str:key>/", views.chart_export, name="export"),
    path("standard/", views.standard, name="standard"),
    path("refresh/", views.refresh, name="refresh"),
    path("jobs/<uuid:public_id>/", views.job_detail, name="job"),
    path("jobs/<uuid:public_id>/progress/", views.job_progress_fragment, name="job_progress"),
    path("jobs/<uuid:public_id>/download/", views.job_download, name="job_download"),
]
