from django.urls import path

from zongzhi.cases import config_views, views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("new/check/", views.intake_check, name="check"),
    path("instalments/overdue/", views.instalments_overdue, name="instalments_overdue"),
    path("new/regions/", views.region_options, name="region_options"),
    path("config/", config_views.config_page, name="config"),
    path("config/<str:what>/", config_views.config_save, name="config_save"),
    path("<str:number>/", views.case_detail, name="detail"),
    path("<str:number>/do/<str:what>/", views.case_do, name="do"),
    path("<str:number>/attachments/<int:pk>/", views.attachment, name="attachment"),
    path("<str:number>/print/<str:doc>/", views.print_document, name="print"),
]
