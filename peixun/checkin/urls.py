from django.urls import path

from . import views

app_name = "checkin"

urlpatterns = [
    path("lessons/", views.lessons, name="lessons"),
    path("lessons/<int:pk>/display/", views.display, name="display"),
    path("lessons/<int:pk>/qr/", views.qr, name="qr"),
    path("t/<str:token>/", views.scan, name="scan"),
    path("submit/", views.submit, name="submit"),
]
