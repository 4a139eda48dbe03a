from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("", views.class_list, name="classes"),
    path("new/", views.class_create, name="create"),
    path("<int:pk>/", views.class_detail, name="detail"),
    # the moves of workflow.MOVES (POST only)
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/return/", views.review_return, name="return"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/reject/", views.reject, name="reject"),
    path("<int:pk>/completion/", views.completion_submit, name="completion"),
    path("<int:pk>/completion/approve/", views.completion_approve, name="completion_approve"),
    path("<int:pk>/completion/reject/", views.completion_reject, name="completion_reject"),
    # preparing the application
    path("<int:pk>/edit/", views.class_update, name="update"),
    path("<int:pk>/roster/", views.roster_add, name="roster_add"),
    path("<int:pk>/roster/upload/", views.roster_upload, name="roster_upload"),
    path("<int:pk>/roster/<int:enrollment>/remove/", views.roster_remove, name="roster_remove"),
    path("<int:pk>/roster-template.xlsx", views.roster_template, name="roster_template"),
    path("<int:pk>/modules/", views.module_add, name="module_add"),
    path("<int:pk>/modules/<int:module>/delete/", views.module_delete, name="module_delete"),
    path("<int:pk>/lessons/", views.lesson_add, name="lesson_add"),
    path("<int:pk>/lessons/<int:lesson>/delete/", views.lesson_delete, name="lesson_delete"),
    path("<int:pk>/teachers/", views.teacher_engage, name="teacher_engage"),
    path("<int:pk>/documents/", views.document_upload, name="document_upload"),
    path("<int:pk>/documents/<int:document>/", views.document_download, name="document_download"),
    # during training
    path("<int:pk>/exams/", views.exam_record, name="exams"),
    path("<int:pk>/changes/", views.change_create, name="change_create"),
    path("<int:pk>/changes/<int:cr>/decide/", views.change_decide, name="change_decide"),
]
