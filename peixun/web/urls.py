from django.urls import path

from . import archive, views, workload

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.login_view, name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/otp/setup/", views.otp_setup, name="otp_setup"),
    path("accounts/otp/", views.otp_verify, name="otp_verify"),
    path("areas/", views.area_tree, name="area_tree"),
    path("people/", views.person_list, name="person_list"),
    path("people/<uuid:public_id>/", views.person_detail, name="person_detail"),
    path("people/<uuid:public_id>/reveal-id/", views.person_reveal_id, name="person_reveal_id"),
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("access-log/", views.access_log, name="access_log"),
    path("settings/rules/", views.rule_settings, name="rule_settings"),
    path("settings/calendar/", views.calendar, name="calendar"),
    path("users/", views.user_list, name="user_list"),
    path("users/<int:user_id>/unlock/", views.user_unlock, name="user_unlock"),
    path("healthz", views.healthz, name="healthz"),
    # 培训档案 (第二十三条); "classes/" is shared with the training app, whose routes come first
    path("classes/<int:pk>/archive/", archive.class_archive, name="class_archive"),
    path("classes/<int:pk>/archive.zip", archive.class_archive_zip, name="class_archive_zip"),
    path("workload/", workload.workload, name="workload"),
]
