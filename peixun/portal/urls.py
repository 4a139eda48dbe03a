"""The public portal (第五条), at /portal/, and the office pages that publish its notices."""

from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("institutions/", views.institutions, name="institutions"),
    path("institutions/<int:pk>/", views.institution, name="institution"),
    path("classes/", views.announcements, name="announcements"),
    path("evaluation-bodies/", views.evaluation_bodies, name="evaluation_bodies"),
    path("survey/", views.survey, name="survey"),
    path("survey/thanks/", views.survey_thanks, name="survey_thanks"),
    path("notices/", views.notices, name="notices"),
    path("notices/<int:pk>/", views.notice, name="notice"),
    path("occupations/suggest/", views.occupation_suggest, name="occupation_suggest"),
    path("manage/notices/", views.notice_manage, name="notice_manage"),
    path("manage/notices/new/", views.notice_create, name="notice_create"),
    path("manage/notices/<int:pk>/withdraw/", views.notice_withdraw_view, name="notice_withdraw"),
]
