from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("", views.class_list, name="classes"),
    # placeholder until the detail page lands (the lifecycle pages replace it)
    path("<int:pk>/", views.class_list, name="detail"),
]
