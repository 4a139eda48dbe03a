from django.urls import path

from . import views

app_name = "subsidies"

urlpatterns = [
    path("", views.application_list, name="applications"),
    path("<int:pk>/", views.application_detail, name="application_detail"),
    path("lines/<int:pk>/stop/", views.line_stop_view, name="line_stop"),
    path("<int:pk>/<slug:name>/", views.application_move_view, name="application_move"),
    path("classes/<int:class_pk>/apply/", views.application_apply, name="apply"),
    path("objections/", views.objection_list, name="objections"),
    path("objections/<int:pk>/", views.objection_decide_view, name="objection_decide"),
    path("payments/", views.payments, name="payments"),
    path("payments/<int:pk>/", views.payment_record_view, name="payment_record"),
    # public, no login
    path("notices/", views.public_notices, name="notices"),
    path("notices/<int:line_pk>/objection/", views.public_objection, name="objection_lodge"),
    path("notices/objection-received/", views.public_objection_thanks, name="objection_thanks"),
]
