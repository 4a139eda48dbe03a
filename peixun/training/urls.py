from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("", views.class_list, name="classes"),
]
