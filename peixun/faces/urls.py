from django.urls import path

from . import views

app_name = "faces"

urlpatterns = [
    path("", views.class_list, name="classes"),
    path("classes/<int:pk>/enrolment/", views.enrolment, name="enrolment"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("photos/<int:pk>/thumb.jpg", views.photo_thumbnail, name="thumbnail"),
]
