"""监督检查 (第二十至二十五条), at /supervision/; the public 双随机抽查结果 at /supervision/public/."""

from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("", views.home, name="home"),
    # 双随机 draws and the inspector roster
    path("draws/", views.draws, name="draws"),
    path("draws/new/", views.draw_create, name="draw_create"),
    path("draws/<int:pk>/", views.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/execute/", views.draw_execute, name="draw_execute"),
    path("draws/<int:pk>/cancel/", views.draw_cancel, name="draw_cancel"),
    path("draws/<int:pk>/pool.json", views.draw_pool, name="draw_pool"),
    path("draws/<int:pk>/replace/", views.assignment_replace, name="assignment_replace"),
    path("inspectors/", views.inspectors, name="inspectors"),
    path("inspectors/<int:pk>/active/", views.inspector_active, name="inspector_active"),
    path("conflicts/", views.conflicts, name="conflicts"),
    path("conflicts/<int:pk>/withdraw/", views.conflict_withdraw, name="conflict_withdraw"),
    # inspections
    path("inspections/", views.inspections, name="inspections"),
    path("inspections/new/", views.inspection_create, name="inspection_create"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection_detail"),
    path("inspections/<int:pk>/record/", views.inspection_record, name="inspection_record"),
    path("inspections/<int:pk>/photos/", views.inspection_photo, name="inspection_photo"),
    path("inspections/<int:pk>/phone/", views.phone_checks, name="phone_checks"),
    path("inspections/<int:pk>/close/", views.inspection_close, name="inspection_close"),
    path("inspections/<int:pk>/publish/", views.inspection_publish, name="inspection_publish"),
    path(
        "inspections/<int:pk>/rectification/", views.inspection_rectification, name="inspection_rectification"
    ),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("rectifications/<int:pk>/file/", views.rectification_file, name="rectification_file"),
    # violations, sanctions, recovery
    path("violations/", views.violations, name="violations"),
    path("violations/new/", views.violation_create, name="violation_create"),
    path("violations/<int:pk>/", views.violation_detail, name="violation_detail"),
    path("violations/<int:pk>/sanction/", views.sanction_create, name="sanction_create"),
    path("violations/<int:pk>/recovery/", views.recovery_create, name="recovery_create"),
    path("violations/<int:pk>/close/", views.violation_close, name="violation_close"),
    path("sanctions/<int:pk>/<str:how>/", views.sanction_end, name="sanction_end"),
    path("sanctions/<int:pk>/document", views.sanction_document, name="sanction_document"),
    path("sanctions/<int:pk>/rectification", views.sanction_rectification, name="sanction_rectification"),
    path("recoveries/", views.recoveries, name="recoveries"),
    path("recoveries/<int:pk>/receive/", views.recovery_receive, name="recovery_receive"),
    # integrity and annual inspection
    path("integrity/", views.integrity, name="integrity"),
    path("integrity/<int:pk>/", views.integrity_detail, name="integrity_detail"),
    path("annual/", views.annual_list, name="annual_list"),
    # hand-over, joint enforcement, staff training
    path("clues/", views.clues, name="clues"),
    path("clues/new/", views.clue_create, name="clue_create"),
    path("clues/<int:pk>/", views.clue_detail, name="clue_detail"),
    path("clues/<int:pk>/evidence.zip", views.clue_evidence, name="clue_evidence"),
    path("clues/<int:pk>/<str:how>/", views.clue_move, name="clue_move"),
    path("joint/", views.joint, name="joint"),
    path("staff-training/", views.staff_training, name="staff_training"),
    # public (一公开)
    path("public/", views.public_draws, name="public_draws"),
    path("public/draws/<int:pk>/", views.public_draw, name="public_draw"),
    path("public/draws/<int:pk>/pool.json", views.public_pool, name="public_pool"),
    path("public/results/", views.public_results, name="public_results"),
]
