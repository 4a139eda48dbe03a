from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.catalog_list, name="list"),
    path("new/", views.catalog_create_view, name="create"),
    path("template/", views.catalog_template, name="template"),
    path("occupations/", views.occupation_list, name="occupations"),
    path("occupations/suggest/", views.occupation_suggest, name="occupation_suggest"),
    path("occupations/export.xlsx", views.occupation_export, name="occupation_export"),
    path("occupations/new/", views.occupation_add, name="occupation_add"),
    path("occupations/import/", views.occupation_import, name="occupation_import"),
    path("occupations/template/", views.occupation_template, name="occupation_template"),
    path("<int:pk>/", views.catalog_detail, name="detail"),
    path("<int:pk>/import/", views.catalog_import, name="import"),
    path("<int:pk>/export/", views.catalog_export, name="export"),
]
