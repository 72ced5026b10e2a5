from django.urls import path

from . import app_views, views

app_name = "field"
urlpatterns = [
    path("", views.visit_list, name="visits"),
    path("visits/new/", views.visit_new, name="visit_new"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("visits/<int:pk>/case/", views.visit_raise_case, name="visit_case"),
    path("visits/<int:pk>/item/", views.visit_raise_item, name="visit_item"),
    path("items/<int:pk>/handle/", views.item_handle, name="item_handle"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("reviews/", views.review_list, name="reviews"),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
    path("review-items/<int:pk>/", views.risk_item_decide, name="risk_item"),
    path("review-items/", views.handling_list, name="handling"),
    path("units/", views.unit_list, name="units"),
    path("units/<int:pk>/", views.unit_detail, name="unit"),
    path("mobile-visits/<int:pk>/", views.mobile_visit_detail, name="mobile_visit"),
    path("mobile-visits/<int:pk>/case/", views.mobile_visit_raise_case, name="mobile_visit_case"),
    path("mobile-visits/<int:pk>/item/", views.mobile_visit_raise_item, name="mobile_visit_item"),
    path("stations/<int:pk>/", views.station_detail, name="station"),
    path("app/", app_views.app_shell, name="app"),
    path("app/sw.js", app_views.service_worker, name="app_sw"),
    path("app/manifest.webmanifest", app_views.manifest, name="app_manifest"),
]
