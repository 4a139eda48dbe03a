from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("devices/", views.device_list, name="devices"),
    path("devices/new/", views.device_create, name="device_create"),
    path("devices/<int:pk>/", views.device_detail, name="device_detail"),
    path("devices/<int:pk>/revoke/", views.device_revoke, name="device_revoke"),
    path("platforms/", views.platform_list, name="platforms"),
    path("platforms/new/", views.platform_file, name="platform_file"),
    path("platforms/<int:pk>/", views.platform_detail, name="platform_detail"),
    path("platforms/<int:pk>/edit/", views.platform_edit, name="platform_edit"),
    path("platforms/<int:pk>/secret/", views.platform_secret, name="platform_secret"),
    path("platforms/<int:pk>/<slug:transition>/", views.platform_transition, name="platform_transition"),
]
