from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("", views.exchange_home, name="home"),
    path("jobs/<uuid:public_id>/", views.job_detail, name="job"),
    path("jobs/<uuid:public_id>/progress/", views.job_progress_fragment, name="job_progress"),
    path("jobs/<uuid:public_id>/retry/", views.job_retry_view, name="job_retry"),
]
