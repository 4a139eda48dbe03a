from django.urls import path

from . import views

app_name = "demand"

urlpatterns = [
    path("", views.pool, name="pool"),
    path("export/", views.pool_export, name="pool_export"),
    path("match/<str:city_code>/<str:occupation_code>/", views.match, name="match"),
    path("reports/", views.reports, name="reports"),
    path("new/", views.entry, name="entry"),
    path("announcements/", views.announcements, name="announcements"),
    path("announcements/new/", views.announcement_create_view, name="announcement_create"),
    path("announcements/<int:pk>/<str:action>/", views.announcement_action, name="announcement_transition"),
]
